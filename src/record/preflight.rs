//! What the preflight found: the probes sent before any case, so that a target that cannot be
//! tested (down, silent, refusing the profile's credentials) is named as such once, instead of
//! showing up as one confusing failure per case.

use serde::{Deserialize, Serialize};

/// The preflight's findings, as `report.json` keeps them (`run.preflight`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Preflight {
    pub outcome: PreflightOutcome,
    /// Why no case was run, when the outcome says so (one line, secrets masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub probes: Vec<Probe>,
    /// Advice about the profile that the answers suggest (CSRF on or off).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PreflightOutcome {
    /// The target answered; the cases run.
    Ok,
    /// The version probe got no answer (connection refused, timeout, connection dropped).
    Unreachable,
    /// A role's user was refused (401 or 403) on `GET /api/v2/me`.
    CredentialsRejected,
    /// Every probe answered 404: the target answers, but the GWS API is not under its URL (a base
    /// URL with a typo, or one that already ends in `/api/v2`). Every case would "pass" a refusal.
    NoApi,
}

/// One probe and what it found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Probe {
    /// `GET /api/v2/diagnostics/version`, `GET /api/v2/me`.
    pub request: String,
    /// The case roles whose credentials the probe sent (none for the version probe).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The user name sent (masked like any profile value; the password never appears).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The answer's HTTP status, when one came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why no (complete) answer came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The answer carried `X-CSRF-TOKEN`.
    pub csrf_token: bool,
    /// What the probe concluded, in a few words.
    pub found: String,
    pub duration_ms: u64,
}

impl Probe {
    /// A probe of `request` (`GET /api/v2/me`) that has found nothing yet.
    pub fn new(request: String) -> Self {
        Probe {
            request,
            roles: Vec::new(),
            user: None,
            status: None,
            error: None,
            csrf_token: false,
            found: String::new(),
            duration_ms: 0,
        }
    }
}

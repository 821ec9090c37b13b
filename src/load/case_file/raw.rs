//! A case file's TOML shape, as serde reads it: every field the format has, nothing resolved.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCase {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) spec: toml::Value,
    pub(super) source: Option<String>,
    pub(super) provenance: Provenance,
    pub(super) rationale: Option<String>,
    #[serde(default)]
    pub(super) tags: Vec<String>,
    pub(super) agent: Option<String>,
    pub(super) group: Option<String>,
    #[serde(default)]
    pub(super) requires: Vec<String>,
    #[serde(default)]
    pub(super) vars: BTreeMap<String, String>,
    pub(super) steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) always: bool,
    /// `check` (default) or `setup` (see cases/README.md, "Setup steps").
    #[serde(default)]
    pub(super) purpose: crate::model::StepPurpose,
    /// The capability a setup step relies on.
    pub(super) capability: Option<String>,
    pub(super) request: RawRequest,
    #[serde(default)]
    pub(super) expect: RawExpect,
    /// CometD expectations (see cases/README.md, "Notifications").
    #[serde(default)]
    pub(super) notifications: Vec<RawNotification>,
    /// Polling while the checks fail (see cases/README.md, "Retry").
    pub(super) retry: Option<RawRetry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    pub(super) within_ms: i64,
    pub(super) every_ms: Option<i64>,
    /// Only an answer with one of these statuses is tried again (`"2xx"`, `404`, or a list).
    pub(super) while_status: Option<toml::Value>,
}

/// The pause between attempts of a retried step when the case gives none.
pub const DEFAULT_RETRY_EVERY_MS: i64 = 250;
/// The shortest pause between attempts: a retry polls a lab, it does not load it.
pub const MIN_RETRY_EVERY_MS: i64 = 50;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotification {
    pub(super) channel: String,
    pub(super) within_ms: Option<i64>,
    pub(super) schema: Option<String>,
    pub(super) body: Option<toml::Value>,
    pub(super) count: Option<i64>,
    #[serde(default)]
    pub(super) absent: bool,
    pub(super) sequence: Option<Vec<toml::Value>>,
    #[serde(default)]
    pub(super) exclusive: bool,
    pub(super) provenance: Option<Provenance>,
    pub(super) settle_ms: Option<i64>,
}

/// The longest notification window a case may ask for.
pub const MAX_WINDOW_MS: i64 = 60_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRequest {
    pub(super) method: Option<String>,
    pub(super) path: Option<String>,
    pub(super) auth: Option<AuthMode>,
    #[serde(default)]
    pub(super) headers: BTreeMap<String, String>,
    pub(super) json: Option<toml::Value>,
    pub(super) raw: Option<String>,
    pub(super) content_type: Option<String>,
    #[serde(default)]
    pub(super) deliberately_invalid: bool,
    pub(super) csrf: Option<bool>,
    #[serde(default)]
    pub(super) follow_redirects: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpect {
    pub(super) status: Option<toml::Value>,
    pub(super) content_type: Option<String>,
    pub(super) schema: Option<String>,
    #[serde(rename = "match")]
    pub(super) match_mode: Option<MatchMode>,
    #[serde(default)]
    pub(super) ignore: Vec<String>,
    pub(super) body: Option<toml::Value>,
    pub(super) text: Option<String>,
    #[serde(default)]
    pub(super) alternatives: Vec<RawExpect>,
    pub(super) reason: Option<String>,
    pub(super) provenance: Option<Provenance>,
    /// Only on alternatives: what then arrives over CometD (the main answer's are the step's).
    #[serde(default)]
    pub(super) notifications: Vec<RawNotification>,
}

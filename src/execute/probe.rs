//! What a target shows about itself, for `init` and `doctor`: the preflight's probes (version, each
//! user's credentials, CSRF tokens), plus the user resource and the CometD transports. Every probe is
//! side-effect free (GETs, and a Bayeux handshake that ends with `/meta/disconnect`) and bounded by
//! the transport's timeout, so a bad target costs a few timeouts, never a hang.

use std::time::Duration;

use serde_json::Value;

use super::cometd::CometdClient;
use super::preflight::{self, Found, ProbeUser, ME_PATH, VERSION_PATH};
use super::{AgentSession, Transport};
use crate::load::Agent;
use crate::record::preflight::PreflightOutcome;
use crate::secret::Redactor;

/// The suffix of the version string gws-conform's reference server reports
/// (`8.5.200.50-reference`).
pub const REFERENCE_VERSION_SUFFIX: &str = "-reference";

/// Why a target could not be probed at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProbeError {
    #[error("the target {target} could not be reached: {detail}")]
    Unreachable { target: String, detail: String },
    /// The target answers, but not as GWS: what `run` calls "the GWS API is not there".
    #[error("the target {target} answers, but not as GWS: {detail}")]
    NoApi { target: String, detail: String },
}

/// What one probe found out about one thing: present, absent, or not known (with why, in words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// `Some(true)`: detected; `Some(false)`: probed and absent; `None`: not probed.
    pub detected: Option<bool>,
    pub how: String,
}

impl Evidence {
    fn yes(how: impl Into<String>) -> Evidence {
        Evidence {
            detected: Some(true),
            how: how.into(),
        }
    }
    fn no(how: impl Into<String>) -> Evidence {
        Evidence {
            detected: Some(false),
            how: how.into(),
        }
    }
    fn unknown(how: impl Into<String>) -> Evidence {
        Evidence {
            detected: None,
            how: how.into(),
        }
    }
}

/// Everything the probes found.
pub struct TargetFacts {
    /// The version probe and one credential probe per user.
    pub preflight: Found,
    /// The target says it is gws-conform's reference server (its version ends with
    /// [`REFERENCE_VERSION_SUFFIX`]). A claim of the target, not a proof.
    pub says_reference: bool,
    pub diagnostics: Evidence,
    pub csrf: Evidence,
    pub user_resource: Evidence,
    pub cometd: Evidence,
    /// The `supportedConnectionTypes` of the handshake reply, when one succeeded.
    pub transports: Option<Vec<String>>,
    /// Whether a WebSocket upgrade to the CometD endpoint worked.
    pub websocket: Evidence,
}

impl TargetFacts {
    /// What the probe found for a capability the API can reveal (None for any other).
    pub fn capability(&self, name: &str) -> Option<&Evidence> {
        match name {
            "diagnostics" => Some(&self.diagnostics),
            "csrf" => Some(&self.csrf),
            "user_resource" => Some(&self.user_resource),
            "cometd" => Some(&self.cometd),
            _ => None,
        }
    }

    /// The first user the target accepted, if any.
    fn accepted<'u>(&self, users: &[ProbeUser<'u>]) -> Option<&'u Agent> {
        // By position: the preflight probes the users in order, one GET each. Not by name: the
        // recorded names are masked, and a password that is part of a user name ("agent" in
        // "agent1") masks them all, which made every user look refused.
        let user_probes = self
            .preflight
            .record
            .probes
            .iter()
            .filter(|p| p.request == format!("GET {ME_PATH}") && p.user.is_some());
        users
            .iter()
            .zip(user_probes)
            .find(|(_, p)| p.status.is_some_and(|s| (200..300).contains(&s)))
            .map(|(u, _)| u.agent)
    }
}

/// Probes the target. `transport` decides the timeout and the trust; `users` are probed for their
/// credentials (all at once), and the first one accepted is used for the user resource and CometD.
/// Only an unreachable target is an error; everything else is evidence.
pub async fn probe_target(
    transport: &Transport,
    users: &[ProbeUser<'_>],
    redactor: &Redactor,
) -> Result<TargetFacts, ProbeError> {
    let found = preflight::run(transport, users, redactor).await;
    let target = transport.base().to_string();
    let detail = || found.blocking_reason().unwrap_or("no answer").to_string();
    match found.record.outcome {
        PreflightOutcome::Unreachable => {
            return Err(ProbeError::Unreachable {
                target,
                detail: detail(),
            })
        }
        PreflightOutcome::NoApi => {
            return Err(ProbeError::NoApi {
                target,
                detail: detail(),
            })
        }
        _ => {}
    }
    let version_status = found.record.probes.first().and_then(|p| p.status);
    let diagnostics = match (&found.server_version, version_status) {
        (Some(v), _) => Evidence::yes(format!(
            "GET {VERSION_PATH} answered version `{v}` without credentials"
        )),
        (None, s) => Evidence::no(format!(
            "GET {VERSION_PATH} answered {} with no version",
            s.map_or("nothing".to_string(), |s| s.to_string())
        )),
    };
    let says_reference = found
        .server_version
        .as_deref()
        .is_some_and(|v| v.ends_with(REFERENCE_VERSION_SUFFIX));
    let mut facts = TargetFacts {
        preflight: found,
        says_reference,
        diagnostics,
        csrf: Evidence::unknown("not probed: no credentials were accepted"),
        user_resource: Evidence::unknown("not probed: no credentials were accepted"),
        cometd: Evidence::unknown("not probed: no credentials were accepted"),
        transports: None,
        websocket: Evidence::unknown("not probed: no CometD handshake succeeded"),
    };
    if users.is_empty() {
        let why = "not probed: no credentials given (--username and GWS_PASSWORD)";
        facts.csrf = Evidence::unknown(why);
        facts.user_resource = Evidence::unknown(why);
        facts.cometd = Evidence::unknown(why);
        return Ok(facts);
    }
    let Some(agent) = facts.accepted(users) else {
        return Ok(facts);
    };
    facts.csrf = csrf_evidence(&facts.preflight);
    facts.user_resource = user_resource(transport, agent, redactor).await;
    cometd(transport, agent, &mut facts, redactor).await;
    Ok(facts)
}

/// CSRF from the credential probes: a token on an accepted GET.
fn csrf_evidence(found: &Found) -> Evidence {
    let accepted = found
        .record
        .probes
        .iter()
        .filter(|p| p.request.ends_with(ME_PATH) && p.status.is_some_and(|s| s < 300));
    let mut any = false;
    for p in accepted {
        if p.csrf_token {
            return Evidence::yes(format!(
                "an authenticated GET {ME_PATH} answered a CSRF token"
            ));
        }
        any = true;
    }
    if any {
        Evidence::no(format!(
            "no authenticated GET {ME_PATH} answer carried a CSRF token (X-CSRF-TOKEN, or the header X-CSRF-HEADER names)"
        ))
    } else {
        Evidence::unknown("not probed: no credentials were accepted")
    }
}

/// The JSON body of a GET, or a word on what came instead.
async fn get_json(
    transport: &Transport,
    path: &str,
    agent: Option<&Agent>,
    redactor: &Redactor,
) -> Result<(u16, Value), String> {
    let (probe, body) = preflight::probe(transport, path, agent, redactor).await;
    let status = probe
        .status
        .ok_or_else(|| probe.error.unwrap_or_else(|| "no answer".into()))?;
    let value = body
        .as_deref()
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .ok_or_else(|| format!("answered {status} without a JSON body"))?;
    Ok((status, value))
}

async fn user_resource(transport: &Transport, agent: &Agent, redactor: &Redactor) -> Evidence {
    let (with, without) = futures_util::future::join(
        get_json(transport, ME_PATH, Some(agent), redactor),
        get_json(transport, ME_PATH, None, redactor),
    )
    .await;
    let user_ok = matches!(&with, Ok((s, v)) if (200..300).contains(s) && v.get("user").is_some_and(Value::is_object));
    let denied_ok =
        matches!(&without, Ok((_, v)) if v.get("statusCode").and_then(Value::as_i64) == Some(20));
    let said = |r: &Result<(u16, Value), String>| match r {
        Ok((s, v)) => format!(
            "answered {s} with statusCode {}",
            v.get("statusCode")
                .map_or("(none)".into(), |c| c.to_string())
        ),
        Err(e) => e.clone(),
    };
    // Only the authenticated answer decides: the anonymous one is what the `user_resource` cases
    // check, and a probe must not switch off the cases that would catch a server serving anonymous
    // requests. It is said, not judged.
    let anonymous = if denied_ok {
        "statusCode 20 without".to_string()
    } else {
        format!("without credentials it {}", said(&without))
    };
    if user_ok {
        Evidence::yes(format!(
            "GET {ME_PATH} answered a `user` with credentials; {anonymous}"
        ))
    } else {
        Evidence::no(format!(
            "GET {ME_PATH} with credentials {} (no `user` object)",
            said(&with)
        ))
    }
}

/// A Bayeux handshake as the agent (after the REST call real clients make first), the transport the
/// client settles on, then `/meta/disconnect`. Bounded: every exchange has the transport's timeout,
/// and the whole by four of them.
async fn cometd(transport: &Transport, agent: &Agent, facts: &mut TargetFacts, r: &Redactor) {
    let limit = transport.timeout() * 4 + Duration::from_secs(1);
    let attempt = async {
        let mut session = AgentSession::new(transport, Some(agent), r);
        session.open_session().await;
        let mut config = transport.cometd_config();
        config.transport = crate::load::Transport::Auto;
        let (client, _events) =
            CometdClient::start(transport.http_client(), config, session.bayeux_auth()).await?;
        let offered = client.offered_connection_types();
        let used = client.connection_type();
        let _ = client.disconnect().await;
        Ok::<_, super::cometd::CometdError>((offered, used))
    };
    let endpoint = super::NOTIFICATIONS_PATH;
    match tokio::time::timeout(limit, attempt).await {
        Err(_) => {
            facts.cometd = Evidence::no(format!(
                "the Bayeux handshake at {endpoint} did not finish within {} ms",
                limit.as_millis()
            ))
        }
        Ok(Err(e)) => {
            facts.cometd = Evidence::no(format!(
                "the Bayeux handshake at {endpoint} failed: {}",
                r.redact(&e.to_string())
            ))
        }
        Ok(Ok((offered, used))) => {
            facts.cometd = Evidence::yes(format!(
                "the Bayeux handshake at {endpoint} succeeded (offered: {})",
                offered.join(", ")
            ));
            facts.websocket = match (offered.iter().any(|t| t == "websocket"), used) {
                (true, "websocket") => Evidence::yes("the WebSocket upgrade worked"),
                (true, _) => Evidence::no("websocket is offered, but the upgrade failed"),
                (false, _) => Evidence::no("the handshake does not offer websocket"),
            };
            facts.transports = Some(offered);
        }
    }
}

//! The preflight: a few probes before any case, each within the profile's `timeout_ms`, so that a
//! target that cannot be tested is said to be so in one line instead of in one failure per case.
//!
//! 1. `GET /api/v2/diagnostics/version` without credentials. No answer at all (refused, dropped, or
//!    not complete within `timeout_ms`) makes the target unreachable.
//! 2. One `GET /api/v2/me` with Basic credentials per distinct user of the roles the runnable cases
//!    send credentials for. A 401 or 403 means the target refuses the profile's credentials: every
//!    case would fail on it, so none runs.
//!
//! Both go out at once, so the two take one round of round trips and at most one `timeout_ms`;
//! when the target is unreachable the user probes' answers are not judged.
//!
//! The answers also say whether the target issues CSRF tokens, which the profile must agree with.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{csrf, error_chain, header_pairs, Transport};
use crate::load::{Agent, Profile};
use crate::plan::pool::Placement;
use crate::plan::Plan;
use crate::record::preflight::{Preflight, PreflightOutcome, Probe};
use crate::secret::Redactor;

pub const VERSION_PATH: &str = "/api/v2/diagnostics/version";
pub const ME_PATH: &str = "/api/v2/me";
/// A path no GWS serves: what it answers is what the target says of a path it does not have.
const NO_SUCH_PATH: &str = "/api/v2/gws-conform-no-such-resource";

/// Said when a GET answer carries a CSRF token and the profile does not send one.
pub const HINT_CSRF_ON: &str = "the target issues CSRF tokens and the profile says csrf = false: this run sends them, as a client must; set csrf = true in the profile to say so";
/// Said when the profile expects CSRF tokens and no successful GET answer carried one.
pub const HINT_CSRF_OFF: &str = "the profile says csrf = true but no authenticated GET answer carried a CSRF token (neither under the header X-CSRF-HEADER names, nor as X-CSRF-TOKEN); if the target does not use CSRF tokens, set csrf = false in the profile";

/// What a probe names as the role of a `[pool]` user (a pooled case may run as any of them).
pub const POOL_ROLE: &str = "pool";

/// One user to probe, with every role of the run that logs in as that user.
pub struct ProbeUser<'a> {
    pub roles: Vec<String>,
    pub agent: &'a Agent,
}

/// The users the runnable cases of `plan` send credentials as, one entry per distinct user name.
pub fn users<'p>(plan: &Plan<'_>, profile: &'p Profile) -> Vec<ProbeUser<'p>> {
    let mut by_user: BTreeMap<&str, ProbeUser<'p>> = BTreeMap::new();
    let mut add = |agent: &'p Agent, role: &str| {
        let entry = by_user
            .entry(agent.username.as_str())
            .or_insert_with(|| ProbeUser {
                roles: Vec::new(),
                agent,
            });
        if !entry.roles.iter().any(|r| r == role) {
            entry.roles.push(role.to_string());
        }
    };
    for (i, planned) in plan.cases.iter().enumerate() {
        if planned.skip.is_some() || !planned.case.needs_credentials {
            continue;
        }
        let role = &planned.case.header.agent_role;
        // With a pool, a pooled case may run as any pool user: every one of them is probed.
        match plan.pool.as_ref().map(|p| &p.placement[i]) {
            Some(Placement::Pool) => profile.pool.iter().for_each(|a| add(a, POOL_ROLE)),
            Some(Placement::Free) => {}
            Some(Placement::Pinned { .. }) | None => {
                if let Some((_, agent)) = profile.agent(role) {
                    add(agent, role);
                }
            }
        }
    }
    let mut users: Vec<ProbeUser<'p>> = by_user.into_values().collect();
    users.sort_by(|a, b| natural_key(&a.agent.username).cmp(&natural_key(&b.agent.username)));
    users
}

/// Sorts `agent2` before `agent10`: the text and the number its trailing digits make.
fn natural_key(name: &str) -> (&str, u128, &str) {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &name[stem.len()..];
    (stem, digits.parse().unwrap_or(0), digits)
}

/// What the preflight found, and the server's version when it said.
pub struct Found {
    pub record: Preflight,
    pub server_version: Option<String>,
    /// The profile says `csrf = false` but the target issues tokens: the run must send them, or
    /// every unsafe request would be refused for a reason that is the profile's, not the server's.
    pub send_csrf: bool,
}

impl Found {
    /// Why no case should run, when the preflight says so.
    pub fn blocking_reason(&self) -> Option<&str> {
        match self.record.outcome {
            PreflightOutcome::Ok => None,
            _ => self.record.reason.as_deref(),
        }
    }
}

/// Runs the probes. Everything that came from outside (errors, versions, user names) is masked with
/// `redactor`.
pub async fn run(transport: &Transport, users: &[ProbeUser<'_>], redactor: &Redactor) -> Found {
    // All at once: on a remote target each round of probes costs round trips that no case
    // overlaps, and an unreachable target still costs at most one `timeout_ms`.
    let user_probes = futures_util::future::join_all(users.iter().map(|u| async move {
        let (mut p, _) = probe(transport, ME_PATH, Some(u.agent), redactor).await;
        p.roles = u.roles.clone();
        p.user = Some(redactor.redact(&u.agent.username));
        if matches!(p.status, Some(401 | 403)) {
            p.found = format!("the credentials were rejected ({})", p.found);
        }
        p
    }));
    let ((version_probe, body), user_probes) =
        tokio::join!(probe(transport, VERSION_PATH, None, redactor), user_probes);
    let server_version = body
        .as_deref()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| v.get("version")?.as_str().map(|s| redactor.redact(s)));
    if version_probe.status.is_none() {
        // Worded to follow "the target could not be tested: ", as every report frames it.
        let reason = version_probe
            .error
            .clone()
            .unwrap_or_else(|| format!("GET {VERSION_PATH}: no answer"));
        return Found {
            record: Preflight {
                outcome: PreflightOutcome::Unreachable,
                reason: Some(reason),
                probes: vec![version_probe],
                hints: Vec::new(),
            },
            server_version,
            send_csrf: false,
        };
    }
    let rejected: Vec<String> = user_probes
        .iter()
        .filter(|p| matches!(p.status, Some(401 | 403)))
        .map(|p| {
            let roles: Vec<String> = p.roles.iter().map(|r| format!("`{r}`")).collect();
            format!(
                "role {} (user `{}`): {}",
                roles.join(", "),
                p.user.as_deref().unwrap_or_default(),
                p.status.unwrap_or_default()
            )
        })
        .collect();
    let mut probes = vec![version_probe];
    let all_404 = !user_probes.is_empty() && user_probes.iter().all(|p| p.status == Some(404));
    probes.extend(user_probes);
    let send_csrf = issues_tokens_unasked(transport.csrf, &probes);
    let hints = hints(transport.csrf, &probes);
    // Some routers answer 404 to a method they lack: only a POST (StartContactCenterSession's own
    // method) that finds nothing either says the API is elsewhere.
    let confirmed_404 = match (all_404, users.first()) {
        (true, Some(user)) => {
            let (p, absent) = post_probe(transport, send_csrf, user.agent, redactor).await;
            probes.push(p);
            absent
        }
        _ => false,
    };
    // No credentials to probe with (`init` before a password is exported): a GWS answers an
    // anonymous GET /api/v2/me too (401, or the user); 404 there and on the version probe, with no
    // GWS error body, says the API is elsewhere, as `run` would find with credentials.
    let anonymous_404 = if users.is_empty() && probes[0].status == Some(404) {
        let (p, body) = probe(transport, ME_PATH, None, redactor).await;
        let gws = body
            .as_deref()
            .is_some_and(|b| is_gws_error_body(&String::from_utf8_lossy(b)));
        let absent = p.status == Some(404) && !gws;
        probes.push(p);
        absent
    } else {
        false
    };
    let no_api = (confirmed_404 || anonymous_404).then(|| no_api(transport.base(), users.len()));
    let (outcome, reason) = if let Some(reason) = no_api {
        (PreflightOutcome::NoApi, Some(redactor.redact(&reason)))
    } else if rejected.is_empty() {
        (PreflightOutcome::Ok, None)
    } else {
        (
            PreflightOutcome::CredentialsRejected,
            Some(rejected_reason(&rejected, users.len())),
        )
    };
    Found {
        record: Preflight {
            outcome,
            reason,
            probes,
            hints,
        },
        server_version,
        send_csrf,
    }
}

/// One line however many users were refused: every case not run repeats it, so sixteen users'
/// roles in full (about 1 KB) would drown the reports. Each probe stays in `run.preflight`.
fn rejected_reason(rejected: &[String], users: usize) -> String {
    match rejected {
        [one] => format!("the target rejected the credentials of {one} on GET {ME_PATH}"),
        [first, second] => {
            format!("the target rejected the credentials of {first}; {second} on GET {ME_PATH}")
        }
        [first, ..] => format!(
            "the target rejected the credentials of {} of {users} users on GET {ME_PATH}, the first {first} (each probe is in the report's preflight)",
            rejected.len()
        ),
        [] => String::new(),
    }
}

/// `POST /api/v2/me` with the body `{}` (no operation: any GWS refuses it without a change of
/// state), as a case sends it: in a session of its own, with a CSRF token when the target issues
/// them, so that a CSRF filter in front of the router cannot answer for it. Returns the probe and
/// whether the API is absent: a 404 that is not a GWS error body, or whose statusCode is the one a
/// path that cannot exist gets (the message may differ: it may name the path or a request id). A server may refuse a body without `operationName` with 404 and an error
/// body of its own (`operation-name-missing` accepts any 4xx): that is the API answering.
async fn post_probe(
    transport: &Transport,
    send_csrf: bool,
    agent: &Agent,
    redactor: &Redactor,
) -> (Probe, bool) {
    let transport = if send_csrf {
        transport.clone().sending_csrf()
    } else {
        transport.clone()
    };
    let started = Instant::now();
    let mut session = super::AgentSession::new(&transport, Some(agent), redactor);
    let mut answer = async |path: &str| {
        let request = crate::model::Request {
            method: "POST".into(),
            path: path.into(),
            auth: crate::model::AuthMode::Basic,
            headers: Vec::new(),
            body: Some(crate::model::Body::Json(serde_json::json!({}))),
            csrf: true,
            follow_redirects: false,
        };
        let last = session.send(&request).await.pop();
        last.and_then(|(_, r)| r)
            .map(|r| (r.status, r.body_text.unwrap_or_default()))
    };
    let me = answer(ME_PATH).await;
    let (found, absent) = match &me {
        None => ("no answer".to_string(), false),
        Some((404, body)) if is_gws_error_body(body) => {
            // Status and statusCode, not the bytes: a 404 may name the path or a request id.
            let elsewhere = answer(NO_SUCH_PATH).await;
            let said = |a: &Option<(u16, String)>| a.as_ref().map(|(s, b)| (*s, status_code(b)));
            if said(&elsewhere) == said(&me) {
                let f = format!("answered 404 with the statusCode POST {NO_SUCH_PATH} gets");
                (f, true)
            } else {
                (
                    "answered 404 with a GWS error body of its own".to_string(),
                    false,
                )
            }
        }
        Some((404, _)) => ("answered 404 without a GWS error body".to_string(), true),
        Some((status, _)) => (format!("answered {status}"), false),
    };
    let mut probe = Probe::new(format!("POST {ME_PATH}"));
    probe.user = Some(redactor.redact(&agent.username));
    probe.status = me.map(|(s, _)| s);
    probe.found = found;
    probe.duration_ms = started.elapsed().as_millis() as u64;
    (probe, absent)
}

/// With `transport = "websocket"` in the profile, one Bayeux handshake as `agent` says whether the
/// target offers WebSocket at all. A Bayeux server need only offer long-polling, so a target that
/// does not is no failure of its own: the notification cases cannot be tested as the profile asks,
/// and the returned reason is why they are skipped. `None` when the profile does not force
/// WebSocket, when the target offers it, or when the handshake failed for another reason (that is
/// for the cases to judge). Bounded by four of the transport's timeouts.
pub async fn websocket_unoffered(
    transport: &Transport,
    agent: &Agent,
    redactor: &Redactor,
) -> Option<(Probe, String)> {
    let mut config = transport.cometd_config();
    if config.transport != crate::load::Transport::Websocket {
        return None;
    }
    config.transport = crate::load::Transport::Auto;
    let started = Instant::now();
    // GET /api/v2/me, a handshake (perhaps again, as advised), the first connect, a token fetch
    // after a session change, the goodbye: six exchanges at most.
    let limit = transport.timeout() * 6 + std::time::Duration::from_secs(1);
    let offered = tokio::time::timeout(limit, async {
        let mut session = super::AgentSession::new(transport, Some(agent), redactor);
        session.open_session().await;
        let (client, _events) = super::cometd::CometdClient::start(
            transport.http_client(),
            config,
            session.bayeux_auth(),
        )
        .await
        .ok()?;
        let offered = client.offered_connection_types();
        let _ = client.disconnect().await;
        Some(offered)
    })
    .await
    .ok()
    .flatten()?;
    if offered.iter().any(|t| t == "websocket") {
        return None;
    }
    let mut probe = Probe::new(format!("Bayeux handshake at {}", super::NOTIFICATIONS_PATH));
    probe.user = Some(redactor.redact(&agent.username));
    probe.found = format!("offers {} and no websocket", offered.join(", "));
    probe.duration_ms = started.elapsed().as_millis() as u64;
    let reason = format!(
        "the profile demands WebSocket (transport = \"websocket\"), but the target's Bayeux handshake offers only {}: a Bayeux server need only offer long-polling; set transport = \"auto\" to test its notifications",
        offered.join(", ")
    );
    Some((probe, redactor.redact(&reason)))
}

/// A JSON object whose `statusCode` is an integer: how every GWS answer says what became of the
/// request (gws-notes.md §3), and what no router or proxy in front of it writes for a path it
/// does not serve.
fn is_gws_error_body(text: &str) -> bool {
    status_code(text).is_some()
}

/// The integer `statusCode` of a JSON object body.
fn status_code(text: &str) -> Option<i64> {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()?
        .get("statusCode")?
        .as_i64()
}

/// Some answer carried a CSRF token and the profile does not send one: the run must, as a client does.
fn issues_tokens_unasked(csrf_on: bool, probes: &[Probe]) -> bool {
    !csrf_on && probes.iter().any(|p| p.status.is_some() && p.csrf_token)
}

/// Why the API is not under `base`: every user's `GET /api/v2/me` and a `POST /api/v2/me` answered
/// 404, the POST as a path that does not exist is answered. A GWS answers that resource (or refuses the credentials, the method or the body): 404 on
/// both means the requests go somewhere else. The version probe decides nothing (a deployment may
/// not expose diagnostics, or guard them).
fn no_api(base: &url::Url, users: usize) -> String {
    let path = base.path().trim_end_matches('/');
    let hint = if path.ends_with("/api/v2") || path.ends_with("/api") {
        format!("; give the URL without `{path}`: the harness adds /api/v2/... itself")
    } else {
        "; is the target's URL right? The harness adds /api/v2/... to it".to_string()
    };
    let probes = if users == 0 {
        format!("GET {VERSION_PATH}, then GET {ME_PATH} without credentials")
    } else {
        format!("GET {ME_PATH} for {users} user(s), then POST {ME_PATH}")
    };
    format!("every probe of the API answered 404 ({probes}): the GWS API is not under {base}{hint}")
}

/// The advice the answers give about the profile's `csrf`.
fn hints(csrf_on: bool, probes: &[Probe]) -> Vec<String> {
    let answered: Vec<&Probe> = probes.iter().filter(|p| p.status.is_some()).collect();
    let any_token = answered.iter().any(|p| p.csrf_token);
    // Only an authenticated GET that succeeded says something about tokens: a server may issue
    // them with a session only, and the anonymous version probe opens none.
    let successes = answered
        .iter()
        .filter(|p| p.user.is_some() && p.request.starts_with("GET "))
        .filter(|p| p.status.is_some_and(|s| (200..300).contains(&s)))
        .count();
    if issues_tokens_unasked(csrf_on, probes) {
        vec![HINT_CSRF_ON.to_string()]
    } else if csrf_on && successes > 0 && !any_token {
        vec![HINT_CSRF_OFF.to_string()]
    } else {
        Vec::new()
    }
}

/// One GET within the transport's timeout (which covers the whole body), with Basic credentials
/// when `agent` is given and no cookies. Returns the probe and the body (capped at the profile's
/// `max_body_bytes`) when it came whole.
pub(super) async fn probe(
    transport: &Transport,
    path: &str,
    agent: Option<&Agent>,
    redactor: &Redactor,
) -> (Probe, Option<Vec<u8>>) {
    let started = Instant::now();
    let mut request = transport
        .client
        .get(transport.url(path))
        .header("Accept", "application/json");
    if let Some(a) = agent {
        request = request.header(
            "Authorization",
            super::basic(&a.username, a.password.expose()),
        );
    }
    let mut probe = Probe::new(format!("GET {path}"));
    let outcome = async {
        let mut resp = request.send().await?;
        let status = resp.status().as_u16();
        let headers = header_pairs(resp.headers());
        let token = csrf::offered(&headers).is_some()
            || headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(csrf::DEFAULT_HEADER));
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            if body.len() + chunk.len() > transport.max_body_bytes {
                return Ok((status, token, None));
            }
            body.extend_from_slice(&chunk);
        }
        Ok::<_, reqwest::Error>((status, token, Some(body)))
    }
    .await;
    probe.duration_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok((status, token, body)) => {
            probe.status = Some(status);
            probe.csrf_token = token;
            probe.found = format!("answered {status}");
            (probe, body)
        }
        Err(e) => {
            // Said as the cases' exchanges say it (`ExchangeError`).
            let error = if e.is_timeout() {
                format!(
                    "GET {path}: no complete answer within {} ms",
                    transport.timeout.as_millis()
                )
            } else if e.is_connect() {
                format!(
                    "could not connect to {}: {}",
                    transport.base,
                    error_chain(&e)
                )
            } else {
                format!("GET {path}: {}", error_chain(&e))
            };
            probe.error = Some(redactor.redact(&error));
            probe.found = "no answer".to_string();
            (probe, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, csrf_token: bool) -> Probe {
        let mut p = Probe::new(format!("GET {ME_PATH}"));
        p.status = Some(status);
        p.csrf_token = csrf_token;
        p.found = format!("answered {status}");
        p.user = Some("agent1".to_string());
        p
    }

    #[test]
    fn user_names_sort_by_their_number() {
        let mut names = ["agent10", "agent2", "agent1", "bob", "agent"];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(names, ["agent", "agent1", "agent2", "agent10", "bob"]);
    }

    #[test]
    fn only_a_json_object_with_an_integer_status_code_is_a_gws_error_body() {
        assert!(is_gws_error_body(r#"{"statusCode":1,"statusMessage":"x"}"#));
        assert!(!is_gws_error_body(r#"{"statusCode":"1"}"#));
        assert!(!is_gws_error_body(r#"{"status":404,"error":"Not Found"}"#));
        assert!(!is_gws_error_body("<html>404</html>"));
        assert!(!is_gws_error_body(""));
    }

    #[test]
    fn hints_say_when_the_profile_and_the_target_disagree_about_csrf() {
        let silent = Probe {
            status: None,
            ..answered(200, false)
        };
        // A token offered to a profile without CSRF.
        assert_eq!(
            hints(false, &[answered(200, false), answered(401, true)]),
            [HINT_CSRF_ON]
        );
        // A profile with CSRF, and successful GETs that carry none.
        assert_eq!(hints(true, &[answered(200, false)]), [HINT_CSRF_OFF]);
        // Agreement, or nothing to judge by: no hint.
        assert!(hints(true, &[answered(200, true)]).is_empty());
        assert!(hints(false, &[answered(200, false)]).is_empty());
        assert!(hints(true, &[answered(403, false), silent]).is_empty());
        // Credentials rejected: the anonymous version probe's 200 says nothing about tokens.
        let version = Probe {
            user: None,
            request: format!("GET {VERSION_PATH}"),
            ..answered(200, false)
        };
        assert!(hints(true, &[version.clone(), answered(401, false)]).is_empty());
        assert_eq!(
            hints(true, &[version, answered(200, false)]),
            [HINT_CSRF_OFF]
        );
    }
}

//! Setup errors: a step that serves a case without being what it checks (a `purpose = "setup"`
//! step, the harness's own token fetch or REST login, the CometD handshake) could not be done. The
//! case was not tested: each check here weighs `Level::Setup`, and names the step, what came back,
//! and the fix.

use crate::model::Step;
use crate::record::{Check, Exchange, Level};

/// The answers that say an operation is not there at all.
const MISSING: [u16; 3] = [404, 405, 501];

/// What came back for `exchange`, in words: its status, or the transport error.
fn what_came_back(exchange: Option<&Exchange>) -> String {
    match exchange {
        Some(Exchange {
            response: Some(r), ..
        }) => format!("answered {}", r.status),
        Some(Exchange { error: Some(e), .. }) => format!("got no answer ({e})"),
        _ => "got no answer".to_string(),
    }
}

/// Whether `exchange` got no answer, or one saying the operation is not there (404, 405, 501).
pub fn missing_or_silent(exchange: Option<&Exchange>) -> bool {
    exchange
        .and_then(|e| e.response.as_ref())
        .is_none_or(|r| MISSING.contains(&r.status))
}

fn setup_check(expected: String, actual: String) -> Check {
    let mut c = Check::new("setup", false, expected, actual);
    c.level = Level::Setup;
    c
}

/// The check of a setup step whose HTTP answer matched none the step allows: `exchange` is the
/// step's own (the last one it made).
pub fn step_not_done(step: &Step, exchange: Option<&Exchange>) -> Check {
    let request = format!("{} {}", step.request.method, step.request.path);
    let came_back = what_came_back(exchange);
    let missing = exchange
        .and_then(|e| e.response.as_ref())
        .is_some_and(|r| MISSING.contains(&r.status));
    let fix = match (&step.capability, missing) {
        (Some(cap), true) => format!(
            "`{cap}` is declared, but {request} {came_back}: remove it from `capabilities`, or check the server"
        ),
        (Some(cap), false) => format!(
            "`{cap}` is declared, but {request} {came_back}: check the target, or remove `{cap}` from `capabilities`"
        ),
        (None, true) => format!(
            "{request} {came_back}: the operation is not there, so the case cannot be tested on this target; check the server"
        ),
        (None, false) => format!("{request} {came_back}: check the target"),
    };
    setup_check(
        format!("{request} done (a setup step: it serves the case, and is not what it checks)"),
        fix,
    )
}

/// The check of a request the harness made for a step (a CSRF token fetch, the REST login before
/// CometD) that met a transport error or an answer saying the operation is missing; `None` when
/// every such request got a usable answer.
pub fn harness_request_failed(exchanges: &[Exchange]) -> Option<Check> {
    let failed = exchanges.iter().find(|e| {
        e.by_harness
            && (e.error.is_some()
                || e.response
                    .as_ref()
                    .is_some_and(|r| MISSING.contains(&r.status)))
    })?;
    let request = format!("{} {}", failed.request.method, failed.request.url);
    Some(setup_check(
        format!("{request} done (the harness's own request: a session cookie or CSRF token for the step)"),
        format!(
            "{request} {}: the step could not be sent as the case means; check the target and the profile's `csrf`",
            what_came_back(Some(failed))
        ),
    ))
}

/// The check of a CometD session that could not be started (handshake or subscription): the
/// step's notifications could not be awaited.
pub fn cometd_not_started(endpoint: &str, error: &str) -> Check {
    setup_check(
        format!("a CometD session at {endpoint} (a setup step: it carries the notifications the case awaits)"),
        format!("{error}: check the server's CometD endpoint, or remove `cometd` from `capabilities`"),
    )
}

/// Caps every failed check at `Level::Setup`: what a step found after its setup failed follows
/// from that failure, and says nothing about the server's rule.
pub fn cap_at_setup(checks: &mut [Check]) {
    for c in checks.iter_mut().filter(|c| !c.passed) {
        c.level = c.level.cap_at(Level::Setup);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{RequestRecord, ResponseRecord};

    fn exchange(status: Option<u16>, by_harness: bool) -> Exchange {
        Exchange {
            request: RequestRecord {
                method: "GET".into(),
                url: "http://127.0.0.1/api/v2/me".into(),
                headers: Vec::new(),
                body: None,
            },
            response: status.map(|status| ResponseRecord {
                status,
                headers: Vec::new(),
                content_type: None,
                body_text: None,
                body_bytes: 0,
            }),
            error: status.is_none().then(|| "could not connect".to_string()),
            error_kind: status
                .is_none()
                .then_some(crate::record::ErrorKind::Connect),
            by_harness,
            duration_ms: 0,
            note: None,
        }
    }

    fn ready_step(capability: Option<&str>) -> Step {
        Step {
            name: "Ready".into(),
            always: false,
            purpose: crate::model::StepPurpose::Setup,
            capability: capability.map(str::to_string),
            request: crate::model::Request {
                method: "POST".into(),
                path: "/api/v2/me/channels/voice".into(),
                auth: crate::model::AuthMode::Basic,
                headers: Vec::new(),
                body: None,
                csrf: true,
                follow_redirects: false,
            },
            expect: Default::default(),
            notifications: Vec::new(),
            sent_from_env: Vec::new(),
            retry: None,
        }
    }

    #[test]
    fn a_missing_operation_names_the_capability_and_the_fix() {
        let c = step_not_done(
            &ready_step(Some("agent_state")),
            Some(&exchange(Some(404), false)),
        );
        assert_eq!(c.level, Level::Setup);
        assert!(!c.passed);
        assert_eq!(
            c.actual,
            "`agent_state` is declared, but POST /api/v2/me/channels/voice answered 404: remove it from `capabilities`, or check the server"
        );
        let silent = step_not_done(&ready_step(None), Some(&exchange(None, false)));
        assert!(
            silent.actual.contains("got no answer (could not connect)"),
            "{silent:?}"
        );
    }

    #[test]
    fn only_the_harness_requests_that_failed_are_setup_errors() {
        assert!(harness_request_failed(&[exchange(Some(200), true)]).is_none());
        // The case's own 404 is the case's to judge.
        assert!(harness_request_failed(&[exchange(Some(404), false)]).is_none());
        let c = harness_request_failed(&[exchange(Some(404), true), exchange(Some(200), false)])
            .expect("a token fetch answered 404");
        assert_eq!(c.level, Level::Setup);
        assert!(c.actual.contains("answered 404"), "{c:?}");
        assert!(harness_request_failed(&[exchange(None, true)]).is_some());
    }

    #[test]
    fn capping_leaves_lighter_misses_and_passes_alone() {
        let mut checks = vec![
            Check::new("status", false, "200", "500"),
            Check::new("json", true, "", ""),
            Check::new("body", false, "", ""),
        ];
        checks[2].level = Level::Warning;
        cap_at_setup(&mut checks);
        assert_eq!(checks[0].level, Level::Setup);
        assert_eq!(
            checks[1].level,
            Level::Failure,
            "a passed check is left alone"
        );
        assert_eq!(checks[2].level, Level::Warning);
    }
}

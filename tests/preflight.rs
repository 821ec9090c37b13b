//! What `run`'s preflight concludes about a target that answers, but not as the profile says: the
//! real binary against `gws-conform serve` on 127.0.0.1.

mod support;

use std::time::Duration;

use support::{root, run, Served};

const PW: &str = "preflight-test-pw-1";
const LC: &str = "preflight-test-lc-1";
const LIMIT: Duration = Duration::from_secs(120);

fn run_with(url: &str, profile: &str, extra: &[&str]) -> (support::Run, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("r");
    let mut args = vec![
        "run",
        "--target",
        url,
        "--profile",
        profile,
        "--report-dir",
        reports.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let env = [("GWS_PASSWORD", PW), ("GWS_AGENT_LOGIN_PASSWORD", LC)];
    let r = run(&args, &root(), &env, LIMIT);
    let report = std::fs::read_to_string(reports.join("report.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or_else(|e| panic!("report.json: {e}\n{}{}", r.stdout, r.stderr));
    (r, report)
}

/// `s1-basic-voice` as `agent1` (csrf off) against a hand-made server the preflight must let through.
fn run_tested(url: &str) -> (support::Run, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.toml");
    std::fs::write(
        &p,
        "name = \"get-less\"\ncsrf = false\ntimeout_ms = 2000\n[agents.default]\nusername = \"agent1\"\npassword = \"${env:GWS_PASSWORD}\"\n",
    )
    .unwrap();
    let (r, report) = run_with(url, p.to_str().unwrap(), &["s1-basic-voice"]);
    assert_eq!(
        report["run"]["preflight"]["outcome"], "ok",
        "{}{}",
        r.stdout, r.stderr
    );
    (r, report)
}

/// A base URL the API is not under: every probe answers 404, and without this rule every negative
/// case "passed" on 404 refusals (45 of 45 wrong-type cases, exit 0).
#[test]
fn a_target_url_the_api_is_not_under_runs_no_case() {
    let server = Served::start(&[], PW, LC);
    for (url, says) in [
        (
            format!("{}/typo/", server.url),
            "is the target's URL right?",
        ),
        (
            format!("{}/api/v2", server.url),
            "give the URL without `/api/v2`",
        ),
    ] {
        let (r, report) = run_with(&url, "profiles/reference.toml", &["--tag", "wrong-type"]);
        assert_eq!(r.code, 2, "{url}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("every probe of the API answered 404") && r.stderr.contains(says),
            "{url}: {}",
            r.stderr
        );
        assert_eq!(report["run"]["preflight"]["outcome"], "no-api");
        assert_eq!(report["summary"]["tally"]["passed"], 0, "{url}");
    }
}

/// `csrf = false` against a server that issues tokens: the run sends them (as any client must) and
/// says so, instead of failing every POST on the profile's mistake.
#[test]
fn csrf_off_in_the_profile_against_a_csrf_server_sends_the_tokens_it_sees() {
    let server = Served::start(&[], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let p = support::reference_profile_without_csrf(dir.path());
    let (r, report) = run_with(&server.url, p.to_str().unwrap(), &["--spec", "S1"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("this run sends them, as a client must"),
        "{}",
        r.stderr
    );
    assert_eq!(report["summary"]["tally"]["failed"], 0);
    assert!(report["summary"]["tally"]["passed"].as_u64() > Some(0));
}

/// The allowance the POST confirmation exists for: a router that answers 404 to a method it lacks
/// (GET /api/v2/me) but serves StartContactCenterSession. Its cases run.
#[test]
fn a_target_that_only_lacks_get_me_is_tested() {
    use std::sync::Arc;
    use support::{response, TestServer};
    let server = TestServer::start(Arc::new(|req| {
        let json = [("Content-Type", "application/json")];
        Some(match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/api/v2/diagnostics/version") => {
                response("200 OK", &json, br#"{"version":"8.5"}"#)
            }
            ("POST", "/api/v2/me") => response("200 OK", &json, br#"{"statusCode":0}"#),
            _ => response(
                "404 Not Found",
                &json,
                br#"{"statusCode":6,"statusMessage":"Not found"}"#,
            ),
        })
    }));
    let (r, report) = run_tested(&server.url());
    let probes = report["run"]["preflight"]["probes"].as_array().unwrap();
    assert!(
        probes
            .iter()
            .any(|p| p["request"] == "POST /api/v2/me" && p["status"] == 200),
        "{probes:?}"
    );
    assert_eq!(report["summary"]["tally"]["not_run"], 0, "{}", r.stdout);
}

/// A server that lacks `GET /api/v2/me` (404) and refuses a body without `operationName` with 404
/// and a GWS error body unlike what a path it does not have gets: `operation-name-missing` accepts
/// any 4xx, so this is the API answering, not its absence, and the run goes ahead. Under a rule
/// that looked at the status alone it was refused as `no-api`.
#[test]
fn a_404_with_a_gws_error_body_is_the_api_answering() {
    use std::sync::Arc;
    use support::{response, TestServer};
    let server = TestServer::start(Arc::new(|req| {
        let json = [("Content-Type", "application/json")];
        let has_operation = String::from_utf8_lossy(&req.body).contains("operationName");
        Some(match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/api/v2/me") if has_operation => {
                response("200 OK", &json, br#"{"statusCode":0}"#)
            }
            ("POST", "/api/v2/me") => response(
                "404 Not Found",
                &json,
                br#"{"statusCode":1,"statusMessage":"operationName is required"}"#,
            ),
            _ => response(
                "404 Not Found",
                &[("Content-Type", "text/html")],
                b"<h1>404</h1>",
            ),
        })
    }));
    let (r, report) = run_tested(&server.url());
    let probes = report["run"]["preflight"]["probes"].as_array().unwrap();
    assert!(
        probes.iter().any(|p| p["request"] == "POST /api/v2/me"
            && p["status"] == 404
            && p["found"] == "answered 404 with a GWS error body of its own"),
        "{probes:?}"
    );
    assert_eq!(report["summary"]["tally"]["not_run"], 0, "{}", r.stdout);
}

/// `transport = "websocket"` against a long-polling-only server (a conforming Bayeux server): the
/// notification cases are skipped with the reason, not failed; the others run and pass.
#[test]
fn websocket_demanded_from_a_long_polling_server_skips_the_notification_cases() {
    let server = Served::start(&["--variant", "long-polling-only"], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let p = support::reference_profile_edited(dir.path(), "ws.toml", &[support::WEBSOCKET_ONLY]);
    let (r, report) = run_with(&server.url, p.to_str().unwrap(), &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("the profile demands WebSocket"),
        "{}",
        r.stderr
    );
    let tally = &report["summary"]["tally"];
    assert_eq!(tally["failed"], 0, "{}", r.stdout);
    assert!(tally["passed"].as_u64() > Some(0), "{}", r.stdout);
    let cases = report["cases"].as_array().unwrap();
    let skipped: Vec<&serde_json::Value> = cases
        .iter()
        .filter(|c| {
            c["reason"]
                .as_str()
                .is_some_and(|r| r.contains("the profile demands WebSocket"))
        })
        .collect();
    assert!(!skipped.is_empty(), "{}", r.stdout);
    assert!(skipped.iter().all(|c| c["verdict"] == "skip"));
    // Those that require `cometd`, and those with an answer that listens (an alternative's
    // notifications), which would otherwise end "cannot tell".
    for id in ["notify-s1-login-dsc", "s6-dynamic-phone-number-existing"] {
        assert!(skipped.iter().any(|c| c["id"] == id), "{id}: {}", r.stdout);
    }
    assert_eq!(tally["warned"], 0, "{}", r.stdout);
}

/// No API behind the URL, but every 404 is a GWS-shaped body that names the path: the statusCode
/// is what a path that cannot exist gets, so the API is absent (a byte comparison took the differing
/// messages for the API answering, and 95 negative cases "passed").
#[test]
fn a_404_naming_its_path_is_still_no_api() {
    use std::sync::Arc;
    use support::{response, TestServer};
    let server = TestServer::start(Arc::new(|req| {
        let body = format!(
            r#"{{"statusCode":6,"statusMessage":"Resource not found: {}"}}"#,
            req.path
        );
        Some(response(
            "404 Not Found",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        ))
    }));
    let (r, report) = run_with(
        &server.url(),
        "profiles/reference.toml",
        &["--tag", "negative"],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(report["run"]["preflight"]["outcome"], "no-api");
    assert_eq!(report["summary"]["tally"]["passed"], 0);
}

/// The same, with `csrf = false` in the profile against a server that wants the token on CometD too:
/// the WebSocket check is made with the tokens the run sends, so its handshake is not refused for
/// the profile's mistake and the notification cases are skipped, not failed.
#[test]
fn the_websocket_check_sends_the_tokens_the_run_sends() {
    let server = Served::start(
        &["--variant", "long-polling-only", "--variant", "cometd-csrf"],
        PW,
        LC,
    );
    let dir = tempfile::tempdir().unwrap();
    let p = support::reference_profile_edited(
        dir.path(),
        "ws.toml",
        &[support::WEBSOCKET_ONLY, support::CSRF_OFF],
    );
    let (r, report) = run_with(&server.url, p.to_str().unwrap(), &["notify-s1-login-dsc"]);
    assert_eq!(
        r.code, 2,
        "all skipped: no verdict\n{}{}",
        r.stdout, r.stderr
    );
    assert_eq!(report["summary"]["tally"]["failed"], 0, "{}", r.stdout);
    assert_eq!(report["summary"]["tally"]["skipped"], 1, "{}", r.stdout);
}

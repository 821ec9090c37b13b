//! The real binary against an independent implementation of the operation: a Python server written
//! from the published page and gws-notes.md alone (`tests/peers/independent_gws.py`), which makes its
//! own choices wherever the sources are silent (its own lab content, session cookie name, CSRF token
//! on every GET, CSRF before authentication and on CometD, 207 for partial success, a referenceId on
//! success, exclusive devices, long-polling only with a 30 s hold, ...). A conforming server must get
//! no failure: a failure here is a verdict that rests on what our reference server happens to do.

mod support;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use serde_json::Value;
use support::{root, run};

const PASSWORD: &str = "independent-test-pw-1";
const LOGIN_CODE_PASSWORD: &str = "independent-test-lc-1";
const LIMIT: Duration = Duration::from_secs(240);

/// The independent lab's content (tests/peers/independent_gws.py), not the reference lab's.
const VARS: &str = r#"[vars]
place = "SIP_5000"
login_code = "8000"
queue = "9000"
s3_place = "agent1"
s3_login_code = "agent1"
s5_place = "agent1@pizza.com"
password_login_code = "agent1"
dynamic_phone_number = "+442079460123"
existing_phone_number = "6501"
ext_and_acd_place = "Lab.ExtPlusACD"
foreign_device_path = "/devices/ext-x-6501"
multi_acd_device_path = "/devices/acd-x-6402"
multi_acd_place = "Lab.TwoACD"
multi_ext_device_path = "/devices/ext-x-6502"
multi_ext_place = "Lab.TwoExt"
multimedia_channel = "email"
other_multimedia_channel = "chat"
single_device_path = "/devices/dn-7208-ws"
single_device_place = "WS-08"
ext_and_acd_place_acd_number = "6602"
multi_acd_device_number = "6402"
multi_ext_device_number = "6502"
default_place_device_number = "7210"
sample6_default_place_number = "7206"
unregistered_voice_place = "Lab.Unregistered"
restore_place = "Lab.HotDesk"
restore_place_device_number = "6801"
"#;

/// `python3 tests/peers/independent_gws.py 0` on 127.0.0.1, killed when dropped.
struct Independent {
    child: Child,
    url: String,
}

impl Independent {
    fn start(modes: &str) -> Independent {
        let python = Command::new("python3")
            .arg("--version")
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "python3 is required to run the independent GWS server and was not found: {e}"
                )
            });
        assert!(
            python.status.success(),
            "python3 --version failed: {}",
            String::from_utf8_lossy(&python.stderr)
        );
        let mut child = Command::new("python3")
            .arg(root().join("tests/peers/independent_gws.py"))
            .arg("0")
            .env("GWS_PASSWORD", PASSWORD)
            .env("GWS_AGENT_LOGIN_PASSWORD", LOGIN_CODE_PASSWORD)
            .env("INDEP_GWS_MODES", modes)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 tests/peers/independent_gws.py");
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        // The first line is read on a thread of its own, so that a server that never prints it
        // fails the test in bounded time instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let read = out.read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
            // Keep draining, so that the server never blocks on a full pipe.
            std::io::copy(&mut out, &mut std::io::sink())
        });
        let line = rx.recv_timeout(Duration::from_secs(30));
        let server = Independent {
            child,
            url: match &line {
                Ok(Ok(l)) => l.trim().to_string(),
                _ => String::new(),
            },
        };
        // On a bad first line, `server` is dropped (and the child killed) by the panic.
        assert!(
            server.url.starts_with("http://127.0.0.1:"),
            "the independent server did not print its URL within 30 s: {line:?}"
        );
        server
    }
}

impl Drop for Independent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The reference profile (every capability, passwords from `${env:...}`) with the independent lab's
/// `[vars]`, less the capabilities in `without` (a server that does not offer them).
fn profile(dir: &Path, without: &[&str]) -> PathBuf {
    let reference = std::fs::read_to_string(root().join("profiles/reference.toml"))
        .expect("profiles/reference.toml");
    let mut text = support::without_vars(&reference)
        .replace("name = \"reference\"", "name = \"independent\"")
        + VARS;
    for cap in without {
        let entry = format!("\"{cap}\",");
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with(&entry))
            .collect();
        assert!(
            kept.len() < text.lines().count(),
            "capability {cap} not in the profile"
        );
        text = kept.join("\n") + "\n";
    }
    assert!(
        text.contains("multi_acd_place = \"Lab.TwoACD\""),
        "[vars] not replaced"
    );
    assert!(text.contains("password = \"${env:GWS_PASSWORD}\""));
    let p = dir.join("independent.toml");
    std::fs::write(&p, text).expect("write the profile");
    p
}

/// Runs the suite (or the cases in `cases`) against the server; returns the exit's run and tally.
fn run_against(server: &Independent, cases: Option<&Path>) -> (support::Run, Value) {
    run_without(server, cases, &[])
}

/// [`run_against`] with a profile that does not claim the capabilities in `without`.
fn run_without(
    server: &Independent,
    cases: Option<&Path>,
    without: &[&str],
) -> (support::Run, Value) {
    let (r, report) = run_report(server, cases, without);
    (r, report["summary"]["tally"].clone())
}

/// [`run_without`], returning the whole report.json.
fn run_report(
    server: &Independent,
    cases: Option<&Path>,
    without: &[&str],
) -> (support::Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(dir.path(), without);
    let reports = dir.path().join("r");
    let mut args = vec![
        "run",
        "--target",
        &server.url,
        "--profile",
        profile.to_str().unwrap(),
        "--report-dir",
        reports.to_str().unwrap(),
    ];
    if let Some(c) = cases {
        args.extend(["--cases", c.to_str().unwrap()]);
    }
    let env = [
        ("GWS_PASSWORD", PASSWORD),
        ("GWS_AGENT_LOGIN_PASSWORD", LOGIN_CODE_PASSWORD),
    ];
    let r = run(&args, &root(), &env, LIMIT);
    let report: Value = std::fs::read_to_string(reports.join("report.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or_else(|e| panic!("report.json: {e}\n{}{}", r.stdout, r.stderr));
    (r, report)
}

/// The independent server with its default choices: the whole suite, every capability, no failure.
#[test]
fn the_whole_suite_passes_against_an_independent_server() {
    let server = Independent::start("default");
    let (r, tally) = run_against(&server, None);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(tally["failed"], 0, "{tally}\n{}", r.stdout);
    assert_eq!(tally["skipped"], 0, "{tally}\n{}", r.stdout);
    assert_eq!(tally["not_run"], 0, "{tally}\n{}", r.stdout);
    assert!(
        tally["passed"].as_u64() >= Some(120),
        "{tally}\n{}",
        r.stdout
    );
}

/// The whole suite against the server in `modes`: inferred expectations may warn; nothing may fail.
fn no_failure_in(modes: &str, min_passed: u64) {
    no_failure_without(modes, &[], min_passed);
}

/// [`no_failure_in`] with a profile that does not claim the capabilities in `without`: their cases
/// are skipped, and nothing else may fail.
fn no_failure_without(modes: &str, without: &[&str], min_passed: u64) {
    let server = Independent::start(modes);
    let (r, tally) = run_without(&server, None, without);
    assert_eq!(r.code, 0, "{modes}: {}{}", r.stdout, r.stderr);
    assert_eq!(tally["failed"], 0, "{modes}: {tally}\n{}", r.stdout);
    assert_eq!(tally["not_run"], 0, "{modes}: {tally}\n{}", r.stdout);
    assert!(
        tally["passed"].as_u64() >= Some(min_passed),
        "{modes}: {tally}\n{}",
        r.stdout
    );
}

/// Two more choices the sources allow: HTTP 200 for every error but statusCode 4 and 20 (gws-notes
/// §3.3: no mapping is documented), and notifications 300 ms after the answer (§3.2: the outcome
/// arrives asynchronously). Inferred expectations warn (the HTTP statuses they infer). Before the
/// fix, `place-multi-acd-without-device-path` and `place-multi-ext-without-device-path` failed here:
/// they demanded 4xx or 5xx at the documented level, where only the failure itself is documented.
#[test]
fn no_failure_when_errors_are_http_200_and_notifications_come_late() {
    no_failure_in("default,errors-200,delay", 60);
}

/// A Bayeux server that asks for a new handshake on the first `/meta/connect` of each HTTP session
/// (as a cluster node that did not see the handshake would). Before the fix the client took that
/// refusal as a broken session and the seven notification cases failed (gws-notes.md §5.1 step 6:
/// "On /meta/connect failure with advice.reconnect == \"handshake\", handshake again").
#[test]
fn no_failure_when_the_first_connect_asks_for_a_new_handshake() {
    no_failure_in("default,rehandshake", 110);
}

/// A server that gives the session a new id (and no CSRF token yet) when a contact center session
/// starts, as session-fixation protection does. The CometD requests then need the new session's
/// token: before the fix they went without one and the seven notification cases failed.
#[test]
fn no_failure_when_the_session_id_rotates_at_start() {
    no_failure_in("default,session-rotate", 110);
}

/// Wire and encoding choices the sources leave to the server: `Connection: close` after every answer,
/// no compression, every answer chunked (RFC 9112 §6.1, §9.6), `Content-Type: application/json` with
/// no charset (gws-notes §3.3 asks only for JSON), compact JSON with members in reverse order and
/// every ASCII letter of a string escaped as `\u00XX` (RFC 8259 §4, §7), extra members on every
/// success body, user and device (§3.2 forbids them for errors only; §2, §5.3: real servers add some),
/// a top-level statusMessage on a partial success (§3.2: "When statusCode != 0, the response carries
/// statusMessage"), and the CSRF refusal's documented text written as a line, CRLF after it (§4.3).
#[test]
fn no_failure_with_other_wire_and_json_choices() {
    no_failure_in(
        "default,conn-close,no-gzip,chunked-all,ctype-bare,json-style,extra-fields,partial-message,\
         csrf-text-newline",
        120,
    );
}

/// Cookie and CometD choices: session cookie at Path=/ with Max-Age, Expires and SameSite=Strict,
/// re-set on every answer, beside a load balancer's cookie (§4.2: a cookie store); `charset=UTF-8`
/// without a space; Bayeux replies with `ext` and more advice, data messages without `id` (Bayeux 1.0
/// §5.1), a BAYEUX_BROWSER cookie on the handshake (CometD 3, §5.1 D11), a 5 s hold, data messages in
/// any reply and before the meta replies; a DeviceStateChangeMessage for the device assignment before
/// the LoggedIn one (§1.1, 8.5.0 algorithm step 3) and the post-login state notified twice (§5.3 "one
/// or more DSC").
#[test]
fn no_failure_with_other_cookie_and_cometd_choices() {
    no_failure_in(
        "default,cookies,ctype-upper,bayeux-extra,bayeux-cookie,shorthold,-connect-only,-reply-first,\
         dsc-assign,dsc-repeat",
        120,
    );
}

/// Session and validation choices: CometD authenticated by the session cookie alone (§4.2, the iOS
/// sample), Bayeux clients ended with the HTTP session by EndContactCenterSession (§2), a 1 s advised
/// interval, 401 with WWW-Authenticate for a wrong password (§3.3 maps no status), End without a session
/// answered with success, an unknown channel name refusing the whole request (§10 Q5), and numbers or
/// booleans read as text where a string is expected (Jackson's default; the wrong-type cases warn).
#[test]
fn no_failure_with_cookie_only_cometd_and_lenient_validation() {
    no_failure_in(
        "default,cometd-cookie-only,end-drops-cometd,interval=1000,auth-401,-end-error,\
         unknown-channel-invalid,coerce",
        120,
    );
}

/// A server without the operations the profile then does not claim: no diagnostics/version (404) and
/// no Ready/NotReady (404), with every GWS error but 20 answered HTTP 500 (§3.3: no mapping is
/// documented; the inferred 4xx expectations warn); then CSRF protection off (§4.3: enabled per node),
/// diagnostics behind credentials, and every error HTTP 422.
#[test]
fn no_failure_without_diagnostics_agent_state_or_csrf() {
    no_failure_without(
        "default,no-diagnostics,no-agent-state,errors-status=500",
        &["diagnostics", "agent_state"],
        60,
    );
    no_failure_without(
        "default,no-csrf,-cometd-csrf,-csrf-first,diag-auth,errors-status=422",
        &["csrf", "diagnostics"],
        120,
    );
}

/// A server that rotates the session id at Start and names its own CSRF header (`X-CSRF-HEADER`):
/// the CometD client fetches the new session's token, the REST steps then send it, and the reports
/// show it masked like any token (it leaked under the custom header name once).
#[test]
fn a_csrf_token_the_cometd_client_fetched_is_masked_in_the_reports() {
    let server = Independent::start("default,csrf-header-name,session-rotate");
    let (r, report) = run_report(&server, None, &[]);
    assert_eq!(report["summary"]["tally"]["failed"], 0, "{}", r.stdout);
    let mut sent = 0;
    for case in report["cases"].as_array().unwrap() {
        for step in case["steps"].as_array().unwrap() {
            for ex in step["exchanges"].as_array().unwrap() {
                for h in ex["request"]["headers"].as_array().into_iter().flatten() {
                    if h[0]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case("x-gws-csrf"))
                    {
                        sent += 1;
                        assert_eq!(h[1], "***", "{}: {h}", case["id"]);
                    }
                }
            }
        }
    }
    assert!(sent > 0, "no request carried the custom CSRF header");
}

/// The first login announced twice (LoggedIn again when DND is confirmed, 500 ms later, then NotReady:
/// gws-notes.md §5.3 "one or more DSC"), the second Start announcing nothing, as Sample 1 says.
/// `notify-s1-twice` used to blame the first login's second message on the second Start (a documented
/// failure, 3 runs of 3); its first step now hears the channel out (`settle_ms`).
#[test]
fn no_failure_when_the_first_login_is_announced_twice() {
    no_failure_in("default,dsc-loggedin-twice", 110);
}

/// Successes answered 202 Accepted (gws-notes.md §3.2: statusCode 0 means "accepted and forwarded
/// to a backend"; §3.3 maps no HTTP status). `param-accepted` used to demand exactly 200, the one
/// success step of the suite that did: its documented row failed.
#[test]
fn no_failure_when_successes_are_202_accepted() {
    no_failure_in("default,accepted-202", 120);
}

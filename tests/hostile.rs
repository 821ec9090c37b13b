//! The real binary against hostile and misconfigured targets on 127.0.0.1: one that accepts
//! connections and never answers, one that drips its bodies a byte a second, one that dies after
//! ten requests, and one that rejects the profile's credentials. Each run must end within its bound
//! with exit 3 (the target could not be tested), one clear line saying why, and all five reports written with every selected case
//! accounted for.

mod support;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

const PASSWORD: &str = "hostile-test-password";
/// The profile's `timeout_ms`: short, so that every bound below is a few seconds.
const TIMEOUT_MS: u64 = 400;
/// `gws_conform::execute::liveness::LOST_AFTER`, as the README documents it.
const LOST_AFTER: u64 = 5;
/// A hang fails the test instead of stalling CI.
const LIMIT: Duration = Duration::from_secs(60);
const REPORTS: [&str; 5] = [
    "report.json",
    "report.html",
    "junit.xml",
    "summary.md",
    "report.tap",
];

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One hostile run: what the binary said, how long it took, and its report.
struct Outcome {
    run: Run,
    elapsed: Duration,
    report: Value,
    dir: tempfile::TempDir,
}

impl Outcome {
    fn said(&self) -> String {
        format!(
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.run.code, self.run.stdout, self.run.stderr
        )
    }

    fn cases(&self) -> &Vec<Value> {
        self.report["cases"].as_array().expect("cases")
    }
}

/// Runs the whole suite against `url` with a profile of `timeout_ms` 400, one user and no CSRF.
fn run_against(url: &str, extra: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("hostile.toml");
    std::fs::write(
        &profile,
        format!("name = \"hostile\"\ntimeout_ms = {TIMEOUT_MS}\n[agents.default]\nusername = \"agent1\"\npassword = \"${{env:GWS_PASSWORD}}\"\n"),
    )
    .expect("write profile");
    let report_dir = dir.path().join("report");
    let mut args = vec![
        "run",
        "--target",
        url,
        "--profile",
        profile.to_str().expect("utf-8"),
        "--report-dir",
        report_dir.to_str().expect("utf-8"),
        "--jobs",
        "2",
    ];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let run = run(&args, &root(), &[("GWS_PASSWORD", PASSWORD)], LIMIT);
    let elapsed = started.elapsed();
    let report = validated(&report_dir.join("report.json"), &run);
    Outcome {
        run,
        elapsed,
        report,
        dir,
    }
}

/// report.json, checked against its schema.
fn validated(path: &Path, run: &Run) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\nstdout:\n{}\nstderr:\n{}",
            path.display(),
            run.stdout,
            run.stderr
        )
    });
    let report: Value = serde_json::from_str(&text).expect("report.json is JSON");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/report.schema.json")).expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .take(5)
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    report
}

/// The exit code of a run whose target could not be tested in full: 3, unless a case failed before
/// the target was lost (a request that got no answer fails its case): 1 comes before 3.
fn expected_code(o: &Outcome) -> i32 {
    if o.report["summary"]["tally"]["failed"].as_u64() > Some(0) {
        1
    } else {
        3
    }
}

/// Exit 3 (the target could not be tested; 1 if a case failed first), the reason on one line, five
/// reports, every planned case in the report (and in JUnit and TAP), and the run marked incomplete
/// with the reason.
fn assert_accounted_for(o: &Outcome, reason: &str) {
    assert_eq!(o.run.code, expected_code(o), "{}", o.said());
    let all = format!("{}{}", o.run.stdout, o.run.stderr);
    assert!(
        all.lines()
            .any(|l| l.starts_with("error: ") && l.contains(reason)),
        "no `error: ...{reason}...` line\n{}",
        o.said()
    );
    for name in REPORTS {
        let p = o.dir.path().join("report").join(name);
        let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{} missing or empty\n{}", p.display(), o.said());
    }
    let planned = o.report["run"]["planned"].as_u64().expect("planned") as usize;
    assert!(planned > 0);
    assert_eq!(o.cases().len(), planned, "{}", o.said());
    assert_eq!(o.report["summary"]["tally"]["total"], planned);
    assert_eq!(o.report["summary"]["complete"], false);
    let unreachable = o.report["summary"]["unreachable"].as_str().unwrap_or("");
    assert!(unreachable.contains(reason), "{unreachable}");
    let junit = std::fs::read_to_string(o.dir.path().join("report/junit.xml")).expect("junit");
    assert_eq!(junit.matches("<testcase ").count(), planned + 1, "{junit}");
    let tap = std::fs::read_to_string(o.dir.path().join("report/report.tap")).expect("tap");
    assert!(tap.contains(&format!("1..{planned}")), "{tap}");
    assert!(tap.contains("Bail out!"), "{tap}");
    // The password never shows, whatever went wrong.
    for name in REPORTS {
        let text = std::fs::read_to_string(o.dir.path().join("report").join(name)).unwrap();
        assert!(!text.contains(PASSWORD), "{name} shows the password");
    }
    assert!(!all.contains(PASSWORD));
}

/// Every case that was due to run is not run, with `reason`.
fn assert_none_ran(o: &Outcome, reason: &str) {
    for c in o.cases() {
        if c["verdict"] == "skip" {
            continue;
        }
        assert_eq!(c["verdict"], "not-run", "{c}");
        assert!(
            c["reason"].as_str().is_some_and(|r| r.contains(reason)),
            "{}",
            c["reason"]
        );
        assert!(c["steps"].as_array().is_none_or(|s| s.is_empty()));
    }
}

/// Within `bound` (the waiting the target forces) plus twice what the same whole run costs when
/// nothing waits, measured now: start, load, the five reports. On a loaded machine that cost grows
/// tenfold, and a fixed slack made these tests flaky; a hang still fails them.
fn assert_within(o: &Outcome, bound: Duration) {
    let overhead = idle_overhead();
    let bound = bound + 2 * overhead;
    eprintln!(
        "took {:?} (bound {bound:?}, of which 2 x {overhead:?} for a run that waits for nothing)",
        o.elapsed
    );
    assert!(
        o.elapsed <= bound,
        "took {:?}, over the bound of {bound:?}\n{}",
        o.elapsed,
        o.said()
    );
}

/// How long the whole run takes against a closed port: refused at once, so no case waits.
fn idle_overhead() -> Duration {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    run_against(&format!("http://127.0.0.1:{port}"), &[]).elapsed
}

/// The version probe's answer.
fn version() -> Vec<u8> {
    response(
        "200 OK",
        &[("Content-Type", "application/json")],
        br#"{"version":"8.5.201.04"}"#,
    )
}

/// An answer to everything else that a case can judge (and mostly fail): a JSON `statusCode` 0.
fn ok_json() -> Vec<u8> {
    response(
        "200 OK",
        &[("Content-Type", "application/json")],
        br#"{"statusCode":0}"#,
    )
}

#[test]
fn a_target_that_accepts_and_never_answers_ends_at_the_preflight() {
    // (The test server holds each connection 5 s without a byte, then closes it.)
    let server = TestServer::start(Arc::new(|_| None));
    let o = run_against(&server.url(), &[]);
    let reason = "GET /api/v2/diagnostics/version: no complete answer within 400 ms";
    assert_accounted_for(&o, reason);
    assert!(
        o.run
            .stderr
            .contains(&format!("error: preflight: {reason}; no case was run")),
        "{}",
        o.said()
    );
    assert_none_ran(&o, reason);
    let pre = &o.report["run"]["preflight"];
    assert_eq!(pre["outcome"], "unreachable");
    // Users are not probed once the version probe got nothing.
    assert_eq!(pre["probes"].as_array().map(Vec::len), Some(1), "{pre}");
    assert_within(&o, ms(2 * TIMEOUT_MS + 1000));
}

/// Answers the first `fast` requests at once (the preflight), then sends every answer's head and
/// drips its 60-byte body one byte a second.
fn drip_server(fast: usize) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(AtomicUsize::new(0));
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            thread::spawn(move || drip_connection(stream, &seen, fast));
        }
    });
    TestServer { addr }
}

fn drip_connection(mut stream: TcpStream, seen: &AtomicUsize, fast: usize) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut stream, &mut buf) {
        if seen.fetch_add(1, Ordering::SeqCst) < fast {
            let answer = if req.path.starts_with("/api/v2/diagnostics") {
                version()
            } else {
                ok_json()
            };
            if stream.write_all(&answer).is_err() {
                return;
            }
            continue;
        }
        let body = format!("{{\"statusCode\":0,\"pad\":\"{}\"}}", "x".repeat(34));
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        // At most 60 s, and over as soon as the harness hangs up.
        for b in body.bytes() {
            if stream.write_all(&[b]).and_then(|_| stream.flush()).is_err() {
                return;
            }
            thread::sleep(Duration::from_secs(1));
        }
    }
}

/// The per-request timeout covers the whole answer, body included: a body dripping a byte a second
/// cannot hold a case past `timeout_ms`, and LOST_AFTER such exchanges in a row stop the run.
#[test]
fn a_target_that_drips_its_bodies_times_out_per_request_and_is_given_up() {
    // The version probe and the one user's GET /api/v2/me are answered at once.
    let server = drip_server(2);
    let o = run_against(&server.url(), &[]);
    assert_accounted_for(&o, "the target stopped answering: 5 exchanges in a row");
    assert_eq!(o.report["run"]["preflight"]["outcome"], "ok");
    let mut timed_out = 0;
    for c in o.cases() {
        for step in c["steps"].as_array().into_iter().flatten() {
            for ex in step["exchanges"].as_array().into_iter().flatten() {
                let error = ex["error"].as_str().unwrap_or("");
                assert!(
                    error.contains("gave no complete answer within 400 ms"),
                    "every exchange got the head of an answer and then the timeout: {ex}"
                );
                // The timeout covers the body: never a whole second per exchange.
                assert!(ex["duration_ms"].as_u64().unwrap() < 1000, "{ex}");
                timed_out += 1;
            }
        }
    }
    // (Exchanges of the cases still in flight when the run stopped go with those cases, which are
    // reported not run.)
    assert!(timed_out >= 1, "{}", o.said());
    assert!(
        o.cases()
            .iter()
            .any(|c| c["reason"] == "the target stopped answering before this case ran"),
        "{}",
        o.said()
    );
    // Preflight, then LOST_AFTER timeouts two at a time (and those still in flight), then 1 s.
    assert_within(
        &o,
        ms(2 * TIMEOUT_MS + (LOST_AFTER + 1) * TIMEOUT_MS + 1000),
    );
}

/// Answers ten requests, then stops listening and drops every connection.
fn dying_server(answers: usize) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(AtomicUsize::new(0));
    let dead = Arc::new(AtomicBool::new(false));
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if dead.load(Ordering::SeqCst) {
                // Dropping the listener (returning) refuses every later connection.
                return;
            }
            let (seen, dead) = (seen.clone(), dead.clone());
            thread::spawn(move || {
                let mut stream = stream;
                let mut buf = Vec::new();
                while let Some(req) = read_request(&mut stream, &mut buf) {
                    if seen.fetch_add(1, Ordering::SeqCst) >= answers {
                        dead.store(true, Ordering::SeqCst);
                        return;
                    }
                    let answer = if req.path.starts_with("/api/v2/diagnostics") {
                        version()
                    } else {
                        ok_json()
                    };
                    if stream.write_all(&answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    TestServer { addr }
}

#[test]
fn a_target_that_dies_after_ten_requests_stops_the_run() {
    let server = dying_server(10);
    let o = run_against(&server.url(), &[]);
    assert_accounted_for(&o, "the target stopped answering: 5 exchanges in a row");
    assert_eq!(o.report["run"]["preflight"]["outcome"], "ok");
    let verdict = |v: &str| o.cases().iter().filter(|c| c["verdict"] == v).count();
    assert!(verdict("fail") + verdict("pass") >= 1, "{}", o.said());
    assert!(verdict("not-run") >= 1, "{}", o.said());
    // Dead is refused at once: nothing waits for a timeout but the connections already open.
    assert_within(&o, ms(2 * TIMEOUT_MS + LOST_AFTER * TIMEOUT_MS + 1000));
    // A quiet run prints no console summary: the reason goes to standard error.
    let quiet = run_against(&dying_server(10).url(), &["-q"]);
    assert_eq!(quiet.run.code, expected_code(&quiet), "{}", quiet.said());
    assert!(
        quiet.run.stderr.lines().any(|l| l.starts_with(
            "error: the target could not be tested: the target stopped answering: 5 exchanges in a row"
        )),
        "{}",
        quiet.said()
    );
}

/// Answers the preflight's two requests, then reads each request and hangs up without a word.
fn hang_up_server() -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(AtomicUsize::new(0));
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            thread::spawn(move || {
                let mut stream = stream;
                let mut buf = Vec::new();
                while let Some(req) = read_request(&mut stream, &mut buf) {
                    if seen.fetch_add(1, Ordering::SeqCst) >= 2 {
                        return;
                    }
                    let answer = if req.path.starts_with("/api/v2/diagnostics") {
                        version()
                    } else {
                        ok_json()
                    };
                    if stream.write_all(&answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    TestServer { addr }
}

/// A connection dropped before any answer is no answer, as a refused one is: a target that hangs up
/// on every request is given up after LOST_AFTER of them, though it still accepts connections.
#[test]
fn a_target_that_hangs_up_on_every_request_is_given_up() {
    let o = run_against(&hang_up_server().url(), &[]);
    assert_accounted_for(&o, "the target stopped answering: 5 exchanges in a row");
    assert!(
        o.report["summary"]["unreachable"]
            .as_str()
            .is_some_and(|u| u.contains("connection closed before message completed")),
        "{}",
        o.report["summary"]
    );
    assert_within(&o, ms(2 * TIMEOUT_MS + 1000));
}

#[test]
fn a_target_that_rejects_the_credentials_runs_no_case_and_names_the_user() {
    let server = TestServer::start(Arc::new(|req| {
        let csrf = [
            ("Content-Type", "application/json"),
            ("X-CSRF-HEADER", "X-CSRF-TOKEN"),
            ("X-CSRF-TOKEN", "a-token-the-profile-ignores"),
        ];
        if req.path.starts_with("/api/v2/diagnostics") {
            return Some(response("200 OK", &csrf, br#"{"version":"8.5"}"#));
        }
        Some(response(
            "401 Unauthorized",
            &csrf,
            br#"{"statusCode":20,"statusMessage":"Bad credentials"}"#,
        ))
    }));
    let o = run_against(&server.url(), &[]);
    assert_accounted_for(&o, "the target rejected the credentials of role");
    let line = o
        .run
        .stderr
        .lines()
        .find(|l| l.contains("rejected the credentials"))
        .expect("the reason");
    assert!(
        line.contains("(user `agent1`): 401") && line.contains("`default`"),
        "{line}"
    );
    assert_none_ran(&o, "the target rejected the credentials");
    assert!(
        o.run.stderr.contains(&format!(
            "hint: {}",
            gws_conform::execute::preflight::HINT_CSRF_ON
        )),
        "{}",
        o.said()
    );
    let pre = &o.report["run"]["preflight"];
    assert_eq!(pre["outcome"], "credentials-rejected");
    // One user (every role falls back to `default`): the version probe and one GET /api/v2/me.
    assert_eq!(pre["probes"].as_array().map(Vec::len), Some(2), "{pre}");
    assert_eq!(pre["probes"][1]["status"], 401);
    assert_eq!(pre["probes"][1]["user"], "agent1");
    assert_eq!(
        pre["hints"][0],
        gws_conform::execute::preflight::HINT_CSRF_ON
    );
    // The HTML page says it too, in a section of its own.
    let html = std::fs::read_to_string(o.dir.path().join("report/report.html")).expect("html");
    let section = html
        .split("<section id=\"preflight\">")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("a preflight section");
    assert!(
        section.contains("<b>No case was run:</b> the target rejected the credentials of role")
            && section.contains("as agent1 (roles: ")
            && section.contains("Hint: the target issues CSRF tokens"),
        "{section}"
    );
    assert_within(&o, ms(2 * TIMEOUT_MS + 1000));
}

/// The deadline ends the run as Ctrl-C does: what finished stays, the rest is not run, exit 124.
#[test]
fn the_deadline_ends_the_run_with_exit_124() {
    // Answers at once, but every answer after the preflight takes 300 ms (within timeout_ms): the
    // target is alive and slow, so only the deadline stops it.
    let server = TestServer::start(Arc::new(|req| {
        if req.path.starts_with("/api/v2/diagnostics") {
            return Some(version());
        }
        thread::sleep(ms(300));
        Some(ok_json())
    }));
    let o = run_against(&server.url(), &["--deadline", "1s"]);
    assert_eq!(o.run.code, 124, "{}", o.said());
    assert!(
        o.run
            .stderr
            .contains("error: the run's deadline (1s) passed:"),
        "{}",
        o.said()
    );
    for name in REPORTS {
        assert!(o.dir.path().join("report").join(name).exists(), "{name}");
    }
    let planned = o.report["run"]["planned"].as_u64().unwrap() as usize;
    assert_eq!(o.cases().len(), planned);
    assert_eq!(o.report["summary"]["complete"], false);
    assert!(
        o.cases()
            .iter()
            .any(|c| c["reason"] == "the run's deadline passed (1s) before this case ran"),
        "{}",
        o.said()
    );
    assert_within(&o, ms(1000 + TIMEOUT_MS + 1000));
}

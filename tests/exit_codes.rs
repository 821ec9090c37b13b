//! One test per row of the README's exit-code table: the real binary, provoked into each code, against
//! `gws-conform serve` (or nothing) on 127.0.0.1. 124 and 130 are provoked in `tests/hostile.rs` (the
//! deadline) and `tests/reports.rs` (SIGTERM), and "lost midway" in `tests/hostile.rs`.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::{root, run, Served};

const PW: &str = "exit-codes-test-pw-1";
const LC: &str = "exit-codes-test-lc-1";
const LIMIT: Duration = Duration::from_secs(120);

/// `run --target URL --profile profiles/reference.toml --report-dir DIR/r EXTRA...` with `password`.
fn run_at(url: &str, dir: &Path, password: &str, extra: &[&str]) -> (support::Run, Value) {
    let reports = dir.join("r");
    let mut args = vec![
        "run",
        "--target",
        url,
        "--profile",
        "profiles/reference.toml",
        "--report-dir",
        reports.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let env = [("GWS_PASSWORD", password), ("GWS_AGENT_LOGIN_PASSWORD", LC)];
    let r = run(&args, &root(), &env, LIMIT);
    let report = std::fs::read_to_string(reports.join("report.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or_else(|e| panic!("report.json: {e}\n{}{}", r.stdout, r.stderr));
    (r, report)
}

/// `report` (as TAP) and `merge` of the run's report.json: both exit by the verdict they write.
fn report_and_merge_codes(dir: &Path) -> (i32, i32) {
    let json = dir.join("r/report.json");
    let json = json.to_str().unwrap();
    let merged = dir.join("merged.json");
    let report = run(&["report", json, "--format", "tap"], &root(), &[], LIMIT);
    let merge = run(
        &["merge", json, "-o", merged.to_str().unwrap()],
        &root(),
        &[],
        LIMIT,
    );
    (report.code, merge.code)
}

#[test]
fn exit_0_when_nothing_failed() {
    let server = Served::start(&[], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let (r, report) = run_at(&server.url, dir.path(), PW, &["s1-basic-voice"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(report["summary"]["ok"], true);
    assert_eq!(report_and_merge_codes(dir.path()), (0, 0));
}

#[test]
fn exit_1_on_a_conformance_failure() {
    let server = Served::start(&["--fault", "csrf-not-enforced"], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let (r, report) = run_at(&server.url, dir.path(), PW, &["csrf-missing-token"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(report["summary"]["tally"]["failed"], 1);
    assert_eq!(report_and_merge_codes(dir.path()), (1, 1));
}

#[test]
fn exit_2_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    // Usage.
    let r = run(&["run", "--no-such-flag"], &root(), &[], LIMIT);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    // A selection that matches no case.
    let r = run(
        &["run", "--tag", "no-such-tag-anywhere"],
        &root(),
        &[],
        LIMIT,
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    // A report that does not load.
    std::fs::write(dir.path().join("bad.json"), "{").unwrap();
    let bad = dir.path().join("bad.json");
    let r = run(
        &["report", bad.to_str().unwrap(), "--format", "tap"],
        &root(),
        &[],
        LIMIT,
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
}

#[test]
fn exit_3_when_the_target_could_not_be_tested() {
    // Unreachable at the preflight: nothing listens on the port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let (r, report) = run_at(
        &format!("http://127.0.0.1:{port}"),
        dir.path(),
        PW,
        &["s1-basic-voice"],
    );
    assert_eq!(r.code, 3, "unreachable: {}{}", r.stdout, r.stderr);
    assert_eq!(report["run"]["preflight"]["outcome"], "unreachable");
    assert_eq!(report_and_merge_codes(dir.path()), (3, 3));

    // Credentials rejected at the preflight.
    let server = Served::start(&[], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let (r, report) = run_at(
        &server.url,
        dir.path(),
        "not-the-password",
        &["s1-basic-voice"],
    );
    assert_eq!(r.code, 3, "credentials: {}{}", r.stdout, r.stderr);
    assert_eq!(
        report["run"]["preflight"]["outcome"],
        "credentials-rejected"
    );
}

/// The acceptance of issue 18's setup errors: `agent_state` claimed against a server without
/// Ready/NotReady. The case is an error (setup) naming the step, what came back and the fix; no
/// case fails, no sample is red, JUnit writes `<error>`, and the run exits 3.
#[test]
fn exit_3_on_setup_errors_a_claimed_capability_the_server_lacks() {
    let server = Served::start(&["--variant", "no-agent-state"], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let (r, report) = run_at(
        &server.url,
        dir.path(),
        PW,
        &["notify-device-schema", "s1-basic-voice"],
    );
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    let tally = &report["summary"]["tally"];
    assert_eq!(tally["failed"], 0, "{tally}");
    assert_eq!(tally["errors"], 1, "{tally}");
    assert_eq!(tally["passed"], 1, "{tally}");
    let case = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "notify-device-schema")
        .expect("the case is reported");
    assert_eq!(case["verdict"], "error");
    let reason = case["reason"].as_str().unwrap();
    assert!(
        reason.contains(
            "`agent_state` is declared, but POST /api/v2/me/channels/voice answered 404: remove it from `capabilities`, or check the server"
        ),
        "{reason}"
    );
    // No red sample: S1 is partial (one of its cases was not tested), never FAIL.
    let s1 = report["summary"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["element"] == "S1")
        .expect("S1");
    assert_eq!(s1["status"], "partial", "{s1}");
    let junit = std::fs::read_to_string(dir.path().join("r/junit.xml")).unwrap();
    assert!(junit.contains("<error type=\"setup\""), "{junit}");
    assert!(!junit.contains("<failure"), "{junit}");
    assert!(
        r.stdout.contains("1 errors (setup);") && !r.stdout.contains("FAILED"),
        "{}",
        r.stdout
    );
    assert_eq!(report_and_merge_codes(dir.path()), (3, 3));

    // The same run without the claim: the case is skipped with its reason, and the run passes.
    let dir = tempfile::tempdir().unwrap();
    let p = support::reference_profile_edited(
        dir.path(),
        "no-agent-state.toml",
        &[("\"agent_state\",", "")],
    );
    let reports = dir.path().join("r");
    let env = [("GWS_PASSWORD", PW), ("GWS_AGENT_LOGIN_PASSWORD", LC)];
    let r = run(
        &[
            "run",
            "--target",
            &server.url,
            "--profile",
            p.to_str().unwrap(),
            "--report-dir",
            reports.to_str().unwrap(),
            "notify-device-schema",
            "s1-basic-voice",
        ],
        &root(),
        &env,
        LIMIT,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

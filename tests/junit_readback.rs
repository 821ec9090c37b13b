//! junit.xml as a real consumer reads it: PyPI's `junitparser` (installed in .ci/.venv by
//! .ci/install.d/pipelines.sh; a missing one fails the test) reads back each verdict a CI test view
//! must show: pass, warn, fail, skip, not run, known failure, and the error of an incomplete run.
//! The file still validates against the vendored junit-10.xsd.

#[path = "reports_support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::*;

fn case(id: &str, verdict: &str, reason: Option<&str>) -> serde_json::Value {
    let mut c = serde_json::json!({
        "id": id, "title": format!("{id} title"), "spec": ["S1"], "provenance": "documented",
        "tags": [], "file": format!("cases/{id}.toml"), "sha256": "00", "verdict": verdict,
        "steps": [], "duration_ms": 1
    });
    if let Some(r) = reason {
        c["reason"] = r.into();
    }
    c
}

/// A report with one case of each verdict, a known failure, and an incomplete run.
fn report() -> serde_json::Value {
    serde_json::json!({
        "format": "gws-conform-report/1",
        "run": {"run_id": "r1", "harness_version": "0.1.0", "started_at": "2026-11-24T07:00:00Z",
          "target": {"url": "http://t", "embedded": false}, "profile": {"name": "p"}, "inputs": [],
          "selection": {}, "planned": 7, "jobs": 1},
        "baseline": {"file": "known.toml", "sha256": "11", "today": "2026-11-24",
          "entries": [{"case": "e-known", "reason": "GWS-123", "expires": "2999-01-01"}]},
        "cases": [
            case("a-pass", "pass", None),
            case("b-warn", "warn", Some("an inferred expectation was not met")),
            case("c-fail", "fail", Some("statusCode: expected 0, got 1")),
            case("d-skip", "skip", Some("needs the `cometd` capability")),
            case("e-known", "fail", Some("statusCode: expected 0, got 1")),
            case("f-not-run", "not-run", Some("the run was stopped before this case ran")),
        ],
        "summary": {
            "tally": {"total": 6, "passed": 1, "warned": 1, "failed": 1, "known": 1, "skipped": 1,
              "not_run": 1, "not_run_why": {"the run was stopped before this case ran": 1}},
            "complete": false, "ok": false,
            "known": [{"case": "e-known", "reason": "GWS-123", "expires": "2999-01-01", "status": "known"}],
            "finished_at": "2026-11-24T07:00:01Z", "duration_ms": 3
        }
    })
}

#[test]
fn junitparser_reads_back_every_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    std::fs::write(&json, report().to_string()).unwrap();
    let xml = dir.path().join("junit.xml");
    let r = run_in(
        dir.path(),
        &[
            "report",
            "report.json",
            "--format",
            "junit",
            "-o",
            "junit.xml",
        ],
        &[],
        Duration::from_secs(60),
    );
    assert!(xml.is_file(), "{}", r.describe());
    validate_junit(&xml);

    let python = Path::new(ROOT).join(".ci/.venv/bin/python");
    let out = Command::new(&python)
        .arg(Path::new(ROOT).join("tests/junit_readback.py"))
        .arg(&xml)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}: run .ci/setup (.ci/install.d/pipelines.sh installs junitparser)",
                python.display()
            )
        });
    assert!(
        out.status.success(),
        "junitparser could not read junit.xml:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cases = seen["cases"].as_array().unwrap();
    let find = |id: &str| {
        cases
            .iter()
            .find(|c| c["name"].as_str().unwrap().starts_with(id))
            .unwrap_or_else(|| panic!("no testcase {id} in {seen}"))
    };
    let result = |id: &str| find(id)["result"].as_str().unwrap().to_string();
    assert_eq!(result("a-pass"), "passed");
    // A warning passes (as the exit code does) but says so where CI lists names, and why.
    assert_eq!(result("b-warn"), "passed");
    assert!(find("b-warn")["name"]
        .as_str()
        .unwrap()
        .contains("[WARN: needs review]"));
    assert!(find("b-warn")["system_out"]
        .as_str()
        .unwrap()
        .starts_with("WARNING"));
    assert_eq!(result("c-fail"), "failure");
    assert_eq!(result("d-skip"), "skipped");
    assert_eq!(result("f-not-run"), "skipped");
    assert_eq!(find("f-not-run")["type"], "not-run");
    // A known failure neither fails the job nor passes for a pass.
    assert_eq!(result("e-known"), "skipped");
    assert_eq!(find("e-known")["type"], "known-failure");
    assert!(find("e-known")["name"]
        .as_str()
        .unwrap()
        .contains("[KNOWN FAILURE, tolerated until 2999-01-01]"));
    // The incomplete run is an error, so the job fails.
    assert_eq!(result("run: complete"), "error");
    assert_eq!(find("run: complete")["type"], "incomplete");
    // Each case's file, and the counts of the run's one tally.
    assert_eq!(find("c-fail")["file"], "cases/c-fail.toml");
    assert_eq!(seen["failures"], 1);
    assert_eq!(seen["errors"], 1);
    assert_eq!(seen["tests"], 7);
}

//! Helpers shared by `tests/reports.rs` and `tests/reports_html.rs`: run the real binary (bounded in
//! time, on 127.0.0.1 only), build temporary suites, and validate reports.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_gws-conform");
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A case that certainly fails against any server: it expects the wrong user name, and its expected
/// body quotes the agent password, so the diff would show the password if redaction failed.
pub const FAILING_CASE: &str = r#"id = "zz-deliberately-failing"
title = "Deliberately failing: expects another user name (report tests only)"
spec = ["S1", "auth"]
provenance = "observed"
rationale = "A test fixture: it must fail, so that reports carry a failure and its diff."
tags = ["fixture"]

[[steps]]
name = "read the user"

[steps.request]
method = "GET"
path = "/api/v2/me"
auth = "basic"

[steps.expect]
status = 200
body = { statusCode = 0, user = { userName = "not-${env:GWS_PASSWORD}" } }
"#;

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: Vec<u8>,
    pub stderr_bytes: Vec<u8>,
}

impl Run {
    pub fn describe(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the binary in `cwd` with extra environment variables, killing it after `limit`.
pub fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("start gws-conform");
    let out = wait_bounded(child, limit);
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout_bytes: out.stdout,
        stderr_bytes: out.stderr,
    }
}

pub fn run(args: &[&str]) -> Run {
    run_in(Path::new(ROOT), args, &[], Duration::from_secs(120))
}

/// Waits for a child, reading its output on threads so that a full pipe never blocks it.
pub fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let mut so = child.stdout.take();
    let mut se = child.stderr.take();
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(s) = so.as_mut() {
            let _ = s.read_to_end(&mut b);
        }
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(s) = se.as_mut() {
            let _ = s.read_to_end(&mut b);
        }
        b
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gws-conform did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// A copy of the repository's cases, schemas and profiles in a temporary folder, optionally with
/// [`FAILING_CASE`]; runs inside it see relative paths, as a CI checkout would.
pub fn temp_suite(failing: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["cases", "schemas", "profiles"] {
        copy_dir(&Path::new(ROOT).join(sub), &dir.path().join(sub));
    }
    if failing {
        std::fs::write(
            dir.path().join("cases/zz-deliberately-failing.toml"),
            FAILING_CASE,
        )
        .expect("write failing case");
    }
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

/// Validates a report against `schemas/report.schema.json`, panicking with every violation.
pub fn validate_report(path: &Path) -> serde_json::Value {
    let schema = read_json(&Path::new(ROOT).join("schemas/report.schema.json"));
    let validator = jsonschema::draft202012::new(&schema).expect("the report schema compiles");
    let report = read_json(path);
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    assert!(
        errors.is_empty(),
        "{} breaks schemas/report.schema.json:\n{}",
        path.display(),
        errors.join("\n")
    );
    report
}

/// Validates a JUnit file against the vendored Jenkins XSD with xmllint (installed by
/// .ci/install.d/reports.sh; a missing xmllint fails the test).
pub fn validate_junit(path: &Path) {
    let xsd = Path::new(ROOT).join("tests/junit-10.xsd");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(path)
        .output()
        .expect("xmllint must be installed (.ci/install.d/reports.sh installs libxml2-utils)");
    assert!(
        out.status.success(),
        "{} does not validate against tests/junit-10.xsd:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file under a folder, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `id -> verdict` of a report.
pub fn verdicts(report: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                c["verdict"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Blanks what may differ between two runs of the same inputs: the run's id and timestamps, every
/// duration (`duration_ms`, `cometd_ms`, `wait_ms`, a notification's `at_ms`, "N ms" quoted in a check), the Date header
/// of responses, and unsolicited CometD messages (with the notes about them).
pub fn normalize(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            // CometD messages no expectation asked for, and the notes about them, land in whichever
            // step is listening when they arrive: timing, not inputs, decides where. Matched ones stay.
            if let Some(Value::Array(seen)) = map.get_mut("notifications") {
                seen.retain(|n| n["matched"].as_array().is_some_and(|m| !m.is_empty()));
                if seen.is_empty() {
                    map.remove("notifications");
                }
            }
            map.remove("notes");
            for (k, x) in map.iter_mut() {
                if matches!(
                    k.as_str(),
                    "run_id"
                        | "started_at"
                        | "finished_at"
                        | "duration_ms"
                        | "cometd_ms"
                        | "wait_ms"
                        | "at_ms"
                        | "today"
                ) {
                    *x = Value::Null;
                } else {
                    normalize(x);
                }
            }
        }
        Value::Array(items) => {
            if items.len() == 2
                && items[0]
                    .as_str()
                    .is_some_and(|h| h.eq_ignore_ascii_case("date"))
            {
                items[1] = Value::Null;
            }
            items.iter_mut().for_each(normalize);
        }
        // Checks that wait quote how long they waited ("matched after 3 ms"): a duration too.
        Value::String(text) => {
            let re = regex::Regex::new(r"\b[0-9]+ ms\b").expect("regex");
            if re.is_match(text) {
                *text = re.replace_all(text, "N ms").into_owned();
            }
        }
        _ => {}
    }
}

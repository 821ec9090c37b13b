//! Parallel scheduling must not change a single verdict: the whole documented suite, run by the real
//! binary against its embedded reference server, gives the same per-case verdicts at `--jobs 2` as at
//! `--jobs 1`, and the report lists the cases in case order either way.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// A hang limit, not a timing: the suite takes about a second.
const LIMIT: Duration = Duration::from_secs(180);

/// `(id, verdict)` of every case in `reports/<dir>/report.json`, in report order.
fn verdicts(report_dir: &Path) -> Vec<(String, String)> {
    let path = report_dir.join("report.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let report: Value = serde_json::from_str(&text).expect("report.json is JSON");
    assert_eq!(
        report["summary"]["complete"],
        Value::Bool(true),
        "{}: the run did not complete",
        path.display()
    );
    report["cases"]
        .as_array()
        .expect("cases[]")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("cases[].id").to_string(),
                c["verdict"].as_str().expect("cases[].verdict").to_string(),
            )
        })
        .collect()
}

fn run_suite(jobs: &str, report_dir: &Path) -> (i32, Vec<(String, String)>) {
    let dir = report_dir.to_str().expect("UTF-8 temp path");
    let run = support::run(
        &["run", "--jobs", jobs, "--quiet", "--report-dir", dir],
        &support::root(),
        &[],
        LIMIT,
    );
    assert!(
        run.code == 0 || run.code == 1,
        "gws-conform run --jobs {jobs} exited {}\nstdout:\n{}\nstderr:\n{}",
        run.code,
        run.stdout,
        run.stderr
    );
    (run.code, verdicts(report_dir))
}

#[test]
fn jobs_2_gives_the_same_verdicts_as_jobs_1_on_the_full_suite() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (code1, serial) = run_suite("1", &tmp.path().join("jobs-1"));
    let (code2, parallel) = run_suite("2", &tmp.path().join("jobs-2"));

    assert!(
        serial.len() > 1,
        "the suite should hold more than one case, found {serial:?}"
    );
    // Reports come out in case order (sorted by id) whatever order the cases finished in.
    let mut sorted = serial.clone();
    sorted.sort();
    assert_eq!(serial, sorted, "--jobs 1 report is not in case order");
    let diffs: Vec<String> = serial
        .iter()
        .zip(&parallel)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("{} {} (jobs 1) vs {} {} (jobs 2)", a.0, a.1, b.0, b.1))
        .collect();
    assert!(
        diffs.is_empty() && serial.len() == parallel.len(),
        "verdicts differ between --jobs 1 and --jobs 2 ({} vs {} cases):\n{}",
        serial.len(),
        parallel.len(),
        diffs.join("\n")
    );
    assert_eq!(code1, code2, "exit codes differ");
}

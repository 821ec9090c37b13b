//! A lab that is not ours (issue 18): `gws-conform serve --directory` with a directory whose places,
//! devices, numbers, login codes and queues all differ from the reference lab's
//! (`tests/fixtures/foreign-lab/`). A profile with users, passwords and capabilities but no `[vars]`
//! must never run a case with the reference lab's values: each case that needs lab content is
//! skipped naming its variable, and nothing fails. With the lab's own values, every case runs and
//! none fails.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{root, run, Served};

const LIMIT: Duration = Duration::from_secs(180);

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/foreign-lab").join(name)
}

fn env() -> [(&'static str, &'static str); 2] {
    [
        ("FOREIGN_LAB_PASSWORD", "foreign-lab-pw"),
        ("GWS_AGENT_LOGIN_PASSWORD", "foreign-switch-pw"),
    ]
}

fn serve() -> Served {
    let directory = fixture("directory.toml");
    Served::start(
        &["--directory", directory.to_str().unwrap()],
        "unused",
        "unused",
    )
}

/// Runs the suite against `server` with `profile`; returns the exit code, the console and report.json.
fn run_suite(server: &Served, profile: &Path, reports: &Path) -> (i32, String, serde_json::Value) {
    let args = [
        "run",
        "--target",
        &server.url,
        "--profile",
        profile.to_str().unwrap(),
        "--report-dir",
        reports.to_str().unwrap(),
    ];
    let r = run(&args, &root(), &env(), LIMIT);
    let text = std::fs::read_to_string(reports.join("report.json")).unwrap_or_default();
    let report = serde_json::from_str(&text).unwrap_or_default();
    assert_conforms_to_the_report_schema(&report);
    (r.code, format!("{}{}", r.stdout, r.stderr), report)
}

/// The report, with its lab-content fields, as `schemas/report.schema.json` describes it.
fn assert_conforms_to_the_report_schema(report: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .take(5)
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

fn cases_with<'a>(report: &'a serde_json::Value, verdict: &str) -> Vec<&'a serde_json::Value> {
    report["cases"]
        .as_array()
        .map(|a| a.iter().filter(|c| c["verdict"] == verdict).collect())
        .unwrap_or_default()
}

#[test]
fn a_foreign_lab_without_vars_skips_naming_each_variable_and_with_them_runs_everything() {
    let server = serve();
    let dir = tempfile::tempdir().unwrap();

    // No [vars]: exit 0, 0 failures; each case that needs lab content is skipped naming it.
    let (code, console, report) =
        run_suite(&server, &fixture("profile.toml"), &dir.path().join("bare"));
    assert_eq!(code, 0, "{console}");
    assert!(cases_with(&report, "fail").is_empty(), "{console}");
    let skipped = cases_with(&report, "skip");
    let waiting: Vec<&&serde_json::Value> = skipped
        .iter()
        .filter(|c| c["waits_for"].as_array().is_some_and(|w| !w.is_empty()))
        .collect();
    assert!(waiting.len() > 10, "{} waiting: {console}", waiting.len());
    for c in &waiting {
        let reason = c["reason"].as_str().unwrap();
        for need in c["waits_for"].as_array().unwrap() {
            let name = need["variable"].as_str().unwrap();
            let meaning = need["meaning"].as_str().unwrap();
            assert!(
                reason.contains(&format!("`{name}` ({meaning})")),
                "{}: {reason}",
                c["id"]
            );
        }
    }
    // Every skip of this profile is for lab content: it declares every capability the lab has.
    assert_eq!(waiting.len(), skipped.len(), "{console}");
    let summary = &report["summary"]["waiting_for_lab"];
    assert_eq!(summary["cases"], waiting.len(), "{summary}");
    let names: Vec<&str> = summary["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["variable"].as_str().unwrap())
        .collect();
    for v in ["place", "single_device_place", "queue", "multi_acd_place"] {
        assert!(names.contains(&v), "{names:?}");
    }
    assert!(
        console.contains(&format!("{} case(s) wait for lab content", waiting.len())),
        "{console}"
    );
    // The other formats say it too, in the headline they share.
    for f in ["summary.md", "report.tap", "junit.xml", "report.html"] {
        let text = std::fs::read_to_string(dir.path().join("bare").join(f)).unwrap_or_default();
        assert!(text.contains("wait for lab content"), "{f}");
    }

    // The lab's own values: every case runs, none fails, none waits for a variable.
    let mut text = std::fs::read_to_string(fixture("profile.toml")).unwrap();
    text.push_str(&std::fs::read_to_string(fixture("vars.toml")).unwrap());
    let full = dir.path().join("full.toml");
    std::fs::write(&full, text).unwrap();
    let (code, console, report) = run_suite(&server, &full, &dir.path().join("full"));
    assert_eq!(code, 0, "{console}");
    assert!(cases_with(&report, "fail").is_empty(), "{console}");
    assert!(cases_with(&report, "skip").is_empty(), "{console}");
    assert!(report["summary"].get("waiting_for_lab").is_none());
}

#[test]
fn a_misspelt_vars_key_is_a_load_error_with_a_did_you_mean() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string(fixture("profile.toml")).unwrap();
    text.push_str("\n[vars]\nsingle_devce_place = \"DESK_op8\"\n");
    let p = dir.path().join("typo.toml");
    std::fs::write(&p, &text).unwrap();
    let r = run(
        &["lint", "--profile", p.to_str().unwrap()],
        &root(),
        &env(),
        LIMIT,
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let line = text
        .lines()
        .position(|l| l.starts_with("single_devce_place"))
        .unwrap()
        + 1;
    assert!(
        r.stderr.contains(&format!("typo.toml:{line}:1: vars.single_devce_place: unknown case variable `single_devce_place`; did you mean `single_device_place`? (a profile may set the variables cases/variables.toml declares, and those a case file declares in its [vars])")),
        "{}",
        r.stderr
    );
}

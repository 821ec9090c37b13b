//! Verdict levels and "no PASS without evidence", through the real binary against the embedded
//! reference server: a provenance decides whether a miss fails or warns, `--strict` turns warnings
//! into failures, a selection that matches nothing is an error, and a sample that was not tested is
//! never reported as a bare PASS, in any of the five formats.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{run, workspace_copy, Run};

const LIMIT: Duration = Duration::from_secs(120);

fn gws(dir: &Path, args: &[&str]) -> Run {
    run(args, dir, &[], LIMIT)
}

fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("out/report.json")).expect("report.json");
    serde_json::from_str(&text).expect("report.json parses")
}

/// A case that our server cannot meet: a fresh login answered with HTTP 418.
fn unmet_case(provenance: &str) -> String {
    format!(
        r#"id = "zz-unmet"
title = "A login answered with 418 (no server does this)"
spec = "S1"
provenance = "{provenance}"
rationale = "a test of verdict levels"
agent = "sample2"

[[steps]]
[steps.request]
json = {{ operationName = "StartContactCenterSession", channels = ["voice"] }}
[steps.expect]
status = 418

[[steps]]
name = "cleanup"
always = true
[steps.request]
json = {{ operationName = "EndContactCenterSession" }}
[steps.expect]
status = 418
"#
    )
}

#[test]
fn provenance_decides_between_failure_and_warning_and_strict_fails_warnings() {
    let dir = workspace_copy();
    let d = dir.path();
    std::fs::write(d.join("cases/zz-unmet.toml"), unmet_case("inferred")).unwrap();
    let args = ["run", "zz-unmet", "--report-dir", "out", "--force"];

    let warned = gws(d, &args);
    assert_eq!(warned.code, 0, "a warning alone passes\n{}", warned.stdout);
    let r = report(d);
    assert_eq!(r["cases"][0]["verdict"], "warn");
    let reason = r["cases"][0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("needs review:"), "{reason}");
    assert_eq!(r["summary"]["tally"]["warned"], 1);
    // The failed cleanup step is recorded but decides nothing.
    assert_eq!(r["cases"][0]["steps"][1]["checks"][0]["level"], "info");
    assert!(warned.stdout.contains("warnings (needs review"));
    for (file, needle) in [
        ("out/summary.md", "Warnings (needs review"),
        ("out/report.html", "Needs review (warnings)"),
        ("out/junit.xml", "WARNING (needs review"),
        ("out/report.tap", "severity: warning"),
    ] {
        let text = std::fs::read_to_string(d.join(file)).unwrap();
        assert!(text.contains(needle), "{file} lacks {needle:?}");
    }

    let strict = gws(d, &[&args[..], &["--strict"]].concat());
    assert_eq!(
        strict.code, 1,
        "--strict fails a warning\n{}",
        strict.stdout
    );
    assert_eq!(report(d)["cases"][0]["verdict"], "fail");

    let profile = d.join("profiles/reference.toml");
    let text = std::fs::read_to_string(&profile).unwrap();
    std::fs::write(&profile, format!("strict = true\n{text}")).unwrap();
    assert_eq!(gws(d, &args).code, 1, "strict = true in the profile");
    std::fs::write(&profile, text).unwrap();

    std::fs::write(d.join("cases/zz-unmet.toml"), unmet_case("documented")).unwrap();
    let failed = gws(d, &args);
    assert_eq!(failed.code, 1, "a documented miss fails\n{}", failed.stdout);
    assert_eq!(report(d)["cases"][0]["verdict"], "fail");
}

#[test]
fn a_selection_that_matches_nothing_is_an_error_with_suggestions() {
    let root = support::root();
    for (args, hint) in [
        (
            vec!["run", "--tag", "nosuchtag"],
            "no case has the tag `nosuchtag`",
        ),
        (vec!["run", "--tag", "negativ"], "did you mean `negative`?"),
        (
            vec!["run", "--spec", "S9"],
            "no case has the spec element `S9`",
        ),
        (vec!["run", "no-such-case-id"], "no case has the name"),
    ] {
        let r = gws(&root, &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("no case matched"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(hint), "{args:?}: {}", r.stderr);
    }
}

/// `--skip` leaves out the cases whose name contains it (as `cargo test -- --skip`); a value that
/// matches no case is an error with the nearest id, never a silent no-op.
#[test]
fn skip_leaves_cases_out_and_a_skip_that_matches_nothing_is_an_error() {
    let dir = workspace_copy();
    let d = dir.path();
    let r = gws(
        d,
        &["run", "S4", "--skip", "partial", "--report-dir", "out"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let rep = report(d);
    let ids: Vec<&str> = rep["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|i| !i.contains("partial")), "{ids:?}");
    assert!(rep["run"]["selection"]["filters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "skip~partial"));
    let r = gws(d, &["list", "--skip", "s4-partial-sucess"]);
    assert_eq!(r.code, 2, "list too: {}", r.stderr);
    let r = gws(d, &["run", "--skip", "s4-partial-sucess"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "--skip: no case has the name `s4-partial-sucess`; did you mean `s4-partial-success`?"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn a_name_selects_as_cargo_test_does_and_samples_not_tested_are_never_a_bare_pass() {
    let dir = workspace_copy();
    let d = dir.path();
    let r = gws(d, &["run", "S4", "--report-dir", "out"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let rep = report(d);
    let cases = rep["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for c in cases {
        let spec: Vec<&str> = c["spec"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert!(spec.contains(&"S4"), "{} is not a Sample 4 case", c["id"]);
    }

    // Without the agent whose multimedia channel is down, Sample 4's partial-success cases skip.
    let profile = d.join("profiles/reference.toml");
    let text = std::fs::read_to_string(&profile).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.contains("\"multimedia_down_agent\""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(text, without, "the profile names multimedia_down_agent");
    std::fs::write(&profile, without).unwrap();
    let r = gws(d, &["run", "S4", "--report-dir", "out", "--force"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let rep = report(d);
    let s4 = rep["summary"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["element"] == "S4")
        .unwrap()
        .clone();
    assert!(
        s4["status"] == "partial" || s4["status"] == "not-tested",
        "{s4}"
    );
    assert!(s4["reason"]
        .as_str()
        .unwrap()
        .contains("multimedia_down_agent"));
    for file in ["summary.md", "report.html", "junit.xml", "report.tap"] {
        let text = std::fs::read_to_string(d.join("out").join(file)).unwrap();
        assert!(
            text.contains("not tested in full (S4)"),
            "{file} does not say S4 was not tested in full"
        );
    }
}

#[test]
fn after_a_warning_the_case_goes_on_and_later_misses_only_warn() {
    let dir = workspace_copy();
    let d = dir.path();
    // Step 1 is inferred and missed; step 2 is documented and missed too: it still runs, and its
    // miss weighs a warning (the earlier answer may have changed what follows).
    let case = r#"id = "zz-unmet"
title = "An inferred miss, then a documented one"
spec = "S1"
provenance = "documented"
agent = "sample2"

[[steps]]
name = "inferred"
[steps.request]
json = { operationName = "StartContactCenterSession", channels = ["voice"] }
[steps.expect]
provenance = "inferred"
status = 418

[[steps]]
name = "documented"
[steps.request]
json = { operationName = "EndContactCenterSession" }
[steps.expect]
status = 418
"#;
    std::fs::write(d.join("cases/zz-unmet.toml"), case).unwrap();
    let r = gws(d, &["run", "zz-unmet", "--report-dir", "out"]);
    let rep = report(d);
    let c = &rep["cases"][0];
    assert_eq!(c["verdict"], "warn", "{}\n{}", r.stdout, r.stderr);
    assert_eq!(c["steps"][1]["ran"], true, "the later step ran");
    assert_eq!(c["steps"][1]["checks"][0]["level"], "warning");
}

#[test]
fn an_empty_shard_is_a_normal_shard_with_an_empty_report() {
    let root = support::root();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // One case, eight shards: seven of them hold nothing, and each still writes its report.
    let mut empty = 0;
    for k in 1..=8 {
        let part = format!("hash:{k}/8");
        let r = gws(
            &root,
            &[
                "run",
                "s1-basic-voice",
                "--partition",
                &part,
                "--report-dir",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 0, "{part}: {}\n{}", r.stdout, r.stderr);
        let rep: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
                .unwrap();
        if rep["cases"].as_array().unwrap().is_empty() {
            empty += 1;
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
    assert_eq!(empty, 7);
}

#[test]
fn a_filtered_run_or_a_tolerated_failure_is_never_a_bare_pass() {
    let dir = workspace_copy();
    let d = dir.path();
    let r = gws(d, &["run", "s1-basic-voice", "--report-dir", "out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let md = std::fs::read_to_string(d.join("out/summary.md")).unwrap();
    assert!(
        md.contains("PASS (selected cases only: id~s1-basic-voice)"),
        "{md}"
    );

    std::fs::write(d.join("cases/zz-unmet.toml"), unmet_case("documented")).unwrap();
    std::fs::write(
        d.join("known.toml"),
        "[[known]]\ncase = \"zz-unmet\"\nreason = \"r\"\nexpires = 2999-12-31\n",
    )
    .unwrap();
    let r = gws(
        d,
        &["run", "--baseline", "known.toml", "--report-dir", "out2"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let md = std::fs::read_to_string(d.join("out2/summary.md")).unwrap();
    assert!(md.contains("PASS, 1 known failure tolerated"), "{md}");
    let html = std::fs::read_to_string(d.join("out2/report.html")).unwrap();
    assert!(html.contains("data-verdict=\"warn\""));
}

/// A polled premise on a target that cannot show it: `while_status = "2xx"` stops the poll at the
/// first answer of another status (here a 404 for a resource the server does not have), judged at
/// once with a note that says why; without it, the same step is polled until its deadline.
#[test]
fn a_retry_stops_at_once_on_a_status_it_does_not_poll() {
    let dir = workspace_copy();
    let d = dir.path();
    let case = |id: &str, while_status: &str| {
        format!(
            r#"id = "{id}"
title = "a poll of a resource the server does not have"
spec = "S1"
provenance = "inferred"
rationale = "a test of [steps.retry] while_status"
agent = "sample2"

[[steps]]
name = "the premise"
[steps.request]
method = "GET"
path = "/api/v2/me/no-such-resource"
[steps.retry]
within_ms = 1500
every_ms = 100
{while_status}
[steps.expect]
status = 200
"#
        )
    };
    std::fs::write(
        d.join("cases/zz-poll-2xx.toml"),
        case("zz-poll-2xx", "while_status = \"2xx\""),
    )
    .unwrap();
    std::fs::write(d.join("cases/zz-poll-any.toml"), case("zz-poll-any", "")).unwrap();
    let r = gws(d, &["run", "zz-poll-", "--report-dir", "out", "--force"]);
    assert_eq!(r.code, 0, "warnings only\n{}\n{}", r.stdout, r.stderr);
    let report = report(d);
    let step = |id: &str| {
        report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["steps"][0]
            .clone()
    };
    let stopped = step("zz-poll-2xx");
    assert_eq!(stopped["attempts"], 1, "{stopped}");
    assert_eq!(stopped["passed"], false, "{stopped}");
    let note = stopped["notes"][0].as_str().unwrap();
    assert!(
        note.contains("stopped after 1 attempt(s)") && note.contains("on HTTP 404"),
        "{note}"
    );
    let polled = step("zz-poll-any");
    assert!(polled["attempts"].as_u64().unwrap() > 1, "{polled}");
}

//! A suite keeps each case's parsed steps while they fit its budget (equal steps once), so that a case
//! file is parsed once; past the budget an outline is kept per case and the case is rebuilt from its
//! file when it runs: the rebuilt case is the one the loader checked, and a file changed since then
//! fails its case (never the run, never a panic) with a reason naming the file.

use std::path::{Path, PathBuf};

use gws_conform::execute::Transport;
use gws_conform::load::{load_suite, load_suite_from, Env, Sources, Suite, SuiteSources};
use gws_conform::plan::{self, Selection};
use gws_conform::record::{CaseResult, Verdict};
use gws_conform::report::RunInfo;
use gws_conform::runner;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn reference_suite() -> Suite {
    let sources = Sources {
        cases_dir: repo().join("cases"),
        schemas_dir: repo().join("schemas"),
        profile: Some(repo().join("profiles/reference.toml")),
    };
    let env = Env::empty()
        .with("GWS_PASSWORD", "x")
        .with("GWS_AGENT_LOGIN_PASSWORD", "y");
    load_suite(&sources, &env).unwrap()
}

#[test]
fn a_rebuilt_case_is_the_case_the_loader_checked() {
    let kept = reference_suite();
    assert!(
        kept.keeps_every_case(),
        "the reference suite fits the default budget"
    );
    let mut rebuilt = reference_suite();
    rebuilt.forget_cases();
    assert!(!rebuilt.keeps_cases());
    assert_eq!(kept.cases.len(), rebuilt.cases.len());
    for (k, r) in kept.cases.iter().zip(&rebuilt.cases) {
        let k = kept.case(k).unwrap();
        let r = rebuilt.case(r).unwrap();
        assert_eq!(format!("{k:?}"), format!("{r:?}"), "{}", k.id);
    }
}

/// Planning never depends on which outlines kept their steps (that depends on a memory budget and
/// on which loading thread came first): every shard of a `--partition` must compute the same split.
/// The reference suite (notification windows, places, pinned roles), kept and slim, plans alike.
#[test]
fn kept_or_slim_outlines_plan_alike() {
    use gws_conform::plan::{pool, shard};
    let kept = reference_suite();
    let mut slim = reference_suite();
    slim.forget_cases();
    assert!(kept.keeps_every_case() && !slim.keeps_cases());
    let estimates = |suite: &Suite| -> Vec<(String, u64, Option<String>)> {
        suite
            .cases
            .iter()
            .map(|c| {
                let pin = pool::pin_reason(c, &suite.profile);
                (c.id.to_string(), shard::estimate_ms(c, 100), pin)
            })
            .collect()
    };
    let of_kept = estimates(&kept);
    assert_eq!(of_kept, estimates(&slim));
    // The estimates read the steps' waits: a notification case outlasts a plain one.
    let longest = of_kept.iter().map(|e| e.1).max().unwrap();
    assert!(longest >= 3_000, "no case waits out a window: {longest} ms");
    for split in ["user", "time"] {
        for k in 1..=3 {
            let selection = Selection {
                partition: Some(format!("{split}:{k}/3").parse().unwrap()),
                ..Selection::default()
            };
            let ids = |suite: &Suite| -> Vec<String> {
                let plan = plan::plan(&suite.cases, &selection, &suite.profile);
                plan.cases.iter().map(|c| c.case.id.to_string()).collect()
            };
            assert_eq!(ids(&kept), ids(&slim), "{split}:{k}/3");
        }
    }
}

const CASE: &str = r#"
id = "ID"
title = "a case"
spec = ["S1"]
provenance = "inferred"
rationale = "a test case"

[[steps]]
[steps.request]
method = "GET"
path = "/api/v2/diagnostics/version"
auth = "none"

[steps.expect]
status = 200
"#;

/// A folder with two case files, `a.toml` and `b.toml`.
fn workspace() -> tempfile::TempDir {
    workspace_of(["a", "b"].map(|id| (id.to_string(), CASE.replace("ID", id))))
}

/// A folder whose `cases/` holds each (name, text) as `NAME.toml`.
fn workspace_of(files: impl IntoIterator<Item = (String, String)>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(format!("cases/{name}.toml")), text).unwrap();
    }
    dir
}

fn load(dir: &Path) -> Suite {
    load_keeping(dir, gws_conform::load::kept::KEEP_BUDGET_BYTES)
}

/// The suite in `dir`, keeping at most `budget` bytes of parsed steps.
fn load_keeping(dir: &Path, budget: usize) -> Suite {
    let sources = Sources {
        cases_dir: dir.join("cases"),
        schemas_dir: repo().join("schemas"),
        profile: None,
    };
    let mut sources = SuiteSources::from(&sources);
    sources.keep_budget = budget;
    load_suite_from(&sources, &Env::empty()).unwrap()
}

fn run(suite: &Suite) -> Vec<CaseResult> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Nothing listens here: every request fails to connect, which is a failure of its own kind.
    let target = "http://127.0.0.1:9";
    let transport = Transport::new(target, &suite.profile).unwrap();
    let plan = plan::plan(&suite.cases, &Selection::default(), &suite.profile);
    let info = RunInfo::unreported("test", target, false, &suite.profile, plan.cases.len(), 1);
    runtime
        .block_on(runner::run_collecting(suite, &plan, &transport, 1, info))
        .0
}

#[test]
fn a_case_file_changed_after_loading_fails_that_case_with_a_clear_reason() {
    let dir = workspace();
    let mut suite = load(dir.path());
    suite.forget_cases();
    let changed = dir.path().join("cases/b.toml");
    std::fs::write(&changed, CASE.replace("ID", "b").replace("200", "201")).unwrap();

    let results = run(&suite);
    assert_eq!(results.len(), 2);
    let (a, b) = (&results[0], &results[1]);
    assert_eq!(a.id, "a");
    assert!(
        !a.reason.as_deref().unwrap_or_default().contains("changed"),
        "{:?}",
        a.reason
    );
    assert_eq!(b.id, "b");
    assert_eq!(b.verdict, Verdict::Fail);
    let reason = b.reason.as_deref().unwrap();
    assert!(
        reason.contains(&changed.display().to_string().replace('\\', "/"))
            && reason.contains("changed since the suite was loaded"),
        "{reason}"
    );

    // A file that is gone says so.
    std::fs::remove_file(&changed).unwrap();
    let err = suite.case(&suite.cases[1]).unwrap_err();
    assert!(err.starts_with("cannot re-read case file"), "{err}");
}

#[test]
fn a_small_suite_runs_the_cases_it_loaded() {
    let dir = workspace();
    let suite = load(dir.path());
    assert!(suite.keeps_cases());
    std::fs::write(dir.path().join("cases/b.toml"), "not toml at all [").unwrap();
    let results = run(&suite);
    assert_eq!(results.len(), 2);
    for r in &results {
        assert!(
            !r.reason
                .as_deref()
                .unwrap_or_default()
                .contains("case file"),
            "{:?}",
            r.reason
        );
    }
}

/// A suite of many cases whose steps are equal keeps them all parsed, once: its case files are
/// never read again (here they are gone when it runs).
#[test]
fn a_large_suite_of_equal_steps_is_parsed_once() {
    let n = 3_000;
    let dir = workspace_of((0..n).map(|i| {
        let id = format!("c{i:05}");
        let text = CASE.replace("ID", &id);
        (id, text)
    }));
    let suite = load(dir.path());
    assert!(suite.keeps_every_case());
    let first = suite.cases[0].steps().unwrap().as_ptr();
    assert!(
        suite
            .cases
            .iter()
            .all(|c| c.steps().unwrap().as_ptr() == first),
        "equal steps are kept once"
    );
    std::fs::remove_dir_all(dir.path().join("cases")).unwrap();
    let results = run(&suite);
    assert_eq!(results.len(), n);
    for r in &results {
        // The target is a closed port: every case fails on that, not on its file.
        assert_eq!(r.verdict, Verdict::Fail, "{}", r.id);
        let reason = r.reason.as_deref().unwrap_or_default();
        assert!(!reason.contains("case file"), "{}: {reason}", r.id);
        assert_eq!(r.rationale.as_deref(), Some("a test case"), "{}", r.id);
    }
}

/// Past its budget a suite keeps slim outlines (no steps, no source or rationale), yet every result,
/// run or skipped, carries the texts of its case file.
#[test]
fn a_suite_past_its_budget_reports_the_texts_its_slim_outlines_leave_out() {
    let n = 300;
    let dir = workspace_of((0..n).map(|i| {
        let id = format!("c{i:05}");
        let mut text = CASE
            .replace("ID", &id)
            .replace("a case", &format!("case number {i}"));
        if i % 2 == 1 {
            // Skipped: the environment profile declares no capabilities.
            text = text.replace("rationale", "requires = [\"multi_acd_place\"]\nrationale");
        }
        (id, text)
    }));
    let suite = load_keeping(dir.path(), 0);
    assert!(!suite.keeps_cases());
    assert!(suite.cases.iter().all(|c| c.rationale().is_none()));
    let results = run(&suite);
    assert_eq!(results.len(), n);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.title, format!("case number {i}"), "{}", r.id);
        assert_eq!(r.rationale.as_deref(), Some("a test case"), "{}", r.id);
        // The target is a closed port: no answer at all fails, whatever the provenance.
        let expected = if i % 2 == 1 {
            Verdict::Skip
        } else {
            Verdict::Fail
        };
        assert_eq!(r.verdict, expected, "{}", r.id);
    }
}

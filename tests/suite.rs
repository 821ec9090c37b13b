//! The suite inside the binary: `run` in an empty folder passes the whole suite, the report says
//! where the suite came from and `verify` checks it against the binary's copy; `suite export` writes
//! that copy out; and the newcomer's mistakes on `run` (a target without a scheme, a report folder in
//! use) get a message that says what to do.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{root, run, Run};

const LIMIT: Duration = Duration::from_secs(300);

fn gws(cwd: &Path, args: &[&str]) -> Run {
    run(args, cwd, &[], LIMIT)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("report.json")).expect("JSON")
}

fn case_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".toml") && n != "variables.toml")
        .collect();
    v.sort();
    v
}

#[test]
fn in_an_empty_folder_run_passes_the_whole_suite_built_into_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let r = gws(d, &["run", "-q", "--report-dir", "out"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report = json(&d.join("out/report.json"));
    let embedded =
        serde_json::json!({ "embedded": { "harness_version": env!("CARGO_PKG_VERSION") } });
    assert_eq!(report["run"]["suite"]["cases"], embedded);
    assert_eq!(report["run"]["suite"]["schemas"], embedded);
    assert_eq!(
        report["cases"].as_array().unwrap().len(),
        lint_count(&root())
    );
    let shipped = case_files(&root().join("cases"));
    assert_eq!(report["summary"]["tally"]["failed"], 0, "{}", r.stdout);
    assert_eq!(report["summary"]["tally"]["skipped"], 0, "{}", r.stdout);
    let inputs = report["run"]["inputs"].to_string();
    for f in [
        "cases/variables.toml",
        "profiles/reference.toml",
        "schemas/error.schema.json",
    ] {
        assert!(
            inputs.contains(f),
            "{f} is hashed into the report: {inputs}"
        );
    }

    // The HTML report quotes each cited section of spec/ inline: it stays one self-contained file.
    let html = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    assert!(
        html.contains("<details class=\"cited\"><summary>§3.3 HTTP status codes"),
        "the sections a case cites are quoted in the HTML report"
    );

    // With no suite in the folder, verify checks the report against the binary's copy.
    let v = gws(d, &["verify", "out/report.json"]);
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains("the suite built into gws-conform"),
        "{}",
        v.stdout
    );

    // Against a folder whose copy of a case differs, it names that file.
    let copy = d.join("copy");
    assert_eq!(gws(d, &["suite", "export", "copy"]).code, 0);
    let case = copy.join("cases").join(&shipped[0]);
    let mut text = std::fs::read_to_string(&case).unwrap();
    text.push_str("\n# edited\n");
    std::fs::write(&case, text).unwrap();
    let v = gws(d, &["verify", "out/report.json", "--root", "copy"]);
    assert_eq!(v.code, 1, "{}\n{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains(&format!("CHANGED  cases/{}", shipped[0])),
        "{}",
        v.stdout
    );
}

#[test]
fn suite_export_writes_the_repository_suite_and_never_mixes_into_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let r = gws(d, &["suite", "export", "out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for folder in ["cases", "schemas", "profiles", "spec"] {
        for e in std::fs::read_dir(d.join("out").join(folder)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap();
            let original = root().join(folder).join(name);
            assert_eq!(
                std::fs::read(&p).unwrap(),
                std::fs::read(&original).unwrap(),
                "{}",
                p.display()
            );
        }
    }
    assert_eq!(
        case_files(&d.join("out/cases")),
        case_files(&root().join("cases"))
    );

    let again = gws(d, &["suite", "export", "out"]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("is not empty") && again.stderr.contains("--force"),
        "{}",
        again.stderr
    );
    assert_eq!(gws(d, &["suite", "export", "out", "--force"]).code, 0);

    // A folder given with --cases replaces the embedded suite.
    let gone = case_files(&d.join("out/cases")).remove(0);
    std::fs::remove_file(d.join("out/cases").join(&gone)).unwrap();
    let lint = gws(d, &["lint", "--cases", "out/cases"]);
    assert_eq!(lint.code, 0, "{}", lint.stderr);
    // The first file declares one case (no matrix).
    assert!(!gone.starts_with("param-"));
    let n = lint_count(&root()) - 1;
    assert!(
        lint.stdout.contains(&format!("ok: {n} cases"))
            && lint.stdout.contains("cases from out/cases")
            && lint.stdout.contains("schemas embedded in gws-conform"),
        "{}",
        lint.stdout
    );
}

#[test]
fn a_target_without_a_scheme_gets_a_did_you_mean() {
    let dir = tempfile::tempdir().unwrap();
    let r = gws(dir.path(), &["run", "--target", "127.0.0.1:18555"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean http://127.0.0.1:18555?"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("relative URL"), "{}", r.stderr);
}

#[test]
fn a_report_dir_in_use_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("out")).unwrap();
    std::fs::write(d.join("out/report.tap"), "an older run's report\n").unwrap();
    let r = gws(d, &["run", "s1-basic-voice", "--report-dir", "out"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--report-dir out is not empty") && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    assert!(!d.join("out/report.json").exists(), "nothing was run");
    let r = gws(
        d,
        &["run", "s1-basic-voice", "--report-dir", "out", "--force"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(d.join("out/report.json").exists());
}

#[test]
fn lint_refuses_a_citation_that_names_no_section_of_the_spec_notes() {
    let dir = support::workspace_copy();
    let d = dir.path();
    let ok = gws(d, &["lint"]);
    assert_eq!(
        ok.code, 0,
        "every shipped citation resolves:\n{}",
        ok.stderr
    );
    let case = d.join("cases/s4-partial-success.toml");
    let text = std::fs::read_to_string(&case).unwrap();
    let cited = "Sample 4 request; gws-notes.md §1.3";
    assert!(text.contains(cited), "the case cites {cited}");
    std::fs::write(
        &case,
        text.replace(cited, "Sample 4 request; gws-notes.md §1.33"),
    )
    .unwrap();
    let r = gws(d, &["lint"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains("§1.33"))
        .unwrap_or_else(|| panic!("{}", r.stderr));
    let source_line = 1 + text
        .lines()
        .position(|l| l.starts_with("source = "))
        .unwrap();
    assert!(
        line.starts_with(&format!(
            "error: cases/s4-partial-success.toml:{source_line}:"
        )) && line.contains(
            ": source: cites `§1.33`, which is no heading of spec/notes.md; did you mean `§1.3`?"
        ),
        "{line}"
    );
}

/// How many cases `lint` loads in `dir` (a matrix file declares several).
fn lint_count(dir: &Path) -> usize {
    let r = gws(dir, &["lint"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
        .strip_prefix("ok: ")
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", r.stdout))
}

//! Reports, end to end through the real binary: the five formats, their schema and XSD, redaction,
//! determinism, verify, merge, known failures and interrupted runs. Everything on 127.0.0.1 and
//! bounded in time.

#[path = "reports_support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;

const LIMIT: Duration = Duration::from_secs(120);

#[test]
fn a_run_writes_five_formats_that_validate_and_rerender() {
    let suite = temp_suite(true);
    let dir = suite.path();
    let n = case_count(dir);
    let r = run_in(
        dir,
        &["run", "--report-dir", "out", "--jobs", "4"],
        &[],
        LIMIT,
    );
    assert_eq!(
        r.code,
        Some(1),
        "a failing case fails the run\n{}",
        r.describe()
    );
    assert!(
        r.stdout.contains("zz-deliberately-failing"),
        "{}",
        r.describe()
    );
    let out = dir.join("out");
    for f in [
        "report.json",
        "report.html",
        "junit.xml",
        "summary.md",
        "report.tap",
    ] {
        assert!(out.join(f).is_file(), "{f} missing: {}", r.describe());
    }
    assert!(
        files_under(&out)
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".partial")),
        "no temporary file is left behind"
    );

    // JSON: the schema, the counts, and what each case records.
    let report = validate_report(&out.join("report.json"));
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(cases.len(), n);
    assert_eq!(report["summary"]["tally"]["failed"], 1);
    assert_eq!(report["summary"]["tally"]["passed"], n - 1);
    assert_eq!(report["summary"]["ok"], false);
    assert_eq!(report["summary"]["complete"], true);
    assert_eq!(report["run"]["target"]["embedded"], true);
    assert!(report["run"]["target"]["server_version"].is_string());
    assert_eq!(
        report["run"]["harness_version"],
        env!("CARGO_PKG_VERSION"),
        "harness version recorded"
    );
    let inputs: BTreeMap<&str, &str> = report["run"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["path"].as_str().unwrap(), i["sha256"].as_str().unwrap()))
        .collect();
    for entry in std::fs::read_dir(dir.join("cases")).unwrap().flatten() {
        let name = format!("cases/{}", entry.file_name().to_string_lossy());
        if name.ends_with(".toml") {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert_eq!(
                inputs.get(name.as_str()).copied(),
                Some(sha256(&bytes).as_str()),
                "{name} is hashed in run.inputs"
            );
        }
    }
    assert!(inputs.contains_key("schemas/report.schema.json"));
    assert_eq!(
        inputs.len(),
        report["run"]["inputs"].as_array().unwrap().len(),
        "each file is listed once, a [[matrix]] file's several cases included"
    );
    let failing = cases
        .iter()
        .find(|c| c["id"] == "zz-deliberately-failing")
        .unwrap();
    assert_eq!(failing["verdict"], "fail");
    assert_eq!(failing["provenance"], "observed");
    assert_eq!(failing["spec"][0], "S1");
    let body_check = failing["steps"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "body")
        .expect("a body check");
    assert!(body_check["diff"].as_str().unwrap().contains("userName"));

    // JUnit: the XSD, one testcase per case, the diff in the failure text.
    validate_junit(&out.join("junit.xml"));
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), n);
    assert_eq!(junit.matches("<failure ").count(), 1);
    assert!(junit.contains("failures=\"1\""));
    let failure = &junit[junit.find("<failure ").unwrap()..junit.find("</failure>").unwrap()];
    assert!(
        failure.contains("userName"),
        "the diff is in the failure text"
    );

    // TAP: a plan, one test point per case, the failure as `not ok` with a diagnostic.
    let tap = std::fs::read_to_string(out.join("report.tap")).unwrap();
    assert!(
        tap.starts_with(&format!("TAP version 14\n1..{n}\n")),
        "{tap}"
    );
    assert_eq!(tap.lines().filter(|l| l.starts_with("ok ")).count(), n - 1);
    let not_ok: Vec<&str> = tap.lines().filter(|l| l.starts_with("not ok ")).collect();
    assert_eq!(not_ok.len(), 1);
    assert!(not_ok[0].contains("zz-deliberately-failing"));
    assert!(!tap.contains("Bail out!"));

    // Markdown: short, with the verdict and the failure.
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.starts_with("## ❌ gws-conform: FAIL"), "{md}");
    assert!(md.contains("`zz-deliberately-failing`"));
    assert!(md.lines().count() < 40, "a job summary stays short");

    // HTML: self-contained (no external reference), with a matrix and every case.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("data-verdict=\"fail\""));
    assert_eq!(html.matches("<details class=\"case\"").count(), n);
    for needle in ["src=\"http", "href=\"http", "<link", "@import", "url("] {
        assert!(
            !html.contains(needle),
            "the HTML fetches nothing: found {needle}"
        );
    }

    // `report` re-renders every format from the JSON.
    for (format, file) in [
        ("html", "again.html"),
        ("junit", "again.xml"),
        ("markdown", "again.md"),
        ("tap", "again.tap"),
    ] {
        let r = run_in(
            dir,
            &["report", "out/report.json", "--format", format, "-o", file],
            &[],
            LIMIT,
        );
        // The report's verdict is a failure: `report` exits so, as the run did.
        assert_eq!(r.code, Some(1), "{}", r.describe());
        assert!(dir.join(file).is_file());
    }
    validate_junit(&dir.join("again.xml"));
    // The run renders its cases as they finish, `report` from the file: the same bytes.
    for (again, wrote) in [
        ("again.html", "report.html"),
        ("again.xml", "junit.xml"),
        ("again.md", "summary.md"),
        ("again.tap", "report.tap"),
    ] {
        assert!(
            std::fs::read(dir.join(again)).unwrap() == std::fs::read(out.join(wrote)).unwrap(),
            "{wrote} re-rendered from the JSON is the {wrote} the run wrote"
        );
    }
    let r = run_in(
        dir,
        &["report", "out/report.json", "--format", "markdown"],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout, md, "to standard output without -o");
}

#[test]
fn report_subcommands_refuse_bad_files_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.json"),
        "{\"format\": \"gws-conform-report/1\", \"run\": 3}",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("other.json"),
        "{\"format\": \"something-else\"}",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\n  \"format\": ").unwrap();
    for args in [
        vec!["report", "bad.json", "--format", "html"],
        vec!["verify", "bad.json"],
        vec!["merge", "bad.json", "bad.json", "-o", "m.json"],
    ] {
        let r = run_in(dir.path(), &args, &[], LIMIT);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.describe());
        assert!(
            r.stderr.contains("bad.json:1:"),
            "{args:?}: {}",
            r.describe()
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.describe());
    }
    let r = run_in(
        dir.path(),
        &["report", "other.json", "--format", "tap"],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr
            .contains("other.json: report format `something-else`"),
        "{}",
        r.describe()
    );
    let r = run_in(
        dir.path(),
        &["report", "broken.json", "--format", "tap"],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("broken.json:2:"), "{}", r.describe());
    let r = run_in(
        dir.path(),
        &["report", "missing.json", "--format", "tap"],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("missing.json: cannot read"),
        "{}",
        r.describe()
    );
    let r = run_in(
        dir.path(),
        &["report", "x.json", "--format", "pdf"],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("html, junit, markdown, tap"),
        "{}",
        r.describe()
    );
}

#[test]
fn a_sentinel_secret_appears_in_no_byte_written() {
    const PW: &str = "Sentinel-PW-7f3a9c1e";
    const LC: &str = "Sentinel-LC-52b8d04f";
    let suite = temp_suite(true);
    let dir = suite.path();
    let env = [("GWS_PASSWORD", PW), ("GWS_AGENT_LOGIN_PASSWORD", LC)];
    let r = run_in(dir, &["run", "--report-dir", "out", "-v"], &env, LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    // The secrets were really used: the cases that need them passed.
    let report = validate_report(&dir.join("out/report.json"));
    let v = verdicts(&report);
    assert_eq!(
        v["s3-login-code-password"], "pass",
        "agentLoginPassword was sent"
    );
    assert_eq!(v["s1-basic-voice"], "pass", "the agent password was sent");
    assert_eq!(v["zz-deliberately-failing"], "fail");
    let text = std::fs::read_to_string(dir.join("out/report.json")).unwrap();
    assert!(
        text.contains(r#"["Authorization","***"]"#),
        "credentials are recorded, redacted"
    );

    // Re-rendering writes more bytes; `verify` and a failed `report` write error messages.
    let mut outputs: Vec<(String, Vec<u8>)> = vec![
        ("run stdout".into(), r.stdout_bytes.clone()),
        ("run stderr".into(), r.stderr_bytes.clone()),
    ];
    for args in [
        vec!["report", "out/report.json", "--format", "html"],
        vec!["report", "out/report.json", "--format", "junit"],
        vec!["verify", "out/report.json"],
        vec!["run", "--report-dir", "out2", "--baseline", "nope.toml"],
    ] {
        let r = run_in(dir, &args, &env, LIMIT);
        outputs.push((format!("{args:?} stdout"), r.stdout_bytes));
        outputs.push((format!("{args:?} stderr"), r.stderr_bytes));
    }
    let files = files_under(&dir.join("out"));
    assert_eq!(files.len(), 5, "{files:?}");
    for f in files {
        outputs.push((f.display().to_string(), std::fs::read(&f).unwrap()));
    }
    let mut scanned = 0;
    for (what, bytes) in &outputs {
        scanned += bytes.len();
        for secret in [PW, LC] {
            let hits = count(bytes, secret.as_bytes());
            assert_eq!(hits, 0, "{what} holds the sentinel {secret} {hits} time(s)");
        }
        for secret in [PW, LC] {
            // Nor encoded: Basic credentials are base64 of user:password.
            let b64 = base64_encode(format!("agent1:{secret}").as_bytes());
            assert_eq!(
                count(bytes, b64.as_bytes()),
                0,
                "{what} holds Basic credentials"
            );
        }
    }
    assert!(
        scanned > 100_000,
        "every artifact was scanned ({scanned} bytes)"
    );
}

#[test]
fn two_runs_against_one_server_give_the_same_report_but_for_times() {
    // One `serve` on an ephemeral port: both runs see the same target URL (a different target is a
    // different input, so the URL is part of the report).
    let suite = temp_suite(false);
    let dir = suite.path();
    let pw = "determinism-pw-1";
    let mut server = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("GWS_PASSWORD", pw)
        .env("GWS_AGENT_LOGIN_PASSWORD", "determinism-lc-1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    let mut server_out = BufReader::new(server.stdout.take().unwrap());
    server_out.read_line(&mut line).unwrap();
    // Keep draining: a closed pipe would kill the server at its next line of output.
    std::thread::spawn(move || std::io::copy(&mut server_out, &mut std::io::sink()));
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("the server prints its URL")
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let env = [
        ("GWS_PASSWORD", pw),
        ("GWS_AGENT_LOGIN_PASSWORD", "determinism-lc-1"),
    ];
    let mut reports = Vec::new();
    for out in ["one", "two"] {
        let r = run_in(
            dir,
            &[
                "run",
                "--target",
                &url,
                "--profile",
                "profiles/reference.toml",
                "--report-dir",
                out,
            ],
            &env,
            LIMIT,
        );
        assert_eq!(r.code, Some(0), "{}", r.describe());
        reports.push(validate_report(&dir.join(out).join("report.json")));
    }
    let _ = server.kill();
    let _ = server.wait();
    let (mut a, mut b) = (reports.remove(0), reports.remove(0));
    assert_ne!(a["run"]["run_id"], b["run"]["run_id"]);
    normalize(&mut a);
    normalize(&mut b);
    let (ta, tb) = (
        serde_json::to_string_pretty(&a).unwrap(),
        serde_json::to_string_pretty(&b).unwrap(),
    );
    if ta != tb {
        let first = ta
            .lines()
            .zip(tb.lines())
            .enumerate()
            .find(|(_, (x, y))| x != y)
            .map(|(i, (x, y))| {
                let around = |t: &str| {
                    t.lines()
                        .skip(i.saturating_sub(3))
                        .take(12)
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                format!(
                    "line {i}:\n  {x}\n  {y}\n--- first\n{}\n--- second\n{}",
                    around(&ta),
                    around(&tb)
                )
            });
        panic!("the reports differ beyond times: {first:?}");
    }
}

#[test]
fn verify_names_a_changed_missing_or_added_file() {
    let suite = temp_suite(false);
    let dir = suite.path();
    let r = run_in(dir, &["run", "-q", "--report-dir", "out"], &[], LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.describe());
    let r = run_in(dir, &["verify", "out/report.json"], &[], LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.describe());
    assert!(
        r.stdout
            .starts_with("ok: out/report.json was produced from these "),
        "{}",
        r.describe()
    );

    // One byte more in a case file.
    let case = dir.join("cases/s4-partial-success.toml");
    let mut text = std::fs::read_to_string(&case).unwrap();
    text.push('\n');
    std::fs::write(&case, text).unwrap();
    let r = run_in(dir, &["verify", "out/report.json"], &[], LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stdout.contains("CHANGED  cases/s4-partial-success.toml"),
        "{}",
        r.describe()
    );
    assert_eq!(r.stdout.matches("CHANGED").count(), 1, "{}", r.describe());

    // A schema removed, a case added.
    std::fs::remove_file(dir.join("schemas/error.schema.json")).unwrap();
    std::fs::write(dir.join("cases/new-case.toml"), "id = \"x\"\n").unwrap();
    let r = run_in(dir, &["verify", "out/report.json"], &[], LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stdout.contains("MISSING  schemas/error.schema.json"),
        "{}",
        r.describe()
    );
    assert!(
        r.stdout.contains("ADDED    cases/new-case.toml"),
        "{}",
        r.describe()
    );
    assert!(r.stdout.contains("differs: 3 of"), "{}", r.describe());
    assert!(!r.stdout.contains("hint:"), "{}", r.describe());

    // From another folder, every file is missing: the hint names the way out.
    let elsewhere = tempfile::tempdir().unwrap();
    let r = run_in(
        elsewhere.path(),
        &["verify", &dir.join("out/report.json").to_string_lossy()],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stdout.contains("hint: none of its files is here") && r.stdout.contains("--root FOLDER"),
        "{}",
        r.describe()
    );

    // --root resolves the report's relative paths elsewhere: the pristine repository.
    let r = run_in(
        Path::new(ROOT),
        &[
            "verify",
            &dir.join("out/report.json").to_string_lossy(),
            "--root",
            ROOT,
        ],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(0), "{}", r.describe());
}

#[test]
fn four_merged_shards_give_the_verdicts_of_one_unsharded_run() {
    let suite = temp_suite(true);
    let dir = suite.path();
    let n = case_count(dir);
    let r = run_in(dir, &["run", "-q", "--report-dir", "full"], &[], LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    let full = validate_report(&dir.join("full/report.json"));
    let mut shard_files = Vec::new();
    let mut sizes = Vec::new();
    for k in 1..=4 {
        let out = format!("shard{k}");
        let r = run_in(
            dir,
            &[
                "run",
                "-q",
                "--partition",
                &format!("hash:{k}/4"),
                "--report-dir",
                &out,
            ],
            &[],
            LIMIT,
        );
        assert!(matches!(r.code, Some(0 | 1)), "{}", r.describe());
        let shard = validate_report(&dir.join(&out).join("report.json"));
        sizes.push(shard["cases"].as_array().unwrap().len());
        shard_files.push(format!("{out}/report.json"));
    }
    assert!(sizes.iter().all(|&k| k > 0 && k < n), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), n);

    let mut args = vec!["merge"];
    args.extend(shard_files.iter().rev().map(String::as_str));
    args.extend(["-o", "merged/report.json"]);
    let r = run_in(dir, &args, &[], LIMIT);
    // A shard failed: merge exits by the verdict it writes, as the unsharded run did.
    assert_eq!(r.code, Some(1), "{}", r.describe());
    let merged = validate_report(&dir.join("merged/report.json"));
    // `merge` exits by the verdict it writes, as `run` does.
    let failed = merged["summary"]["tally"]["failed"].as_u64().unwrap_or(0);
    assert_eq!(
        r.code,
        Some(if failed > 0 { 1 } else { 0 }),
        "{}",
        r.describe()
    );
    assert_eq!(verdicts(&merged), verdicts(&full));
    let ids: Vec<_> = merged["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    let full_ids: Vec<_> = full["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, full_ids, "cases in the order of an unsharded run");
    assert_eq!(merged["summary"]["tally"], full["summary"]["tally"]);
    assert_eq!(merged["summary"]["complete"], true);
    assert_eq!(merged["summary"]["ok"], false);
    assert_eq!(merged["run"]["inputs"], full["run"]["inputs"]);
    assert_eq!(merged["merged_from"].as_array().unwrap().len(), 4);
    // The merged report renders like any other.
    let r = run_in(
        dir,
        &[
            "report",
            "merged/report.json",
            "--format",
            "junit",
            "-o",
            "merged/junit.xml",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(
        r.code,
        Some(1),
        "report exits by the verdict it renders\n{}",
        r.describe()
    );
    validate_junit(&dir.join("merged/junit.xml"));

    // A missing shard, a shard twice, and a shard of other inputs are refused.
    let r = run_in(
        dir,
        &[
            "merge",
            &shard_files[0],
            &shard_files[1],
            &shard_files[2],
            "-o",
            "m.json",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("missing hash:4/4"), "{}", r.describe());
    let r = run_in(
        dir,
        &["merge", &shard_files[0], &shard_files[0], "-o", "m.json"],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("shard hash:1/4 is also"),
        "{}",
        r.describe()
    );
    let case = dir.join("cases/s1-basic-voice.toml");
    let mut text = std::fs::read_to_string(&case).unwrap();
    text.push_str("\n# changed\n");
    std::fs::write(&case, text).unwrap();
    let r = run_in(
        dir,
        &[
            "run",
            "-q",
            "--partition",
            "hash:4/4",
            "--report-dir",
            "shard4b",
        ],
        &[],
        LIMIT,
    );
    assert!(matches!(r.code, Some(0 | 1)), "{}", r.describe());
    let r = run_in(
        dir,
        &[
            "merge",
            &shard_files[0],
            &shard_files[1],
            &shard_files[2],
            "shard4b/report.json",
            "-o",
            "m.json",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(
        r.stderr
            .contains("are not shards of one run: cases/s1-basic-voice.toml differs"),
        "{}",
        r.describe()
    );
    assert!(!dir.join("m.json").exists());
}

#[test]
fn known_failures_are_reported_and_tolerated_until_they_expire() {
    let suite = temp_suite(true);
    let dir = suite.path();
    std::fs::write(
        dir.join("known.toml"),
        "[[known]]\ncase = \"zz-deliberately-failing\"\nreason = \"fixture: fails on purpose\"\nexpires = 2999-12-31\n\n\
         [[known]]\ncase = \"s1-basic-voice\"\nreason = \"was broken on this target\"\nexpires = \"2999-01-01\"\n",
    )
    .unwrap();
    let r = run_in(
        dir,
        &["run", "--baseline", "known.toml", "--report-dir", "out"],
        &[],
        LIMIT,
    );
    assert_eq!(
        r.code,
        Some(0),
        "a tolerated failure does not fail the run\n{}",
        r.describe()
    );
    assert!(
        r.stdout.contains(
            "zz-deliberately-failing [observed] ... known failure (tolerated until 2999-12-31)"
        ),
        "{}",
        r.describe()
    );
    assert!(
        r.stdout.contains("remove it from the baseline"),
        "{}",
        r.describe()
    );
    assert!(
        r.stdout.contains(&format!(
            "case result: ok. {} passed; 0 warnings; 0 failed; 1 known failures; 0 errors (setup); 0 skipped; 0 not run; 1 known failures now pass (remove them from the baseline); finished in",
            case_count(dir) - 1
        )),
        "{}",
        r.describe()
    );
    let report = validate_report(&dir.join("out/report.json"));
    assert_eq!(report["summary"]["ok"], true);
    assert_eq!(report["baseline"]["entries"].as_array().unwrap().len(), 2);
    let known: BTreeMap<String, String> = report["summary"]["known"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["case"].as_str().unwrap().into(),
                k["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(known["zz-deliberately-failing"], "known");
    assert_eq!(known["s1-basic-voice"], "fixed");
    validate_junit(&dir.join("out/junit.xml"));
    let junit = std::fs::read_to_string(dir.join("out/junit.xml")).unwrap();
    assert!(
        junit.contains("failures=\"0\""),
        "a known failure does not fail CI"
    );
    assert!(junit.contains("<skipped type=\"known-failure\""));
    let tap = std::fs::read_to_string(dir.join("out/report.tap")).unwrap();
    assert!(tap.contains("- Deliberately failing: expects another user name (report tests only) # TODO known failure until 2999-12-31"), "{tap}");
    let md = std::fs::read_to_string(dir.join("out/summary.md")).unwrap();
    assert!(md.contains("Known failures that now pass"), "{md}");
    let html = std::fs::read_to_string(dir.join("out/report.html")).unwrap();
    assert!(html.contains("data-status=\"known\""));
    assert!(html.contains("data-status=\"fixed\""));

    // Expired: the failure counts again.
    std::fs::write(
        dir.join("expired.toml"),
        "[[known]]\ncase = \"zz-deliberately-failing\"\nreason = \"fixture\"\nexpires = 2020-01-01\n",
    )
    .unwrap();
    let r = run_in(
        dir,
        &["run", "--baseline", "expired.toml", "--report-dir", "out2"],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stdout
            .contains("its known-failure entry expired on 2020-01-01"),
        "{}",
        r.describe()
    );
    let report = validate_report(&dir.join("out2/report.json"));
    assert_eq!(report["summary"]["known"][0]["status"], "expired");
    assert_eq!(report["summary"]["ok"], false);

    // A typo in the baseline is an error naming the file and line, and nothing runs.
    std::fs::write(
        dir.join("typo.toml"),
        "[[known]]\ncase = \"zz-deliberately-failin\"\nreason = \"fixture\"\nexpires = 2999-01-01\n",
    )
    .unwrap();
    let r = run_in(
        dir,
        &["run", "--baseline", "typo.toml", "--report-dir", "out3"],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(r.stderr.contains("typo.toml:2:8: case `zz-deliberately-failin` is not in the suite; did you mean `zz-deliberately-failing`?"), "{}", r.describe());
    assert!(!dir.join("out3").exists());
}

/// A target that answers its first `fast` requests at once (the cases finish), then holds every
/// later request for up to 30 s. Counts the requests it has received.
fn slow_server(fast: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let _ = stream.set_nodelay(true);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut len = 0usize;
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        if h == "\r\n" {
                            break;
                        }
                        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    if n >= fast {
                        std::thread::sleep(Duration::from_secs(30));
                    }
                    let body = "{\"statusCode\":0}";
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(resp.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

#[test]
fn sigterm_still_writes_every_report_marked_incomplete() {
    let suite = temp_suite(false);
    let dir = suite.path();
    std::fs::write(
        dir.join("slow.toml"),
        "name = \"slow\"\ncsrf = false\ntimeout_ms = 60000\n\n[agents.default]\nusername = \"agent1\"\npassword = \"${env:GWS_PASSWORD}\"\n",
    )
    .unwrap();
    // The version probe and the first requests are answered; then the server stalls.
    let (url, seen) = slow_server(8);
    let mut child = Command::new(BIN)
        .args([
            "run",
            "--target",
            &url,
            "--profile",
            "slow.toml",
            "--jobs",
            "1",
            "--report-dir",
            "out",
        ])
        .current_dir(dir)
        .env("GWS_PASSWORD", "slow-pw-123")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.load(Ordering::SeqCst) <= 8 {
        assert!(
            Instant::now() < deadline,
            "the run never reached the stalled request"
        );
        if let Ok(Some(status)) = child.try_wait() {
            let out = wait_bounded(child, Duration::from_secs(5));
            panic!(
                "the run ended ({status}) before the stalled request: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = wait_bounded(child, Duration::from_secs(20));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(130),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("run stopped early"), "{stdout}");
    let report = validate_report(&dir.join("out/report.json"));
    assert_eq!(report["summary"]["complete"], false);
    assert_eq!(report["summary"]["ok"], false);
    // Every selected case is accounted for: those that finished, and the rest as not run.
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(cases.len(), case_count(dir));
    let done = cases.iter().filter(|c| c["verdict"] != "not-run").count();
    assert!(
        (1..case_count(dir)).contains(&done),
        "the report covers what finished: {done} cases"
    );
    assert!(cases
        .iter()
        .filter(|c| c["verdict"] == "not-run")
        .all(|c| c["reason"].is_string()));
    assert_eq!(report["summary"]["tally"]["total"], case_count(dir));
    assert_eq!(
        report["summary"]["tally"]["not_run"],
        case_count(dir) - done
    );
    assert_eq!(report["run"]["planned"], case_count(dir));
    validate_junit(&dir.join("out/junit.xml"));
    let junit = std::fs::read_to_string(dir.join("out/junit.xml")).unwrap();
    assert!(junit.contains("<error type=\"incomplete\""), "{junit}");
    let tap = std::fs::read_to_string(dir.join("out/report.tap")).unwrap();
    assert!(
        tap.contains(&format!("1..{}\n", case_count(dir)))
            && tap.contains("# SKIP not run: the run was stopped before this case ran")
            && tap.contains("Bail out! run stopped early"),
        "{tap}"
    );
    let html = std::fs::read_to_string(dir.join("out/report.html")).unwrap();
    assert!(html.contains("data-verdict=\"incomplete\""));
    assert!(std::fs::read_to_string(dir.join("out/summary.md"))
        .unwrap()
        .contains("INCOMPLETE"));
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn a_report_that_cannot_be_written_is_an_error_naming_the_file() {
    let suite = temp_suite(false);
    let dir = suite.path();
    // A non-empty folder where report.html should go: the rename over it fails.
    std::fs::create_dir_all(dir.join("out/report.html/x")).unwrap();
    let r = run_in(
        dir,
        &["run", "-q", "--report-dir", "out", "--force"],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(
        r.stderr.contains("out/report.html: cannot write"),
        "{}",
        r.describe()
    );
    // The other reports are still there.
    validate_report(&dir.join("out/report.json"));
    validate_junit(&dir.join("out/junit.xml"));
}

/// The number of case files in a suite folder.
fn case_count(dir: &Path) -> usize {
    // As `lint` counts them: a [[matrix]] file declares several cases.
    let r = run_in(dir, &["lint"], &[], LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.describe());
    r.stdout
        .strip_prefix("ok: ")
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", r.describe()))
}

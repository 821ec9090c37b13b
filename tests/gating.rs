//! CI gating, end to end through the real binary: one tally in every output (the console line,
//! `-q`, report.json, summary.md, HTML, JUnit, TAP) agreeing with the exit code; `merge
//! --report-dir` over shards with profiles of their own; `compare`; `baseline write`; `run
//! --failed-from`. Everything on 127.0.0.1 and bounded in time.

#[path = "reports_support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::*;

const LIMIT: Duration = Duration::from_secs(120);

/// A number in a count like `<b>12</b>` or a `| 12 |` cell.
fn num(s: &str) -> usize {
    s.trim()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a count: {s:?}"))
}

/// report.json's tally, and every other output's counts, must be the same numbers; the console
/// (or `-q`) line must show each of them under its own name.
fn assert_one_tally(out: &Path, stdout: &str) -> serde_json::Value {
    let report = read_json(&out.join("report.json"));
    let t = report["summary"]["tally"].clone();
    let n = |k: &str| t[k].as_u64().unwrap_or(0) as usize;
    let parts = [
        "passed", "warned", "failed", "known", "errors", "skipped", "not_run",
    ];
    assert_eq!(
        parts.iter().map(|k| n(k)).sum::<usize>(),
        n("total"),
        "the counts partition the cases: {t}"
    );

    // The console's (or -q's) last line.
    let line = stdout
        .lines()
        .find(|l| l.starts_with("case result: "))
        .unwrap_or_else(|| panic!("no result line in\n{stdout}"));
    for expected in [
        format!(
            "{} passed; {} warnings; {} failed",
            n("passed"),
            n("warned"),
            n("failed")
        ),
        format!(
            "{} known failures; {} errors (setup); {} skipped; {} not run",
            n("known"),
            n("errors"),
            n("skipped"),
            n("not_run")
        ),
    ] {
        assert!(
            line.contains(&expected),
            "`{expected}` not in `{line}`\n{t}"
        );
    }

    // summary.md's table row.
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    let header = "| passed | warnings | failed | known failures | errors (setup) | skipped | not run | total |";
    let row = md
        .lines()
        .skip_while(|l| *l != header)
        .nth(2)
        .unwrap_or_else(|| panic!("no counts table in\n{md}"));
    let cells: Vec<usize> = row.trim_matches('|').split('|').map(num).collect();
    let want: Vec<usize> = parts.iter().map(|k| n(k)).chain([n("total")]).collect();
    assert_eq!(cells, want, "summary.md: {row}\n{t}");

    // The HTML page's counts.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for (class, key) in [
        ("pass", "passed"),
        ("warn", "warned"),
        ("fail", "failed"),
        ("known", "known"),
        ("error", "errors"),
        ("skip", "skipped"),
        ("notrun", "not_run"),
        ("total", "total"),
    ] {
        let at = format!("data-count=\"{class}\"><b>");
        let shown = html
            .split(&at)
            .nth(1)
            .unwrap_or_else(|| panic!("no {at} in the HTML"));
        assert_eq!(num(shown), n(key), "HTML count {class}");
    }

    // JUnit: failures are the failed cases, errors the setup errors (plus one for an incomplete
    // run), skipped what was not tested (skipped, not run, tolerated).
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    let attr = |line: &str, name: &str| line.split(&format!(" {name}=\"")).nth(1).map_or(0, num);
    let top = junit
        .lines()
        .find(|l| l.starts_with("<testsuites "))
        .unwrap();
    let suites: Vec<&str> = junit
        .lines()
        .filter(|l| l.trim_start().starts_with("<testsuite "))
        .collect();
    let sum = |name: &str| suites.iter().map(|l| attr(l, name)).sum::<usize>();
    let incomplete = usize::from(report["summary"]["complete"] == false);
    assert_eq!(attr(top, "failures"), n("failed"), "{top}");
    assert_eq!(attr(top, "errors"), n("errors") + incomplete, "{top}");
    assert_eq!(attr(top, "tests"), n("total") + incomplete, "{top}");
    assert_eq!(sum("failures"), n("failed"), "JUnit suites' failures");
    assert_eq!(
        sum("errors"),
        n("errors") + incomplete,
        "JUnit suites' errors"
    );
    assert_eq!(
        sum("skipped"),
        n("skipped") + n("not_run") + n("known"),
        "JUnit suites' skipped"
    );
    let mut counts = line
        .split_once(". ")
        .map(|(_, c)| c)
        .unwrap()
        .split("; finished")
        .next()
        .unwrap();
    if let Some(fixed) = counts.find(" known failures now pass") {
        counts = &counts[..counts[..fixed].rfind("; ").unwrap()];
    }
    assert!(
        junit.contains(&format!("<property name=\"tally\" value=\"{counts}\"/>")),
        "JUnit's tally property is not `{counts}`\n{junit}"
    );

    // TAP: its failing points, and the same result line as a comment.
    let tap = std::fs::read_to_string(out.join("report.tap")).unwrap();
    let not_ok = tap
        .lines()
        .filter(|l| l.starts_with("not ok ") && !l.contains("# TODO"))
        .count();
    assert_eq!(not_ok, n("failed"), "TAP's failing points\n{tap}");
    assert!(
        tap.contains(&format!("# {}", line.split("; finished").next().unwrap())),
        "TAP's result line\n{tap}"
    );
    report
}

/// Every format the run wrote in `dir/out` (its cases rendered as they finished, beside the run) is
/// byte for byte what `gws-conform report` renders from the run's report.json.
fn assert_rendered_as_report_renders(dir: &std::path::Path, out: &str) {
    for (format, file) in [
        ("html", "report.html"),
        ("junit", "junit.xml"),
        ("markdown", "summary.md"),
        ("tap", "report.tap"),
    ] {
        let again = format!("{out}-again-{file}");
        let json = format!("{out}/report.json");
        let r = run_in(
            dir,
            &["report", &json, "--format", format, "-o", &again],
            &[],
            LIMIT,
        );
        assert!(matches!(r.code, Some(0 | 1)), "{}", r.describe());
        assert!(
            std::fs::read(dir.join(out).join(file)).unwrap()
                == std::fs::read(dir.join(&again)).unwrap(),
            "{out}/{file} is not what `report --format {format}` renders"
        );
    }
}

#[test]
fn with_a_baseline_q_and_every_format_count_a_tolerated_failure_as_known_not_failed() {
    let suite = temp_suite(true);
    let dir = suite.path();
    std::fs::write(
        dir.join("known.toml"),
        "[[known]]\ncase = \"zz-deliberately-failing\"\nreason = \"fixture: fails on purpose\"\nexpires = 2999-12-31\n",
    )
    .unwrap();
    for (args, out) in [(vec!["-q"], "quiet"), (vec![], "loud")] {
        let mut all = vec!["run", "--baseline", "known.toml", "--report-dir", out];
        all.extend(args);
        let r = run_in(dir, &all, &[], LIMIT);
        assert_eq!(r.code, Some(0), "{}", r.describe());
        let report = assert_one_tally(&dir.join(out), &r.stdout);
        let t = &report["summary"]["tally"];
        assert_eq!(
            (t["failed"].as_u64(), t["known"].as_u64()),
            (Some(0), Some(1))
        );
        assert!(r.stdout.contains("case result: ok. "), "{}", r.describe());
        assert_rendered_as_report_renders(dir, out);
    }

    // Expired: the failure counts as failed (and as expired), and the run fails.
    std::fs::write(
        dir.join("expired.toml"),
        "[[known]]\ncase = \"zz-deliberately-failing\"\nreason = \"fixture\"\nexpires = 2020-01-01\n",
    )
    .unwrap();
    let r = run_in(
        dir,
        &[
            "run",
            "-q",
            "--baseline",
            "expired.toml",
            "--report-dir",
            "expired",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(1), "{}", r.describe());
    let report = assert_one_tally(&dir.join("expired"), &r.stdout);
    assert_rendered_as_report_renders(dir, "expired");
    let t = &report["summary"]["tally"];
    assert_eq!(
        (t["failed"].as_u64(), t["expired"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(
        r.stdout.contains("case result: FAILED. ")
            && r.stdout.contains("1 failed (1 known failure expired)"),
        "{}",
        r.describe()
    );
}

/// A target that answers its first `fast` requests at once, then holds every later one for 30 s.
fn slow_server(fast: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
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
                    if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= fast {
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
    url
}

#[test]
fn after_a_deadline_q_counts_the_cases_not_run_and_says_why() {
    let suite = temp_suite(false);
    let dir = suite.path();
    std::fs::write(
        dir.join("slow.toml"),
        "name = \"slow\"\ncsrf = false\ntimeout_ms = 60000\n\n[agents.default]\nusername = \"agent1\"\npassword = \"${env:GWS_PASSWORD}\"\n",
    )
    .unwrap();
    let url = slow_server(8);
    let r = run_in(
        dir,
        &[
            "run",
            "-q",
            "--target",
            &url,
            "--profile",
            "slow.toml",
            "--jobs",
            "1",
            "--deadline",
            "3s",
            "--report-dir",
            "out",
        ],
        &[("GWS_PASSWORD", "slow-pw-123")],
        LIMIT,
    );
    assert_eq!(r.code, Some(124), "{}", r.describe());
    let report = assert_one_tally(&dir.join("out"), &r.stdout);
    let not_run = report["summary"]["tally"]["not_run"].as_u64().unwrap();
    assert!(not_run > 0, "{}", r.describe());
    // The word agrees with the counts: a failure before the deadline is said first.
    let word = if report["summary"]["tally"]["failed"] == 0 {
        "INCOMPLETE"
    } else {
        "FAILED (incomplete)"
    };
    assert!(
        r.stdout.contains(&format!("case result: {word}. "))
            && r.stdout.contains(&format!(
                "{not_run} not run (the run's deadline passed (3s)"
            )),
        "{}",
        r.describe()
    );
}

/// `id -> verdict` of a report.
fn verdict_map(report: &serde_json::Value) -> BTreeMap<String, String> {
    verdicts(report)
}

#[test]
fn merge_writes_every_format_over_shards_with_profiles_of_their_own_and_exits_by_the_verdict() {
    let suite = temp_suite(true);
    let dir = suite.path();
    let env = [
        ("GWS_PASSWORD", "merge-pw-1"),
        ("GWS_AGENT_LOGIN_PASSWORD", "merge-lc-1"),
    ];
    // One server for every run: a target is part of what shards must share.
    let (mut server, url) = serve(&[], &env);
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "-q", "--target", &url];
        args.extend(extra);
        run_in(dir, &args, &env, LIMIT)
    };
    let r = run(&[
        "--profile",
        "profiles/reference.toml",
        "--report-dir",
        "full",
    ]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    let full = read_json(&dir.join("full/report.json"));
    let reference = std::fs::read_to_string(dir.join("profiles/reference.toml")).unwrap();
    // Three shards at once, as CI runs them: `user:K/3` keeps each user's cases in one shard, so
    // no agent is logged in by two shards; each shard has a profile of its own.
    let mut shards = Vec::new();
    for k in 1..=3 {
        let profile = format!("profiles/shard{k}.toml");
        std::fs::write(
            dir.join(&profile),
            reference.replacen("name = \"reference\"", &format!("name = \"shard{k}\""), 1),
        )
        .unwrap();
        shards.push((profile, format!("user:{k}/3"), format!("shard{k}")));
    }
    let codes: Vec<Option<i32>> = std::thread::scope(|scope| {
        let running: Vec<_> = shards
            .iter()
            .map(|(profile, part, out)| {
                let run = &run;
                scope.spawn(move || {
                    let r = run(&[
                        "--profile",
                        profile,
                        "--partition",
                        part,
                        "--report-dir",
                        out,
                    ]);
                    assert!(matches!(r.code, Some(0 | 1)), "{}", r.describe());
                    r.code
                })
            })
            .collect();
        running.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        codes.contains(&Some(1)),
        "the faulty case fails in one shard: {codes:?}"
    );
    let shards: Vec<String> = shards
        .iter()
        .map(|(_, _, out)| format!("{out}/report.json"))
        .collect();
    let _ = server.kill();
    let _ = server.wait();
    let mut args = vec!["merge", "--report-dir", "merged"];
    args.extend(shards.iter().map(String::as_str));
    let r = run_in(dir, &args, &[], LIMIT);
    assert_eq!(
        r.code,
        Some(1),
        "a shard failed: merge exits 1\n{}",
        r.describe()
    );
    for f in [
        "report.json",
        "report.html",
        "junit.xml",
        "summary.md",
        "report.tap",
    ] {
        assert!(
            dir.join("merged").join(f).is_file(),
            "{f}\n{}",
            r.describe()
        );
    }
    let merged = assert_one_tally(&dir.join("merged"), &r.stdout);
    assert_eq!(verdict_map(&merged), verdict_map(&full));
    // The reports of `user:K/N` shards, and their merge, are reports as the schema describes them,
    // and `verify` takes them as this tree's.
    for shard in &shards {
        validate_report(&dir.join(shard));
    }
    validate_report(&dir.join("merged/report.json"));
    for report in shards
        .iter()
        .map(String::as_str)
        .chain(["merged/report.json"])
    {
        let v = run_in(dir, &["verify", report], &[], LIMIT);
        assert_eq!(v.code, Some(0), "verify {report}\n{}", v.describe());
    }
    let digests: BTreeSet<&str> = merged["merged_from"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["profile_sha256"].as_str().unwrap())
        .collect();
    assert_eq!(
        digests.len(),
        3,
        "each shard's profile recorded: {}",
        merged["merged_from"]
    );

    // Another target is refused, saying so.
    let mut other = read_json(&dir.join(&shards[2]));
    other["run"]["target"] = serde_json::json!({"url": "http://127.0.0.1:9", "embedded": false});
    std::fs::write(dir.join("other.json"), other.to_string()).unwrap();
    let r = run_in(
        dir,
        &[
            "merge",
            &shards[0],
            &shards[1],
            "other.json",
            "-o",
            "m.json",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(r.stderr.contains("targets "), "{}", r.describe());
}

/// `gws-conform serve` with `args` on an ephemeral port; returns the child and its URL.
fn serve(args: &[&str], env: &[(&str, &str)]) -> (std::process::Child, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut server = cmd.spawn().expect("serve");
    let mut line = String::new();
    let mut out = BufReader::new(server.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (server, url)
}

#[test]
fn compare_lists_exactly_the_cases_a_fault_changed_and_exits_1() {
    let suite = temp_suite(false);
    let dir = suite.path();
    let env = [
        ("GWS_PASSWORD", "compare-pw-1"),
        ("GWS_AGENT_LOGIN_PASSWORD", "compare-lc-1"),
    ];
    let mut runs = Vec::new();
    for (fault, out) in [(None, "clean"), (Some("status-code-as-string"), "faulty")] {
        let mut args = Vec::new();
        if let Some(f) = fault {
            args.extend(["--fault", f]);
        }
        let (mut server, url) = serve(&args, &env);
        let r = run_in(
            dir,
            &[
                "run",
                "-q",
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
        let _ = server.kill();
        let _ = server.wait();
        assert!(matches!(r.code, Some(0 | 1)), "{}", r.describe());
        runs.push(read_json(&dir.join(out).join("report.json")));
    }
    let (old, new) = (verdict_map(&runs[0]), verdict_map(&runs[1]));
    let changed: BTreeSet<String> = old
        .iter()
        .filter(|(id, v)| new.get(*id) != Some(*v))
        .map(|(id, _)| id.clone())
        .collect();
    assert!(!changed.is_empty(), "the fault changed no verdict");

    let r = run_in(
        dir,
        &[
            "compare",
            "clean/report.json",
            "faulty/report.json",
            "--format",
            "json",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(1), "a regression exits 1\n{}", r.describe());
    let cmp: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let listed: BTreeSet<String> = cmp["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, changed);
    for c in cmp["changes"].as_array().unwrap() {
        let id = c["case"].as_str().unwrap();
        assert_eq!(c["old"].as_str(), old.get(id).map(String::as_str), "{c}");
        assert_eq!(c["new"].as_str(), new.get(id).map(String::as_str), "{c}");
    }
    for format in ["text", "markdown"] {
        let r = run_in(
            dir,
            &[
                "compare",
                "clean/report.json",
                "faulty/report.json",
                "--format",
                format,
            ],
            &[],
            LIMIT,
        );
        assert_eq!(r.code, Some(1), "{}", r.describe());
        assert!(
            changed.iter().all(|id| r.stdout.contains(id.as_str())),
            "{}",
            r.stdout
        );
        if format == "text" {
            // The mark is a word of its own after the case id, and the ids stay in one column.
            assert!(r.stdout.contains(" REGRESSION: "), "{}", r.stdout);
            for id in &changed {
                assert!(
                    !r.stdout.contains(&format!("{id}REGRESSION")),
                    "{}",
                    r.stdout
                );
            }
        }
    }
    // The other way round nothing regresses: every change is a fix.
    let r = run_in(
        dir,
        &["compare", "faulty/report.json", "clean/report.json"],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(0), "{}", r.describe());
    assert!(
        r.stdout.contains(&format!("{} case", changed.len())),
        "{}",
        r.stdout
    );

    // Another suite is refused unless allowed, naming what differs.
    let mut other = runs[1].clone();
    other["run"]["inputs"][0]["sha256"] = serde_json::json!("0000");
    let first = other["run"]["inputs"][0]["path"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(dir.join("other.json"), other.to_string()).unwrap();
    let r = run_in(
        dir,
        &["compare", "clean/report.json", "other.json"],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(
        r.stderr.contains(&format!("{first} differs")) && r.stderr.contains("--allow-suite-change"),
        "{}",
        r.describe()
    );
    let r = run_in(
        dir,
        &[
            "compare",
            "clean/report.json",
            "other.json",
            "--allow-suite-change",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(1), "{}", r.describe());
}

#[test]
fn baseline_write_tolerates_what_failed_and_failed_from_reruns_only_that() {
    let suite = temp_suite(true);
    let dir = suite.path();
    let r = run_in(dir, &["run", "-q", "--report-dir", "first"], &[], LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    let first = read_json(&dir.join("first/report.json"));
    let failed: BTreeSet<String> = verdicts(&first)
        .into_iter()
        .filter(|(_, v)| v == "fail" || v == "warn")
        .map(|(id, _)| id)
        .collect();
    assert!(failed.contains("zz-deliberately-failing"), "{failed:?}");

    let r = run_in(
        dir,
        &[
            "baseline",
            "write",
            "first/report.json",
            "--expires",
            "2999-12-31",
            "-o",
            "known.toml",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(0), "{}", r.describe());
    let r = run_in(
        dir,
        &[
            "run",
            "-q",
            "--baseline",
            "known.toml",
            "--report-dir",
            "second",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(
        r.code,
        Some(0),
        "the written baseline tolerates the failure\n{}",
        r.describe()
    );
    assert!(
        r.stdout.contains("0 failed; 1 known failures"),
        "{}",
        r.describe()
    );

    // --failed-from: exactly the failed and warned cases run again.
    let r = run_in(
        dir,
        &[
            "run",
            "-q",
            "--failed-from",
            "first/report.json",
            "--report-dir",
            "again",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(1), "{}", r.describe());
    let again = read_json(&dir.join("again/report.json"));
    assert_eq!(
        verdicts(&again).into_keys().collect::<BTreeSet<_>>(),
        failed
    );

    // A baseline entry without `expires` says which entry and what to write.
    std::fs::write(
        dir.join("bad.toml"),
        "[[known]]\ncase = \"zz-deliberately-failing\"\nreason = \"r\"\n",
    )
    .unwrap();
    let r = run_in(dir, &["run", "--baseline", "bad.toml"], &[], LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(
        r.stderr.contains("bad.toml:")
            && r.stderr
                .contains("entry 1 (case `zz-deliberately-failing`) has no `expires`")
            && r.stderr.contains("expires = 2027-01-31"),
        "{}",
        r.describe()
    );
}

/// `run --message-format json | head -3`: the first events arrive while the first case is still
/// running (the target holds every case's request for 30 s), not replayed after it.
#[test]
fn json_events_arrive_as_they_happen() {
    let suite = temp_suite(false);
    let dir = suite.path();
    std::fs::write(
        dir.join("slow.toml"),
        "name = \"slow\"\ncsrf = false\ntimeout_ms = 60000\n\n[agents.default]\nusername = \"agent1\"\npassword = \"${env:GWS_PASSWORD}\"\n",
    )
    .unwrap();
    // The preflight's requests are answered; every case's request is then held.
    let url = slow_server(8);
    let mut child = Command::new(BIN)
        .args([
            "run",
            "--target",
            &url,
            "--profile",
            "slow.toml",
            "--jobs",
            "1",
            "--message-format",
            "json",
            "--report-dir",
            "out",
        ])
        .current_dir(dir)
        .env("GWS_PASSWORD", "slow-pw-123")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut first = Vec::new();
    for _ in 0..3 {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(l) => first.push(serde_json::from_str::<serde_json::Value>(&l).expect("JSON line")),
            Err(e) => {
                let _ = child.kill();
                panic!("only {} event(s) within 20 s ({e}): {first:?}", first.len());
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let kinds: Vec<(String, String)> = first
        .iter()
        .map(|v| {
            (
                v["type"].as_str().unwrap().into(),
                v["event"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(kinds[0], ("run".into(), "started".into()), "{first:?}");
    assert_eq!(kinds[1], ("case".into(), "started".into()), "{first:?}");
    assert_eq!(first[0]["planned"], first[1]["total"], "{first:?}");
}

/// Without a terminal the console prints plain lines: no escape sequences, no carriage returns.
#[test]
fn without_a_terminal_the_console_writes_no_control_characters() {
    let suite = temp_suite(true);
    let r = run_in(suite.path(), &["run", "--report-dir", "out"], &[], LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    for (name, bytes) in [("stdout", &r.stdout_bytes), ("stderr", &r.stderr_bytes)] {
        let bad: Vec<u8> = bytes
            .iter()
            .copied()
            .filter(|b| *b < 0x20 && *b != b'\n' && *b != b'\t')
            .collect();
        assert!(
            bad.is_empty(),
            "{name} has control characters {bad:?}\n{}",
            r.describe()
        );
    }
    assert!(r.stdout.contains("[  1/"), "{}", r.describe());
}

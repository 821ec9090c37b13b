//! `verify` re-derives a report's result, and the signed attestation interoperates: the harness's
//! DSSE envelope is verified by Python's securesystemslib (installed by .ci/install.d/attest.sh)
//! and by openssl over the pre-authentication encoding, an envelope signed by the Python side
//! verifies in `gws-conform verify`, and each tampering (one byte of report.json, the predicate,
//! another key) is refused by both, with the reason. A missing verifier fails the test.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use support::{root, run, Served};

const PW: &str = "attest-test-pw-1";
const LC: &str = "attest-test-lc-1";
const LIMIT: Duration = Duration::from_secs(120);
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The Sample 4 cases against a server whose partial success answers 200 with statusCode 0, signed
/// with `key`: (report dir, run output).
fn faulty_run(dir: &Path, key: &Path) -> (PathBuf, support::Run) {
    let (reports, r) = s4_run(dir, &["--sign", key.to_str().unwrap()]);
    assert_eq!(
        r.code, 1,
        "the fault fails the run\n{}{}",
        r.stdout, r.stderr
    );
    assert!(
        reports.join("attestation.intoto.jsonl").is_file(),
        "{}",
        r.stdout
    );
    (reports, r)
}

/// The Sample 4 cases against the partial-success fault, with `extra` arguments.
fn s4_run(dir: &Path, extra: &[&str]) -> (PathBuf, support::Run) {
    let server = Served::start(&["--fault", "partial-success-as-zero"], PW, LC);
    let reports = dir.join("reports");
    let mut args = vec![
        "run",
        "--target",
        &server.url,
        "--profile",
        "profiles/reference.toml",
        "--report-dir",
        reports.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push("S4");
    let r = run(
        &args,
        &root(),
        &[("GWS_PASSWORD", PW), ("GWS_AGENT_LOGIN_PASSWORD", LC)],
        LIMIT,
    );
    (reports, r)
}

/// Each forgery of `report` is refused by `verify` (exit 1, never a panic) with every text named.
fn assert_refused(report: &Path, forged: &Path, forgeries: Vec<(&str, Box<Forgery>, Vec<String>)>) {
    for (what, forge, says) in forgeries {
        edit_json(report, forged, forge);
        let r = verify(forged, &[]);
        assert_eq!(r.code, 1, "{what}\n{}{}", r.stdout, r.stderr);
        for s in says {
            assert!(r.stdout.contains(&s), "{what}: `{s}` not in\n{}", r.stdout);
        }
    }
}

/// The index of case `id` in report.json.
fn case_index(v: &serde_json::Value, id: &str) -> usize {
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["id"] == id)
        .unwrap()
}

/// Moves one case's count in the tally from `from` to `to`.
fn move_count(v: &mut serde_json::Value, from: &str, to: &str) {
    let t = &mut v["summary"]["tally"];
    t[from] = (t[from].as_u64().unwrap() - 1).into();
    t[to] = (t[to].as_u64().unwrap_or(0) + 1).into();
}

fn verify(report: &Path, extra: &[&str]) -> support::Run {
    let mut args = vec!["verify", report.to_str().unwrap(), "--root", "."];
    args.extend_from_slice(extra);
    run(&args, &root(), &[], LIMIT)
}

fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(name);
    let r = run(
        &["keygen", "-o", key.to_str().unwrap()],
        &root(),
        &[],
        LIMIT,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    (key.clone(), PathBuf::from(format!("{}.pub", key.display())))
}

fn python() -> PathBuf {
    let py = root().join("tests/attest/.venv/bin/python");
    assert!(
        py.is_file(),
        "{} is missing: run .ci/install.d/attest.sh (the interop test never skips)",
        py.display()
    );
    py
}

/// The Python peer: (exit code, what it printed).
fn peer(args: &[&Path]) -> (i32, String) {
    let out = Command::new(python())
        .arg(root().join("tests/attest/dsse_peer.py"))
        .args(args)
        .output()
        .expect("run the Python peer");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn py_verify(envelope: &Path, public: &Path, report: &Path) -> (i32, String) {
    peer(&[Path::new("verify"), envelope, public, report])
}

/// openssl's Ed25519 check of the envelope's first signature over DSSE's PAE.
fn openssl_verify(dir: &Path, envelope: &Path, public: &Path) -> (bool, String) {
    let env: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(envelope).unwrap().trim()).unwrap();
    let payload = B64.decode(env["payload"].as_str().unwrap()).unwrap();
    let kind = env["payloadType"].as_str().unwrap();
    let mut pae = format!("DSSEv1 {} {kind} {} ", kind.len(), payload.len()).into_bytes();
    pae.extend_from_slice(&payload);
    let sig = B64
        .decode(env["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    std::fs::write(dir.join("pae.bin"), &pae).unwrap();
    std::fs::write(dir.join("sig.bin"), &sig).unwrap();
    let out = Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-rawin", "-inkey"])
        .arg(public)
        .arg("-in")
        .arg(dir.join("pae.bin"))
        .arg("-sigfile")
        .arg(dir.join("sig.bin"))
        .output()
        .expect("openssl is installed (the interop test never skips)");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn edit_json(from: &Path, to: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(from).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(to, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// An edit of report.json.
type Forgery = dyn Fn(&mut serde_json::Value);

#[test]
fn verify_rederives_the_result_and_names_each_forged_field() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "k.pem");
    let (reports, _) = faulty_run(dir.path(), &key);
    let report = reports.join("report.json");
    let ok = verify(&report, &[]);
    assert_eq!(
        ok.code, 0,
        "an honest report verifies\n{}{}",
        ok.stdout, ok.stderr
    );
    assert!(
        ok.stdout.contains("follow from its checks"),
        "{}",
        ok.stdout
    );

    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let index = value["cases"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["id"] == "s4-partial-success")
        .unwrap();
    assert_eq!(
        value["cases"][index]["verdict"], "fail",
        "the fault is caught"
    );
    let forged = dir.path().join("forged.json");
    let forgeries: Vec<(&str, Box<Forgery>, Vec<String>)> = vec![
        (
            "the issue's forgery: a failing case set to pass, its checks left failed",
            Box::new(move |v| v["cases"][index]["verdict"] = "pass".into()),
            vec![
                "case `s4-partial-success`".into(),
                format!("`cases[{index}].verdict` is \"pass\" in the report, but its recorded checks give \"fail\""),
            ],
        ),
        (
            "the tally",
            Box::new(|v| {
                let n = v["summary"]["tally"]["failed"].as_u64().unwrap();
                v["summary"]["tally"]["failed"] = (n + 1).into();
            }),
            vec![
                "`summary.tally` is {\"total\"".into(),
                // The word stays FAIL: only the sentence tells.
                "`summary.headline` is \"FAIL: The target".into(),
            ],
        ),
        (
            "a sample's status",
            Box::new(|v| {
                for s in v["summary"]["samples"].as_array_mut().unwrap() {
                    if s["element"] == "S4" {
                        s["status"] = "pass".into();
                    }
                }
            }),
            vec!["`summary.samples[S4].status` is \"pass\" in the report, but the cases give \"fail\"".into()],
        ),
        (
            "the verdict and headline",
            Box::new(|v| v["summary"]["ok"] = true.into()),
            vec!["`summary.ok` is true".into(), "`summary.headline` is \"PASS".into()],
        ),
        (
            "a field outside the report schema",
            Box::new(|v| v["summary"]["finished_at"] = "yesterday".into()),
            vec!["`/summary/finished_at` breaks schemas/report.schema.json: `finished_at` must match the pattern".into()],
        ),
    ];
    assert_refused(&report, &forged, forgeries);
}

#[test]
fn verify_refuses_a_failure_forged_into_a_skip_and_counts_that_do_not_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let (reports, r) = s4_run(dir.path(), &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let report = reports.join("report.json");
    let ok = verify(&report, &[]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let i = case_index(&value, "s4-partial-success");
    // summary.md shows what the failing step sent and got back (issue 19: every format).
    let summary = std::fs::read_to_string(reports.join("summary.md")).unwrap();
    for says in [
        "request and response of step",
        "request: POST /api/v2/me",
        "body: {\"channels\":[\"voice\",\"chat\"]",
        "response: HTTP 200",
    ] {
        assert!(summary.contains(says), "`{says}` not in\n{summary}");
    }
    let forged = dir.path().join("forged.json");
    let forgeries: Vec<(&str, Box<Forgery>, Vec<String>)> = vec![
        (
            "a failure made a skip: a reason, its steps marked not run, the tally moved",
            Box::new(move |v| {
                let c = &mut v["cases"][i];
                c["verdict"] = "skip".into();
                c["reason"] = "the target profile lacks a capability".into();
                for s in c["steps"].as_array_mut().unwrap() {
                    s["ran"] = false.into();
                }
                move_count(v, "failed", "skipped");
            }),
            vec![
                "case `s4-partial-success`".into(),
                format!("`cases[{i}].steps[0]` is not run with"),
                format!("`cases[{i}].steps` is"),
            ],
        ),
        (
            "a failure made a skip without a reason",
            Box::new(move |v| {
                let c = &mut v["cases"][i];
                c["verdict"] = "skip".into();
                c.as_object_mut().unwrap().remove("reason");
                c["steps"] = serde_json::json!([]);
                move_count(v, "failed", "skipped");
            }),
            vec![format!("`cases[{i}].reason` is absent")],
        ),
        (
            "a case made not run in a complete run",
            Box::new(move |v| {
                let c = &mut v["cases"][i];
                c["verdict"] = "not-run".into();
                c["reason"] = "the run was stopped before this case ran".into();
                c["steps"] = serde_json::json!([]);
                move_count(v, "failed", "not_run");
            }),
            vec!["`summary.complete` is true in the report, but 1 case(s) did not run".into()],
        ),
        (
            "a case deleted, the tally adjusted",
            Box::new(move |v| {
                v["cases"].as_array_mut().unwrap().remove(i);
                let t = &mut v["summary"]["tally"];
                t["failed"] = (t["failed"].as_u64().unwrap() - 1).into();
                t["total"] = (t["total"].as_u64().unwrap() - 1).into();
            }),
            vec!["`run.planned` is".into()],
        ),
        (
            "a sample that ran more cases than it has (a debug build panicked)",
            Box::new(|v| {
                for s in v["summary"]["samples"].as_array_mut().unwrap() {
                    s["ran"] = (s["cases"].as_u64().unwrap() + 5).into();
                }
            }),
            vec!["`summary.samples[S4]` is".into()],
        ),
        (
            "more cases not run than there are",
            Box::new(|v| v["summary"]["tally"]["not_run"] = 1000.into()),
            vec!["`summary.tally` is".into()],
        ),
        (
            "a baseline outcome the run never had",
            Box::new(|v| {
                v["summary"]["known"] = serde_json::json!([{
                    "case": "s4-partial-success", "reason": "r",
                    "expires": "2099-01-01", "status": "known"
                }]);
            }),
            vec!["`summary.known[s4-partial-success]` is \"known\" (expires 2099-01-01) in the report, but the cases give absent".into()],
        ),
        (
            "a sample the cases do not give",
            Box::new(|v| {
                let samples = v["summary"]["samples"].as_array_mut().unwrap();
                let mut extra = samples[0].clone();
                extra["element"] = "S9".into();
                samples.push(extra);
            }),
            vec!["`summary.samples[S9].status` is".into(), "but the cases give absent".into()],
        ),
    ];
    assert_refused(&report, &forged, forgeries);
}

#[test]
fn verify_compares_the_baseline_with_its_file_and_the_run_day() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("known.toml");
    std::fs::write(
        &baseline,
        "[[known]]\ncase = \"s4-partial-success\"\nreason = \"ticket 1\"\nexpires = 2020-01-01\n",
    )
    .unwrap();
    let (reports, r) = s4_run(dir.path(), &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(r.code, 1, "the entry has expired\n{}{}", r.stdout, r.stderr);
    let report = reports.join("report.json");
    let ok = verify(&report, &[]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(value["summary"]["known"][0]["status"], "expired");
    let forged = dir.path().join("forged.json");
    let excused = |v: &mut serde_json::Value| {
        v["summary"]["known"][0]["status"] = "known".into();
        v["summary"]["known"][0]["expires"] = "2099-01-01".into();
        v["summary"]["ok"] = true.into();
    };
    let forgeries: Vec<(&str, Box<Forgery>, Vec<String>)> = vec![
        (
            "the entry's expiry moved in the report, the file kept",
            Box::new(move |v| {
                v["baseline"]["entries"][0]["expires"] = "2099-01-01".into();
                excused(v);
            }),
            vec!["`baseline.entries[s4-partial-success]` is expires 2099-01-01".into()],
        ),
        (
            "an entry the file does not have",
            Box::new(|v| {
                let mut extra = v["baseline"]["entries"][0].clone();
                extra["case"] = "s4-other".into();
                v["baseline"]["entries"].as_array_mut().unwrap().push(extra);
            }),
            vec![
                "`baseline.entries[s4-other]` is expires 2020-01-01".into(),
                "but absent in".into(),
            ],
        ),
        (
            "the day it was judged on moved back",
            Box::new(move |v| {
                v["baseline"]["today"] = "2019-12-31".into();
                excused(v);
                v["summary"]["known"][0]["expires"] = "2020-01-01".into();
            }),
            vec!["`baseline.today` is \"2019-12-31\" in the report, but the run started on".into()],
        ),
    ];
    assert_refused(&report, &forged, forgeries);
}

#[test]
fn the_signed_attestation_interoperates_and_every_tampering_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A key made by openssl signs the run; the harness's own keygen makes the "other" key.
    let key = d.join("openssl.pem");
    let public = d.join("openssl.pub");
    for args in [
        vec![
            "genpkey",
            "-algorithm",
            "ed25519",
            "-out",
            key.to_str().unwrap(),
        ],
        vec![
            "pkey",
            "-in",
            key.to_str().unwrap(),
            "-pubout",
            "-out",
            public.to_str().unwrap(),
        ],
    ] {
        let out = Command::new("openssl")
            .args(&args)
            .output()
            .expect("openssl is installed");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (other_key, other_public) = keygen(d, "other.pem");
    let (reports, _) = faulty_run(d, &key);
    let report = reports.join("report.json");
    let envelope = reports.join("attestation.intoto.jsonl");
    let text = std::fs::read_to_string(&envelope).unwrap();
    assert!(
        !text.contains(PW) && !text.contains(LC),
        "no secret in the attestation"
    );

    // The statement: subjects by sha256, the test-result predicate.
    let env: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    let statement: serde_json::Value =
        serde_json::from_slice(&B64.decode(env["payload"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(
        statement["predicateType"],
        "https://in-toto.io/attestation/test-result/v0.1"
    );
    assert_eq!(statement["predicate"]["result"], "FAILED");
    assert!(statement["predicate"]["failedTests"]
        .as_array()
        .unwrap()
        .contains(&"s4-partial-success".into()));
    assert_eq!(statement["subject"][0]["name"], "report.json");

    // Accepted by all three.
    let pub_arg = public.to_str().unwrap();
    let env_arg = envelope.to_str().unwrap();
    let ours = verify(&report, &["--attestation", env_arg, "--key", pub_arg]);
    assert_eq!(ours.code, 0, "{}{}", ours.stdout, ours.stderr);
    assert_eq!(py_verify(&envelope, &public, &report), (0, "ok\n".into()));
    let (ok, why) = openssl_verify(d, &envelope, &public);
    assert!(ok, "openssl: {why}");

    // The Python side signs the same statement: gws-conform verify accepts it.
    let stmt_file = d.join("statement.json");
    std::fs::write(
        &stmt_file,
        B64.decode(env["payload"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let py_env = d.join("python.intoto.jsonl");
    let (code, out) = peer(&[Path::new("sign"), &stmt_file, &key, &py_env]);
    assert_eq!(code, 0, "{out}");
    let r = verify(
        &report,
        &["--attestation", py_env.to_str().unwrap(), "--key", pub_arg],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // 1. One byte of report.json changed (a space added inside the pretty-printed JSON).
    let tampered = d.join("tampered");
    std::fs::create_dir_all(&tampered).unwrap();
    let mut bytes = std::fs::read(&report).unwrap();
    let at = bytes.iter().position(|b| *b == b'\n').unwrap();
    bytes.insert(at, b' ');
    std::fs::write(tampered.join("report.json"), &bytes).unwrap();
    let r = verify(
        &tampered.join("report.json"),
        &["--attestation", env_arg, "--key", pub_arg],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("subject \"report.json\" has sha256"),
        "{}",
        r.stdout
    );
    let (code, out) = py_verify(&envelope, &public, &tampered.join("report.json"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("subject report.json has sha256"), "{out}");

    // 2. The predicate changed after signing (FAILED made PASSED), the signature kept.
    let mut forged_stmt = statement.clone();
    forged_stmt["predicate"]["result"] = "PASSED".into();
    let mut forged_env = env.clone();
    forged_env["payload"] = B64.encode(forged_stmt.to_string()).into();
    let forged = d.join("forged.intoto.jsonl");
    std::fs::write(&forged, forged_env.to_string()).unwrap();
    let r = verify(
        &report,
        &["--attestation", forged.to_str().unwrap(), "--key", pub_arg],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("the signature does not verify"),
        "{}",
        r.stdout
    );
    let (code, out) = py_verify(&forged, &public, &report);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("refused: signature"), "{out}");
    let (ok, _) = openssl_verify(d, &forged, &public);
    assert!(!ok, "openssl refuses the changed predicate");

    // 3. Another key: the run's envelope checked with it, and an envelope it signed.
    let other_pub = other_public.to_str().unwrap();
    let r = verify(&report, &["--attestation", env_arg, "--key", other_pub]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("the signature does not verify with key"),
        "{}",
        r.stdout
    );
    let (code, out) = py_verify(&envelope, &other_public, &report);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("refused: signature"), "{out}");
    let (ok, _) = openssl_verify(d, &envelope, &other_public);
    assert!(!ok, "openssl refuses another key");
    let by_other = d.join("other.intoto.jsonl");
    let (code, out) = peer(&[Path::new("sign"), &stmt_file, &other_key, &by_other]);
    assert_eq!(code, 0, "{out}");
    let r = verify(
        &report,
        &[
            "--attestation",
            by_other.to_str().unwrap(),
            "--key",
            pub_arg,
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("the envelope names key"), "{}", r.stdout);
}

#[test]
fn the_html_does_not_vouch_for_a_signature_and_a_stale_attestation_is_not_this_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "k.pem");
    let (reports, _) = faulty_run(dir.path(), &key);
    let html = || std::fs::read_to_string(reports.join("report.html")).unwrap();
    let page = html();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    let first_run = report["run"]["run_id"].as_str().unwrap().to_string();
    // The key id is the envelope's claim: the page checks no signature and says so.
    assert!(page.contains("data-signed=\"unchecked\""), "{page}");
    assert!(page.contains("signature not checked here"), "{page}");
    assert!(!page.contains("data-signed=\"yes\""), "{page}");
    assert!(
        page.contains(&format!("data-run=\"{first_run}\"")),
        "{page}"
    );
    let saved = dir.path().join("saved.intoto.jsonl");
    std::fs::copy(reports.join("attestation.intoto.jsonl"), &saved).unwrap();

    // Run again into the same folder without --sign: the earlier attestation goes.
    let (_, r) = s4_run(dir.path(), &["--force"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        !reports.join("attestation.intoto.jsonl").exists(),
        "an earlier run's attestation is removed"
    );
    assert!(html().contains("data-signed=\"no\""), "{}", html());

    // Put back by hand, the page says whose run it attests.
    std::fs::copy(&saved, reports.join("attestation.intoto.jsonl")).unwrap();
    let out = reports.join("again.html");
    let report_json = reports.join("report.json");
    let r = run(
        &[
            "report",
            report_json.to_str().unwrap(),
            "--format",
            "html",
            "-o",
            out.to_str().unwrap(),
        ],
        &root(),
        &[],
        LIMIT,
    );
    // `report` exits by the verdict of the report it renders: this run failed (issue 20).
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(
        page.contains(&format!(
            "It attests run <code>{first_run}</code>, not this report"
        )),
        "{page}"
    );
}

#[test]
fn keygen_force_leaves_no_readable_key_and_bad_inputs_exit_2() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("k.pem");
    std::fs::write(&key, "old").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = run(
        &["keygen", "-o", key.to_str().unwrap()],
        &root(),
        &[],
        LIMIT,
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    let r = run(
        &["keygen", "-o", key.to_str().unwrap(), "--force"],
        &root(),
        &[],
        LIMIT,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the private key is its owner's alone");

    // `attest` with a report that cannot be read or parsed: bad input.
    let not_json = d.join("report.json");
    std::fs::write(&not_json, "not json").unwrap();
    for report in [d.join("absent.json"), not_json.clone()] {
        let r = run(
            &[
                "attest",
                report.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
            ],
            &root(),
            &[],
            LIMIT,
        );
        assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    }

    // `verify --attestation` with a key or an envelope that cannot be read: bad input.
    let (reports, _) = s4_run(d, &[]);
    let report = reports.join("report.json");
    let public = PathBuf::from(format!("{}.pub", key.display()));
    let absent = d.join("absent.jsonl");
    let r = verify(
        &report,
        &[
            "--attestation",
            absent.to_str().unwrap(),
            "--key",
            public.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("absent.jsonl: cannot read"),
        "{}",
        r.stderr
    );
    let r = verify(
        &report,
        &[
            "--attestation",
            absent.to_str().unwrap(),
            "--key",
            d.join("absent.pub").to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
}

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
    let server = Served::start(&["--fault", "partial-success-as-zero"], PW, LC);
    let reports = dir.join("reports");
    let r = run(
        &[
            "run",
            "--target",
            &server.url,
            "--profile",
            "profiles/reference.toml",
            "--report-dir",
            reports.to_str().unwrap(),
            "--sign",
            key.to_str().unwrap(),
            "S4",
        ],
        &root(),
        &[("GWS_PASSWORD", PW), ("GWS_AGENT_LOGIN_PASSWORD", LC)],
        LIMIT,
    );
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
            vec!["`summary.tally.failed` is".into()],
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
    for (what, forge, says) in forgeries {
        edit_json(&report, &forged, forge);
        let r = verify(&forged, &[]);
        assert_eq!(r.code, 1, "{what}\n{}{}", r.stdout, r.stderr);
        for s in says {
            assert!(r.stdout.contains(&s), "{what}: `{s}` not in\n{}", r.stdout);
        }
    }
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

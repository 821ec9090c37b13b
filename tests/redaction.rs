//! Redaction hides secrets and nothing else, with passwords a real profile may well have: common
//! words that occur in case ids and file names (`password`, `wrong`, `agent`), one too short to mask
//! inside text (`1`), and one equal to its user name. The whole suite runs through the real binary
//! against the embedded server; every artifact is read back.

#[path = "support/mod.rs"]
mod common;
#[path = "reports_support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::*;

const LIMIT: Duration = Duration::from_secs(180);

/// Header names whose values must always be masked whole.
const SECRET_HEADERS: [&str; 4] = ["authorization", "cookie", "set-cookie", "x-csrf-token"];

/// The ids the suite's case files declare, as written.
fn declared_ids(dir: &Path) -> BTreeSet<String> {
    // The suite's case ids as `list --wide` shows them (a matrix file declares several).
    let r = run_in(dir, &["list", "--wide"], &[], LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.describe());
    let lines: Vec<&str> = r.stdout.lines().collect();
    lines[1..lines.len() - 1]
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Every string of outside data the report records: exchanges (headers and bodies, both ways) and
/// notifications. Calls `f(where, value)` for each.
fn outside_strings(report: &Value, f: &mut dyn FnMut(&str, &str)) {
    for case in report["cases"].as_array().unwrap() {
        for step in case["steps"].as_array().unwrap() {
            for ex in step["exchanges"].as_array().unwrap() {
                for side in ["request", "response"] {
                    let part = &ex[side];
                    for h in part["headers"].as_array().into_iter().flatten() {
                        let (name, value) = (h[0].as_str().unwrap(), h[1].as_str().unwrap());
                        if SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                            assert_eq!(value, "***", "{side} header {name} is masked whole");
                        }
                        f(&format!("{side} header {name}"), value);
                    }
                    for key in ["body", "body_text"] {
                        // A JSON body's member names are the protocol's, not data.
                        match part[key].as_str().map(serde_json::from_str::<Value>) {
                            Some(Ok(v)) => {
                                json_strings(&v, &mut |s| f(&format!("{side} {key} value"), s))
                            }
                            Some(Err(_)) => {
                                f(&format!("{side} {key}"), part[key].as_str().unwrap())
                            }
                            None => {}
                        }
                    }
                }
            }
            for n in step["notifications"].as_array().into_iter().flatten() {
                json_strings(&n["message"], &mut |s| f("notification", s));
            }
        }
    }
}

/// Every string in a JSON value; members named like a password must be masked whole.
fn json_strings(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| json_strings(x, f)),
        Value::Object(m) => {
            for (k, x) in m {
                if k.eq_ignore_ascii_case("password") || k == "agentLoginPassword" {
                    assert_eq!(x, "***", "member {k} is masked whole");
                }
                json_strings(x, f);
            }
        }
        _ => {}
    }
}

/// One run with `pw` as every password; returns the report.
fn check_password(dir: &Path, pw: &str) -> Value {
    let env = [("GWS_PASSWORD", pw), ("GWS_AGENT_LOGIN_PASSWORD", pw)];
    let out = format!("out-{}", pw.len());
    // Passwords of one length share a folder: each run replaces the last one's reports.
    let r = run_in(
        dir,
        &["run", "-v", "--report-dir", &out, "--force"],
        &env,
        LIMIT,
    );
    // Hiding a secret changes no verdict: the clean server passes every case.
    assert_eq!(r.code, Some(0), "password {pw:?}: {}", r.describe());
    let report = validate_report(&dir.join(&out).join("report.json"));

    // Ids, titles, paths, profile keys and capability names read as the project wrote them.
    let ids = declared_ids(dir);
    let got: BTreeSet<String> = verdicts(&report).into_keys().collect();
    assert_eq!(got, ids, "password {pw:?}: the report's case ids");
    for case in report["cases"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        assert!(dir.join(file).is_file(), "password {pw:?}: {file}");
        for key in ["title", "source"] {
            assert!(
                !case[key].as_str().unwrap_or("").contains("***"),
                "{pw:?}: {case}"
            );
        }
        for step in case["steps"].as_array().unwrap() {
            for c in step["checks"].as_array().unwrap() {
                let name = c["name"].as_str().unwrap();
                assert!(!name.contains("***"), "{pw:?}: check {name}");
            }
        }
    }
    for input in report["run"]["inputs"].as_array().unwrap() {
        let path = input["path"].as_str().unwrap();
        assert!(dir.join(path).is_file(), "password {pw:?}: input {path}");
    }
    let profile = &report["run"]["profile"];
    let roles: Vec<&String> = profile["agents"].as_object().unwrap().keys().collect();
    assert!(roles.iter().any(|r| *r == "default") && roles.iter().any(|r| *r == "multimedia"));
    let caps = profile["capabilities"].to_string();
    assert!(caps.contains("\"multimedia_agent\""), "{pw:?}: {caps}");
    for (role, a) in profile["agents"].as_object().unwrap() {
        assert_eq!(a["password"], "***", "{role}");
        let user = a["username"].as_str().unwrap();
        assert!(
            user != pw,
            "{pw:?}: role {role}'s user name equals the password"
        );
    }

    // The secret itself: nowhere in outside data (inside text when it is long enough to mask
    // there, as a whole value always).
    let long = pw.len() >= 4;
    outside_strings(&report, &mut |what, s| {
        assert!(s != pw, "{pw:?} is a whole value in {what}");
        assert!(!long || !s.contains(pw), "{pw:?} in {what}: {s}");
    });

    // Every other artifact names every case as it is.
    let console = &r.stdout;
    let junit = std::fs::read_to_string(dir.join(&out).join("junit.xml")).unwrap();
    let html = std::fs::read_to_string(dir.join(&out).join("report.html")).unwrap();
    let tap = std::fs::read_to_string(dir.join(&out).join("report.tap")).unwrap();
    for id in &ids {
        for (what, text) in [("console", console), ("junit", &junit), ("html", &html)] {
            assert!(text.contains(id.as_str()), "{pw:?}: {what} lacks {id}");
        }
        assert!(tap.contains(&format!(" - {id}")), "{pw:?}: tap lacks {id}");
    }

    // And the report verifies against the unchanged checkout.
    let v = run_in(dir, &["verify", &format!("{out}/report.json")], &[], LIMIT);
    assert_eq!(v.code, Some(0), "password {pw:?}: {}", v.describe());
    report
}

#[test]
fn common_short_and_username_passwords_mask_secrets_and_nothing_else() {
    let suite = temp_suite(false);
    let dir = suite.path();
    // "agent1" is the default role's user name in profiles/reference.toml.
    for pw in ["password", "wrong", "agent", "1", "agent1"] {
        check_password(dir, pw);
    }
}

#[test]
fn a_short_password_is_a_warning_at_load() {
    let suite = temp_suite(false);
    let r = run_in(suite.path(), &["lint"], &[("GWS_PASSWORD", "1")], LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.describe());
    assert!(
        r.stderr
            .contains("agents.auth.password: this password is shorter than 4 characters"),
        "{}",
        r.describe()
    );
    let r = run_in(suite.path(), &["lint"], &[("GWS_PASSWORD", "agent")], LIMIT);
    assert!(!r.stderr.contains("shorter than 4"), "{}", r.describe());
}

#[test]
fn merge_and_baseline_match_ids_that_hold_the_password() {
    let suite = temp_suite(false);
    let dir = suite.path();
    let env = [
        ("GWS_PASSWORD", "password"),
        ("GWS_AGENT_LOGIN_PASSWORD", "password"),
    ];
    std::fs::write(
        dir.join("known.toml"),
        "[[known]]\ncase = \"auth-wrong-password\"\nreason = \"test\"\nexpires = 2999-01-01\n",
    )
    .unwrap();
    let r = run_in(
        dir,
        &[
            "run",
            "-q",
            "--report-dir",
            "full",
            "--baseline",
            "known.toml",
        ],
        &env,
        LIMIT,
    );
    assert_eq!(r.code, Some(0), "{}", r.describe());
    let full = read_json(&dir.join("full/report.json"));
    let known = full["summary"].to_string();
    assert!(
        known.contains("\"auth-wrong-password\"") && known.contains("fixed"),
        "the baseline entry is judged against its case: {known}"
    );
    let mut shards = Vec::new();
    for k in 1..=2 {
        let out = format!("shard{k}");
        let part = format!("hash:{k}/2");
        let r = run_in(
            dir,
            &["run", "-q", "--partition", &part, "--report-dir", &out],
            &env,
            LIMIT,
        );
        assert_eq!(r.code, Some(0), "{}", r.describe());
        shards.push(format!("{out}/report.json"));
    }
    let r = run_in(
        dir,
        &["merge", &shards[0], &shards[1], "-o", "merged.json"],
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(0), "{}", r.describe());
    let merged = read_json(&dir.join("merged.json"));
    let ids: BTreeSet<String> = verdicts(&merged).into_keys().collect();
    assert_eq!(ids, declared_ids(dir));
}

#[test]
fn a_password_in_the_target_url_is_masked_there() {
    const PW: &str = "Url-Secret-8d1e2f";
    let suite = temp_suite(false);
    let dir = suite.path();
    // Port 9 (discard) is closed on loopback: the run reaches nothing, and says where it tried.
    let target = format!("http://agent1:{PW}@127.0.0.1:9");
    let env = [("GWS_USERNAME", "agent1"), ("GWS_PASSWORD", PW)];
    let args = [
        "run",
        "s1-basic-voice",
        "--target",
        &target,
        "--report-dir",
        "out",
    ];
    let r = run_in(dir, &args, &env, LIMIT);
    // Unreachable: the target could not be tested.
    assert_eq!(r.code, Some(3), "{}", r.describe());
    assert!(
        r.stdout.contains("http://agent1:***@127.0.0.1:9"),
        "{}",
        r.describe()
    );
    let mut outputs = vec![r.stdout_bytes, r.stderr_bytes];
    for f in files_under(&dir.join("out")) {
        outputs.push(std::fs::read(f).unwrap());
    }
    assert_eq!(outputs.len(), 7, "the run wrote its five reports");
    for bytes in &outputs {
        assert!(!String::from_utf8_lossy(bytes).contains(PW));
    }
}

#[test]
fn a_load_error_quoting_a_variable_from_the_environment_masks_it() {
    const LC: &str = "Env-Secret-5c0ffee";
    let suite = temp_suite(false);
    let dir = suite.path();
    // A stricter request schema whose message quotes the value it refuses.
    let schema = dir.join("schemas/request.schema.json");
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(&schema).unwrap()).unwrap();
    s["properties"]["agentLoginPassword"]["maxLength"] = 3.into();
    std::fs::write(&schema, s.to_string()).unwrap();
    let r = run_in(dir, &["lint"], &[("GWS_AGENT_LOGIN_PASSWORD", LC)], LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(
        r.stderr
            .contains("at `/agentLoginPassword`: `agentLoginPassword` must be at most 3 character(s) long; it is the string \"***\""),
        "{}",
        r.describe()
    );
    assert!(!r.stderr.contains(LC), "{}", r.describe());
}

/// A failing run prints what its failing steps sent and got back, in every format: no secret may
/// reach any of them (a clean server fails nothing, so the runs above print no exchange).
#[test]
fn a_failing_run_prints_requests_and_responses_without_a_secret() {
    const PW: &str = "Redact-Pw-3f9a1c";
    const LC: &str = "Redact-Lc-7e2b4d";
    let suite = temp_suite(false);
    let dir = suite.path();
    for fault in ["status-code-as-string", "wrong-password-accepted"] {
        let server = common::Served::start(&["--fault", fault], PW, LC);
        let out = format!("out-{fault}");
        let r = run_in(
            dir,
            &[
                "run",
                "-v",
                "--target",
                &server.url,
                "--profile",
                "profiles/reference.toml",
                "--report-dir",
                &out,
            ],
            &[("GWS_PASSWORD", PW), ("GWS_AGENT_LOGIN_PASSWORD", LC)],
            LIMIT,
        );
        assert_eq!(r.code, Some(1), "{fault} fails a case: {}", r.describe());
        let mut outputs = vec![
            ("stdout".to_string(), r.stdout.clone()),
            ("stderr".to_string(), r.stderr.clone()),
        ];
        for f in files_under(&dir.join(&out)) {
            let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).to_string();
            outputs.push((f.display().to_string(), text));
        }
        for (what, text) in &outputs {
            for secret in [PW, LC] {
                assert!(!text.contains(secret), "{fault}: a secret in {what}");
            }
        }
        // The exchanges are there to leak from: the console, JUnit and summary.md print them.
        let shows = |name: &str| {
            outputs
                .iter()
                .find(|(w, _)| w.ends_with(name))
                .is_some_and(|(_, t)| {
                    t.contains("request: POST /api/v2/me") || t.contains("request: GET /api/v2/me")
                })
        };
        for name in ["stdout", "junit.xml", "summary.md"] {
            assert!(shows(name), "{fault}: {name} shows no request");
        }
    }
}

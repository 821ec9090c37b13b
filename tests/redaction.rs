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

/// A run of `s1-basic-voice` in `dir` against a closed port (9, discard, on loopback) named with
/// `url_password` in its URL, `password` in the environment: the target could not be tested (exit 3),
/// and stdout names where the run tried with the password masked. Reports go to `dir/out`.
fn unreachable_with_password_in_url(dir: &Path, url_password: &str, password: &str) -> Run {
    let target = format!("http://agent1:{url_password}@127.0.0.1:9");
    let env = [("GWS_USERNAME", "agent1"), ("GWS_PASSWORD", password)];
    let args = [
        "run",
        "s1-basic-voice",
        "--target",
        &target,
        "--report-dir",
        "out",
    ];
    let r = run_in(dir, &args, &env, LIMIT);
    assert_eq!(r.code, Some(3), "{}", r.describe());
    assert!(
        r.stdout.contains("http://agent1:***@127.0.0.1:9"),
        "{}",
        r.describe()
    );
    r
}

#[test]
fn a_password_in_the_target_url_is_masked_there() {
    const PW: &str = "Url-Secret-8d1e2f";
    let suite = temp_suite(false);
    let dir = suite.path();
    let r = unreachable_with_password_in_url(dir, PW, PW);
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

/// Every agent's password in the escaped-form tests: a quote, a backslash, `&`, `<`, `>` and a
/// non-ASCII letter, each of which JSON, HTML, XML or a URL writes another way.
const ESC_PW: &str = "pa\"ss\\wo&rd<é>";
/// Sample 3's switch password there: an apostrophe, a space, `/`, `+`, `%` and `é`.
const ESC_LC: &str = "lc'pa ss/w+rd%é";

/// The forms `s` takes in text that escapes it, written here independently of the harness: JSON
/// (serde's; ASCII-only with lower- or upper-case hex, as Python and Jackson write it; HTML-safe, as
/// Go writes it), HTML and XML, HTML of JSON, percent-encoding (either case) and form encoding.
fn escaped_forms(s: &str) -> Vec<(&'static str, String)> {
    let quoted = serde_json::to_string(s).unwrap();
    let json = quoted[1..quoted.len() - 1].to_string();
    let ascii = |upper: bool| -> String {
        let mut out = String::new();
        for c in json.chars() {
            if c.is_ascii() {
                out.push(c);
                continue;
            }
            for u in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&if upper {
                    format!("\\u{u:04X}")
                } else {
                    format!("\\u{u:04x}")
                });
            }
        }
        out
    };
    let go = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    let html = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;")
    };
    let pct = |upper: bool, plus: bool| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' if plus => "+".to_string(),
                _ if upper => format!("%{b:02X}"),
                _ => format!("%{b:02x}"),
            })
            .collect()
    };
    let mut forms = vec![
        ("raw", s.to_string()),
        ("json", json.clone()),
        ("json-ascii", ascii(false)),
        ("json-ASCII", ascii(true)),
        ("json-go", go),
        ("html", html(s)),
        ("xml", html(s).replace("&#39;", "&apos;")),
        ("html-of-json", html(&json)),
        ("percent", pct(true, false)),
        ("percent-lower", pct(false, false)),
        ("form", pct(true, true)),
    ];
    let mut seen = BTreeSet::new();
    forms.retain(|(_, f)| seen.insert(f.clone()));
    forms
}

/// Asserts that no form of either escaped-form password occurs in any of `outputs`.
fn assert_no_form(outputs: &[(String, String)]) {
    assert!(
        outputs.len() >= 7,
        "every output was read: {}",
        outputs.len()
    );
    for (what, text) in outputs {
        for secret in [ESC_PW, ESC_LC] {
            for (form, f) in escaped_forms(secret) {
                assert!(!text.contains(&f), "{what} holds the {form} form {f:?}");
            }
        }
    }
}

/// A run's console and every file it wrote, as text.
fn outputs_of(r: &Run, out: &Path) -> Vec<(String, String)> {
    let mut outputs = vec![
        ("stdout".to_string(), r.stdout.clone()),
        ("stderr".to_string(), r.stderr.clone()),
    ];
    for f in files_under(out) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).to_string();
        outputs.push((f.display().to_string(), text));
    }
    outputs
}

#[test]
fn escaped_forms_of_the_passwords_reach_no_output_of_a_clean_run() {
    let suite = temp_suite(false);
    let dir = suite.path();
    let env = [
        ("GWS_PASSWORD", ESC_PW),
        ("GWS_AGENT_LOGIN_PASSWORD", ESC_LC),
    ];
    let r = run_in(dir, &["run", "-v", "--report-dir", "out"], &env, LIMIT);
    // The passwords work as they are: every case passes, Sample 3's switch password included.
    assert_eq!(r.code, Some(0), "{}", r.describe());
    let report = validate_report(&dir.join("out/report.json"));
    assert_eq!(verdicts(&report)["s3-login-code-password"], "pass");
    assert_no_form(&outputs_of(&r, &dir.join("out")));
}

/// What the echoing server's answers say around the passwords, which masking must leave as it is.
const KEPT: &str = "kept: &amp; %22 \\\"x\\\" pa ss wo rd é";

/// An answer that quotes both passwords in each `forms` form (`pw-json=...; lc-json=...`).
fn echo_text(forms: &[&str]) -> String {
    let mut parts = Vec::new();
    for (who, secret) in [("pw", ESC_PW), ("lc", ESC_LC)] {
        for (form, f) in escaped_forms(secret) {
            if forms.contains(&form) {
                parts.push(format!("{who}-{form}={f}"));
            }
        }
    }
    parts.push(KEPT.to_string());
    parts.join("; ")
}

/// A server that echoes the passwords escaped: its version and every user's `GET /api/v2/me` answer
/// (so the preflight passes), with JSON that quotes them as serde, Python, Jackson and Go escape
/// them and a header that quotes them URL-encoded; a Start is refused with the same message; any
/// other request gets an HTML error page quoting them HTML- and XML-escaped.
fn echoing_server() -> common::TestServer {
    const IN_JSON: [&str; 7] = [
        "json",
        "json-ascii",
        "json-ASCII",
        "json-go",
        "percent",
        "percent-lower",
        "form",
    ];
    let message = echo_text(&IN_JSON);
    let user = format!(r#"{{"statusCode":0,"user":{{"userName":"agent1","note":"{message}"}}}}"#);
    let refused = format!(r#"{{"statusCode":1,"message":"{message}"}}"#);
    for body in [&user, &refused] {
        serde_json::from_str::<Value>(body).expect("the echo is JSON");
    }
    let page = format!(
        "<html><body><p>{}</p></body></html>",
        echo_text(&["raw", "html", "xml", "html-of-json"])
    );
    let header = echo_text(&["percent", "form"]).replace(" é", "");
    common::TestServer::start(std::sync::Arc::new(move |req: &common::SeenRequest| {
        let json = [
            ("Content-Type", "application/json"),
            ("X-Echo", &header[..]),
        ];
        let html = [("Content-Type", "text/html")];
        Some(match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/api/v2/diagnostics/version") => {
                common::response("200 OK", &json, br#"{"statusCode":0,"version":"8.5.echo"}"#)
            }
            ("GET", "/api/v2/me") => common::response("200 OK", &json, user.as_bytes()),
            ("POST", "/api/v2/me") => {
                common::response("400 Bad Request", &json, refused.as_bytes())
            }
            _ => common::response("500 Server Error", &html, page.as_bytes()),
        })
    }))
}

/// A server that quotes the passwords escaped gets every form masked, in every output and in the
/// failure diffs and exchanges that show its answers, and the text around them kept.
#[test]
fn a_server_that_echoes_the_passwords_escaped_gets_every_form_masked() {
    let suite = temp_suite(false);
    let dir = suite.path();
    let server = echoing_server();
    let env = [
        ("GWS_PASSWORD", ESC_PW),
        ("GWS_AGENT_LOGIN_PASSWORD", ESC_LC),
    ];
    for (out, format) in [("human", "human"), ("events", "json")] {
        let args = [
            "run",
            "-v",
            "--target",
            &server.url(),
            "--profile",
            "profiles/reference.toml",
            "--message-format",
            format,
            "--report-dir",
            out,
        ];
        let r = run_in(dir, &args, &env, LIMIT);
        assert_eq!(
            r.code,
            Some(1),
            "the echoing server fails cases: {}",
            r.describe()
        );
        let outputs = outputs_of(&r, &dir.join(out));
        assert_no_form(&outputs);
        // The answers are there, masked in place: each form became `***`, the rest is as sent.
        let report = std::fs::read_to_string(dir.join(out).join("report.json")).unwrap();
        for label in [
            "pw-json=",
            "pw-json-go=",
            "lc-json-ascii=",
            "pw-html=",
            "lc-xml=",
            "lc-form=",
        ] {
            assert!(report.contains(&format!("{label}***;")), "{out}: {label}");
        }
        assert!(
            report.contains("kept: &amp; %22 \\\\\\\"x\\\\\\\" pa ss wo rd é"),
            "{out}"
        );
        // The failure diffs quote the answers decoded and escaped again: masked there too.
        let checks = validate_report(&dir.join(out).join("report.json"));
        let mut diffs = 0;
        for case in checks["cases"].as_array().unwrap() {
            for step in case["steps"].as_array().unwrap() {
                for c in step["checks"].as_array().unwrap() {
                    let shown = format!("{} {}", c["actual"], c["diff"]);
                    diffs += usize::from(shown.contains("pw-json=***"));
                }
            }
        }
        assert!(diffs > 0, "{out}: no check quotes an answer");
        // The console describes each failure with the answer got (events carry no exchange).
        assert!(
            format == "json" || r.stdout.contains("pw-json-ascii=***;"),
            "{out}: the console shows the answers"
        );
    }
}

/// A target URL whose password is written percent-encoded, as a URL must write `"`, `\` or `é`, is
/// masked in that form.
#[test]
fn a_percent_encoded_password_in_the_target_url_is_masked_there() {
    let suite = temp_suite(false);
    let dir = suite.path();
    let encoded = &escaped_forms(ESC_PW)
        .into_iter()
        .find(|(form, _)| *form == "percent")
        .unwrap()
        .1;
    let r = unreachable_with_password_in_url(dir, encoded, ESC_PW);
    assert_no_form(&outputs_of(&r, &dir.join("out")));
}

/// Masking the escaped forms masks nothing else: a run with the escaped-form passwords writes the
/// report a run with ordinary ones writes, but for what differs between any two runs (times, ids,
/// the embedded server's port, unsolicited CometD messages).
#[test]
fn passwords_with_escaped_forms_give_the_report_ordinary_ones_give() {
    let suite = temp_suite(false);
    let dir = suite.path();
    let port = regex::Regex::new(r"127\.0\.0\.1:[0-9]+").unwrap();
    let mut reports = Vec::new();
    for (out, pw, lc) in [
        ("ordinary", "Ordinary-Pw-1234", "Ordinary-Lc-5678"),
        ("escaped", ESC_PW, ESC_LC),
    ] {
        let env = [("GWS_PASSWORD", pw), ("GWS_AGENT_LOGIN_PASSWORD", lc)];
        let r = run_in(dir, &["run", "-q", "--report-dir", out], &env, LIMIT);
        assert_eq!(r.code, Some(0), "{}", r.describe());
        let mut report = validate_report(&dir.join(out).join("report.json"));
        normalize(&mut report);
        let text = serde_json::to_string_pretty(&report).unwrap();
        reports.push(port.replace_all(&text, "127.0.0.1:PORT").into_owned());
    }
    let (a, b) = (&reports[0], &reports[1]);
    let differ = a.lines().zip(b.lines()).position(|(x, y)| x != y);
    assert!(
        differ.is_none() && a.lines().count() == b.lines().count(),
        "the reports differ at line {differ:?}: {:?}",
        differ.map(|i| (a.lines().nth(i), b.lines().nth(i)))
    );
    assert!(a.contains("\"***\""), "the passwords were masked in both");
}

//! The real binary against servers nobody on the team wrote: a proxy in front of the reference
//! server that changes how answers look (key order, extra members, gzip, chunked) but not what they
//! say; one that changes what one answer says; and servers that misbehave at the HTTP level.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use support::*;

const PASSWORD: &str = "targets-test-password";
const LOGIN_CODE_PASSWORD: &str = "targets-test-login-code";
const LIMIT: Duration = Duration::from_secs(60);

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("GWS_PASSWORD", PASSWORD),
        ("GWS_AGENT_LOGIN_PASSWORD", LOGIN_CODE_PASSWORD),
    ]
}

/// The reference server in-process, on its own runtime, as the upstream of the proxies.
struct Upstream {
    _runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
}

fn upstream() -> Upstream {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime
        .block_on(gws_reference::start(gws_reference::ServerConfig {
            csrf: true,
            ..gws_reference::ServerConfig::new(
                ([127, 0, 0, 1], 0).into(),
                gws_reference::Directory::builtin(PASSWORD, LOGIN_CODE_PASSWORD),
            )
        }))
        .unwrap();
    let addr = server.addr();
    std::mem::forget(server); // lives as long as the runtime
    Upstream {
        _runtime: runtime,
        addr,
    }
}

/// Forwards one request upstream (Connection: close) and returns status line, headers and body.
fn forward(upstream: SocketAddr, req: &SeenRequest) -> (String, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(upstream).unwrap();
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.path);
    for (k, v) in &req.headers {
        let k_l = k.to_ascii_lowercase();
        if k_l != "connection" && k_l != "accept-encoding" && k_l != "content-length" {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        req.body.len()
    ));
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&req.body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let text = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap().split_once(' ').unwrap().1.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| {
            !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("connection")
        })
        .collect();
    (status, headers, raw[end + 4..].to_vec())
}

/// Reverses key order at every depth.
fn reversed(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m.iter().rev() {
                out.insert(k.clone(), reversed(x));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(reversed).collect()),
        x => x.clone(),
    }
}

/// How many answers the proxies sent gzip-encoded (proves the encoding path ran).
static GZIPPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn proxy(upstream: SocketAddr, rewrite: fn(&SeenRequest, &mut Value)) -> TestServer {
    TestServer::start(Arc::new(move |req: &SeenRequest| {
        let (status, headers, body) = forward(upstream, req);
        let is_json = headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("content-type") && v.starts_with("application/json")
        });
        let mut body = body;
        if is_json {
            let mut v: Value = serde_json::from_slice(&body).unwrap();
            rewrite(req, &mut v);
            body = serde_json::to_vec_pretty(&reversed(&v)).unwrap();
        }
        let wants_gzip = req
            .header("accept-encoding")
            .is_some_and(|a| a.contains("gzip"));
        let mut hs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if wants_gzip {
            GZIPPED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            body = gzip(&body);
            hs.push(("Content-Encoding", "gzip"));
        }
        Some(chunked(&status, &hs, &body, 7))
    }))
}

fn ids_with(stdout: &str, verdict: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.ends_with(verdict) && l.contains("] case "))
        .filter_map(|l| {
            l.split("] case ")
                .nth(1)?
                .split(' ')
                .next()
                .map(str::to_string)
        })
        .collect()
}

/// The whole suite, with the reference profile, against a proxy in front of the reference server.
fn run_suite_through(proxy: &TestServer, report: &str) -> Run {
    let dir = format!("target/test-reports/{report}");
    run(
        &[
            "run",
            "--target",
            &proxy.url(),
            "--profile",
            "profiles/reference.toml",
            "--report-dir",
            &dir,
            // The folder is kept for inspection and reused by the next test run.
            "--force",
        ],
        &root(),
        &env(),
        LIMIT,
    )
}

#[test]
fn other_key_orders_extra_members_gzip_and_chunked_bodies_still_pass() {
    let up = upstream();
    // Extra members on successes are allowed (e.g. referenceId); key order and encoding are free.
    let p = proxy(up.addr, |_, v| {
        if v.get("statusCode") == Some(&Value::from(0)) {
            v["referenceId"] = Value::from(7);
        }
    });
    let r = run_suite_through(&p, "tolerant");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(ids_with(&r.stdout, "FAILED").is_empty());
    assert!(r.stdout.contains(" 0 failed;"), "{}", r.stdout);
    assert!(
        GZIPPED.load(std::sync::atomic::Ordering::SeqCst) > 40,
        "the harness never asked for gzip"
    );
}

#[test]
fn a_server_that_breaks_one_rule_fails_exactly_that_case_with_a_diff() {
    let up = upstream();
    // Answers the documented invalid-workmode error with statusCode 3, which no document allows.
    let p = proxy(up.addr, |req, v| {
        if String::from_utf8_lossy(&req.body).contains("aManualIn") && v["statusCode"] == 2 {
            v["statusCode"] = Value::from(3);
        }
    });
    let r = run_suite_through(&p, "breaks-one");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(ids_with(&r.stdout, "FAILED"), vec!["s5-workmode-invalid"]);
    assert!(
        r.stdout.contains("$.statusCode: expected 2, found 3"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("-  \"statusCode\": 2,"), "{}", r.stdout);
    assert!(r.stdout.contains("+  \"statusCode\": 3,"), "{}", r.stdout);
    assert!(!r.stdout.contains(PASSWORD) && !r.stderr.contains(PASSWORD));
}

/// A profile for the raw servers: no CSRF, a short timeout.
fn raw_profile(dir: &std::path::Path) -> String {
    raw_profile_with(dir, "")
}

/// [`raw_profile`] with more of a profile's text after it.
fn raw_profile_with(dir: &std::path::Path, more: &str) -> String {
    let p = dir.join("raw.toml");
    std::fs::write(
        &p,
        format!("name = \"raw\"\ntimeout_ms = 400\n[agents.default]\nusername = \"agent1\"\npassword = \"${{env:GWS_PASSWORD}}\"\n{more}"),
    )
    .unwrap();
    p.display().to_string()
}

fn run_s1_against(handler: Handler) -> Run {
    let server = TestServer::start(handler);
    let dir = tempfile::tempdir().unwrap();
    // s5-workmode-invalid names Sample 5's place: lab content, which a profile sets.
    let profile = raw_profile_with(dir.path(), "[vars]\ns5_place = \"agent1@pizza.com\"\n");
    let report = dir.path().join("report");
    run(
        &[
            "run",
            "--target",
            &server.url(),
            "--profile",
            &profile,
            "--report-dir",
            report.to_str().unwrap(),
            "s1-basic-voice",
            "s5-workmode-invalid",
        ],
        &root(),
        &env(),
        LIMIT,
    )
}

#[test]
fn a_non_json_answer_fails_the_case_and_the_run_finishes() {
    let r = run_s1_against(Arc::new(|_| {
        Some(response(
            "200 OK",
            &[("Content-Type", "text/html")],
            b"<html>hello</html>",
        ))
    }));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("content-type: expected application/json, got text/html"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("json: expected a JSON body, got not JSON"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("0 passed; 0 warnings; 2 failed"),
        "{}",
        r.stdout
    );
}

#[test]
fn invalid_utf8_fails_the_case() {
    let r = run_s1_against(Arc::new(|_| {
        Some(response(
            "200 OK",
            &[("Content-Type", "application/json")],
            b"{\"statusCode\": \"\xff\xfe\"}",
        ))
    }));
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("a body that is not valid UTF-8"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_body_over_the_cap_fails_the_case() {
    let big = vec![b' '; 2 * 1024 * 1024];
    let r = run_s1_against(Arc::new(move |_| {
        Some(response(
            "200 OK",
            &[("Content-Type", "application/json")],
            &big,
        ))
    }));
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("sent a body over the 1048576-byte cap"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_server_that_never_answers_times_out_and_the_run_finishes() {
    // It answers the preflight's GETs (a target that answers nothing at all is stopped there: see
    // tests/hostile.rs), then never answers a case's POST.
    let r = run_s1_against(Arc::new(|req| {
        (req.method == "GET").then(|| {
            response(
                "200 OK",
                &[("Content-Type", "application/json")],
                br#"{"version":"8.5"}"#,
            )
        })
    }));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("gave no complete answer within 400 ms"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("0 passed; 0 warnings; 2 failed"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_unreachable_target_is_exit_2_and_still_writes_the_report() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let profile = raw_profile(dir.path());
    let report = dir.path().join("report");
    let target = format!("http://127.0.0.1:{port}");
    let r = run(
        &[
            "run",
            "--target",
            &target,
            "--profile",
            &profile,
            "--report-dir",
            report.to_str().unwrap(),
            "s1-basic-voice",
        ],
        &root(),
        &env(),
        LIMIT,
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!(
            "error: the target could not be tested: could not connect to {target}/"
        )),
        "{}",
        r.stdout
    );
    let json: Value =
        serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["complete"], false);
    // The preflight found the target down: the case never ran, and says why.
    assert_eq!(json["cases"][0]["verdict"], "not-run");
    assert!(
        json["cases"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with(&format!("could not connect to {target}/"))),
        "{}",
        json["cases"][0]
    );
    assert_eq!(json["run"]["preflight"]["outcome"], "unreachable");
}

/// Cases that ask for redirects, in a folder of their own.
fn redirect_cases(dir: &std::path::Path) {
    let cases = dir.join("cases");
    std::fs::create_dir_all(&cases).unwrap();
    copy_dir(&root().join("schemas"), &dir.join("schemas"));
    let case = |id: &str, path: &str, follow: bool, status: u16| {
        format!(
            "id = \"{id}\"\ntitle = \"redirect\"\nspec = \"http\"\nprovenance = \"inferred\"\nrationale = \"test\"\n\n[[steps]]\n[steps.request]\npath = \"{path}\"\nfollow_redirects = {follow}\njson = {{ operationName = \"StartContactCenterSession\", channels = [\"voice\"] }}\n[steps.expect]\nstatus = {status}\n"
        )
    };
    std::fs::write(
        cases.join("a.toml"),
        case("cross-origin", "/api/v2/me/away", true, 200),
    )
    .unwrap();
    std::fs::write(
        cases.join("b.toml"),
        case("same-origin", "/api/v2/me/here", true, 200),
    )
    .unwrap();
    std::fs::write(
        cases.join("c.toml"),
        case("not-followed", "/api/v2/me/away", false, 307),
    )
    .unwrap();
}

#[test]
fn redirects_are_followed_only_when_asked_and_credentials_never_leave_the_origin() {
    use std::sync::Mutex;
    let seen_elsewhere: Arc<Mutex<Vec<SeenRequest>>> = Arc::default();
    let seen_here: Arc<Mutex<Vec<SeenRequest>>> = Arc::default();
    let other = {
        let seen = seen_elsewhere.clone();
        TestServer::start(Arc::new(move |req: &SeenRequest| {
            seen.lock().unwrap().push(req.clone());
            Some(response(
                "200 OK",
                &[("Content-Type", "application/json")],
                b"{\"statusCode\":0}",
            ))
        }))
    };
    let other_url = other.url();
    let target = {
        let seen = seen_here.clone();
        TestServer::start(Arc::new(move |req: &SeenRequest| {
            seen.lock().unwrap().push(req.clone());
            let json = [("Content-Type", "application/json")];
            Some(match req.path.as_str() {
                "/api/v2/me/away" => {
                    let loc = format!("{other_url}/elsewhere");
                    response("307 Temporary Redirect", &[("Location", loc.as_str())], b"")
                }
                "/api/v2/me/here" => {
                    response("302 Found", &[("Location", "/api/v2/me/landing")], b"")
                }
                _ => response("200 OK", &json, b"{\"statusCode\":0}"),
            })
        }))
    };
    let dir = tempfile::tempdir().unwrap();
    redirect_cases(dir.path());
    let profile = raw_profile(dir.path());
    let r = run(
        &[
            "run",
            "--target",
            &target.url(),
            "--profile",
            &profile,
            "--report-dir",
            "report",
            "--jobs",
            "1",
        ],
        dir.path(),
        &env(),
        LIMIT,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    let elsewhere = seen_elsewhere.lock().unwrap();
    assert_eq!(
        elsewhere.len(),
        1,
        "only the cross-origin case follows: {elsewhere:?}"
    );
    assert_eq!(elsewhere[0].method, "POST", "307 keeps the method");
    assert!(
        elsewhere[0].header("authorization").is_none(),
        "Basic credentials leaked to another origin"
    );
    assert!(elsewhere[0].header("cookie").is_none());
    let here = seen_here.lock().unwrap();
    let landing = here
        .iter()
        .find(|r| r.path == "/api/v2/me/landing")
        .expect("same-origin hop");
    assert_eq!(landing.method, "GET", "302 after POST becomes GET");
    assert!(
        landing.header("authorization").is_some(),
        "same origin keeps the credentials"
    );
}

#[test]
fn session_cookies_and_csrf_tokens_never_reach_any_output() {
    const COOKIE: &str = "cookie-sentinel-5f2a9c";
    const TOKEN: &str = "csrf-sentinel-8e1d44";
    // A server that hands out a session and a CSRF token, and even echoes them in its bodies, then
    // answers one case wrongly so that diffs and failure texts are written too.
    let server = TestServer::start(Arc::new(|req: &SeenRequest| {
        let json = format!("{{\"statusCode\":0,\"session\":\"{COOKIE}\",\"token\":\"{TOKEN}\"}}");
        let cookie = format!("JSESSIONID={COOKIE}; Path=/api");
        let headers = [
            ("Content-Type", "application/json"),
            ("Set-Cookie", cookie.as_str()),
            ("X-CSRF-HEADER", "X-CSRF-TOKEN"),
            ("X-CSRF-TOKEN", TOKEN),
        ];
        let body = if req.method == "GET" {
            json
        } else {
            format!("{{\"statusCode\":\"{COOKIE}\"}}")
        };
        Some(response("200 OK", &headers, body.as_bytes()))
    }));
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("csrf.toml");
    std::fs::write(
        &profile,
        "name = \"csrf\"\ncsrf = true\ntimeout_ms = 2000\n[agents.default]\nusername = \"agent1\"\npassword = \"${env:GWS_PASSWORD}\"\n",
    )
    .unwrap();
    let report = dir.path().join("report");
    let r = run(
        &[
            "run",
            "--target",
            &server.url(),
            "--profile",
            profile.to_str().unwrap(),
            "--report-dir",
            report.to_str().unwrap(),
            "s1-basic-voice",
        ],
        &root(),
        &env(),
        LIMIT,
    );
    assert_eq!(
        r.code, 1,
        "the case must fail, so that diffs are written: {}",
        r.stdout
    );
    let mut written = vec![r.stdout.clone(), r.stderr.clone()];
    for e in std::fs::read_dir(&report).unwrap().flatten() {
        written.push(String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned());
    }
    assert!(written.len() >= 7, "stdout, stderr and five report files");
    for text in &written {
        assert!(
            !text.contains(COOKIE),
            "a session cookie leaked: {}",
            &text[..text.len().min(2000)]
        );
        assert!(!text.contains(TOKEN), "a CSRF token leaked");
    }
    // The run did use them: the token was sent back, and the failure is in the report.
    assert!(
        r.stdout.contains("$.statusCode: expected 0, found \"***\""),
        "{}",
        r.stdout
    );
}

#[test]
fn a_target_without_credentials_is_an_error_not_a_run_of_skips() {
    let r = run(
        &["run", "--target", "http://127.0.0.1:9"],
        &root(),
        &[],
        LIMIT,
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stderr.trim(),
        "error: no agent credentials: set GWS_USERNAME and GWS_PASSWORD, or give a --profile with [agents.default]"
    );
    assert!(!r.stdout.contains("running"));
}

/// Against a real target, a case that names an unset `${env:...}` (Sample 3's switch password) is
/// skipped with the reason; the rest of the suite runs.
#[test]
fn a_case_needing_an_unset_variable_is_skipped_with_the_reason_not_the_whole_run() {
    let up = upstream();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let r = run(
        &[
            "run",
            "--target",
            &format!("http://{}", up.addr),
            "--report-dir",
            report.to_str().unwrap(),
            "s1-basic-voice",
            "s3-login-code-password",
        ],
        &root(),
        &[("GWS_USERNAME", "agent1"), ("GWS_PASSWORD", PASSWORD)],
        LIMIT,
    );
    // The upstream wants CSRF tokens; an environment-only profile says csrf = false, and the
    // preflight, seeing tokens, sends them (tests/preflight.rs). S1 passes; S3 is skipped.
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    let case = |id: &str| {
        report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id} in the report"))
            .clone()
    };
    assert_eq!(case("s1-basic-voice")["steps"][0]["ran"], true);
    let s3 = case("s3-login-code-password");
    assert_eq!(s3["verdict"], "skip");
    // Every missing piece is named: the environment variable, and the lab content (a profile from
    // the environment sets no [vars]).
    let reason = s3["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("needs the environment variable `GWS_AGENT_LOGIN_PASSWORD`, which is not set; waits for lab content: "),
        "{reason}"
    );
    // `list` with a profile that names the target says the same before anything runs.
    let profile = dir.path().join("profile.toml");
    std::fs::write(
        &profile,
        format!(
            "target = \"http://{}\"\n\n[agents.default]\nusername = \"agent1\"\npassword = \"${{env:GWS_PASSWORD}}\"\n",
            up.addr
        ),
    )
    .unwrap();
    let with_profile = |command: &str| {
        run(
            &[command, "--profile", profile.to_str().unwrap()],
            &root(),
            &[("GWS_PASSWORD", PASSWORD)],
            LIMIT,
        )
    };
    // --wide: the narrow table cuts the reason to fit 100 columns.
    let listed = run(
        &["list", "--wide", "--profile", profile.to_str().unwrap()],
        &root(),
        &[("GWS_PASSWORD", PASSWORD)],
        LIMIT,
    );
    assert_eq!(listed.code, 0, "{}{}", listed.stdout, listed.stderr);
    let line = listed
        .stdout
        .lines()
        .find(|l| l.starts_with("s3-login-code-password "))
        .unwrap_or_else(|| panic!("{}", listed.stdout));
    assert!(
        line.contains("(skipped: needs the environment variable `GWS_AGENT_LOGIN_PASSWORD`, which is not set; waits for lab content: "),
        "{line}"
    );
    // `lint` loads them too, and warns, so that a misspelt name does not pass unnoticed.
    let linted = with_profile("lint");
    assert_eq!(linted.code, 0, "{}{}", linted.stdout, linted.stderr);
    assert!(
        linted.stderr.contains(
            "warning: cases/s3-login-code-password.toml: case `s3-login-code-password` names unset environment variables (GWS_AGENT_LOGIN_PASSWORD); against this target it will be skipped"
        ),
        "{}",
        linted.stderr
    );
}

/// The embedded server's generated passwords stand in for unset variables only when the run goes to
/// the embedded server: sent to a real target they would only turn every case into a 403.
#[test]
fn a_real_target_never_gets_generated_passwords_for_unset_variables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("profile.toml");
    std::fs::write(
        &profile,
        "target = \"http://127.0.0.1:9\"\n\n[agents.default]\nusername = \"agent1\"\npassword = \"${env:GWS_PASSWORD}\"\n",
    )
    .expect("write profile");
    let profile = profile.to_string_lossy().into_owned();
    let env = [("GWS_AGENT_LOGIN_PASSWORD", LOGIN_CODE_PASSWORD)];
    // The target named by the profile, and the same profile with --target.
    for args in [
        vec!["run", "--profile", profile.as_str()],
        vec![
            "run",
            "--target",
            "http://127.0.0.1:9",
            "--profile",
            profile.as_str(),
        ],
    ] {
        let r = run(&args, &root(), &env, LIMIT);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "{profile}:5:1: agents.default.password: environment variable `GWS_PASSWORD` is not set"
            )),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("nothing was run"), "{}", r.stderr);
    }
}

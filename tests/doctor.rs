//! `gws-conform doctor`: the real binary against `gws-conform serve` on 127.0.0.1, and `run`'s
//! console naming the role and user of a failed case.

mod support;

use std::time::{Duration, Instant};

use support::{root, run, Served};

const PW: &str = "doctor-test-pw-1";
const LC: &str = "doctor-test-lc-1";
const LIMIT: Duration = Duration::from_secs(120);

fn env(pw: &'static str) -> [(&'static str, &'static str); 2] {
    [("GWS_PASSWORD", pw), ("GWS_AGENT_LOGIN_PASSWORD", LC)]
}

fn doctor(url: &str, profile: &str, pw: &'static str) -> support::Run {
    let args = ["doctor", "--profile", profile, "--target", url];
    run(&args, &root(), &env(pw), LIMIT)
}

#[test]
fn a_good_profile_passes_and_a_wrong_password_fails_naming_role_and_user() {
    let server = Served::start(&[], PW, LC);
    let r = doctor(&server.url, "profiles/reference.toml", PW);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("0 failed"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("ok    credentials of role `sample4` (user `agent4`): accepted"),
        "{}",
        r.stdout
    );
    let wrong = "doctor-wrong-pw-2";
    let r = doctor(&server.url, "profiles/reference.toml", wrong);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(
            "FAIL  credentials of role `auth` (user `agent12`): rejected (403 on GET /api/v2/me)"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "fix: check the user name in [agents.auth] and the password in $GWS_PASSWORD"
        ),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(wrong) && !r.stderr.contains(wrong));
}

#[test]
fn csrf_off_in_the_profile_against_a_csrf_server_warns_with_the_fix() {
    let server = Served::start(&[], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let p = support::reference_profile_without_csrf(dir.path());
    let r = doctor(&server.url, p.to_str().unwrap(), PW);
    // run sends the tokens it sees (tests/targets.rs), so the mismatch is a warning.
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("warn  CSRF: the profile says csrf = false, but an authenticated GET /api/v2/me answered a CSRF token"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("fix: set csrf = true in the profile"),
        "{}",
        r.stdout
    );
}

#[test]
fn websocket_demanded_from_a_long_polling_server_and_a_capability_probed_absent_fail() {
    let server = Served::start(&["--variant", "long-polling-only", "--no-csrf"], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let p = support::reference_profile_edited(dir.path(), "ws.toml", &[support::WEBSOCKET_ONLY]);
    let r = doctor(&server.url, p.to_str().unwrap(), PW);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("FAIL  CometD transport: the profile says transport = \"websocket\", but the target offers long-polling"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("FAIL  capability `csrf` is claimed, but the probe found it absent"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_unreachable_target_is_exit_2_quickly() {
    let started = Instant::now();
    let r = doctor("http://127.0.0.1:1", "profiles/reference.toml", PW);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("http://127.0.0.1:1/ could not be reached"),
        "{}",
        r.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_failed_case_names_its_role_and_user_on_the_console() {
    let server = Served::start(&["--fault", "status-code-as-string"], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("r");
    let args = [
        "run",
        "s1-basic-voice",
        "--target",
        &server.url,
        "--profile",
        "profiles/reference.toml",
        "--report-dir",
        reports.to_str().unwrap(),
    ];
    let r = run(&args, &root(), &env(PW), LIMIT);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("agent: role `default`, user `agent1`"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(PW));
    let html = std::fs::read_to_string(reports.join("report.html")).unwrap();
    assert!(
        html.contains("<dt>Agent</dt><dd>role default, user agent1</dd>"),
        "the HTML case names its agent too"
    );
}

/// Accepts connections and never answers; the connections stay open until the test ends.
fn silent_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_target_that_never_answers_ends_init_and_doctor_in_bounded_time() {
    let url = silent_server();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let args = ["init", "--target", &url, "--timeout-ms", "500"];
    let r = run(&args, dir.path(), &env(PW), LIMIT);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains(&format!("the target {url}/ could not be reached")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("no complete answer within 500 ms"),
        "{}",
        r.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let p = support::reference_profile_edited(
        dir.path(),
        "p.toml",
        &[("timeout_ms = 5000", "timeout_ms = 500")],
    );
    let started = Instant::now();
    let r = doctor(&url, p.to_str().unwrap(), PW);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("could not be reached"), "{}", r.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

/// A lab with few users and no `[vars]` yet, whose password is the word `password`: sharing users
/// is one `ok` line (a warning only for `auth`, whose wrong passwords could lock the user shared),
/// each unset lab variable is a `todo` naming the cases it unlocks, and the password masks no word
/// of doctor's own.
#[test]
fn few_users_and_unset_lab_variables_are_not_warnings_and_no_own_word_is_masked() {
    const WORD: &str = "password";
    let server = Served::start(&[], WORD, LC);
    let dir = tempfile::tempdir().unwrap();
    let reference = std::fs::read_to_string(root().join("profiles/reference.toml")).unwrap();
    let mut text = String::new();
    let mut in_vars = false;
    for line in reference.lines() {
        if line.starts_with('[') {
            in_vars = line == "[vars]";
        }
        if in_vars {
            continue;
        }
        // Eight users for 21 roles, as a small lab has.
        let line = match line.strip_prefix("username = \"agent") {
            Some(n) => {
                let n: usize = n.trim_end_matches('"').parse().unwrap();
                format!("username = \"agent{}\"", (n - 1) % 8 + 1)
            }
            None => line.to_string(),
        };
        text.push_str(&line);
        text.push('\n');
    }
    let p = dir.path().join("small-lab.toml");
    std::fs::write(&p, text).unwrap();
    let r = doctor(&server.url, p.to_str().unwrap(), WORD);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("ok    21 roles on 8 user(s), 8 of them shared: the cases of one user run one at a time"),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.matches("user(s),").count(),
        1,
        "one line: {}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("warn  role `auth` sends deliberately wrong passwords for user `agent4`"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("todo  lab variable `single_device_place` (a place with exactly one device"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("it unlocks "), "{}", r.stdout);
    assert!(
        !r.stdout.contains("***"),
        "doctor masked its own words: {}",
        r.stdout
    );
    assert!(r.stdout.contains(" 1 warning(s), 0 failed"), "{}", r.stdout);
}

/// The reference profile's settings and lab with a `[pool]` of four users instead of its roles'
/// users (the pool's password in `POOL_PW`), `sample4` pinned to `agent4`, and `extra` appended.
fn pool_profile(dir: &std::path::Path, extra: &str) -> String {
    let reference = std::fs::read_to_string(root().join("profiles/reference.toml")).unwrap();
    let head = &reference[..reference.find("[agents.").unwrap()];
    let text = format!(
        "{head}[pool]\nusers = [\"agent1\", \"agent2\", \"agent3\", \"agent5\"]\npassword = \"${{env:POOL_PW}}\"\n\n[agents.sample4]\nusername = \"agent4\"\npassword = \"${{env:GWS_PASSWORD}}\"\n{extra}"
    );
    let p = dir.join("pool.toml");
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn doctor_pool(url: &str, profile: &str, pool_pw: &str) -> support::Run {
    let args = ["doctor", "--profile", profile, "--target", url];
    let env = [
        ("GWS_PASSWORD", PW),
        ("GWS_AGENT_LOGIN_PASSWORD", LC),
        ("POOL_PW", pool_pw),
    ];
    run(&args, &root(), &env, LIMIT)
}

/// `doctor` probes every pool user as `run`'s preflight does, says where the cases run, and names
/// the pinned roles a pool cannot serve instead of saying their cases log in as `default`.
#[test]
fn a_pool_is_checked_user_by_user_with_where_its_cases_run() {
    let server = Served::start(&[], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let p = pool_profile(dir.path(), "");
    let r = doctor_pool(&server.url, &p, PW);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for user in ["agent1", "agent2", "agent3", "agent5"] {
        let line = format!("ok    credentials of pool user `{user}`: accepted");
        assert!(r.stdout.contains(&line), "{line}\n{}", r.stdout);
    }
    assert!(
        r.stdout
            .contains("ok    credentials of role `sample4` (user `agent4`): accepted"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("ok    pool: 4 user(s) (`agent1`, `agent2`, `agent3`, `agent5`), password from $POOL_PW: "),
        "{}",
        r.stdout
    );
    // `auth` must keep a user of its own: with no [agents.auth] nor [agents.default], its cases are
    // skipped, as `run` skips them.
    assert!(
        r.stdout.contains("warn  role `auth` must run as a user of its own (its lab user must be any agent; it receives deliberately wrong passwords"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("fix: add [agents.auth]"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("they log in as `default`"),
        "a pool's cases do not log in as `default`: {}",
        r.stdout
    );
    assert!(!r.stdout.contains(PW));
}

#[test]
fn a_wrong_pool_password_fails_naming_the_pool_and_its_variable() {
    let server = Served::start(&[], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let p = pool_profile(dir.path(), "");
    let wrong = "doctor-wrong-pool-pw";
    let r = doctor_pool(&server.url, &p, wrong);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("FAIL  credentials of pool user `agent3`: rejected (403 on GET /api/v2/me)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("fix: check the user name in [pool] users and the password in $POOL_PW"),
        "{}",
        r.stdout
    );
    // The pinned role's own password is right.
    assert!(
        r.stdout
            .contains("ok    credentials of role `sample4` (user `agent4`): accepted"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(wrong) && !r.stderr.contains(wrong));
}

#[test]
fn an_unset_pool_password_variable_is_a_load_error_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = pool_profile(dir.path(), "");
    let args = ["doctor", "--profile", &p, "--target", "http://127.0.0.1:1"];
    let r = run(&args, &root(), &env(PW), LIMIT);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("pool.password: environment variable `POOL_PW` is not set"),
        "{}",
        r.stderr
    );
}

/// A pool user that role `auth` also logs in as gets the lockout warning a shared role gets.
#[test]
fn a_pool_user_that_auth_shares_is_a_lockout_warning() {
    let server = Served::start(&[], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let auth = "\n[agents.auth]\nusername = \"agent2\"\npassword = \"${env:POOL_PW}\"\n";
    let p = pool_profile(dir.path(), auth);
    let r = doctor_pool(&server.url, &p, PW);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("ok    credentials of role `auth` and the pool (user `agent2`): accepted"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("warn  role `auth` sends deliberately wrong passwords for user `agent2`, which is in the pool"),
        "{}",
        r.stdout
    );
    assert!(!r
        .stdout
        .contains("role `auth` must run as a user of its own"));
}

/// Sample 3 sends `agentLoginPassword` from `GWS_AGENT_LOGIN_PASSWORD` as it is: when the lab's
/// switch password is another, the case fails, and its failure says which variable to check;
/// doctor, which cannot check it without a login, says the same before any run.
#[test]
fn a_wrong_switch_password_fails_sample_3_with_a_hint_naming_its_variable() {
    const WRONG: &str = "doctor-wrong-lc-9";
    const HINT: &str =
        "hint: `agentLoginPassword` was sent from $GWS_AGENT_LOGIN_PASSWORD as it is";
    let server = Served::start(&[], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("r");
    let args = [
        "run",
        "s3-login-code-password",
        "login-code-password-wrong",
        "--force",
        "--target",
        &server.url,
        "--profile",
        "profiles/reference.toml",
        "--report-dir",
        reports.to_str().unwrap(),
    ];
    let wrong = [("GWS_PASSWORD", PW), ("GWS_AGENT_LOGIN_PASSWORD", WRONG)];
    let r = run(&args, &root(), &wrong, LIMIT);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(HINT), "{}", r.stdout);
    assert_eq!(r.stdout.matches(HINT).count(), 1, "s3 only: {}", r.stdout);
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert!(junit.contains(HINT), "JUnit carries the hint");
    let html = std::fs::read_to_string(reports.join("report.html")).unwrap();
    assert!(html.contains(HINT), "so does the HTML report");
    assert!(!r.stdout.contains(WRONG) && !junit.contains(WRONG));
    // With the lab's value, no hint.
    let r = run(&args, &root(), &env(PW), LIMIT);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("hint:"), "{}", r.stdout);

    let r = doctor(&server.url, "profiles/reference.toml", PW);
    assert!(
        r.stdout.contains("ok    environment variable GWS_AGENT_LOGIN_PASSWORD is set: `s3-login-code-password` sends it as `agentLoginPassword`"),
        "{}",
        r.stdout
    );
}

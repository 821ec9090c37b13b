//! `gws-conform init`: the real binary against `gws-conform serve` on 127.0.0.1. The profile it
//! writes lints clean and runs the suite with zero failures and no skip for a capability serve has,
//! with one user per role (the default), with 16 users (the parameter roles beyond slot 16 share
//! users) and with four shared users; it never claims a probe found what it did not.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use gws_conform::load::{load_suite, Env, Sources};
use gws_conform::plan::{self, Selection};
use support::{root, run, Served};

const PW: &str = "init-test-pw-1";
const LC: &str = "init-test-lc-1";
const LIMIT: Duration = Duration::from_secs(120);

fn env() -> [(&'static str, &'static str); 2] {
    [("GWS_PASSWORD", PW), ("GWS_AGENT_LOGIN_PASSWORD", LC)]
}

/// The ids of the report's cases with a verdict.
fn verdicts(report: &Path, verdict: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(report.join("report.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] == verdict)
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// init (`--agents N`, or its default for "default"), lint and run with the profile; returns the
/// report folder.
fn init_lint_run(server: &Served, dir: &Path, agents: &str) -> std::path::PathBuf {
    let p = dir.join(format!("p{agents}.toml"));
    let p = p.to_str().unwrap();
    let mut args = vec!["init", "--target", &server.url, "-o", p];
    if agents != "default" {
        args.extend(["--agents", agents]);
    }
    let r = run(&args, dir, &env(), LIMIT);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("export GWS_PASSWORD"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("no case will be skipped for a missing capability"),
        "{}",
        r.stdout
    );
    let text = std::fs::read_to_string(p).unwrap();
    assert!(
        text.contains("password = \"${env:GWS_PASSWORD}\""),
        "{text}"
    );
    assert!(!text.contains(PW), "the password must never be written");
    let lint = run(&["lint", "--profile", p], dir, &env(), LIMIT);
    assert_eq!(lint.code, 0, "{}", lint.stderr);
    assert!(!lint.stderr.contains("warning"), "{}", lint.stderr);
    let reports = dir.join(format!("r{agents}"));
    let args = [
        "run",
        "--target",
        &server.url,
        "--profile",
        p,
        "--report-dir",
        reports.to_str().unwrap(),
        "-q",
    ];
    let r = run(&args, dir, &env(), LIMIT);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(verdicts(&reports, "fail").is_empty());
    assert!(
        verdicts(&reports, "skip").is_empty(),
        "{:?}",
        verdicts(&reports, "skip")
    );
    reports
}

#[test]
fn a_profile_from_init_runs_clean_against_serve_with_one_user_per_role_16_and_4_agents() {
    let server = Served::start(&[], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    let full = init_lint_run(&server, dir.path(), "default");
    let sixteen = init_lint_run(&server, dir.path(), "16");
    let shared = init_lint_run(&server, dir.path(), "4");
    // The default gives each role the reference profile's user.
    let text = std::fs::read_to_string(dir.path().join("pdefault.toml")).unwrap();
    let reference = std::fs::read_to_string(root().join("profiles/reference.toml")).unwrap();
    let users = |t: &str| -> BTreeSet<String> {
        let p: toml::Table = t.parse().unwrap();
        p["agents"]
            .as_table()
            .unwrap()
            .iter()
            .map(|(role, a)| format!("{role}={}", a["username"].as_str().unwrap()))
            .collect()
    };
    assert_eq!(users(&text), users(&reference));
    // Warnings only where the reference profile has them too.
    let reference = dir.path().join("ref");
    let args = [
        "run",
        "--target",
        &server.url,
        "--profile",
        "profiles/reference.toml",
        "--report-dir",
        reference.to_str().unwrap(),
        "-q",
    ];
    let r = run(&args, &root(), &env(), LIMIT);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let allowed = verdicts(&reference, "warn");
    assert!(verdicts(&full, "warn").is_subset(&allowed));
    assert!(verdicts(&sixteen, "warn").is_subset(&allowed));
    assert!(verdicts(&shared, "warn").is_subset(&allowed));
    let text = std::fs::read_to_string(dir.path().join("p4.toml")).unwrap();
    assert!(
        text.contains("# 21 roles on 4 users: the roles are spread so that each user carries about the same number of"),
        "{text}"
    );
    // The reference lab's content, explicitly; the single-device place is the params user's own.
    let p4: toml::Table = text.parse().unwrap();
    let params_user = p4["agents"]["params"]["username"].as_str().unwrap();
    assert_eq!(
        p4["vars"]["single_device_place"].as_str().unwrap(),
        format!("PLACE_{params_user}")
    );
    assert_eq!(p4["vars"]["place"].as_str(), Some("SIP_5000"));
    // doctor: shared users are one line, not a warning; only `auth` sharing one is.
    let p4 = dir.path().join("p4.toml");
    let r = run(
        &["doctor", "--profile", p4.to_str().unwrap()],
        dir.path(),
        &env(),
        LIMIT,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("ok    21 roles on 4 user(s), 4 of them shared: the cases of one user run one at a time"),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.matches(" user(s), ").count(),
        1,
        "one line: {}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("warn  role `auth` sends deliberately wrong passwords for user `agent"),
        "{}",
        r.stdout
    );
    assert!(text.contains("give `auth` a user of its own"), "{text}");
}

#[test]
fn roles_sharing_a_user_share_one_serial_group() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.toml");
    let mut text = String::new();
    for (role, user) in [
        ("default", "a1"),
        ("sample5", "a1"),
        ("notify", "a1"),
        ("auth", "a2"),
    ] {
        text.push_str(&format!(
            "[agents.{role}]\nusername = \"{user}\"\npassword = \"${{env:PW}}\"\n"
        ));
    }
    std::fs::write(&profile, text).unwrap();
    let sources = Sources {
        cases_dir: root().join("cases"),
        schemas_dir: root().join("schemas"),
        profile: Some(profile),
    };
    let env = Env::empty()
        .with("PW", "x")
        .with("GWS_AGENT_LOGIN_PASSWORD", "y");
    let suite = load_suite(&sources, &env).unwrap();
    let plan = plan::plan(&suite.cases, &Selection::default(), &suite.profile);
    let group_of = |role: &str| -> BTreeSet<usize> {
        plan.groups
            .iter()
            .enumerate()
            .filter(|(_, g)| {
                g.iter()
                    .any(|&i| *plan.cases[i as usize].case.agent_role == *role)
            })
            .map(|(n, _)| n)
            .collect()
    };
    let shared = group_of("default");
    assert_eq!(shared.len(), 1, "one user, one serial group");
    assert_eq!(group_of("sample5"), shared);
    assert_eq!(group_of("notify"), shared);
    assert_ne!(group_of("auth"), shared);
}

#[test]
fn init_says_what_it_could_not_probe_and_refuses_to_overwrite() {
    let server = Served::start(&[], PW, LC);
    let dir = tempfile::tempdir().unwrap();
    // No GWS_PASSWORD: only the version is probed; the profile goes to standard output.
    let r = run(&["init", "--target", &server.url], dir.path(), &[], LIMIT);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let profile: toml::Table = r.stdout.parse().expect("standard output is the profile");
    let caps: Vec<&str> = profile["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(caps.contains(&"diagnostics"), "{caps:?}");
    for unprobed in ["csrf", "cometd", "user_resource"] {
        assert!(
            !caps.contains(&unprobed),
            "{unprobed} was not probed: {caps:?}"
        );
    }
    assert!(
        r.stdout.contains("not probed: no credentials given"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("will be skipped until"), "{}", r.stderr);
    // -o refuses an existing file unless --force.
    let p = dir.path().join("p.toml");
    std::fs::write(&p, "keep me").unwrap();
    let args = ["init", "--target", &server.url, "-o", p.to_str().unwrap()];
    let r = run(&args, dir.path(), &env(), LIMIT);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("exists") && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "keep me");
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_eq!(run(&forced, dir.path(), &env(), LIMIT).code, 0);
    assert!(std::fs::read_to_string(&p)
        .unwrap()
        .contains("[agents.default]"));
}

#[test]
fn a_server_that_is_not_the_reference_gets_lab_capabilities_commented_out() {
    let dir = tempfile::tempdir().unwrap();
    let directory = dir.path().join("lab.toml");
    let mut text = String::from("version = \"8.5.200.99-lab\"\n");
    for n in 1..=2 {
        text.push_str(&format!("[[agents]]\nusername = \"lab_{n}\"\npassword = \"{PW}\"\ndefault_place = \"P{n}\"\n[[places]]\nname = \"P{n}\"\ndevices = [{{ id = \"70{n}\", kind = \"extension\" }}]\n"));
    }
    std::fs::write(&directory, text).unwrap();
    let server = Served::start(&["--directory", directory.to_str().unwrap()], PW, LC);
    let args = [
        "init",
        "--target",
        &server.url,
        "--username",
        "lab_{n}",
        "--agents",
        "2",
        "-o",
        "p.toml",
    ];
    let r = run(&args, dir.path(), &env(), LIMIT);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(dir.path().join("p.toml")).unwrap();
    assert!(text.contains("username = \"lab_2\""), "{text}");
    assert!(text.contains("  # \"multi_acd_place\","), "{text}");
    assert!(text.contains("  # \"end_session\","), "{text}");
    assert!(text.contains("  \"cometd\","), "{text}");
    assert!(!text.contains("reference lab has it"), "{text}");
    // The lab's variables, each with its meaning and the cases it unlocks, and no reference value.
    assert!(
        text.contains("#\n# single_device_place: a place with exactly one device"),
        "{text}"
    );
    assert!(text.contains("# single_device_place = \"\"\n"), "{text}");
    assert!(text.contains("#   unlocks "), "{text}");
    for reference in [
        "\"SIP_5000\"",
        "PLACE_agent8",
        "/devices/7008",
        "PLACE_MULTI_ACD",
    ] {
        assert!(!text.contains(reference), "{reference}: {text}");
    }
    assert!(
        r.stdout.contains("wait for lab content until [vars] sets"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("will be skipped until these capabilities are enabled"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_unreachable_target_is_exit_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let r = run(
        &[
            "init",
            "--target",
            "http://127.0.0.1:1",
            "--timeout-ms",
            "1000",
        ],
        dir.path(),
        &env(),
        LIMIT,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("http://127.0.0.1:1/ could not be reached"),
        "{}",
        r.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A host that answers 404 to everything is not a GWS: `init` exits 2 saying so, as `run` says
/// the GWS API is not there, with or without a password to probe with.
#[test]
fn a_host_without_the_gws_api_is_exit_2() {
    let server = support::TestServer::start(std::sync::Arc::new(|_| {
        Some(support::response(
            "404 Not Found",
            &[("Content-Type", "text/plain")],
            b"no such page",
        ))
    }));
    let dir = tempfile::tempdir().unwrap();
    for env in [&env()[..], &[]] {
        let r = run(&["init", "--target", &server.url()], dir.path(), env, LIMIT);
        assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("answers, but not as GWS"), "{}", r.stderr);
        assert!(
            r.stderr.contains("the GWS API is not under"),
            "{}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "no profile is written: {}", r.stdout);
    }
}

#[test]
fn the_readme_table_is_printed_from_the_catalogue() {
    let r = run(&["init", "--print-reference-table"], &root(), &[], LIMIT);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("| `notify5` | agent16 |"), "{}", r.stdout);
}

/// A password that is part of every user name ("agent" in agent1..agent16) masks the names in the
/// probes' records; the probe still knows which users were accepted, so nothing is left unprobed.
#[test]
fn a_password_inside_the_user_names_still_finds_the_accepted_users() {
    const WEAK: &str = "agent";
    let server = Served::start(&[], WEAK, LC);
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        &["init", "--target", &server.url, "-o", "p.toml"],
        dir.path(),
        &[("GWS_PASSWORD", WEAK), ("GWS_AGENT_LOGIN_PASSWORD", LC)],
        LIMIT,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        !r.stdout.contains("no credentials were accepted"),
        "{}",
        r.stdout
    );
    let text = std::fs::read_to_string(dir.path().join("p.toml")).unwrap();
    for detected in ["  \"csrf\",", "  \"cometd\",", "  \"user_resource\","] {
        assert!(text.contains(detected), "{detected} missing:\n{text}");
    }
}

/// A lab with a password per user and fewer users than roles: `--password-env 'LAB_PW_{n}'` writes
/// each role's password as its user's variable; the profile lints clean and runs with no failure.
#[test]
fn init_with_a_password_per_user_writes_a_profile_that_lints_and_runs_clean() {
    let dir = tempfile::tempdir().unwrap();
    let directory = dir.path().join("lab.toml");
    let mut text = String::from("version = \"8.5.200.99-lab\"\n");
    let mut env: Vec<(String, String)> = Vec::new();
    for n in 1..=8 {
        text.push_str(&format!("[[agents]]\nusername = \"lab_{n}\"\npassword = \"pw-of-user-{n}\"\ndefault_place = \"P{n}\"\nlogin_code = \"LC{n}\"\n[[login_codes]]\ncode = \"LC{n}\"\n[[places]]\nname = \"P{n}\"\ndevices = [{{ id = \"70{n}\", kind = \"extension\" }}]\n"));
        env.push((format!("LAB_PW_{n}"), format!("pw-of-user-{n}")));
    }
    env.push(("GWS_AGENT_LOGIN_PASSWORD".into(), LC.into()));
    std::fs::write(&directory, text).unwrap();
    let server = Served::start(&["--directory", directory.to_str().unwrap()], PW, LC);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let args = [
        "init",
        "--target",
        &server.url,
        "--username",
        "lab_{n}",
        "--agents",
        "8",
        "--password-env",
        "LAB_PW_{n}",
        "-o",
        "p.toml",
    ];
    let r = run(&args, dir.path(), &env, LIMIT);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let text = std::fs::read_to_string(dir.path().join("p.toml")).unwrap();
    assert!(!text.contains("pw-of-user"), "no password is ever written");
    let profile: toml::Table = text.parse().unwrap();
    for (role, a) in profile["agents"].as_table().unwrap() {
        let user = a["username"].as_str().unwrap();
        let n = user.strip_prefix("lab_").unwrap();
        assert_eq!(
            a["password"].as_str().unwrap(),
            format!("${{env:LAB_PW_{n}}}"),
            "{role}"
        );
    }
    assert!(
        text.contains("# 21 roles on 8 users: the roles are spread"),
        "{text}"
    );
    assert_eq!(
        text.matches("roles on 8 users").count(),
        1,
        "one comment says it"
    );
    // Probed with each user's own password: the credentials were accepted.
    for cap in ["  \"csrf\",", "  \"cometd\",", "  \"user_resource\","] {
        assert!(text.contains(cap), "{cap}: {text}");
    }
    let lint = run(&["lint", "--profile", "p.toml"], dir.path(), &env, LIMIT);
    assert_eq!(lint.code, 0, "{}", lint.stderr);
    assert!(!lint.stderr.contains("warning"), "{}", lint.stderr);
    let args = ["run", "--profile", "p.toml", "--report-dir", "r", "-q"];
    let r = run(&args, dir.path(), &env, LIMIT);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(verdicts(&dir.path().join("r"), "fail").is_empty());
    // One user's variable unset: the error names it, and offers no other user's as a did-you-mean.
    let without_3: Vec<(&str, &str)> = env
        .iter()
        .copied()
        .filter(|(k, _)| *k != "LAB_PW_3")
        .collect();
    let lint = run(
        &["lint", "--profile", "p.toml"],
        dir.path(),
        &without_3,
        LIMIT,
    );
    assert_eq!(lint.code, 2, "{}", lint.stderr);
    assert!(
        lint.stderr.contains("`LAB_PW_3` is not set"),
        "{}",
        lint.stderr
    );
    assert!(!lint.stderr.contains("did you mean"), "{}", lint.stderr);
    assert!(
        lint.stderr
            .contains("each holds another user's password: export LAB_PW_3 too"),
        "{}",
        lint.stderr
    );
}

//! The `variants` command and `serve --variant`: names, listing and the table.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::{root, run, BIN};

#[test]
fn list_into_a_closed_pipe_exits_quietly() {
    for command in ["variants", "mutants"] {
        // The reading end is closed before the binary writes a byte: every write fails (EPIPE).
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = Command::new(BIN)
            .args([command, "--list"])
            .current_dir(root())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("run gws-conform");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{command}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{command}: {stderr}");
    }
}

#[test]
fn list_names_every_variant_with_its_source() {
    let r = run(
        &["variants", "--list"],
        &root(),
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in [
        "pretty-reversed-json",
        "chunked",
        "gzip",
        "new-session-after-end",
    ] {
        assert!(r.stdout.contains(name), "{name} missing:\n{}", r.stdout);
    }
    assert!(r.stdout.contains("source: notes §3.3"), "{}", r.stdout);
}

#[test]
fn unknown_names_get_a_did_you_mean_and_exit_2() {
    let cases: [&[&str]; 3] = [
        &["variants", "gzp"],
        &["serve", "--addr", "127.0.0.1:0", "--variant", "gzp"],
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--fault",
            "acess-denied-wrong-code",
        ],
    ];
    let hints = ["`gzip`", "`gzip`", "`access-denied-wrong-code`"];
    for (args, hint) in cases.iter().zip(hints) {
        let r = run(args, &root(), &[], Duration::from_secs(30));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("did you mean {hint}?")),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn a_run_prints_the_table_and_exits_by_its_failures() {
    let r = run(
        &["variants", "chunked", "--verbose"],
        &root(),
        &[],
        Duration::from_secs(300),
    );
    assert!(
        r.stdout
            .contains("| variant | area | passed | failed | skipped | warned | failing cases |"),
        "{}",
        r.stdout
    );
    let row = |name: &str| {
        r.stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{}", r.stdout))
            .to_string()
    };
    let default = row("(default server)");
    let chunked = row("chunked");
    let failed = |row: &str| row.split('|').nth(4).unwrap().trim().to_string();
    assert_eq!(failed(&default), "0", "{}", r.stdout);
    let expected = if failed(&chunked) == "0" { 0 } else { 1 };
    assert_eq!(r.code, expected, "{}\n{}", r.stdout, r.stderr);
    if expected == 1 {
        assert!(r.stdout.contains("### chunked:"), "{}", r.stdout);
    }
}

/// Two conforming variants at once: Start at a place it cannot use answers {"statusCode":0} and
/// logs nobody in (`async-place-refusal`), and every notification comes late (`slow-lab`, with the
/// profile's window widened for it). The place cases then listen for an absence of logins; a case
/// before them of the same user that logged in without listening must not have its late login
/// message land in their window and fail them (the notification cases' roles are their own).
#[test]
fn late_events_of_an_earlier_case_fail_no_place_case() {
    let dir = tempfile::tempdir().unwrap();
    let served = support::Served::start(
        &["--variant", "async-place-refusal", "--variant", "slow-lab"],
        "pw-late-1",
        "sw-late-1",
    );
    let profile = support::reference_profile_edited(
        dir.path(),
        "slow.toml",
        &[("csrf = true", "csrf = true\nnotification_window_ms = 10000")],
    );
    let r = run_against(
        &served,
        &profile,
        &["place-", "-q"],
        ("pw-late-1", "sw-late-1"),
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("11 passed"), "{}", r.stdout);
}

/// `slow-logout` (End answers at once, the logout follows 3 s later) served on its own, two cases
/// right after one another on one user: the second finds the agent still logged in, a premise it
/// checks and polls (`[steps.retry]`) until the logout has taken effect. Never a failure, and no
/// warning either: the premise holds on a later attempt, and the report says which.
#[test]
fn a_slow_logout_fails_no_case_that_follows_one_on_its_user() {
    let dir = tempfile::tempdir().unwrap();
    let served = support::Served::start(&["--variant", "slow-logout"], "pw-slow-1", "sw-slow-1");
    let profile = root().join("profiles/reference.toml");
    let r = run_against(
        &served,
        &profile,
        &[
            "s4-both-channels-in-service",
            "s4-voice-fails-multimedia-succeeds",
        ],
        ("pw-slow-1", "sw-slow-1"),
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("2 passed; 0 warnings"), "{}", r.stdout);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r/report.json")).unwrap()).unwrap();
    let second = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "s4-voice-fails-multimedia-succeeds")
        .unwrap();
    let premise = second["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str().unwrap().contains("premise"))
        .unwrap();
    assert!(
        premise["attempts"].as_u64().unwrap() > 1,
        "the first case's logout was still under way: {premise}"
    );
}

/// `late-restore` (End restores the default device assignment 6 s after its logout): the checks
/// after End poll (`[steps.retry]`), so the case passes, and the report records how many attempts
/// the restore took and that the last one is judged.
#[test]
fn a_late_restore_passes_on_a_later_attempt_and_the_report_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let served = support::Served::start(&["--variant", "late-restore"], "pw-lr-1", "sw-lr-1");
    let profile = root().join("profiles/reference.toml");
    let r = run_against(
        &served,
        &profile,
        &["default-assignment-restored"],
        ("pw-lr-1", "sw-lr-1"),
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r/report.json")).unwrap()).unwrap();
    let steps = report["cases"][0]["steps"].as_array().unwrap();
    let back = steps
        .iter()
        .find(|s| s["name"] == "after End: the default device assignment is back")
        .unwrap();
    let attempts = back["attempts"].as_u64().unwrap();
    assert!(attempts > 1, "the restore came late: {back}");
    let note = back["notes"][0].as_str().unwrap();
    assert!(
        note.contains(&format!("passed at attempt {attempts}")),
        "{note}"
    );
    assert_eq!(back["passed"], true);
}

/// `slow-logout` with only the cases that log in at the shared places of two users (`devices` and
/// `notify5`): each case waits until no other running case holds its place, and each ends by polling
/// until its logout has taken effect, so none finds the place in use (409) or its user still logged in.
#[test]
fn cases_at_one_place_never_overlap_even_when_the_logout_is_late() {
    let dir = tempfile::tempdir().unwrap();
    let served = support::Served::start(&["--variant", "slow-logout"], "pw-sl-2", "sw-sl-2");
    let profile = root().join("profiles/reference.toml");
    let r = run_against(
        &served,
        &profile,
        &["place-ext-and-acd", "place-multi"],
        ("pw-sl-2", "sw-sl-2"),
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("8 passed; 0 warnings; 0 failed"),
        "{}",
        r.stdout
    );
}

/// `run ARGS` against `served` with `profile` and the server's two passwords, reports in `dir`/r.
fn run_against(
    served: &support::Served,
    profile: &std::path::Path,
    args: &[&str],
    (password, login_code_password): (&str, &str),
    dir: &std::path::Path,
) -> support::Run {
    let report_dir = dir.join("r");
    let mut all = vec!["run", "--target", &served.url, "--profile"];
    all.push(profile.to_str().unwrap());
    all.extend(["--report-dir", report_dir.to_str().unwrap()]);
    all.extend(args);
    run(
        &all,
        &root(),
        &[
            ("GWS_PASSWORD", password),
            ("GWS_AGENT_LOGIN_PASSWORD", login_code_password),
        ],
        Duration::from_secs(180),
    )
}

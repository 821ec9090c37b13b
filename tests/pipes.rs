//! Every command ends quietly when its standard output is a pipe already closed (`... | head -1`):
//! no panic, no "failed printing to stdout", and the exit code the command would have had anyway.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{root, BIN};

/// Runs the binary with standard output a pipe whose reading end is closed before it starts, so
/// every write fails with EPIPE (no race with a reader that might still be there).
fn with_closed_stdout(args: &[&str], cwd: &Path) -> (i32, String) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("GWS_PASSWORD")
        .env_remove("GWS_USERNAME")
        .env_remove("GWS_AGENT_LOGIN_PASSWORD")
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gws-conform");
    let mut err = child.stderr.take().expect("stderr");
    let reading = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("gws-conform {args:?} did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.code().unwrap_or(-1),
        reading.join().unwrap_or_default(),
    )
}

fn assert_quiet(args: &[&str], cwd: &Path, want: i32) {
    let (code, stderr) = with_closed_stdout(args, cwd);
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{args:?}:\n{stderr}");
    assert_eq!(code, want, "{args:?}; stderr:\n{stderr}");
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let root = root();
    let dir = tempfile::tempdir().expect("tempdir");
    let reports = dir.path().join("r");
    let reports = reports.to_str().expect("utf-8 path");
    // A run keeps going without its console and still writes its reports.
    assert_quiet(
        &[
            "run",
            "diagnostics-version-no-auth",
            "--report-dir",
            reports,
        ],
        &root,
        0,
    );
    let json = format!("{reports}/report.json");
    assert!(Path::new(&json).exists(), "the run wrote no report.json");
    assert_quiet(&["list"], &root, 0);
    assert_quiet(&["lint"], &root, 0);
    assert_quiet(&["mutants", "--list"], &root, 0);
    assert_quiet(&["verify", "-v", &json], &root, 0);
    for format in ["html", "junit", "markdown", "tap"] {
        assert_quiet(&["report", &json, "--format", format], &root, 0);
    }
    let merged = format!("{reports}/merged.json");
    assert_quiet(&["merge", &json, "-o", &merged], &root, 0);
}

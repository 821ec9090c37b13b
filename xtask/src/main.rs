//! `cargo xtask test [ARGS...]`: the one test command a fresh machine needs. It runs `.ci/setup`
//! (each `.ci/install.d/*.sh` installs one area's tools, and fails rather than skips when it cannot),
//! then `cargo test --workspace ARGS...`. On a machine already set up, the set-up takes seconds: the
//! scripts install only what is missing, and `npm ci` restores the pinned peers.
//!
//! `cargo xtask readme [--check]`: see `readme.rs`.
//!
//! Plain std, no dependencies: the task must build before anything else is installed.

mod readme;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("test") => test(args.collect()),
        Some("setup") => code(setup(&root())),
        Some("readme") => {
            match readme::readme(&root(), args.next().as_deref() == Some("--check")) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("xtask: {e}");
                    ExitCode::from(1)
                }
            }
        }
        _ => {
            eprintln!("usage: cargo xtask test [ARGS passed to cargo test --workspace]");
            eprintln!("       cargo xtask setup   (only install what the tests need)");
            eprintln!("       cargo xtask readme [--check]   (README's kill matrix and variants table, from mutants and variants)");
            ExitCode::from(2)
        }
    }
}

fn root() -> PathBuf {
    // xtask/ sits in the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent folder")
        .to_path_buf()
}

fn test(args: Vec<String>) -> ExitCode {
    let root = root();
    let status = setup(&root);
    if status != 0 {
        eprintln!("xtask: the set-up failed (exit {status}); no test was run");
        return code(status);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(["test", "--workspace"])
        .args(&args)
        .status();
    match status {
        Ok(s) => code(s.code().unwrap_or(1)),
        Err(e) => {
            eprintln!("xtask: cannot run cargo test: {e}");
            ExitCode::from(2)
        }
    }
}

fn setup(root: &Path) -> i32 {
    eprintln!("xtask: installing what the tests need (.ci/setup)");
    match Command::new("bash")
        .arg(root.join(".ci/setup"))
        .current_dir(root)
        .status()
    {
        Ok(s) => s.code().unwrap_or(1),
        Err(e) => {
            eprintln!("xtask: cannot run .ci/setup: {e}");
            1
        }
    }
}

fn code(status: i32) -> ExitCode {
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}

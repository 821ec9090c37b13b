//! Standard output that a closed pipe cannot crash.
//!
//! `println!` panics when a write fails, and `gws-conform list | head -1` closes the pipe early.
//! Resetting SIGPIPE to its default would end such a process quietly too, but it would also kill a
//! `run` in the middle (before its reports are written) and any write to a peer that hung up. So
//! SIGPIPE stays ignored (Rust's default) and every line goes through [`line`]: once standard output
//! is closed, further lines are dropped, the command finishes its work (a run still writes its
//! reports) and exits with its usual code.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to standard output failed: nothing more is tried.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Set when standard output carries machine-readable lines only (`run --message-format json`):
/// the human lines go to standard error.
static TO_STDERR: AtomicBool = AtomicBool::new(false);

/// From now on, [`line`] writes to standard error.
pub fn human_lines_to_stderr() {
    TO_STDERR.store(true, Ordering::Relaxed);
}

/// `println!` that drops its line once standard output is gone (see the module comment).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))
    };
}

/// Writes one line to standard output. A closed pipe is said nowhere; any other failure (a full
/// disk) is said once, on standard error.
pub fn line(args: std::fmt::Arguments<'_>) {
    if TO_STDERR.load(Ordering::Relaxed) {
        eprintln!("{args}");
        return;
    }
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(args)
        .and_then(|_| out.write_all(b"\n"))
        .and_then(|_| out.flush());
    if let Err(e) = written {
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != ErrorKind::BrokenPipe {
            eprintln!("error: cannot write to standard output: {e}");
        }
    }
}

/// Whether standard output is gone.
pub fn is_closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

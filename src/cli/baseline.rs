//! `baseline write REPORT --expires DATE -o known-failures.toml`: a known-failures baseline from a
//! run's failures, for `run --baseline`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use gws_conform::report::baseline::{is_date, write_from};
use gws_conform::report::{utc_timestamp, write_atomic, Report};

use super::exit;

#[derive(Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub command: BaselineCommand,
}

#[derive(Subcommand)]
pub enum BaselineCommand {
    /// Write a baseline listing every failure of a report.json (and the failures its baseline
    /// tolerated), each tolerated until --expires.
    Write(WriteArgs),
}

#[derive(Args)]
pub struct WriteArgs {
    /// A report.json written by `run` or `merge`.
    pub report: PathBuf,
    /// The last day (YYYY-MM-DD, UTC) each failure is tolerated.
    #[arg(long, value_name = "DATE")]
    pub expires: String,
    /// The reason of each new entry (default: the run and the case's first failed check).
    #[arg(long)]
    pub reason: Option<String>,
    /// Write here (atomically) instead of standard output.
    #[arg(long, short, value_parser = super::args_check::output_file)]
    pub output: Option<PathBuf>,
}

pub fn baseline(args: &BaselineArgs) -> u8 {
    match &args.command {
        BaselineCommand::Write(w) => write(w),
    }
}

fn write(args: &WriteArgs) -> u8 {
    if !is_date(&args.expires) {
        eprintln!(
            "error: --expires `{}` is not a date written YYYY-MM-DD, e.g. 2027-01-31",
            args.expires
        );
        return exit::ERROR;
    }
    let today = utc_timestamp(std::time::SystemTime::now());
    if args.expires.as_str() < &today[..10] {
        eprintln!(
            "error: --expires {} is in the past (today is {}, UTC): the entries would tolerate nothing",
            args.expires,
            &today[..10]
        );
        return exit::ERROR;
    }
    if args.reason.as_deref().is_some_and(|r| r.trim().is_empty()) {
        eprintln!("error: --reason is empty: say why the failures are tolerated");
        return exit::ERROR;
    }
    let report = match Report::read(&args.report) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let text = write_from(&report, &args.expires, args.reason.as_deref());
    match &args.output {
        Some(path) => {
            if let Err(e) = write_atomic(path, text.as_bytes()) {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
            let n = text.matches("[[known]]").count();
            outln!(
                "baseline: {} ({n} known failure{}, until {})",
                path.display(),
                if n == 1 { "" } else { "s" },
                args.expires
            );
        }
        None => outln!("{}", text.trim_end()),
    }
    exit::PASS
}

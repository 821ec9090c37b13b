//! `compare OLD/report.json NEW/report.json`: which cases changed verdict between two runs, and
//! whether any change is a regression (the exit code: 1 on a regression, 0 without).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use gws_conform::report::compare::{compare as compare_reports, FailOn};
use gws_conform::report::{write_atomic, Report};

use super::exit;

#[derive(Args)]
pub struct CompareArgs {
    /// The earlier run's report.json (the last release, say).
    pub old: PathBuf,
    /// The later run's report.json.
    pub new: PathBuf,
    /// text, markdown or json.
    #[arg(long, short, value_enum, default_value = "text")]
    pub format: CompareFormat,
    /// What exits 1: `fail` (a case that fails now and did not before) or `warn` (a new warning too).
    #[arg(long, value_enum, default_value = "fail")]
    pub fail_on: FailOnArg,
    /// Compare reports whose suites differ (case files or schemas): the differences are listed.
    #[arg(long)]
    pub allow_suite_change: bool,
    /// Write here (atomically) instead of standard output.
    #[arg(long, short, value_parser = super::args_check::output_file)]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CompareFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FailOnArg {
    Fail,
    Warn,
}

pub fn compare(args: &CompareArgs) -> u8 {
    let read = |p: &PathBuf| {
        Report::read(p).map_err(|e| {
            eprintln!("error: {e}");
            exit::ERROR
        })
    };
    let (old, new) = match (read(&args.old), read(&args.new)) {
        (Ok(o), Ok(n)) => (o, n),
        _ => return exit::ERROR,
    };
    let fail_on = match args.fail_on {
        FailOnArg::Fail => FailOn::Fail,
        FailOnArg::Warn => FailOn::Warn,
    };
    let (old_name, new_name) = (
        args.old.display().to_string(),
        args.new.display().to_string(),
    );
    let comparison = match compare_reports(
        (&old_name, &old),
        (&new_name, &new),
        fail_on,
        args.allow_suite_change,
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let text = match args.format {
        CompareFormat::Text => comparison.to_text(),
        CompareFormat::Markdown => comparison.to_markdown(),
        CompareFormat::Json => comparison.to_json(),
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = write_atomic(path, text.as_bytes()) {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
            outln!("compare: {}", path.display());
        }
        None => outln!("{}", text.trim_end()),
    }
    if comparison.regressions > 0 {
        exit::FAIL
    } else {
        exit::PASS
    }
}

//! `report` (re-render a report.json), `verify` (does a report match this working tree?) and
//! `merge` (one report from the shards of a partitioned run).

use std::path::PathBuf;

use clap::Args;

use gws_conform::load::source::{self, HARNESS_VERSION};
use gws_conform::report::merge::merge as merge_reports;
use gws_conform::report::rederive::{rederive, schema_violations};
use gws_conform::report::render::{render_from, Output};
use gws_conform::report::verify::{verify as verify_report, FileStatus, Root};
use gws_conform::report::{write_atomic, Format, Report, ReportError};

use super::exit;

#[derive(Args)]
pub struct ReportArgs {
    /// A report.json written by `run` or `merge`.
    pub report: PathBuf,
    /// html, junit, markdown or tap.
    #[arg(long, short, value_parser = parse_format)]
    pub format: Format,
    /// Write here (atomically) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// A report.json written by `run` or `merge`.
    pub report: PathBuf,
    /// Check against the files in this folder (the report's relative paths are resolved against
    /// it). Default: the suite built into this binary when the run used it, else the working
    /// directory.
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// List the files that match too.
    #[arg(long, short)]
    pub verbose: bool,
    /// Also check this signed attestation (attestation.intoto.jsonl): its signature with --key, its
    /// subjects' digests, and that its predicate agrees with the re-derived result.
    #[arg(long, requires = "key")]
    pub attestation: Option<PathBuf>,
    /// The signer's Ed25519 public key (PEM), for --attestation.
    #[arg(long, requires = "attestation")]
    pub key: Option<PathBuf>,
}

#[derive(Args)]
pub struct MergeArgs {
    /// The shard reports (report.json of each `run --partition hash:K/N`).
    #[arg(required = true, num_args = 1..)]
    pub reports: Vec<PathBuf>,
    /// Where to write the merged report.json.
    #[arg(long, short)]
    pub output: PathBuf,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

pub fn report(args: &ReportArgs) -> u8 {
    // Rendered while report.json is read case by case: a large report is never held whole.
    let stdout = std::io::stdout();
    let output = match &args.output {
        Some(path) => Output::File(path.clone()),
        None => Output::Stream(Box::new(stdout.lock())),
    };
    let written = match render_from(&args.report, vec![(args.format, output)]) {
        Ok((_, mut results)) => results.pop().unwrap_or(Ok(())),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    match (&args.output, written) {
        (Some(path), Ok(())) => {
            outln!("{}: {}", args.format, path.display());
            exit::PASS
        }
        (None, Ok(())) => exit::PASS,
        // A closed pipe (`| head`) is not worth an error message.
        (None, Err(ReportError::Write { source, .. }))
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            exit::PASS
        }
        (None, Err(ReportError::Write { source, .. })) => {
            eprintln!("error: cannot write the report: {source}");
            exit::ERROR
        }
        (_, Err(e)) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

pub fn verify(args: &VerifyArgs) -> u8 {
    let bytes = match std::fs::read(&args.report) {
        Ok(b) => b,
        Err(source) => {
            eprintln!(
                "error: {}",
                ReportError::Read {
                    path: args.report.clone(),
                    source
                }
            );
            return exit::ERROR;
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let report = match Report::parse(&args.report, &text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let files_ok = verify_files(args, &report);
    let result_ok = verify_result(args, &report, &text);
    let attestation_ok = match (&args.attestation, &args.key) {
        (Some(att), Some(key)) => {
            let problems = super::attest::check_attestation(att, key, &report, &bytes);
            for p in &problems {
                outln!("ATTESTATION  {p}");
            }
            if problems.is_empty() {
                outln!(
                    "ok: {} is signed by that key and agrees with the report's re-derived result",
                    att.display()
                );
            }
            problems.is_empty()
        }
        _ => true,
    };
    if files_ok && result_ok && attestation_ok {
        exit::PASS
    } else {
        exit::FAIL
    }
}

/// Whether the report's result follows from its records, and the report conforms to
/// schemas/report.schema.json. Each disagreement is printed, naming the case and the field.
fn verify_result(args: &VerifyArgs, report: &Report, text: &str) -> bool {
    let mut problems: Vec<String> = rederive(report).iter().map(|d| d.to_string()).collect();
    let schema = source::embedded_file("schemas/report.schema.json")
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok());
    match (schema, serde_json::from_str::<serde_json::Value>(text)) {
        (Some(schema), Ok(value)) => problems.extend(schema_violations(&value, &schema)),
        (None, _) => problems.push("the report schema is not built into this binary".into()),
        (_, Err(e)) => problems.push(format!("not JSON: {e}")),
    }
    for p in &problems {
        outln!("RESULT   {p}");
    }
    if problems.is_empty() {
        outln!(
            "ok: every verdict, the tally, the samples and the headline of {} follow from its checks",
            args.report.display()
        );
    } else {
        outln!(
            "differs: {} disagreement(s) between {}'s result and its records",
            problems.len(),
            args.report.display()
        );
    }
    problems.is_empty()
}

/// Whether every input the report lists is the file it was (the run's inputs, hashed).
fn verify_files(args: &VerifyArgs, report: &Report) -> bool {
    let root = Root::for_report(report, args.root.as_deref());
    if root == Root::Embedded {
        outln!(
            "checking against the suite built into gws-conform {HARNESS_VERSION} (--root DIR checks a folder)"
        );
    }
    let checks = verify_report(report, &root);
    let bad: Vec<_> = checks
        .iter()
        .filter(|c| c.status != FileStatus::Same)
        .collect();
    for c in &checks {
        if c.status != FileStatus::Same || args.verbose {
            outln!("{c}");
        }
    }
    if bad.is_empty() {
        outln!(
            "ok: {} was produced from these {} files (run {})",
            args.report.display(),
            checks.len(),
            report.run.run_id
        );
        return true;
    }
    outln!(
        "differs: {} of {} files do not match {} (run {})",
        bad.len(),
        checks.len(),
        args.report.display(),
        report.run.run_id
    );
    // Every file missing is a folder mix-up far more often than a tampered report.
    if bad.len() == checks.len()
        && bad
            .iter()
            .all(|c| matches!(c.status, FileStatus::Missing(_)))
    {
        outln!(
            "hint: none of its files is here: run verify in the folder the run started in, or give --root FOLDER"
        );
    }
    false
}

pub fn merge(args: &MergeArgs) -> u8 {
    let mut parts = Vec::new();
    for path in &args.reports {
        match Report::read(path) {
            Ok(r) => parts.push((path.clone(), r)),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        }
    }
    let merged = match merge_reports(&parts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    if let Err(e) = write_atomic(&args.output, merged.to_json().as_bytes()) {
        eprintln!("error: {e}");
        return exit::ERROR;
    }
    let t = &merged.summary.tally;
    outln!(
        "merged {} reports into {}: {} passed; {} failed; {} skipped{}",
        parts.len(),
        args.output.display(),
        t.passed,
        t.failed,
        t.skipped,
        if merged.summary.complete {
            ""
        } else {
            " (incomplete)"
        }
    );
    exit::PASS
}

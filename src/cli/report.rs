//! `report` (re-render a report.json), `verify` (does a report match this working tree?) and
//! `merge` (one report from the shards of a partitioned run).

use std::path::PathBuf;

use clap::Args;

use gws_conform::load::source::{self, HARNESS_VERSION};
use gws_conform::report::merge::merge as merge_reports;
use gws_conform::report::rederive::{rederive, schema_violations};
use gws_conform::report::render::{render_from, Output};
use gws_conform::report::tally::{result_line, Outcome};
use gws_conform::report::verify::{
    baseline_disagreements, verify as verify_report, FileStatus, Root,
};
use gws_conform::report::{write_atomic, write_formats, Format, Report, ReportError, Summary};

use super::exit;

#[derive(Args)]
pub struct ReportArgs {
    /// A report.json written by `run` or `merge`.
    pub report: PathBuf,
    /// html, junit, markdown or tap.
    #[arg(long, short, value_parser = parse_format)]
    pub format: Format,
    /// Write here (atomically) instead of standard output.
    #[arg(long, short, value_parser = super::args_check::output_file)]
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
    /// The shard reports (report.json of each `run --partition K/N`). Shards may use different
    /// profiles (users); they must test the same suite against the same target.
    #[arg(required = true, num_args = 1..)]
    pub reports: Vec<PathBuf>,
    /// Where to write the merged report.json only.
    #[arg(long, short, required_unless_present = "report_dir", value_parser = super::args_check::output_file)]
    pub output: Option<PathBuf>,
    /// Write the merged report.json and every format rendered from it (report.html, junit.xml,
    /// summary.md, report.tap) into this folder, as `run` does. A folder that is not empty is
    /// refused unless --force.
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// Write into a --report-dir that is not empty.
    #[arg(long)]
    pub force: bool,
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
    let (head, written) = match render_from(&args.report, vec![(args.format, output)]) {
        Ok((head, mut results)) => (head, results.pop().unwrap_or(Ok(()))),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    // Rendered: the exit code is the report's verdict, as `run` gave it.
    let verdict = exit_for(&head.summary);
    match (&args.output, written) {
        (Some(path), Ok(())) => {
            outln!("{}: {}", args.format, path.display());
            verdict
        }
        (None, Ok(())) => verdict,
        // A closed pipe (`| head`) is not worth an error message.
        (None, Err(ReportError::Write { source, .. }))
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            verdict
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
    let baseline_ok = verify_baseline(args, &report);
    let attestation_ok = match (&args.attestation, &args.key) {
        (Some(att), Some(key)) => {
            let problems = match super::attest::check_attestation(att, key, &report, &bytes) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::ERROR;
                }
            };
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
    if files_ok && result_ok && baseline_ok && attestation_ok {
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

/// Whether the baseline entries the report was judged with are those of the file it names.
fn verify_baseline(args: &VerifyArgs, report: &Report) -> bool {
    let root = Root::for_report(report, args.root.as_deref());
    let problems = baseline_disagreements(report, &root);
    for p in &problems {
        outln!("BASELINE {p}");
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
    if let Some(d) = &args.report_dir {
        if let Err(e) = super::args_check::report_dir(d, args.force) {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    }
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
    let json = merged.to_json();
    let mut written = Vec::new();
    let mut errors = Vec::new();
    for path in args.output.iter() {
        match write_atomic(path, json.as_bytes()) {
            Ok(()) => written.push(path.display().to_string()),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if let Some(dir) = &args.report_dir {
        let path = dir.join("report.json");
        match write_atomic(&path, json.as_bytes()) {
            Ok(()) => {
                written.push(path.display().to_string());
                errors.extend(write_formats(&merged, dir).iter().map(|e| e.to_string()));
                written.extend(Format::ALL.map(|f| dir.join(f.file_name()).display().to_string()));
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    for e in &errors {
        eprintln!("error: {e}");
    }
    outln!("merged {} reports into {}", parts.len(), written.join(", "));
    for p in &merged.merged_from {
        outln!(
            "  {}: {} cases, profile {} (sha256 {}){}",
            p.partition.as_deref().unwrap_or(&p.run_id),
            p.cases,
            p.profile.as_deref().unwrap_or("?"),
            p.profile_sha256
                .as_deref()
                .map_or("?", |d| &d[..d.len().min(12)]),
            if p.complete { "" } else { ", incomplete" }
        );
    }
    outln!("{}", result_line(&merged.summary));
    if !errors.is_empty() {
        return exit::ERROR;
    }
    exit_for(&merged.summary)
}

/// The exit code of a command that writes (or reads) a verdict: as `run` exits for the same
/// summary when it was not stopped, so that `merge` and `report` gate a pipeline as one run would.
pub fn exit_for(summary: &Summary) -> u8 {
    match Outcome::of(summary) {
        Outcome::Failed { .. } => exit::FAIL,
        Outcome::Incomplete | Outcome::Errors => exit::UNTESTED,
        Outcome::NoVerdict => exit::ERROR,
        Outcome::Ok => exit::PASS,
    }
}

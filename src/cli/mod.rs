//! Command-line interface. Errors get their context here, at the edge; the library's are typed.

#[macro_use]
mod out;

mod against;
mod args_check;
mod attest;
mod baseline;
mod compare;
mod doctor;
mod embedded;
mod heap;
mod init;
mod init_users;
mod lint;
mod list;
mod mutants;
mod profile_text;
mod report;
mod rerun;
mod run;
mod suite;
mod variants;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use gws_conform::load::timings::Timings;
use gws_conform::model::Provenance;
use gws_conform::plan::{Partition, Selection, Split};

/// Exit codes, documented in the README. Stable: CI pipelines depend on them.
/// The exit codes, one table (the README's "Exit codes" section says the same). Precedence when
/// several apply: 130, 124, then 1 when any case failed, then 3, then 0; 2 is decided before any
/// case runs (or when no report could be written, or when every case was skipped).
pub mod exit {
    use gws_conform::report::Summary;

    /// No case failed (skips do not fail a run).
    pub const PASS: u8 = 0;
    /// Conformance failures: a case failed (a warning too, under `--strict`), unexcused by the
    /// baseline.
    pub const FAIL: u8 = 1;
    /// Bad invocation or input: usage, bad case files, schemas or profile, an empty selection, every
    /// selected case skipped, a report that could not be written.
    pub const ERROR: u8 = 2;
    /// The target could not be tested (unreachable, credentials rejected, lost midway, setup
    /// errors and no failure).
    pub const UNTESTED: u8 = 3;
    /// Interrupted (Ctrl-C or SIGTERM); the report covers what finished.
    pub const INTERRUPTED: u8 = 130;
    /// The run's deadline passed (`--deadline`, `deadline` in the profile); the report covers what
    /// finished. 124, as timeout(1) exits, so CI can tell a slow target from an interrupt.
    pub const DEADLINE: u8 = 124;

    /// The exit code of the verdict a report writes: what `run` exits with when it was not
    /// stopped, and what `merge` and `report` exit with. A report of a stopped run is incomplete:
    /// without a failure, its target was not tested in full (3).
    pub fn of_verdict(s: &Summary) -> u8 {
        let t = &s.tally;
        let ran = t.ran();
        if s.unexcused_failures() > 0 {
            FAIL
        } else if !s.complete || t.errors > 0 {
            UNTESTED
        } else if ran == 0 && t.total > 0 {
            ERROR
        } else {
            PASS
        }
    }
}

#[derive(Parser)]
#[command(
    name = "gws-conform",
    version,
    about = "Conformance harness for the GWS StartContactCenterSession operation (POST /api/v2/me)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the cases against a target (default: the embedded reference server).
    Run(RunArgs),
    /// List the cases, with spec element and provenance.
    List(ListArgs),
    /// Load and check every case file, schema and profile without touching a server.
    Lint(InputArgs),
    /// Serve the reference GWS server.
    Serve(ServeArgs),
    /// Run the suite against the clean reference server and against every fault; print the kill matrix.
    Mutants(MutantsArgs),
    /// Run the suite against the reference server with each conforming variant; every case must pass.
    Variants(VariantsArgs),
    /// Render a report.json as html, junit, markdown or tap.
    Report(report::ReportArgs),
    /// Check that a report.json was produced from the case files and schemas in this working tree.
    Verify(report::VerifyArgs),
    /// Make an Ed25519 key pair to sign attestations with (`run --sign`, `attest`).
    Keygen(attest::KeygenArgs),
    /// Sign a report's result as an in-toto attestation (attestation.intoto.jsonl beside it).
    Attest(attest::AttestArgs),
    /// Merge the report.json files of a partitioned run's shards into one report.
    Merge(report::MergeArgs),
    /// List the cases whose verdict changed between two runs; exit 1 on a regression.
    Compare(compare::CompareArgs),
    /// Known-failures baselines: `baseline write REPORT --expires DATE` lists a run's failures.
    Baseline(baseline::BaselineArgs),
    /// The suite built into the binary: `suite export DIR` writes it out to edit.
    Suite(suite::SuiteArgs),
    /// Probe a target and write a commented profile for it.
    Init(init::InitArgs),
    /// Check a profile against its target without running a case: a checklist with fixes.
    Doctor(doctor::DoctorArgs),
}

#[derive(Args, Clone)]
pub struct InputArgs {
    /// Folder of case files. Default: ./cases if the working directory has one, else the suite
    /// built into this binary.
    #[arg(long)]
    pub cases: Option<PathBuf>,
    /// Folder of JSON Schemas. Default: ./schemas if the working directory has one, else the
    /// schemas built into this binary.
    #[arg(long)]
    pub schemas: Option<PathBuf>,
    /// Target profile (TOML). Default: profiles/reference.toml for the embedded server (the working
    /// directory's, else the built-in one); with --target, credentials from GWS_USERNAME and
    /// GWS_PASSWORD.
    #[arg(long)]
    pub profile: Option<PathBuf>,
}

#[derive(Args, Clone, Default)]
pub struct FilterArgs {
    /// Run only cases whose name contains one of these, as `cargo test NAME` does: a case's names
    /// are `<spec>/<id>` for each of its spec elements, so `S4` selects Sample 4's cases.
    #[arg(value_name = "NAME")]
    pub ids: Vec<String>,
    /// Only cases with one of these tags (repeat it, or separate tags with commas: either matches).
    #[arg(long = "tag", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Only cases of these provenances.
    #[arg(long = "provenance", value_enum)]
    pub provenance: Vec<ProvenanceArg>,
    /// Only cases checking these spec elements (`S4`, `param.workmode`, `param.*`).
    #[arg(long = "spec")]
    pub spec: Vec<String>,
    /// Leave out cases whose name contains this, as `cargo test -- --skip` does (repeatable); one
    /// that matches no case is an error, so that a typo does not pass unnoticed.
    #[arg(long = "skip", value_name = "NAME")]
    pub skip: Vec<String>,
    /// Run one shard: `hash:K/N` (stable by case id), `time:K/N` (serial groups balanced by their
    /// durations in --timings) or `user:K/N` (each user's cases in one shard, balanced by --timings
    /// when given, else by estimates).
    #[arg(long)]
    pub partition: Option<String>,
    /// A previous run's report.json: each case's duration there, for `--partition time:K/N` and
    /// for the order in which a profile's `[pool]` runs cases.
    #[arg(long, value_name = "REPORT")]
    pub timings: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ProvenanceArg {
    Documented,
    Observed,
    Inferred,
}

impl FilterArgs {
    pub fn selection(&self) -> Result<Selection, String> {
        Ok(Selection {
            ids: self.ids.clone(),
            tags: self.tags.clone(),
            provenance: self
                .provenance
                .iter()
                .map(|p| match p {
                    ProvenanceArg::Documented => Provenance::Documented,
                    ProvenanceArg::Observed => Provenance::Observed,
                    ProvenanceArg::Inferred => Provenance::Inferred,
                })
                .collect(),
            spec: self.spec.clone(),
            skip: self.skip.clone(),
            partition: self.partition()?,
            timings: self
                .timings
                .as_deref()
                .map(Timings::read)
                .transpose()
                .map_err(|e| e.to_string())?,
        })
    }

    fn partition(&self) -> Result<Option<Partition>, String> {
        let p = self
            .partition
            .as_deref()
            .map(str::parse::<Partition>)
            .transpose()?;
        if p.is_some_and(|p| p.split == Split::Time) && self.timings.is_none() {
            return Err(format!(
                "--partition {}: a time partition needs --timings REPORT (an earlier run's report.json)",
                p.expect("some")
            ));
        }
        Ok(p)
    }

    pub fn describe(&self) -> Vec<String> {
        let mut v: Vec<String> = self.ids.iter().map(|i| format!("id~{i}")).collect();
        v.extend(self.tags.iter().map(|t| format!("tag={t}")));
        v.extend(self.spec.iter().map(|s| format!("spec={s}")));
        v.extend(self.skip.iter().map(|s| format!("skip~{s}")));
        v
    }
}

#[derive(Args)]
pub struct RunArgs {
    /// Base URL of the server under test, e.g. http://127.0.0.1:8080. Without it, the embedded
    /// reference server is started and tested.
    #[arg(long)]
    pub target: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Cases run at once (serial groups never overlap). Default: every serial group at once, at most 64.
    #[arg(long, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Where to write the reports. Default: reports/<run-id>. A folder that is not empty is
    /// refused unless --force.
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// Write the reports into a --report-dir that is not empty.
    #[arg(long)]
    pub force: bool,
    /// Show every check of passing cases too.
    #[arg(long, short)]
    pub verbose: bool,
    /// Print only where the reports went and the final counts (for scripts).
    #[arg(long, short)]
    pub quiet: bool,
    /// Known failures (TOML: `[[known]]` entries with `case`, `reason`, `expires = YYYY-MM-DD`):
    /// reported as known, and they do not fail the run until they expire.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Sign the result as an in-toto attestation (attestation.intoto.jsonl beside the reports) with
    /// this Ed25519 private key (PKCS#8 PEM: `gws-conform keygen`, or `openssl genpkey -algorithm
    /// ed25519`).
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
    /// Warnings (inferred expectations a conforming server may answer otherwise) fail the run too.
    /// `strict = true` in a profile does the same.
    #[arg(long)]
    pub strict: bool,
    /// `human`: the console (with live progress when standard output is a terminal); `json`: the
    /// run's events as JSON lines on standard output as they happen (run, case and step started or
    /// finished; the run's tally last), every other line on standard error.
    #[arg(long, value_enum, default_value = "human")]
    pub message_format: MessageFormat,
    /// Rerun only the cases that failed or warned in this report.json (with the other filters, if
    /// any, applied too).
    #[arg(long, value_name = "REPORT")]
    pub failed_from: Option<PathBuf>,
    /// The whole run ends when this passes (`90s`, `10m`, `1h`), as Ctrl-C ends it, with exit code
    /// 124. Overrides `deadline` in the profile; default 30m.
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<gws_conform::load::duration::WrittenDuration>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    Human,
    Json,
}

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    filter: FilterArgs,
    /// Every column in full (the default fits 100 columns).
    #[arg(long)]
    wide: bool,
}

/// At least one case (or variant, or fault) at a time: 0 would run nothing and wait forever.
fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e}")),
    }
}

/// An address to listen on, where `localhost` means 127.0.0.1 (the name would otherwise be
/// refused by `SocketAddr`'s parser, though it is what most people type).
fn parse_listen_addr(text: &str) -> Result<std::net::SocketAddr, String> {
    let resolved = match text.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => text.to_string(),
    };
    resolved
        .parse()
        .map_err(|e| format!("{e}: give an IP address and port, e.g. 127.0.0.1:8090"))
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on: an IP address and port (`localhost:PORT` is read as 127.0.0.1:PORT).
    #[arg(long, default_value = "127.0.0.1:8090", value_parser = parse_listen_addr)]
    pub addr: std::net::SocketAddr,
    /// Directory of agents, places and devices (TOML). Default: the built-in one.
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// Deviate from the spec in exactly one way (see `gws-conform mutants --list`).
    #[arg(long)]
    pub fault: Option<String>,
    /// Differ in a conforming way (repeatable; see `gws-conform variants --list`).
    #[arg(long = "variant", value_name = "NAME")]
    pub variants: Vec<String>,
    /// Turn CSRF protection off (it is on by default, as profiles/reference.toml expects).
    #[arg(long)]
    pub no_csrf: bool,
}

#[derive(Args)]
pub struct VariantsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Only these variants (default: every one).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Only list the variants, with their descriptions and sources.
    #[arg(long)]
    pub list: bool,
    /// Variants run at once.
    #[arg(long, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Give the reason of every failing case.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Args)]
pub struct MutantsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Only list the faults.
    #[arg(long)]
    pub list: bool,
    /// Faults run at once.
    #[arg(long, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// List every case that caught each fault.
    #[arg(long, short)]
    pub verbose: bool,
}

/// One line to standard output through [`out::line`]; false once the pipe is closed, so that a
/// listing can stop early.
pub fn say(line: impl std::fmt::Display) -> bool {
    outln!("{line}");
    !out::is_closed()
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::ERROR
            } else {
                exit::PASS
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match runtime_for(&cli.command) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run::run(args).await,
            Command::List(args) => lint::list(&args.input, &args.filter, args.wide),
            Command::Lint(args) => lint::lint(&args),
            Command::Serve(args) => embedded::serve(args).await,
            Command::Mutants(args) => mutants::mutants(args).await,
            Command::Variants(args) => variants::variants(args).await,
            Command::Report(args) => report::report(&args),
            Command::Verify(args) => report::verify(&args),
            Command::Keygen(args) => attest::keygen(&args),
            Command::Attest(args) => attest::attest(&args),
            Command::Merge(args) => report::merge(&args),
            Command::Compare(args) => compare::compare(&args),
            Command::Baseline(args) => baseline::baseline(&args),
            Command::Suite(args) => suite::suite(&args),
            Command::Init(args) => init::init(args).await,
            Command::Doctor(args) => doctor::doctor(args).await,
        }
    });
    ExitCode::from(code)
}

/// The async runtime a command runs on. A run against a target of its own (no embedded server in
/// this process) runs on one thread: its work between two answers is short, and a single thread
/// saves the wake-up of another thread for every request and every answer (a worker thread drives
/// each connection otherwise). Measured side by side on 1,000 bench cases at `--jobs 2`: CPU 0.79x,
/// wall 0.82x (benches/RESULTS.md, third session). Everything that serves (the embedded reference
/// server, `serve`, `mutants`, `variants`) keeps the multi-threaded runtime.
fn runtime_for(command: &Command) -> std::io::Result<tokio::runtime::Runtime> {
    let external = match command {
        Command::Run(a) => {
            a.target.is_some()
                || a.input
                    .profile
                    .as_deref()
                    .is_some_and(gws_conform::load::Profile::names_target)
        }
        _ => false,
    };
    if external {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_must_be_at_least_one() {
        assert!(parse_jobs("0").is_err());
        assert_eq!(parse_jobs("3"), Ok(3));
        assert!(parse_jobs("x").is_err());
    }

    #[test]
    fn localhost_listens_on_127_0_0_1() {
        assert_eq!(
            parse_listen_addr("localhost:8091"),
            Ok("127.0.0.1:8091".parse().unwrap())
        );
        assert!(parse_listen_addr("[::1]:8091").is_ok());
        assert!(parse_listen_addr("example.com:80")
            .unwrap_err()
            .contains("give an IP address and port"));
    }
}

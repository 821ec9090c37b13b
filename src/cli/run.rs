//! `run`: load, plan, probe the target, run the cases while the console and report.json listen,
//! then render the other formats from report.json and decide the exit code.

use std::io::IsTerminal;
use std::path::PathBuf;

use gws_conform::execute::{preflight, Transport};
use gws_conform::load::{self, InputFile, Suite};
use gws_conform::plan;
use gws_conform::report::baseline::Baseline;
use gws_conform::report::console::Console;
use gws_conform::report::events::JsonLines;
use gws_conform::report::json::JsonReport;
use gws_conform::report::progress::Progress;
use gws_conform::report::tally::{counts_line, result_line};
use gws_conform::report::{
    write_formats_from, Format, Listener, RunInfo, SelectionInfo, TargetInfo,
};
use gws_conform::runner::{self, Halt};

use super::embedded::{self, Secrets};
use super::suite::{environment, load_or_report};
use super::{exit, MessageFormat, RunArgs};

pub async fn run(args: RunArgs) -> u8 {
    let stop = embedded::StopSignal::install();
    let checked = (args.target.as_deref().map(super::args_check::target))
        .transpose()
        .and_then(|_| {
            let dir = args.report_dir.as_deref();
            dir.map(|d| super::args_check::report_dir(d, args.force))
                .transpose()
        });
    if let Err(e) = checked {
        eprintln!("error: {e}");
        return exit::ERROR;
    }
    // A key that cannot sign is refused before any case runs.
    let sign = match args
        .sign
        .as_deref()
        .map(super::attest::read_signing_key)
        .transpose()
    {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let target_given = args.target.clone();
    let secrets = Secrets::generate();
    let env = environment(&secrets, target_given.is_some(), &args.input);
    let srcs = args.input.suite_sources(target_given.is_none());
    let mut suite = match load_or_report(&srcs, &env) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(path) = &args.failed_from {
        match super::rerun::failed_ids(path, suite.cases.iter().map(|c| &*c.id)) {
            Ok(ids) if ids.is_empty() => {
                outln!(
                    "nothing to rerun: {} has no failed or warned case",
                    path.display()
                );
                return exit::PASS;
            }
            Ok(ids) => suite.cases.retain(|c| ids.contains(&*c.id)),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        }
    }
    suite.profile.strict |= args.strict;
    if let Some(d) = &args.deadline {
        suite.profile.deadline = d.clone();
    }
    if suite.profile.agents.is_empty() && suite.profile.pool.is_empty() {
        // Every case that logs in would be skipped, and a run of skips must not look like a pass.
        eprintln!(
            "error: no agent credentials: set GWS_USERNAME and GWS_PASSWORD, or give a --profile with [agents.default]"
        );
        return exit::ERROR;
    }
    let selection = match super::suite::selection_or_report(&args.filter, &suite.cases) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // A run that selects nothing has tested nothing: never a pass (as nextest fails a run with no
    // tests). The filters are judged before the partition: a shard that happens to hold none of the
    // selected cases is a normal shard (an empty report that `merge` needs), not a typo.
    let unsharded = plan::Selection {
        partition: None,
        ..selection.clone()
    };
    if plan::plan(&suite.cases, &unsharded, &suite.profile)
        .cases
        .is_empty()
    {
        eprintln!("error: no case matched the selection; nothing was run");
        for s in selection.suggestions(&suite.cases) {
            eprintln!("  {s}");
        }
        eprintln!("  (`gws-conform list` shows every case with its spec elements and tags)");
        return exit::ERROR;
    }
    let baseline = match args.baseline.as_deref().map(Baseline::load).transpose() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    if let Some(b) = &baseline {
        let errors = b.check_cases(suite.cases.iter().map(|c| &*c.id));
        if !errors.is_empty() {
            for e in &errors {
                eprintln!("error: {e}");
            }
            return exit::ERROR;
        }
    }

    let target = target_given.or_else(|| {
        if args.input.profile.is_some() {
            suite.profile.target.clone()
        } else {
            None
        }
    });
    let (url, server) = match target {
        Some(t) => (t, None),
        None => match embedded::start_embedded(&secrets, None, &[]).await {
            Ok(s) => (s.url(), Some(s)),
            Err(e) => {
                eprintln!("error: cannot start the embedded reference server: {e}");
                return exit::ERROR;
            }
        },
    };
    let options = RunOptions {
        url,
        embedded: server.is_some(),
        jobs: args.jobs,
        report_dir: args.report_dir.clone(),
        verbose: args.verbose,
        quiet: args.quiet,
        message_format: args.message_format,
        filters: {
            let mut f = args.filter.describe();
            f.extend(
                args.failed_from
                    .iter()
                    .map(|p| format!("failed-from={}", p.display())),
            );
            f
        },
        baseline,
        sign,
    };
    let code = execute(suite, &selection, &options, stop).await;
    if let Some(s) = server {
        s.shutdown().await;
    }
    code
}

pub struct RunOptions {
    pub url: String,
    pub embedded: bool,
    pub jobs: Option<usize>,
    pub report_dir: Option<PathBuf>,
    pub verbose: bool,
    pub quiet: bool,
    pub message_format: MessageFormat,
    pub filters: Vec<String>,
    /// Known failures (`--baseline`).
    pub baseline: Option<Baseline>,
    /// The key that signs the result (`--sign`).
    pub sign: Option<ed25519_dalek::SigningKey>,
}

/// Plans and runs the suite against one target, writes the reports, and returns the exit code.
/// Takes the suite by value: once every case has run, its cases are dropped before the report is
/// read back and rendered, so a large suite is not held twice.
pub async fn execute(
    mut suite: Suite,
    selection: &plan::Selection,
    options: &RunOptions,
    stop: embedded::StopSignal,
) -> u8 {
    // The deadline counts from here: the preflight and every case are inside it.
    let halt = stop_or_deadline(stop, &suite.profile.deadline);
    let transport = match Transport::new(&options.url, &suite.profile) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let mut plan = plan::plan(&suite.cases, selection, &suite.profile);
    let jobs = options.jobs.unwrap_or_else(|| plan.default_jobs());
    let mut found = run_preflight(&transport, &plan, &suite).await;
    plan.round_trip_ms = round_trip_ms(&found);
    let transport = if found.send_csrf {
        transport.sending_csrf()
    } else {
        transport
    };
    // With the tokens the run will send: a target that wants them on CometD refuses a handshake
    // without them, which must not pass for "no WebSocket offered" or hide it.
    if found.blocking_reason().is_none() {
        skip_if_websocket_unoffered(&transport, &mut plan, &suite, &mut found).await;
    }
    let info = describe_run(&suite, selection, options, plan.cases.len(), jobs, &found);
    let report_dir = options
        .report_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&info.run_id));
    let report_path = report_dir.join("report.json");
    // The run's UTC date decides which baseline entries have expired.
    let baseline = options
        .baseline
        .as_ref()
        .map(|b| b.for_run(info.started_at.get(..10).unwrap_or_default()));
    let mut json = match JsonReport::create(&report_path) {
        Ok(r) => r.with_baseline(baseline.clone()),
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", report_path.display());
            return exit::ERROR;
        }
    };
    // An attestation left by an earlier run in this folder (`--force`) attests another report: the
    // HTML would show it as this one's. Removed; `--sign` writes this run's own.
    let stale = report_dir.join(gws_conform::report::attest::FILE_NAME);
    if let Err(e) = std::fs::remove_file(&stale) {
        if e.kind() != std::io::ErrorKind::NotFound {
            eprintln!("error: cannot remove {}: {e}", stale.display());
            return exit::ERROR;
        }
    }
    let mut listeners: Vec<Box<dyn Listener + '_>> = Vec::new();
    match options.message_format {
        MessageFormat::Json => {
            super::out::human_lines_to_stderr();
            listeners.push(Box::new(JsonLines::new(
                std::io::stdout(),
                baseline.clone(),
            )));
        }
        MessageFormat::Human if options.quiet => {}
        // On a terminal, live progress under the console's lines; elsewhere plain lines only.
        MessageFormat::Human
            if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() =>
        {
            let progress = Progress::new();
            let console = Console::new(progress.writer(), options.verbose);
            listeners.push(Box::new(console.with_baseline(baseline.clone())));
            listeners.push(Box::new(progress));
        }
        MessageFormat::Human => listeners.push(Box::new(
            Console::new(std::io::stdout(), options.verbose).with_baseline(baseline.clone()),
        )),
    }
    listeners.push(Box::new(&mut json));
    let outcome = match found.blocking_reason() {
        // Every case would fail for the same reason: none runs, and every report says why.
        Some(reason) => runner::not_run(&plan, info, &mut listeners, reason),
        None => runner::run(&suite, &plan, &transport, jobs, info, &mut listeners, halt).await,
    };
    drop(listeners);
    drop(plan);
    suite.cases = Vec::new();
    super::heap::give_back_freed();

    // Signed before the other formats are rendered, so that the HTML shows the attestation.
    let mut sign_error = None;
    if let (Some(key), None) = (&options.sign, json.error()) {
        match super::attest::sign_report(&report_path, key) {
            Ok(path) => outln!("attestation: {}", path.display()),
            Err(e) => sign_error = Some(e),
        }
    }
    let (summary, mut write_errors) = render_formats(&json, &report_path, &report_dir);
    write_errors.extend(sign_error.map(|e| e.to_string()));
    outln!("report: {}", report_path.display());
    if !options.quiet {
        outln!("also: {}", rendered_names(&report_dir));
    }
    for e in &write_errors {
        eprintln!("error: {e}");
    }
    conclude(&outcome, options.quiet, &found, &write_errors, summary)
}

/// The run's description as every report opens with it: its id and start, the target, the profile
/// (redacted), every input file with its hash, the selection and the preflight.
fn describe_run(
    suite: &Suite,
    selection: &plan::Selection,
    options: &RunOptions,
    planned: usize,
    jobs: usize,
    found: &preflight::Found,
) -> RunInfo {
    let started = std::time::SystemTime::now();
    let started_at = gws_conform::report::utc_timestamp(started);
    // A matrix file holds several cases: list it once. (The set borrows the suite's paths: a copy
    // of each would be held for as long as the list is built, a peak that grows with the suite.)
    let mut listed = std::collections::BTreeSet::new();
    let mut inputs: Vec<InputFile> = suite
        .cases
        .iter()
        .filter(|c| listed.insert(&c.file))
        .map(|c| InputFile {
            path: load::display_path(&c.file.path()),
            sha256: c.sha256.into(),
        })
        .collect();
    drop(listed);
    inputs.extend(suite.schemas.files.iter().map(|s| InputFile {
        path: load::display_path(&s.path),
        sha256: s.sha256.as_str().into(),
    }));
    inputs.extend(suite.inputs.iter().cloned());
    let run_id = format!(
        "{}-{}",
        started_at.replace([':', '-'], ""),
        &load::sha256_hex(format!("{started:?}{}", std::process::id()).as_bytes())[..8]
    );
    RunInfo {
        run_id: run_id.clone(),
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at,
        target: TargetInfo {
            // A profile value (it may carry user:password@).
            url: suite.redactor.redact(&options.url),
            embedded: options.embedded,
            // What the server said is outside data (masked by the preflight).
            server_version: found.server_version.clone(),
        },
        profile: suite.profile.redacted_summary(),
        inputs,
        suite: Some(suite.origin.clone()),
        selection: SelectionInfo {
            partition: selection.partition.map(|p| p.to_string()),
            filters: options.filters.clone(),
        },
        planned,
        jobs,
        preflight: Some(found.record.clone()),
    }
}

/// The formats that need the whole run, rendered from the finished report.json as `gws-conform
/// report` renders them: no listener keeps a copy of every case during the run. Returns the summary
/// (none when there is no report to render from) and every write error.
fn render_formats(
    json: &JsonReport,
    report_path: &std::path::Path,
    report_dir: &std::path::Path,
) -> (Option<gws_conform::report::Summary>, Vec<String>) {
    let mut write_errors: Vec<String> = Vec::new();
    // Rendered while report.json is read case by case, so the report is never held whole.
    let summary = match json.error() {
        Some(e) => {
            write_errors.push(format!("cannot write the report: {e}"));
            None
        }
        None => match write_formats_from(report_path, report_dir) {
            Ok((summary, errors)) => {
                write_errors.extend(errors.iter().map(ToString::to_string));
                Some(summary)
            }
            Err(e) => {
                write_errors.push(e.to_string());
                None
            }
        },
    };
    if summary.is_none() {
        write_errors.push(format!(
            "not written: {}: there is no report.json to render them from",
            rendered_names(report_dir)
        ));
    }
    (summary, write_errors)
}

/// The files of the formats rendered from report.json, for the messages that name them.
fn rendered_names(report_dir: &std::path::Path) -> String {
    Format::ALL
        .map(|f| report_dir.join(f.file_name()).display().to_string())
        .join(", ")
}

/// The run's last words on standard output and error, and its exit code.
fn conclude(
    outcome: &runner::RunOutcome,
    quiet: bool,
    found: &preflight::Found,
    write_errors: &[String],
    summary: Option<gws_conform::report::Summary>,
) -> u8 {
    let t = &outcome.tally;
    // One line from report.json's tally, the counts every report shows, with or without -q.
    let gap = if quiet { "" } else { "\n" };
    match &summary {
        Some(s) => outln!(
            "{gap}{}; finished in {:.2}s",
            result_line(s),
            s.duration_ms as f64 / 1000.0
        ),
        None => outln!(
            "{gap}case result: no report (see the errors). {}",
            counts_line(t)
        ),
    }
    let ran = t.passed + t.warned + t.failed;
    // Every selected case skipped is no verdict; an empty shard selected nothing to run.
    let no_verdict = ran == 0 && t.errors == 0 && t.total > 0;
    if no_verdict && !outcome.interrupted && outcome.unreachable.is_none() {
        eprintln!(
            "error: no case ran: all {} selected case(s) were skipped, so there is no verdict (see the reasons above)",
            t.total
        );
    }
    // The console said it on standard output; a quiet run says it here (the preflight already has).
    if let (true, Some(u), None) = (quiet, &outcome.unreachable, found.blocking_reason()) {
        eprintln!("error: the target could not be tested: {u}");
    }
    if let Some(Halt::Deadline(d)) = &outcome.halt {
        eprintln!(
            "error: the run's deadline ({d}) passed: {} case(s) not run; the report is incomplete",
            t.not_run
        );
    }
    match &outcome.halt {
        Some(Halt::Deadline(_)) => exit::DEADLINE,
        Some(Halt::Interrupted) => exit::INTERRUPTED,
        // The target answers, but the API is not under the URL given: a mistake in the input.
        None if found.record.outcome == gws_conform::record::preflight::PreflightOutcome::NoApi => {
            exit::ERROR
        }
        None => exit_code(write_errors, summary),
    }
}

/// The exit code of a run that was not stopped by the caller: by the verdict its report writes
/// (see [`exit::of_verdict`]), or 2 when the report could not be written.
fn exit_code(write_errors: &[String], summary: Option<gws_conform::report::Summary>) -> u8 {
    match summary {
        Some(s) if write_errors.is_empty() => exit::of_verdict(&s),
        _ => exit::ERROR,
    }
}

/// Ctrl-C, SIGTERM or the deadline, whichever comes first; the deadline counts from now.
fn stop_or_deadline(
    stop: embedded::StopSignal,
    deadline: &gws_conform::load::duration::WrittenDuration,
) -> impl std::future::Future<Output = Halt> {
    let until = tokio::time::Instant::now() + deadline.duration;
    let text = deadline.text.clone();
    async move {
        tokio::select! {
            _ = stop.wait() => Halt::Interrupted,
            _ = tokio::time::sleep_until(until) => Halt::Deadline(text),
        }
    }
}

/// With `transport = "websocket"` forced and a target whose handshake offers no WebSocket, the cases
/// that listen for notifications cannot be tested as the profile asks: they are skipped with the
/// reason (a long-polling-only Bayeux server is conforming), not failed one by one.
async fn skip_if_websocket_unoffered(
    transport: &Transport,
    plan: &mut plan::Plan<'_>,
    suite: &Suite,
    found: &mut preflight::Found,
) {
    let listens = |p: &plan::PlannedCase<'_>| {
        p.skip.is_none() && (p.case.listens || p.case.requires.iter().any(|r| r == "cometd"))
    };
    let Some(agent) = plan
        .cases
        .iter()
        .filter(|p| listens(p))
        .find_map(|p| suite.profile.agent(&p.case.agent_role).map(|(_, a)| a))
    else {
        return;
    };
    let Some((probe, reason)) =
        preflight::websocket_unoffered(transport, agent, &suite.redactor).await
    else {
        return;
    };
    eprintln!("hint: {reason}");
    found.record.probes.push(probe);
    found.record.hints.push(reason.clone());
    for p in plan.cases.iter_mut().filter(|p| listens(p)) {
        p.skip = Some(reason.as_str().into());
    }
}

/// The round trip the preflight saw: its quickest answered probe (each probe is one exchange, some on
/// a new connection), for the pool scheduler's expected durations.
fn round_trip_ms(found: &preflight::Found) -> Option<u64> {
    let answered = found.record.probes.iter().filter(|p| p.status.is_some());
    answered.map(|p| p.duration_ms).min()
}

/// Probes the target before any case (see `gws_conform::execute::preflight`) and says on standard
/// error what stops the run, and each hint about the profile.
async fn run_preflight(
    transport: &Transport,
    plan: &plan::Plan<'_>,
    suite: &Suite,
) -> preflight::Found {
    let users = preflight::users(plan, &suite.profile);
    let found = preflight::run(transport, &users, &suite.redactor).await;
    if let Some(reason) = found.blocking_reason() {
        eprintln!("error: preflight: {reason}; no case was run");
    }
    for h in &found.record.hints {
        eprintln!("hint: {h}");
    }
    found
}

//! `mutants`: the harness against its own control. The clean reference server must pass every
//! case; every fault must make at least one case fail. A fault no case catches is a hole in the
//! suite, and the fix is a better case, never a weaker fault.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use gws_conform::execute::Transport;
use gws_conform::plan::{self, Selection};
use gws_conform::record::Verdict;
use gws_conform::report::RunInfo;
use gws_conform::runner;
use gws_reference::Fault;

use super::embedded::{self, Secrets};
use super::run::load_or_report;
use super::{exit, MutantsArgs};

/// Each case's verdict and reason, by id.
struct Verdicts(BTreeMap<String, (Verdict, Option<String>)>);

pub async fn mutants(args: MutantsArgs) -> u8 {
    if args.list {
        for f in Fault::ALL {
            outln!("{:<40} {:<14} {}", f.name(), f.area(), f.description());
        }
        return exit::PASS;
    }
    let secrets = Secrets::generate();
    let env = secrets.env();
    let sources = gws_conform::load::Sources {
        cases_dir: args.input.cases.clone(),
        schemas_dir: args.input.schemas.clone(),
        profile: Some(
            args.input
                .profile
                .clone()
                .unwrap_or_else(|| embedded::REFERENCE_PROFILE.into()),
        ),
    };
    let suite = match load_or_report(&sources, &env) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });

    let variants: Vec<Option<Fault>> = std::iter::once(None)
        .chain(Fault::ALL.iter().copied().map(Some))
        .collect();
    let suite = &suite;
    let secrets = &secrets;
    let results: Vec<(Option<Fault>, Result<Verdicts, String>)> =
        futures_util::stream::iter(variants)
            .map(|fault| async move { (fault, run_against(suite, secrets, fault).await) })
            .buffered(jobs.max(1))
            .collect()
            .await;

    let mut ok = true;
    outln!(
        "\nkill matrix: {} faults against {} cases\n",
        Fault::ALL.len(),
        suite.cases.len()
    );
    outln!("| fault | area | by | cases |");
    outln!("|---|---|---|---|");
    for (fault, verdicts) in &results {
        let verdicts = match verdicts {
            Ok(v) => v,
            Err(e) => {
                ok = false;
                outln!(
                    "| {} | | error: {e} |",
                    fault.map_or("(clean)", |f| f.name())
                );
                continue;
            }
        };
        let with = |verdict: Verdict| -> Vec<&str> {
            verdicts
                .0
                .iter()
                .filter(|(_, (v, _))| *v == verdict)
                .map(|(id, _)| id.as_str())
                .collect()
        };
        let failed = with(Verdict::Fail);
        let warned = with(Verdict::Warn);
        let skipped = verdicts
            .0
            .values()
            .filter(|(v, _)| *v == Verdict::Skip)
            .count();
        match fault {
            None => {
                // Our own server makes one of the choices every case accepts: a warning on it is
                // a disagreement between the two, as much as a failure.
                if failed.is_empty() && warned.is_empty() {
                    outln!(
                        "| (clean server) | | | passes all {} cases ({skipped} skipped) |",
                        verdicts.0.len()
                    );
                } else {
                    ok = false;
                    outln!(
                        "| (clean server) | | | **FAILS** {}; **WARNS** {} |",
                        failed.join(", "),
                        warned.join(", ")
                    );
                    for id in failed.iter().chain(&warned) {
                        if let Some((_, Some(reason))) = verdicts.0.get(*id) {
                            eprintln!("clean server fails {id}: {reason}");
                        }
                    }
                }
            }
            Some(f) => {
                // A failure catches a fault; a warning only flags it for review (the case is
                // inferred: a conforming server might answer so too).
                let (by, ids) = match (failed.is_empty(), warned.is_empty()) {
                    (false, _) => ("failure", failed),
                    (true, false) => ("warning only", warned),
                    (true, true) => {
                        ok = false;
                        outln!("| {} | {} | **NOT CAUGHT** | |", f.name(), f.area());
                        continue;
                    }
                };
                outln!(
                    "| {} | {} | {by} | {} |",
                    f.name(),
                    f.area(),
                    caught_by(&ids, args.verbose)
                );
            }
        }
    }
    let count = |verdict: Verdict| {
        results
            .iter()
            .filter(|(f, v)| {
                f.is_some()
                    && v.as_ref()
                        .is_ok_and(|v| v.0.values().any(|(x, _)| *x == verdict))
            })
            .count()
    };
    let caught = count(Verdict::Fail);
    let flagged = results
        .iter()
        .filter(|(f, v)| {
            f.is_some()
                && v.as_ref().is_ok_and(|v| {
                    v.0.values().any(|(x, _)| *x == Verdict::Warn)
                        && !v.0.values().any(|(x, _)| *x == Verdict::Fail)
                })
        })
        .count();
    outln!(
        "\n{caught}/{} faults caught by a failure, {flagged} more flagged by a warning only",
        Fault::ALL.len()
    );
    if ok {
        exit::PASS
    } else {
        exit::FAIL
    }
}

/// `3 cases: a, b, c`, or the first few and a count when the list is long (all with --verbose).
fn caught_by(ids: &[&str], verbose: bool) -> String {
    const SHOWN: usize = 3;
    let n = ids.len();
    let noun = if n == 1 { "case" } else { "cases" };
    if verbose || n <= SHOWN {
        format!("{n} {noun}: {}", ids.join(", "))
    } else {
        format!(
            "{n} {noun}: {}, +{} more",
            ids[..SHOWN].join(", "),
            n - SHOWN
        )
    }
}

async fn run_against(
    suite: &gws_conform::load::Suite,
    secrets: &Secrets,
    fault: Option<Fault>,
) -> Result<Verdicts, String> {
    let server = embedded::start_embedded(secrets, fault)
        .await
        .map_err(|e| format!("cannot start the reference server: {e}"))?;
    let transport = Transport::new(&server.url(), &suite.profile)?;
    let plan = plan::plan(&suite.cases, &Selection::default(), &suite.profile);
    let run_id = format!("mutant-{}", fault.map_or("clean", |f| f.name()));
    let info = RunInfo::unreported(
        &run_id,
        &server.url(),
        true,
        &suite.profile,
        plan.cases.len(),
        4,
    );
    let (results, outcome) = runner::run_collecting(suite, &plan, &transport, 4, info).await;
    if let Some(u) = outcome.unreachable {
        return Err(u);
    }
    let verdicts = Verdicts(
        results
            .into_iter()
            .map(|r| (r.id, (r.verdict, r.reason)))
            .collect(),
    );
    server.shutdown().await;
    Ok(verdicts)
}

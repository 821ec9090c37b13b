//! `mutants`: the harness against its own control. The clean reference server must pass every
//! case; every fault must make at least one case fail. A fault no case catches is a hole in the
//! suite, and the fix is a better case, never a weaker fault.

use futures_util::StreamExt;
use gws_conform::record::Verdict;
use gws_reference::Fault;

use super::against::{self, Setup, Verdicts};
use super::embedded::Secrets;
use super::{exit, say, MutantsArgs};

pub async fn mutants(args: MutantsArgs) -> u8 {
    if args.list {
        for f in Fault::ALL {
            // A closed pipe (`| head -1`) stops the listing instead of panicking.
            if !say(format!(
                "{:<40} {:<14} {}",
                f.name(),
                f.area(),
                f.description()
            )) {
                break;
            }
        }
        return exit::PASS;
    }
    let secrets = Secrets::generate();
    let suite = match against::load_suite(&args.input, &secrets) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let jobs = against::jobs(args.jobs);

    let variants: Vec<Option<Fault>> = std::iter::once(None)
        .chain(Fault::ALL.iter().copied().map(Some))
        .collect();
    let suite = &suite;
    let secrets = &secrets;
    let results: Vec<(Option<Fault>, Result<Verdicts, String>)> =
        futures_util::stream::iter(variants)
            .map(|fault| async move {
                let setup = Setup {
                    fault,
                    ..Setup::default()
                };
                let run_id = format!("mutant-{}", fault.map_or("clean", |f| f.name()));
                (
                    fault,
                    against::run_against(suite, secrets, &setup, &run_id).await,
                )
            })
            .buffered(jobs)
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
                    (false, _) => ("failure".to_string(), failed),
                    // A fault only flagged says which source leaves it open; one that names none is
                    // a hole (a documented rule only warned, or a catalogue entry to write).
                    (true, false) => match f.left_open() {
                        Some(source) => (format!("warning only (left open by {source})"), warned),
                        None => {
                            ok = false;
                            (
                                "warning only (**no source leaves it open**)".to_string(),
                                warned,
                            )
                        }
                    },
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

//! `variants`: the harness against conforming deployments. Each variant of the reference server's
//! catalogue is a way a server may differ where the spec allows it, so the suite must pass against
//! every one. A case that fails a variant demands more than the spec does: the fix is the case (or
//! its provenance), never a narrower variant.

use futures_util::StreamExt;
use gws_conform::load::Transport as CometdTransport;
use gws_conform::record::Verdict;
use gws_reference::Variant;

use super::against::{self, Setup, Verdicts};
use super::embedded::{parse_named, Secrets};
use super::{exit, say, VariantsArgs};

pub async fn variants(args: VariantsArgs) -> u8 {
    let chosen = match args
        .names
        .iter()
        .map(|n| parse_named("variant", n, Variant::ALL, Variant::name, "variants"))
        .collect::<Result<Vec<Variant>, String>>()
    {
        Ok(v) if v.is_empty() => Variant::ALL.to_vec(),
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    if args.list {
        for v in &chosen {
            let line = format!(
                "{:<30} {:<14} {}\n{:<45} source: {}",
                v.name(),
                v.area(),
                v.description(),
                "",
                v.source()
            );
            // A closed pipe (`| head -1`) stops the listing instead of panicking.
            if !say(line) {
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
    let (suite, secrets) = (&suite, &secrets);
    // The default server first: a variant's failures only mean something if it passes.
    let runs: Vec<Option<Variant>> = std::iter::once(None)
        .chain(chosen.iter().copied().map(Some))
        .collect();
    let results: Vec<(Option<Variant>, Result<Verdicts, String>)> =
        futures_util::stream::iter(runs)
            .map(|v| async move {
                let run_id = format!("variant-{}", v.map_or("default", |v| v.name()));
                let verdicts = against::run_against(suite, secrets, &setup(v), &run_id).await;
                (v, verdicts)
            })
            .buffered(against::jobs(args.jobs))
            .collect()
            .await;
    let ok = print_table(&results, suite.cases.len());
    if args.verbose {
        print_reasons(&results);
    }
    if ok {
        exit::PASS
    } else {
        exit::FAIL
    }
}

/// Every server runs with CSRF on (as `profiles/reference.toml` says); `cometd-csrf` needs the
/// long-polling transport, since only POSTs carry the token (a WebSocket upgrade is a GET); a slow
/// lab's profile sets a longer `notification_window_ms` (as `slow-lab` asks).
fn setup(variant: Option<Variant>) -> Setup {
    let cometd = (variant == Some(Variant::CometdCsrf)).then_some(CometdTransport::LongPolling);
    let notification_window = variant.and_then(|v| v.notification_window());
    Setup {
        fault: None,
        variants: variant.into_iter().collect(),
        cometd,
        notification_window,
    }
}

/// Pass, fail, skip and any other verdict (the Warn verdict of inferred expectations) counts.
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
    warned: usize,
}

fn tally(v: &Verdicts) -> Tally {
    let mut t = Tally {
        passed: 0,
        failed: 0,
        skipped: 0,
        warned: 0,
    };
    for (verdict, _) in v.0.values() {
        // An if-chain, not a match: a verdict added later counts as a warning without an edit here.
        if *verdict == Verdict::Pass {
            t.passed += 1;
        } else if *verdict == Verdict::Fail {
            t.failed += 1;
        } else if *verdict == Verdict::Skip {
            t.skipped += 1;
        } else {
            t.warned += 1;
        }
    }
    t
}

/// The Markdown table (ready for the README); false when any server failed a case or did not run.
fn print_table(results: &[(Option<Variant>, Result<Verdicts, String>)], cases: usize) -> bool {
    let mut ok = true;
    say(format!(
        "\nconforming variants: {} against {cases} cases\n",
        results.len().saturating_sub(1)
    ));
    say("| variant | area | passed | failed | skipped | warned | failing cases |");
    say("|---|---|---|---|---|---|---|");
    for (variant, verdicts) in results {
        let (name, area) = variant.map_or(("(default server)", ""), |v| (v.name(), v.area()));
        let verdicts = match verdicts {
            Ok(v) => v,
            Err(e) => {
                ok = false;
                say(format!("| {name} | {area} | | | | | **error**: {e} |"));
                continue;
            }
        };
        let t = tally(verdicts);
        let failing = verdicts.with(Verdict::Fail);
        ok &= failing.is_empty();
        say(format!(
            "| {name} | {area} | {} | {} | {} | {} | {} |",
            t.passed,
            t.failed,
            t.skipped,
            t.warned,
            failing.join(", ")
        ));
    }
    let clean = results
        .iter()
        .filter(|(v, r)| v.is_some() && r.as_ref().is_ok_and(|r| r.with(Verdict::Fail).is_empty()))
        .count();
    say(format!(
        "\n{clean}/{} variants pass every case",
        results.len().saturating_sub(1)
    ));
    ok
}

/// Each failing case of each server, with the reason the harness gives.
fn print_reasons(results: &[(Option<Variant>, Result<Verdicts, String>)]) {
    for (variant, verdicts) in results {
        let Ok(verdicts) = verdicts else { continue };
        let failing = verdicts.with(Verdict::Fail);
        if failing.is_empty() {
            continue;
        }
        let name = variant.map_or("(default server)", |v| v.name());
        say(format!("\n### {name}: {} failing\n", failing.len()));
        for id in failing {
            let reason = verdicts.reason(id).unwrap_or("(no reason given)");
            say(format!("- `{id}`: {}", reason.replace('\n', "\n    ")));
        }
    }
}

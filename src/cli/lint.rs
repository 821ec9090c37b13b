//! `lint` and `list`: the suite loaded and checked, or listed as a run would plan it, without a
//! server.

use gws_conform::load::{self, Suite};
use gws_conform::plan;

use super::embedded::Secrets;
use super::suite::{environment, load_or_report};
use super::{exit, FilterArgs, InputArgs};

/// Prints the suite's warnings (roles), for `lint` and `list`.
fn print_warnings(suite: &Suite) {
    for w in &suite.warnings {
        eprintln!("warning: {w}");
    }
}

pub fn lint(input: &InputArgs) -> u8 {
    let env = environment(&Secrets::generate(), false, input);
    let sources = input.suite_sources(input.profile.is_none());
    match load_or_report(&sources, &env) {
        Ok(suite) => {
            print_warnings(&suite);
            // Against a real target these cases are skipped, not refused: a misspelt name must not
            // pass unnoticed.
            for c in suite.cases.iter().filter(|c| !c.needs_env().is_empty()) {
                eprintln!(
                    "warning: {}: case `{}` names unset environment variables ({}); against this target it will be skipped",
                    load::display_path(&c.file.path()),
                    c.id,
                    c.needs_env().join(", ")
                );
            }
            outln!(
                "ok: {} cases and {} schemas load cleanly ({})",
                suite.cases.len(),
                suite.schemas.files.len(),
                super::suite::describe(&sources)
            );
            // Not a problem of the files: lab content this profile has not set yet.
            let waiting: Vec<&gws_conform::model::CaseOutline> = suite
                .cases
                .iter()
                .filter(|c| !c.needs_lab().is_empty())
                .collect();
            if !waiting.is_empty() {
                let names: std::collections::BTreeSet<&str> = waiting
                    .iter()
                    .flat_map(|c| c.needs_lab())
                    .map(|n| n.variable.as_str())
                    .collect();
                outln!(
                    "note: {} case(s) wait for lab content the profile's [vars] does not set: {} (`doctor` lists what each names)",
                    waiting.len(),
                    names.into_iter().collect::<Vec<_>>().join(", ")
                );
            }
            exit::PASS
        }
        Err(code) => code,
    }
}

pub fn list(input: &InputArgs, filter: &FilterArgs, wide: bool) -> u8 {
    let env = environment(&Secrets::generate(), false, input);
    let suite = match load_or_report(&input.suite_sources(input.profile.is_none()), &env) {
        Ok(s) => s,
        Err(code) => return code,
    };
    print_warnings(&suite);
    let selection = match super::suite::selection_or_report(filter, &suite.cases) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let p = plan::plan(&suite.cases, &selection, &suite.profile);
    super::list::print(&p, wide);
    exit::PASS
}

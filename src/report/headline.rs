//! The summary texts every format opens with: the verdict in a word (and as a machine word), and
//! the sentence under it. One module, so that HTML, JUnit, Markdown and TAP never disagree on what a
//! run concluded, and none says a bare PASS over a warning or a sample that was not tested.

use super::coverage::SampleOutcome;
use super::json::{ReportHead, Summary};
use crate::record::KnownStatus;

/// The run's verdict as a machine word (a CSS class): `pass` only when nothing failed, nothing warned
/// and every sample the run covers was tested in full; `warn` for a pass that needs review or did not
/// test everything; `fail`; `incomplete`.
pub fn verdict_class(s: &Summary) -> &'static str {
    if !s.complete {
        "incomplete"
    } else if !s.ok {
        "fail"
    } else if s.tally.warned > 0
        || s.untested_samples().next().is_some()
        || s.count_known(KnownStatus::Known) > 0
    {
        "warn"
    } else {
        "pass"
    }
}

/// Shared by the renderers: a one-line verdict an auditor reads first, and the sentence under it.
/// Never a bare PASS over a warning or a sample that was not tested: "PASS, 1 sample not tested".
pub fn headline(report: &ReportHead) -> (String, String) {
    let s = &report.summary;
    let untested: Vec<&SampleOutcome> = s.untested_samples().collect();
    let mut text = opening(report);
    let caveats = caveats(s, &untested);
    if !caveats.is_empty() {
        text.push_str(&format!(" {}.", caveats.join("; ")));
    }
    let mut word = word(s, &untested);
    // A filtered run judged only what it selected: its samples are the selection's.
    if s.complete && s.ok && !report.run.selection.filters.is_empty() {
        word.push_str(&format!(
            " (selected cases only: {})",
            report.run.selection.filters.join(" ")
        ));
    }
    (word, text)
}

/// The verdict in a word, with what a PASS does not cover.
fn word(s: &Summary, untested: &[&SampleOutcome]) -> String {
    let t = &s.tally;
    let mut word = if !s.complete {
        "INCOMPLETE".to_string()
    } else if s.ok {
        "PASS".to_string()
    } else {
        "FAIL".to_string()
    };
    if s.complete && s.ok {
        if t.warned > 0 {
            word.push_str(&format!(
                ", {} warning{} to review",
                t.warned,
                plural(t.warned)
            ));
        }
        let known = s.count_known(KnownStatus::Known);
        if known > 0 {
            word.push_str(&format!(
                ", {known} known failure{} tolerated",
                plural(known)
            ));
        }
        if !untested.is_empty() {
            let names: Vec<&str> = untested.iter().map(|u| u.element.as_str()).collect();
            word.push_str(&format!(
                ", {} sample{} not tested in full ({})",
                untested.len(),
                plural(untested.len()),
                names.join(", ")
            ));
        }
    }
    word
}

/// The first sentence: which target, and what it failed (or why there is no verdict).
fn opening(report: &ReportHead) -> String {
    let s = &report.summary;
    let t = &s.tally;
    let target = match &report.run.target.server_version {
        Some(v) => format!("{} (server {v})", report.run.target.url),
        None => report.run.target.url.clone(),
    };
    let ran = t.total.saturating_sub(t.not_run);
    if !s.complete {
        match &s.unreachable {
            Some(u) => format!("The target {target} could not be tested ({u}); no verdict."),
            None => format!(
                "The run stopped early (interrupted, or its deadline passed) after {ran} of {} planned cases; the verdict covers only those, and each case not run says why.",
                report.run.planned
            ),
        }
    } else if s.ok && s.count_known(KnownStatus::Known) > 0 {
        format!(
            "The target {target} failed no case the baseline does not tolerate: {} of {} passed.",
            t.passed, t.total
        )
    } else if s.ok {
        format!(
            "The target {target} failed no case: {} of {} passed.",
            t.passed, t.total
        )
    } else {
        format!(
            "The target {target} failed {} of {} cases.",
            s.unexcused_failures(),
            t.total
        )
    }
}

/// Whatever the verdict does not say by itself: warnings, the baseline's doing, what did not run.
fn caveats(s: &Summary, untested: &[&SampleOutcome]) -> Vec<String> {
    let t = &s.tally;
    let mut extra = Vec::new();
    if t.warned > 0 {
        extra.push(format!(
            "{} warning(s): an inferred expectation was not met, which a conforming server may do; review them (they fail under --strict)",
            t.warned
        ));
    }
    let known = s.count_known(KnownStatus::Known);
    if known > 0 {
        extra.push(format!(
            "{known} known failure(s) tolerated by the baseline"
        ));
    }
    let fixed = s.count_known(KnownStatus::Fixed);
    if fixed > 0 {
        extra.push(format!(
            "{fixed} known failure(s) now pass: remove them from the baseline"
        ));
    }
    if t.skipped > 0 {
        extra.push(format!(
            "{} skipped (the target profile lacks a capability or variable)",
            t.skipped
        ));
    }
    if let Some(lab) = &s.waiting_for_lab {
        extra.push(lab.sentence());
    }
    if t.errors > 0 {
        extra.push(format!(
            "{} error(s) (setup): a step that only serves the case went wrong, so it could not be tested",
            t.errors
        ));
    }
    if t.expired > 0 {
        extra.push(format!(
            "{} of the failures were known failures whose baseline entry expired",
            t.expired
        ));
    }
    for (why, n) in &t.not_run_why {
        extra.push(format!("{n} not run: {why}"));
    }
    // Counts only: the cases that did not run are named, each reason once, where the reports list
    // them (a preflight reason shared by every case was repeated here once per sample).
    for u in untested {
        extra.push(format!(
            "{} {}: {} of {} case(s) did not run",
            u.element,
            u.status.label(),
            u.cases.saturating_sub(u.ran),
            u.cases
        ));
    }
    extra
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

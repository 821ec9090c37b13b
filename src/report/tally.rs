//! The run's counts, computed once (by report.json's writer as cases finish, or by `merge` from
//! the shards' cases) and rendered by every output from [`Summary::tally`]: the console's last line,
//! `-q`, summary.md, the HTML page, JUnit, TAP and `merge`. None counts on its own, so none can
//! contradict another, nor the exit code, which is decided from the same summary ([`Outcome`]).

use super::baseline::BaselineInfo;
pub use super::summary::Outcome;
use super::summary::Summary;
use crate::record::{CaseResult, KnownOutcome, Tally, Verdict};

/// Counts cases as they come, judging each against the baseline the run was given.
#[derive(Debug, Default)]
pub struct Counter {
    pub tally: Tally,
    /// What became of each baseline entry whose case was seen.
    pub known: Vec<KnownOutcome>,
}

impl Counter {
    pub fn add(&mut self, case: &CaseResult, baseline: Option<&BaselineInfo>) {
        self.add_judged(case, baseline.and_then(|b| b.judge(case)));
    }

    /// [`Counter::add`], with what the baseline made of the case already known.
    pub fn add_judged(&mut self, case: &CaseResult, known: Option<KnownOutcome>) {
        let reason = (case.verdict == Verdict::NotRun)
            .then_some(case.reason.as_deref())
            .flatten();
        self.tally
            .add_judged(case.verdict, known.as_ref().map(|k| k.status), reason);
        self.known.extend(known);
    }
}

/// Every count, each under its own name, in one line: `130 passed; 1 warnings; 1 failed (1 known
/// failure expired); 2 known failures; 0 errors (setup); 3 skipped; 1 not run (why)`.
pub fn counts_line(t: &Tally) -> String {
    let failed = if t.expired > 0 {
        format!("{} failed ({} known failure expired)", t.failed, t.expired)
    } else {
        format!("{} failed", t.failed)
    };
    let not_run = match t.not_run_why.len() {
        0 => format!("{} not run", t.not_run),
        1 => format!(
            "{} not run ({})",
            t.not_run,
            t.not_run_why.keys().next().map_or("", String::as_str)
        ),
        n => format!(
            "{} not run ({n} reasons, each given with its case)",
            t.not_run
        ),
    };
    format!(
        "{} passed; {} warnings; {failed}; {} known failures; {} errors (setup); {} skipped; {not_run}",
        t.passed, t.warned, t.known, t.errors, t.skipped
    )
}

/// The last line of a run (and of `merge`): the outcome in a word, then every count.
pub fn result_line(s: &Summary) -> String {
    let mut line = format!(
        "case result: {}. {}",
        Outcome::of(s).word(),
        counts_line(&s.tally)
    );
    if s.tally.fixed > 0 {
        line.push_str(&format!(
            "; {} known failures now pass (remove them from the baseline)",
            s.tally.fixed
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::KnownStatus;

    #[test]
    fn the_counts_partition_the_cases_and_each_has_its_name() {
        let mut t = Tally::default();
        t.add(Verdict::Pass);
        t.add_judged(Verdict::Pass, Some(KnownStatus::Fixed), None);
        t.add(Verdict::Warn);
        t.add(Verdict::Fail);
        t.add_judged(Verdict::Fail, Some(KnownStatus::Expired), None);
        t.add_judged(Verdict::Fail, Some(KnownStatus::Known), None);
        t.add(Verdict::Skip);
        t.add_judged(Verdict::NotRun, None, Some("the deadline passed"));
        assert_eq!(t.total, 8);
        assert_eq!(
            t.passed + t.warned + t.failed + t.known + t.errors + t.skipped + t.not_run,
            t.total
        );
        assert_eq!((t.failed, t.expired, t.known, t.fixed), (2, 1, 1, 1));
        assert_eq!(
            counts_line(&t),
            "2 passed; 1 warnings; 2 failed (1 known failure expired); 1 known failures; 0 errors (setup); 1 skipped; 1 not run (the deadline passed)"
        );
    }
}

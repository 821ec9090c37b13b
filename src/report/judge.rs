//! The run's summary judged from its cases: the tally, the baseline's outcomes, each sample's
//! status and the verdict. One accumulator that the report writer, `merge` and `verify`'s
//! re-derivation all feed, so that none of them has its own copy of the rules.

use super::baseline::BaselineInfo;
use super::coverage::Coverage;
use super::json::Summary;
use crate::record::{CaseResult, KnownOutcome, Tally};

/// What a summary is judged from, collected case by case (a large report is never held whole).
#[derive(Debug, Default)]
pub struct Judgement {
    baseline: Option<BaselineInfo>,
    tally: Tally,
    known: Vec<KnownOutcome>,
    coverage: Coverage,
}

impl Judgement {
    /// Cases are judged against this known-failures baseline, when the run had one.
    pub fn new(baseline: Option<BaselineInfo>) -> Judgement {
        Judgement {
            baseline,
            tally: Tally::default(),
            known: Vec::new(),
            coverage: Coverage::new(),
        }
    }

    pub fn add(&mut self, case: &CaseResult) {
        self.tally.add(case.verdict);
        if let Some(k) = self.baseline.as_ref().and_then(|b| b.judge(case)) {
            self.known.push(k);
        }
        self.coverage.add(case);
    }

    /// The verdicts counted so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// The summary of the cases added, with `tally` (the run's own count, which the writer takes
    /// from the runner; `None`: the count of the cases added).
    pub fn summary(
        self,
        tally: Option<Tally>,
        interrupted: bool,
        unreachable: Option<String>,
        finished_at: String,
        duration_ms: u64,
    ) -> Summary {
        Summary::new(
            tally.unwrap_or(self.tally),
            interrupted,
            unreachable,
            self.known,
            finished_at,
            duration_ms,
        )
        .with_samples(&self.coverage)
    }
}

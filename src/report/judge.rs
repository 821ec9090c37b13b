//! The run's summary judged from its cases: the tally, the baseline's outcomes, each sample's
//! status and the verdict. One accumulator that the report writer, `merge` and `verify`'s
//! re-derivation all feed, so that none of them has its own copy of the rules.

use super::baseline::BaselineInfo;
use super::coverage::Coverage;
use super::summary::Summary;
use super::tally::Counter;
use crate::record::{CaseResult, Tally};

/// What a summary is judged from, collected case by case (a large report is never held whole).
#[derive(Debug, Default)]
pub struct Judgement {
    baseline: Option<BaselineInfo>,
    /// The tally, each case counted with what became of its baseline entry.
    counter: Counter,
    coverage: Coverage,
}

impl Judgement {
    /// Cases are judged against this known-failures baseline, when the run had one.
    pub fn new(baseline: Option<BaselineInfo>) -> Judgement {
        Judgement {
            baseline,
            counter: Counter::default(),
            coverage: Coverage::new(),
        }
    }

    pub fn add(&mut self, case: &CaseResult) {
        let known = self.baseline.as_ref().and_then(|b| b.judge(case));
        self.coverage.add(case, known.is_some());
        self.counter.add_judged(case, known);
    }

    /// The verdicts counted so far.
    pub fn tally(&self) -> &Tally {
        &self.counter.tally
    }

    /// The summary of the cases added, with `tally` (`None`: the count of the cases added, judged
    /// against the baseline, which is what every writer passes: the one tally every output shows).
    pub fn summary(
        self,
        tally: Option<Tally>,
        interrupted: bool,
        unreachable: Option<String>,
        finished_at: String,
        duration_ms: u64,
    ) -> Summary {
        let Counter {
            tally: counted,
            known,
        } = self.counter;
        Summary::new(
            tally.unwrap_or(counted),
            interrupted,
            unreachable,
            known,
            finished_at,
            duration_ms,
        )
        .with_samples(&self.coverage)
    }
}

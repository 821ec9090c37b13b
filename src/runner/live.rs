//! What a running case tells the run as it happens, for the events listeners hear live: the case
//! started, each of its steps finished, the case finished.

use tokio::sync::mpsc::UnboundedSender;

use super::Reach;
use crate::record::{CaseResult, StepResult};
use crate::report::StepDone;

/// A message from a running case to the run's event loop, by case index.
pub(super) enum Live {
    Started(usize),
    Step(usize, StepDone),
    Finished(usize, Box<CaseResult>, Reach),
}

/// Where a case's steps are told: set around the case's future, so the step loop needs no extra
/// parameter and a case run outside a run (tests) tells no one.
#[derive(Clone)]
pub(super) struct StepSink {
    index: usize,
    tx: UnboundedSender<Live>,
}

impl StepSink {
    pub(super) fn new(index: usize, tx: UnboundedSender<Live>) -> StepSink {
        StepSink { index, tx }
    }
}

tokio::task_local! {
    pub(super) static STEPS: StepSink;
}

/// Tells the run that a step finished, if the case runs within one.
pub(super) fn step_finished(step: &StepResult) {
    let _ = STEPS.try_with(|s| s.tx.send(Live::Step(s.index, StepDone::of(step))));
}

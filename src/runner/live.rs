//! What a running case tells the run as it happens, for the events listeners hear live: the case
//! started, each of its steps finished, the case finished.

use tokio::sync::mpsc::UnboundedSender;

use super::blank::blank_result;
use super::{emit, Reach};
use crate::plan::Plan;
use crate::record::{CaseResult, StepResult, Tally, Verdict};
use crate::report::{Event, Listener, StepDone};

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

/// What the run has heard from its cases, passing each message on to the listeners as an event
/// the moment it arrives.
pub(super) struct Heard<'p> {
    plan: &'p Plan<'p>,
    pub(super) tally: Tally,
    pub(super) reach: Reach,
    /// Which cases have finished: the rest are reported not run if the run stops.
    finished: Vec<bool>,
}

impl<'p> Heard<'p> {
    pub(super) fn new(plan: &'p Plan<'p>) -> Heard<'p> {
        Heard {
            plan,
            tally: Tally::default(),
            reach: Reach::default(),
            finished: vec![false; plan.cases.len()],
        }
    }

    pub(super) fn pass_on(&mut self, live: Live, listeners: &mut [Box<dyn Listener + '_>]) {
        let total = self.plan.cases.len();
        let id = |i: usize| &*self.plan.cases[i].case.id;
        match live {
            Live::Started(index) => emit(
                listeners,
                &Event::CaseStarted {
                    index,
                    total,
                    id: id(index),
                },
            ),
            Live::Step(index, step) => emit(
                listeners,
                &Event::StepFinished {
                    index,
                    case_id: id(index),
                    step: &step,
                },
            ),
            Live::Finished(index, result, r) => {
                self.reach.merge(r);
                self.finish(index, &result, listeners);
            }
        }
    }

    /// Every case that has not finished, reported not run with `reason`.
    pub(super) fn not_run(&mut self, reason: &str, listeners: &mut [Box<dyn Listener + '_>]) {
        for index in 0..self.finished.len() {
            if !self.finished[index] {
                let header = &self.plan.cases[index].case.header;
                let mut result = blank_result(header, Verdict::NotRun);
                result.reason = Some(reason.to_string());
                self.finish(index, &result, listeners);
            }
        }
    }

    fn finish(
        &mut self,
        index: usize,
        result: &CaseResult,
        listeners: &mut [Box<dyn Listener + '_>],
    ) {
        self.tally.add(result.verdict);
        self.finished[index] = true;
        let total = self.finished.len();
        emit(
            listeners,
            &Event::CaseFinished {
                index,
                total,
                result,
            },
        );
    }
}

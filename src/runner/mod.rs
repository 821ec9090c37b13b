//! Drives a run: executes each planned case, checks every step, and emits events in case order
//! whatever order the cases finished in. Reporters only listen; adding one never touches this file.

mod blank;
mod case;
mod cometd;
mod dispatch;
mod lab_locks;
mod live;
pub mod record;
mod window;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::execute::Transport;
use crate::load::Suite;
use crate::plan::Plan;
use crate::record::{CaseResult, Exchange, Tally, Verdict};
use crate::report::{Event, Listener, RunInfo};
use case::run_case;
use live::Live;

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub tally: Tally,
    /// The target could not be used: no request got any answer and at least one could not connect,
    /// or it stopped answering midway (see `crate::execute::liveness`), or the preflight said so.
    pub unreachable: Option<String>,
    /// Stopped early by the caller (Ctrl-C, SIGTERM, the deadline): the report covers what finished.
    pub interrupted: bool,
    /// Why the caller stopped it, when it did.
    pub halt: Option<Halt>,
}

/// Why the caller's `stop` future ended a run: it decides the reason given to every case not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Halt {
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// The run's deadline (as the user wrote it, `90s`) passed.
    Deadline(String),
}

impl Halt {
    fn not_run_reason(&self) -> String {
        match self {
            Halt::Interrupted => "the run was stopped before this case ran".to_string(),
            Halt::Deadline(d) => format!("the run's deadline passed ({d}) before this case ran"),
        }
    }
}

/// Reports every planned case as not run, with `reason`, and the run as one whose target could not
/// be used: for a run the preflight stopped. Every listener hears a whole run (started, each case,
/// finished), so every report is written as for any other run.
pub fn not_run(
    plan: &Plan<'_>,
    info: RunInfo,
    listeners: &mut [Box<dyn Listener + '_>],
    reason: &str,
) -> RunOutcome {
    emit(listeners, &Event::RunStarted { info: &info });
    drop(info);
    let mut tally = Tally::default();
    let total = plan.cases.len();
    for (i, planned) in plan.cases.iter().enumerate() {
        let mut r = blank::blank_result(&planned.case.header, Verdict::NotRun);
        r.reason = Some(reason.to_string());
        tally.add(r.verdict);
        emit(
            listeners,
            &Event::CaseFinished {
                index: i,
                total,
                result: &r,
            },
        );
    }
    emit(
        listeners,
        &Event::RunFinished {
            tally: &tally,
            interrupted: false,
            unreachable: Some(reason),
        },
    );
    RunOutcome {
        tally,
        unreachable: Some(reason.to_string()),
        interrupted: false,
        halt: None,
    }
}

/// Runs the plan with up to `jobs` cases at once (never two of one serial group). `stop` ends the run
/// early when it resolves, and so does the transport's lost-target rule.
///
/// Takes the run's description by value: listeners get it with `RunStarted`, and it is dropped
/// then, since its inputs list (a path and a hash per case file) would otherwise live as long as
/// the run.
pub async fn run(
    suite: &Suite,
    plan: &Plan<'_>,
    transport: &Transport,
    jobs: usize,
    info: RunInfo,
    listeners: &mut [Box<dyn Listener + '_>],
    stop: impl std::future::Future<Output = Halt>,
) -> RunOutcome {
    run_watching(suite, plan, transport, jobs, info, listeners, stop, true).await
}

/// [`run`], with the lost-target rule on or off (`lost_rule`).
#[allow(clippy::too_many_arguments)]
async fn run_watching(
    suite: &Suite,
    plan: &Plan<'_>,
    transport: &Transport,
    jobs: usize,
    info: RunInfo,
    listeners: &mut [Box<dyn Listener + '_>],
    stop: impl std::future::Future<Output = Halt>,
    lost_rule: bool,
) -> RunOutcome {
    emit(listeners, &Event::RunStarted { info: &info });
    drop(info);
    let lost_reason = || {
        lost_rule
            .then(|| transport.liveness().lost_reason())
            .flatten()
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Live>();

    // Cases start in case order, each once the previous case of its serial group has finished, at most
    // `jobs` at once and at most WINDOW past the oldest unfinished one (`buffered` counts finished
    // cases until every earlier one has finished), so the consumer's reorder buffer stays bounded
    // however large the suite: results stream out.
    const WINDOW: usize = 256;
    let turns = crate::plan::Turns::new(plan);
    let lab = lab_locks::LabLocks::default();
    let permits = tokio::sync::Semaphore::new(jobs.max(1));
    let producer = async move {
        if let Some(pool) = &plan.pool {
            dispatch::run_pool(suite, plan, pool, transport, jobs, &tx, &lost_reason).await;
            drop(tx);
            return;
        }
        let (turns, permits, lab) = (&turns, &permits, &lab);
        futures_util::stream::iter(0..plan.cases.len())
            .map(|i| {
                let tx = tx.clone();
                async move {
                    turns.wait(i).await;
                    let planned = &plan.cases[i];
                    // A case waits for its lab resources before it takes a permit, so that a
                    // waiting case keeps no other from running.
                    let _held = match planned.skip {
                        None => Some(lab.hold(suite, planned.case).await),
                        Some(_) => None,
                    };
                    let Ok(_permit) = permits.acquire().await else {
                        return;
                    };
                    // Once the target is lost no case starts: cases that fail at once (connection
                    // refused) could otherwise all run before the select below sees it.
                    if lost_reason().is_some() {
                        turns.finish(i);
                        return;
                    }
                    let _ = tx.send(Live::Started(i));
                    let steps = live::StepSink::new(i, tx.clone());
                    let (mut result, reach) = live::STEPS
                        .scope(
                            steps,
                            run_case(
                                suite,
                                planned.case,
                                planned.skip.as_deref(),
                                transport,
                                None,
                            ),
                        )
                        .await;
                    // Derived from a user name (outside data): masked as free text.
                    result.group = Some(suite.redactor.redact(&planned.case.group));
                    turns.finish(i);
                    let _ = tx.send(Live::Finished(i, Box::new(result), reach));
                }
            })
            .buffered(WINDOW.max(jobs))
            .for_each(|_| async {})
            .await;
        // Dropping the last sender ends the consumer's loop.
        drop(tx);
    };

    let mut halt = None;
    let mut lost = None;
    let mut heard = live::Heard::new(plan);
    {
        // Each event is passed on as it comes: listeners see cases start, step and finish live.
        let consumer = async {
            while let Some(live) = rx.recv().await {
                heard.pass_on(live, listeners);
            }
        };
        let both = futures_util::future::join(producer, consumer);
        tokio::pin!(both);
        tokio::pin!(stop);
        tokio::select! {
            _ = &mut both => {}
            h = &mut stop => { halt = Some(h); }
            reason = async {
                if lost_rule {
                    transport.liveness().lost().await
                } else {
                    std::future::pending().await
                }
            } => { lost = Some(reason); }
        }
    }
    // Results already sent when the run stopped are kept, not reported as not run.
    while let Ok(live) = rx.try_recv() {
        heard.pass_on(live, listeners);
    }
    if halt.is_none() && lost.is_none() {
        lost = lost_reason();
    }
    // A stopped run still accounts for every selected case: those that finished as they finished,
    // the rest as not run, with the reason.
    let not_run_reason = match (&halt, &lost) {
        (Some(h), _) => h.not_run_reason(),
        (None, Some(_)) => "the target stopped answering before this case ran".to_string(),
        (None, None) => String::new(),
    };
    heard.not_run(&not_run_reason, listeners);
    let live::Heard { tally, reach, .. } = heard;
    let interrupted = halt.is_some();
    let unreachable = lost.or_else(|| {
        (reach.responses == 0)
            .then_some(reach.connect_error)
            .flatten()
    });
    emit(
        listeners,
        &Event::RunFinished {
            tally: &tally,
            interrupted,
            unreachable: unreachable.as_deref(),
        },
    );
    RunOutcome {
        tally,
        unreachable,
        interrupted,
        halt,
    }
}

/// Collects each case's result as it is reported, with its index: put in case order at the end.
struct Collect(Vec<(usize, CaseResult)>);

impl Listener for Collect {
    fn on_event(&mut self, event: &Event) {
        if let Event::CaseFinished { index, result, .. } = event {
            self.0.push((*index, (*result).clone()));
        }
    }
}

/// Runs the plan with no reporter and no stop signal, and returns every result in case order, for
/// callers that judge the results themselves (`mutants`, `variants`, tests). It runs every case
/// whatever the target does: the lost-target rule is off, since those callers want each case's own
/// verdict, and `against` refuses a run whose target never answered.
pub async fn run_collecting(
    suite: &Suite,
    plan: &Plan<'_>,
    transport: &Transport,
    jobs: usize,
    info: RunInfo,
) -> (Vec<CaseResult>, RunOutcome) {
    let mut collect = Collect(Vec::new());
    let outcome = {
        let mut listeners: Vec<Box<dyn Listener + '_>> = vec![Box::new(&mut collect)];
        run_watching(
            suite,
            plan,
            transport,
            jobs,
            info,
            &mut listeners,
            std::future::pending(),
            false,
        )
        .await
    };
    let mut results = collect.0;
    results.sort_by_key(|(i, _)| *i);
    (results.into_iter().map(|(_, r)| r).collect(), outcome)
}

fn emit(listeners: &mut [Box<dyn Listener + '_>], event: &Event) {
    for l in listeners.iter_mut() {
        l.on_event(event);
    }
}

/// Whether the target answered at all.
#[derive(Debug, Default)]
struct Reach {
    responses: usize,
    connect_error: Option<String>,
}

impl Reach {
    fn count(&mut self, ex: &Exchange) {
        match (&ex.error, ex.error_kind) {
            (Some(e), Some(kind)) => {
                if self.connect_error.is_none() && kind.is_unreachable() {
                    self.connect_error = Some(e.clone());
                }
            }
            (Some(_), None) => {}
            (None, _) => self.responses += 1,
        }
    }

    fn merge(&mut self, other: Reach) {
        self.responses += other.responses;
        if self.connect_error.is_none() {
            self.connect_error = other.connect_error;
        }
    }
}

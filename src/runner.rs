//! Drives a run: executes each planned case, checks every step, and emits events in case order
//! whatever order the cases finished in. Reporters only listen; adding one never touches this file.

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::check::{check_response, Check};
use crate::execute::{AgentSession, Transport};
use crate::load::Suite;
use crate::model::Case;
use crate::plan::Plan;
use crate::report::{Event, Listener, RunInfo};
use crate::verdict::{CaseResult, StepResult, Tally, Verdict};

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub tally: Tally,
    /// No request got any answer and at least one could not connect: the target is down.
    pub unreachable: Option<String>,
    /// Stopped early (Ctrl-C, SIGTERM): the report covers what finished.
    pub interrupted: bool,
}

/// Runs the plan with up to `jobs` serial groups at once. `stop` ends the run early when it resolves.
pub async fn run(
    suite: &Suite,
    plan: &Plan<'_>,
    transport: &Transport,
    jobs: usize,
    info: &RunInfo,
    listeners: &mut [Box<dyn Listener + '_>],
    stop: impl std::future::Future<Output = ()>,
) -> RunOutcome {
    emit(listeners, &Event::RunStarted { info });
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, CaseResult, Reach)>();

    let producer = async move {
        futures_util::stream::iter(plan.groups.iter())
            .map(|group| {
                let tx = tx.clone();
                async move {
                    for &i in group {
                        let planned = &plan.cases[i];
                        let (result, reach) =
                            run_case(suite, planned.case, planned.skip.as_deref(), transport).await;
                        if tx.send((i, result, reach)).is_err() {
                            return;
                        }
                    }
                }
            })
            .buffer_unordered(jobs.max(1))
            .for_each(|_| async {})
            .await;
        // Dropping the last sender ends the consumer's loop.
        drop(tx);
    };

    let mut tally = Tally::default();
    let mut reach = Reach::default();
    let mut interrupted = false;
    {
        let consumer = async {
            let mut pending: BTreeMap<usize, CaseResult> = BTreeMap::new();
            let mut next = 0;
            while let Some((i, result, r)) = rx.recv().await {
                reach.merge(r);
                pending.insert(i, result);
                while let Some(result) = pending.remove(&next) {
                    tally.add(result.verdict);
                    let total = plan.cases.len();
                    emit(
                        listeners,
                        &Event::CaseStarted {
                            index: next,
                            total,
                            id: &result.id,
                        },
                    );
                    for step in &result.steps {
                        emit(
                            listeners,
                            &Event::StepFinished {
                                case_id: &result.id,
                                step,
                            },
                        );
                    }
                    emit(
                        listeners,
                        &Event::CaseFinished {
                            index: next,
                            total,
                            result: &result,
                        },
                    );
                    next += 1;
                }
            }
        };
        let both = futures_util::future::join(producer, consumer);
        tokio::pin!(both);
        tokio::pin!(stop);
        tokio::select! {
            _ = &mut both => {}
            _ = &mut stop => { interrupted = true; }
        }
    }
    let unreachable = (reach.responses == 0)
        .then_some(reach.connect_error)
        .flatten();
    emit(
        listeners,
        &Event::RunFinished {
            info,
            tally: &tally,
            interrupted,
            unreachable: unreachable.as_deref(),
        },
    );
    RunOutcome {
        tally,
        unreachable,
        interrupted,
    }
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
    fn merge(&mut self, other: Reach) {
        self.responses += other.responses;
        if self.connect_error.is_none() {
            self.connect_error = other.connect_error;
        }
    }
}

async fn run_case(
    suite: &Suite,
    case: &Case,
    skip: Option<&str>,
    transport: &Transport,
) -> (CaseResult, Reach) {
    let started = Instant::now();
    let mut result = CaseResult {
        id: case.id.clone(),
        title: case.title.clone(),
        spec: case.spec.clone(),
        source: case.source.clone(),
        provenance: case.provenance,
        rationale: case.rationale.clone(),
        tags: case.tags.clone(),
        file: crate::load::display_path(&case.file),
        sha256: case.sha256.clone(),
        verdict: Verdict::Pass,
        reason: None,
        steps: Vec::new(),
        duration_ms: 0,
    };
    let mut reach = Reach::default();
    if let Some(reason) = skip {
        result.verdict = Verdict::Skip;
        result.reason = Some(reason.to_string());
        return (result, reach);
    }
    let agent = suite.profile.agent(&case.agent_role).map(|(_, a)| a);
    let mut session = AgentSession::new(transport, agent, &suite.redactor);
    let redact = |s: &str| suite.redactor.redact(s);
    let mut failed = false;
    for step in &case.steps {
        if failed && !step.always {
            result.steps.push(StepResult {
                name: step.name.clone(),
                exchanges: Vec::new(),
                checks: Vec::new(),
                ran: false,
                passed: false,
                duration_ms: 0,
            });
            continue;
        }
        let step_started = Instant::now();
        let sent = session.send(&step.request).await;
        let mut exchanges = Vec::with_capacity(sent.len());
        let mut last_response = None;
        for (ex, resp) in sent {
            if let Some(e) = &ex.error {
                if reach.connect_error.is_none() && e.starts_with("could not connect") {
                    reach.connect_error = Some(e.clone());
                }
            } else {
                reach.responses += 1;
            }
            exchanges.push(ex);
            last_response = resp;
        }
        let checks = match &last_response {
            Some(resp) => check_response(&step.expect, resp, &suite.schemas, &redact),
            None => {
                let reason = exchanges
                    .last()
                    .and_then(|e| e.error.clone())
                    .unwrap_or_else(|| "no response".to_string());
                vec![Check::exchange_failed(&reason)]
            }
        };
        let passed = checks.iter().all(|c| c.passed);
        if !passed && result.reason.is_none() {
            let first = checks.iter().find(|c| !c.passed).expect("a failed check");
            result.reason = Some(format!(
                "{}: {}: expected {}, got {}",
                step.name, first.name, first.expected, first.actual
            ));
        }
        failed |= !passed;
        result.steps.push(StepResult {
            name: step.name.clone(),
            exchanges,
            checks,
            ran: true,
            passed,
            duration_ms: step_started.elapsed().as_millis() as u64,
        });
    }
    result.verdict = if failed { Verdict::Fail } else { Verdict::Pass };
    result.duration_ms = started.elapsed().as_millis() as u64;
    (result, reach)
}

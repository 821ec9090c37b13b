//! Drives a run: executes each planned case, checks every step, and emits events in case order
//! whatever order the cases finished in. Reporters only listen; adding one never touches this file.

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::check::notifications::{self as notify, Watch};
use crate::check::{check_response, Check};
use crate::execute::cometd::{ClientEvent, CometdClient};
use crate::execute::{AgentSession, Transport};
use crate::load::Suite;
use crate::model::CaseOutline;
use crate::plan::Plan;
use crate::record::{CaseResult, NotificationRecord, StepResult, Tally, Verdict};
use crate::report::{Event, Listener, RunInfo};

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub tally: Tally,
    /// No request got any answer and at least one could not connect: the target is down.
    pub unreachable: Option<String>,
    /// Stopped early (Ctrl-C, SIGTERM): the report covers what finished.
    pub interrupted: bool,
}

/// Runs the plan with up to `jobs` cases at once (never two of one serial group). `stop` ends the run early when it resolves.
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
    stop: impl std::future::Future<Output = ()>,
) -> RunOutcome {
    emit(listeners, &Event::RunStarted { info: &info });
    drop(info);
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, CaseResult, Reach)>();

    // Cases start in case order, each once the previous case of its serial group has finished, at most
    // `jobs` at once and at most WINDOW past the oldest unfinished one (`buffered` counts finished
    // cases until every earlier one has finished), so the consumer's reorder buffer stays bounded
    // however large the suite: results stream out.
    const WINDOW: usize = 256;
    let turns = crate::plan::Turns::new(plan);
    let permits = tokio::sync::Semaphore::new(jobs.max(1));
    let producer = async move {
        let (turns, permits) = (&turns, &permits);
        futures_util::stream::iter(0..plan.cases.len())
            .map(|i| {
                let tx = tx.clone();
                async move {
                    turns.wait(i).await;
                    let Ok(_permit) = permits.acquire().await else {
                        return;
                    };
                    let planned = &plan.cases[i];
                    let (result, reach) =
                        run_case(suite, planned.case, planned.skip.as_deref(), transport).await;
                    turns.finish(i);
                    let _ = tx.send((i, result, reach));
                }
            })
            .buffered(WINDOW.max(jobs))
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
                        for notification in &step.notifications {
                            emit(
                                listeners,
                                &Event::NotificationSeen {
                                    case_id: &result.id,
                                    step: &step.name,
                                    notification,
                                },
                            );
                        }
                        for check in &step.checks {
                            emit(
                                listeners,
                                &Event::CheckMade {
                                    case_id: &result.id,
                                    step: &step.name,
                                    check,
                                },
                            );
                        }
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

/// Collects each case's result as it is reported.
struct Collect(Vec<CaseResult>);

impl Listener for Collect {
    fn on_event(&mut self, event: &Event) {
        if let Event::CaseFinished { result, .. } = event {
            self.0.push((*result).clone());
        }
    }
}

/// Runs the plan with no reporter and no stop signal, and returns every result in case order, for
/// callers that judge the results themselves (`mutants`, tests).
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
        run(
            suite,
            plan,
            transport,
            jobs,
            info,
            &mut listeners,
            std::future::pending(),
        )
        .await
    };
    (collect.0, outcome)
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
    case: &CaseOutline,
    skip: Option<&str>,
    transport: &Transport,
) -> (CaseResult, Reach) {
    let started = Instant::now();
    // A large suite keeps only slim outlines: the case is rebuilt from its file now (with its source
    // and rationale, which the report shows even for a skipped case), and dropped when done.
    let full = suite.case(case);
    let header = match &full {
        Ok(c) => &c.header,
        Err(_) => &case.header,
    };
    let mut result = CaseResult {
        id: header.id.clone(),
        title: header.title.clone(),
        spec: header.spec.clone(),
        source: header.source.clone(),
        provenance: header.provenance,
        rationale: header.rationale.clone(),
        tags: header.tags.clone(),
        file: crate::load::display_path(&header.file),
        sha256: header.sha256.clone(),
        verdict: Verdict::Pass,
        reason: None,
        steps: Vec::new(),
        duration_ms: 0,
    };
    let mut reach = Reach::default();
    if let Some(reason) = skip {
        result.verdict = Verdict::Skip;
        result.reason = Some(match &full {
            Ok(_) => reason.to_string(),
            // The skip stands; what the report could not show is said.
            Err(e) => format!("{reason} (and {e})"),
        });
        return (result, reach);
    }
    let case = match full {
        Ok(c) => c,
        Err(reason) => {
            result.verdict = Verdict::Fail;
            // About the case file, which the project wrote: nothing to mask (see crate::secret).
            result.reason = Some(reason);
            result.duration_ms = started.elapsed().as_millis() as u64;
            return (result, reach);
        }
    };
    let agent = suite.profile.agent(&case.agent_role).map(|(_, a)| a);
    // Session cookies and CSRF tokens are secrets of this case alone.
    let redactor = suite.redactor.scoped();
    let mut session = AgentSession::new(transport, agent, &redactor);
    let mut failed = false;
    let mut cometd: Option<CaseCometd> = None;
    for step in &case.steps {
        if failed && !step.always {
            result.steps.push(StepResult {
                name: step.name.clone(),
                exchanges: Vec::new(),
                checks: Vec::new(),
                ran: false,
                passed: false,
                duration_ms: 0,
                notifications: Vec::new(),
                notes: Vec::new(),
            });
            continue;
        }
        let step_started = Instant::now();
        let mut sent = Vec::new();
        let mut records = Vec::new();
        let mut notes = Vec::new();
        let mut cometd_checks = Vec::new();
        if !step.notifications.is_empty() {
            if cometd.is_none() {
                // Authenticate over REST first, as the documented flow does [gws-notes §5.1].
                sent.extend(session.open_session().await);
                cometd = Some(CaseCometd::start(transport, &session).await);
            }
            if let Some(c) = cometd.as_mut() {
                // Subscribe before the request, so that messages racing ahead of its answer are kept.
                c.subscribe(&notify::channels(&step.notifications)).await;
                c.drain(&mut records, &mut notes, Instant::now());
            }
        }
        // The window opens when the request goes out.
        let opened = Instant::now();
        let mut watch =
            (!step.notifications.is_empty()).then(|| Watch::new(&step.notifications, opened));
        sent.extend(session.send(&step.request).await);
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
        let mut checks = match &last_response {
            Some(resp) => check_response(&step.expect, resp, &suite.schemas, &redactor),
            None => {
                let reason = exchanges
                    .last()
                    .and_then(|e| e.error.clone())
                    .unwrap_or_else(|| "no response".to_string());
                vec![Check::exchange_failed(&reason)]
            }
        };
        match (&mut watch, cometd.as_mut()) {
            (Some(w), Some(c)) => {
                c.listen(w).await;
                if let Some(e) = c.take_new_failure() {
                    cometd_checks.push(notify::session_failed(&c.endpoint, &redactor.redact(&e)));
                }
                let failure = c.failure.clone();
                let outcome = watch.take().expect("matched Some").finish(
                    &suite.schemas,
                    &redactor,
                    failure.as_deref(),
                );
                checks.extend(cometd_checks);
                checks.extend(outcome.checks);
                records.extend(outcome.records);
                notes.extend(outcome.notes);
                notes.extend(c.take_notes());
            }
            // A step without expectations still records what the session received meanwhile.
            (_, Some(c)) => c.drain(&mut records, &mut notes, opened),
            _ => {}
        }
        for r in &mut records {
            redactor.redact_json(&mut r.message);
        }
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
            notifications: records,
            // Notes quote what servers sent: masked as free text (see crate::secret).
            notes: notes.iter().map(|n| redactor.redact(n)).collect(),
        });
    }
    if let Some(c) = cometd {
        c.close().await;
    }
    result.verdict = if failed { Verdict::Fail } else { Verdict::Pass };
    result.duration_ms = started.elapsed().as_millis() as u64;
    (result, reach)
}

/// A case's CometD session, started by its first step with notification expectations and kept for
/// the rest of the case (subscriptions accumulate), then disconnected.
struct CaseCometd {
    client: Option<CometdClient>,
    events: Option<mpsc::UnboundedReceiver<ClientEvent>>,
    endpoint: String,
    /// Why the session is unusable, once it is.
    failure: Option<String>,
    /// Whether `failure` has been reported as a `cometd` check yet.
    failure_reported: bool,
    notes: Vec<String>,
}

impl CaseCometd {
    async fn start(transport: &Transport, session: &AgentSession<'_>) -> CaseCometd {
        let cfg = transport.cometd_config();
        let endpoint = cfg.endpoint.to_string();
        let mut c = CaseCometd {
            client: None,
            events: None,
            endpoint,
            failure: None,
            failure_reported: false,
            notes: Vec::new(),
        };
        match CometdClient::start(transport.http_client(), cfg, session.bayeux_auth()).await {
            Ok((client, events)) => {
                c.notes.push(format!(
                    "CometD session at {} over {}",
                    c.endpoint,
                    client.connection_type()
                ));
                c.client = Some(client);
                c.events = Some(events);
            }
            Err(e) => c.failure = Some(e.to_string()),
        }
        c
    }

    async fn subscribe(&mut self, channels: &[String]) {
        if let (Some(client), None) = (&self.client, &self.failure) {
            if let Err(e) = client.subscribe(channels).await {
                self.failure = Some(e.to_string());
            }
        }
    }

    fn handle(&mut self, event: ClientEvent) -> Option<crate::execute::cometd::Delivery> {
        match event {
            ClientEvent::Message(d) => return Some(d),
            ClientEvent::Note(n) => self.notes.push(n),
            ClientEvent::Failed(e) => {
                if self.failure.is_none() {
                    self.failure = Some(e.to_string());
                }
            }
        }
        None
    }

    /// Records, without waiting, whatever arrived outside any window: before this step's request
    /// (left over from an earlier step), or during a step that expects no notification. `request` is
    /// when this step's request went out (or will: now).
    fn drain(
        &mut self,
        records: &mut Vec<NotificationRecord>,
        notes: &mut Vec<String>,
        request: Instant,
    ) {
        while let Some(event) = self.events.as_mut().and_then(|rx| rx.try_recv().ok()) {
            if let Some(d) = self.handle(event) {
                let at_ms = if d.at >= request {
                    d.at.duration_since(request).as_millis() as i64
                } else {
                    -(request.duration_since(d.at).as_millis() as i64)
                };
                let when = if d.at >= request {
                    format!("{at_ms} ms after this step's request, which expects none")
                } else {
                    format!("{} ms before this step's request", -at_ms)
                };
                notes.push(format!(
                    "message on {} outside any notification window ({when})",
                    d.channel
                ));
                records.push(NotificationRecord {
                    channel: d.channel,
                    at_ms,
                    message: d.message,
                    matched: Vec::new(),
                });
            }
        }
        notes.append(&mut self.notes);
    }

    /// Feeds the watch until every expectation is settled, or the session fails. Never waits past
    /// the longest window still open.
    async fn listen(&mut self, watch: &mut Watch<'_>) {
        while self.failure.is_none() {
            let Some(deadline) = watch.deadline(Instant::now()) else {
                break;
            };
            let Some(rx) = self.events.as_mut() else {
                break;
            };
            match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
                Ok(Some(event)) => {
                    if let Some(d) = self.handle(event) {
                        watch.offer(&d.channel, d.message, d.at);
                    }
                }
                Ok(None) => {
                    self.failure = Some(format!("{}: the CometD client stopped", self.endpoint));
                }
                Err(_) => break,
            }
        }
        // Whatever is already queued was received in time or not: its timestamp decides.
        while let Some(event) = self.events.as_mut().and_then(|rx| rx.try_recv().ok()) {
            if let Some(d) = self.handle(event) {
                watch.offer(&d.channel, d.message, d.at);
            }
        }
    }

    fn take_new_failure(&mut self) -> Option<String> {
        if self.failure_reported {
            return None;
        }
        let f = self.failure.clone()?;
        self.failure_reported = true;
        Some(f)
    }

    fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// Says goodbye to the server (bounded by the profile's timeout); failures here change no verdict.
    async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.disconnect().await;
        }
    }
}

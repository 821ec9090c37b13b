//! Runs one case: its steps in order, each judged against every answer it allows, and the case's
//! verdict from the heaviest failed check.

use std::time::Instant;

use super::blank::blank_result;
use super::cometd::CaseCometd;
use super::Reach;
use crate::check::notifications::{self as notify, Outcome, Watch};
use crate::check::step;
use crate::execute::{AgentSession, Transport};
use crate::load::profile::Agent;
use crate::load::Suite;
use crate::model::{Case, CaseHeader, CaseOutline, Step};
use crate::record::{
    describe, CaseResult, Exchange, NotificationRecord, ResponseRecord, StepResult, UserChoice,
    Verdict,
};
use crate::secret::Redactor;

/// The user a case runs as, and why it is that one (the pool dispatcher's choice).
pub(super) struct Assigned<'a> {
    pub agent: &'a Agent,
    pub by: UserChoice,
}

/// The case's role and its user, as the report may show them (the user name masked like any
/// profile value): the user the scheduler assigned, else the role's user in the profile.
pub(super) fn case_agent(
    suite: &Suite,
    header: &CaseHeader,
    assigned: Option<&Assigned<'_>>,
) -> crate::record::CaseAgent {
    let user = match assigned {
        Some(a) => Some(a.agent),
        None => suite.profile.agent(&header.agent_role).map(|(_, a)| a),
    };
    crate::record::CaseAgent {
        role: header.agent_role.to_string(),
        user: user.map(|a| suite.redactor.redact(&a.username)),
        scheduled: assigned.map(|a| a.by.clone()),
    }
}

pub(super) async fn run_case(
    suite: &Suite,
    case: &CaseOutline,
    skip: Option<&str>,
    transport: &Transport,
    assigned: Option<&Assigned<'_>>,
) -> (CaseResult, Reach) {
    let started = Instant::now();
    // A large suite keeps only slim outlines: the case is rebuilt from its file now (with its source
    // and rationale, which the report shows even for a skipped case), and dropped when done.
    let full = suite.case(case);
    let header = match &full {
        Ok(c) => &c.header,
        Err(_) => &case.header,
    };
    let mut result = blank_result(header, Verdict::Pass);
    result.agent = Some(case_agent(suite, header, assigned));
    let mut reach = Reach::default();
    if let Some(reason) = skip {
        result.verdict = Verdict::Skip;
        result.waits_for = header.needs_lab().to_vec();
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
    let agent = match assigned {
        Some(a) => Some(a.agent),
        None => suite.profile.agent(&case.agent_role).map(|(_, a)| a),
    };
    run_steps(suite, &case, agent, transport, &mut result, &mut reach).await;
    let checks = || result.steps.iter().flat_map(|s| &s.checks);
    let lenient = Verdict::of_checks(checks(), false);
    let verdict = Verdict::of_checks(checks(), suite.profile.strict);
    result.reason = describe::reason(&result, lenient);
    if lenient == Verdict::Warn && verdict == Verdict::Fail {
        result.reason = result
            .reason
            .map(|r| format!("a warning, which fails under --strict: {r}"));
    }
    result.verdict = verdict;
    result.duration_ms = started.elapsed().as_millis() as u64;
    (result, reach)
}

/// What one case's steps share while they run: the suite, the target, the agent's session, the
/// case's CometD session, and what the target answered at all.
struct CaseRun<'a> {
    suite: &'a Suite,
    transport: &'a Transport,
    /// Session cookies and CSRF tokens are secrets of this case alone.
    redactor: &'a Redactor,
    session: AgentSession<'a>,
    cometd: Option<CaseCometd>,
    reach: &'a mut Reach,
}

async fn run_steps(
    suite: &Suite,
    case: &Case,
    agent: Option<&crate::load::profile::Agent>,
    transport: &Transport,
    result: &mut CaseResult,
    reach: &mut Reach,
) {
    // Session cookies and CSRF tokens are secrets of this case alone.
    let redactor = suite.redactor.scoped();
    let mut run = CaseRun {
        suite,
        transport,
        redactor: &redactor,
        session: AgentSession::new(transport, agent, &redactor),
        cometd: None,
        reach,
    };
    let mut progress = step::Progress::default();
    for step in case.steps.iter() {
        if !progress.runs(step) {
            result.steps.push(not_run(step));
            continue;
        }
        let mut r = run
            .step(step, step::Weights::of_step(step, case.provenance))
            .await;
        progress.weigh(step, &mut r.checks);
        super::live::step_finished(&r);
        result.steps.push(r);
    }
    if let Some(c) = run.cometd.take() {
        c.close().await;
    }
}

/// A step not run because an earlier one failed.
fn not_run(step: &Step) -> StepResult {
    StepResult {
        name: step.name.clone(),
        exchanges: Vec::new(),
        checks: Vec::new(),
        ran: false,
        passed: false,
        duration_ms: 0,
        cometd_ms: None,
        wait_ms: None,
        attempts: None,
        notifications: Vec::new(),
        notes: Vec::new(),
        hint: None,
    }
}

/// What a step's listening saw: the notifications judged, when and how long it waited, and a
/// CometD session that broke meanwhile.
#[derive(Default)]
struct Heard {
    notified: Option<Outcome>,
    session: Option<step::SessionFailure>,
    wait_ms: Option<u64>,
}

/// The status of the answer to the step's own request (not a request the harness added before it),
/// when one came.
fn answered(r: &StepResult) -> Option<u16> {
    r.exchanges
        .iter()
        .rev()
        .find(|e| !e.by_harness)
        .and_then(|e| e.response.as_ref())
        .map(|a| a.status)
}

impl CaseRun<'_> {
    /// Runs one step; a step with `[steps.retry]` is sent again while a check fails (a cleanup's
    /// too: a cleanup polls to wait for the lab, e.g. a logout under way) and the next attempt can
    /// still start before its deadline. The last attempt is the result.
    async fn step(&mut self, step: &Step, weights: step::Weights) -> StepResult {
        let Some(retry) = &step.retry else {
            return self.attempt(step, weights).await;
        };
        let started = Instant::now();
        let within = super::window::scaled_up(retry.within, self.transport.notification_window());
        let mut attempts = 1u32;
        let mut r = self.attempt(step, weights).await;
        // What earlier attempts heard (a CometD message the case's session received meanwhile, a
        // CSRF retry's note) is kept: each attempt drains the session, and only the last is judged.
        let (mut heard, mut notes) = (Vec::new(), Vec::new());
        let mut last_start = started;
        while !r.passed && retry.retries(answered(&r)) && started.elapsed() + retry.every < within {
            tokio::time::sleep(retry.every).await;
            attempts += 1;
            heard.append(&mut r.notifications);
            notes.append(&mut r.notes);
            // A message's time is after the step's request: the last attempt's, so the earlier
            // attempts' go negative, as a message left over from before does.
            let start = Instant::now();
            let shift = i64::try_from(start.duration_since(last_start).as_millis()).unwrap_or(0);
            heard.iter_mut().for_each(|n| n.at_ms -= shift);
            last_start = start;
            r = self.attempt(step, weights).await;
        }
        if !heard.is_empty() {
            heard.append(&mut r.notifications);
            r.notifications = heard;
        }
        if !notes.is_empty() {
            notes.append(&mut r.notes);
            r.notes = notes;
        }
        let took = started.elapsed().as_millis();
        let (within, every) = (within.as_millis(), retry.every.as_millis());
        let last = answered(&r);
        if !r.passed && !retry.retries(last) {
            let status = last.map_or("no answer".to_string(), |s| format!("HTTP {s}"));
            r.notes.push(format!(
                "retried while failing with {}, every {every} ms for up to {within} ms: stopped after {attempts} attempt(s) over {took} ms on {status}, a status this step does not poll; the last attempt is the one judged",
                crate::model::StatusPattern::list(&retry.while_status)
            ));
        } else if !r.passed {
            r.notes.push(format!(
                "retried while failing, every {every} ms for up to {within} ms: still failing after {attempts} attempts over {took} ms; the last attempt is the one judged"
            ));
        } else if attempts > 1 {
            r.notes.push(format!(
                "retried while failing, every {every} ms for up to {within} ms: passed at attempt {attempts}, {took} ms after the first"
            ));
        }
        r.attempts = Some(attempts);
        r.duration_ms = took as u64;
        r
    }

    /// Sends one step once: observes (CometD set up before the request, the request, the
    /// notifications after it), then hands what it saw to `check::step`, which judges it.
    async fn attempt(&mut self, step: &Step, weights: step::Weights) -> StepResult {
        let step_started = Instant::now();
        let answers = step::answers(step);
        let mut sent = Vec::new();
        let mut records = Vec::new();
        let mut notes = Vec::new();
        let cometd_ms = self
            .start_listening(&answers, &mut sent, &mut records, &mut notes)
            .await;
        // The window opens when the request goes out.
        let opened = Instant::now();
        sent.extend(self.session.send(&step.request).await);
        let mut exchanges = Vec::with_capacity(sent.len());
        let mut last_response = None;
        for (ex, resp) in sent {
            self.reach.count(&ex);
            // A CSRF retry says why it happened (src/execute/csrf.rs).
            if let Some(n) = &ex.note {
                notes.push(n.clone());
            }
            exchanges.push(ex);
            last_response = resp;
        }
        let no_response = exchanges
            .last()
            .and_then(|e| e.error.clone())
            .unwrap_or_else(|| "no response".to_string());
        let http = step::http_checks(
            &answers,
            last_response.as_ref(),
            &no_response,
            &self.suite.schemas,
        );
        let watched = step::watched(&http);
        let heard = self
            .listen(
                &answers,
                &watched,
                weights,
                opened,
                &mut records,
                &mut notes,
            )
            .await;
        let observed = step::Observed {
            exchanges: &exchanges,
            notified: heard.notified,
            session: heard.session,
        };
        let checks = step::conclude(step, &answers, weights, http, &watched, observed);
        // Only a miss that weighs (not a cleanup's) points at the environment.
        let missed = checks
            .iter()
            .any(|c| !c.passed && c.level >= crate::record::Level::Warning);
        let observed_and_judged = StepResult {
            hint: missed.then(|| step.env_hint()).flatten(),
            name: step.name.clone(),
            exchanges,
            passed: checks.iter().all(|c| c.passed),
            checks,
            ran: true,
            duration_ms: step_started.elapsed().as_millis() as u64,
            cometd_ms,
            wait_ms: heard.wait_ms,
            attempts: None,
            notifications: records,
            notes,
        };
        // The one place this step's secrets are masked: judging saw them as they were.
        super::record::masked(observed_and_judged, self.redactor)
    }

    /// For a step that expects notifications: subscribes (to every answer's channels) before the
    /// request, so that messages racing ahead of its answer are kept, starting the case's CometD
    /// session first if need be. Returns how long that took.
    async fn start_listening(
        &mut self,
        answers: &[step::Answer<'_>],
        sent: &mut Vec<(Exchange, Option<ResponseRecord>)>,
        records: &mut Vec<NotificationRecord>,
        notes: &mut Vec<String>,
    ) -> Option<u64> {
        if answers.iter().all(|a| a.notifications.is_empty()) {
            return None;
        }
        let setup = Instant::now();
        let all: Vec<_> = answers
            .iter()
            .flat_map(|a| a.notifications.iter().cloned())
            .collect();
        let channels = notify::channels(&all);
        match self.cometd.as_mut() {
            Some(c) => c.subscribe(&channels).await,
            None => {
                // Authenticate over REST first, as the documented flow does [gws-notes §5.1].
                sent.extend(self.session.open_session().await);
                let c = CaseCometd::start(self.transport, &self.session, &channels).await;
                self.cometd = Some(c);
            }
        }
        if let Some(c) = self.cometd.as_mut() {
            c.drain(records, notes, Instant::now());
        }
        Some(setup.elapsed().as_millis() as u64)
    }

    /// Feeds the watched answers' notification expectations what the case's CometD session
    /// receives, until each is settled; a step without expectations still records what the
    /// session received meanwhile.
    async fn listen(
        &mut self,
        answers: &[step::Answer<'_>],
        watched: &[usize],
        weights: step::Weights,
        opened: Instant,
        records: &mut Vec<NotificationRecord>,
        notes: &mut Vec<String>,
    ) -> Heard {
        let (expectations, groups, levels) = step::expectations(answers, watched, weights);
        let expectations =
            super::window::scaled(expectations, self.transport.notification_window());
        let Some(c) = self.cometd.as_mut() else {
            return Heard::default();
        };
        if expectations.is_empty() {
            c.drain(records, notes, opened);
            return Heard::default();
        }
        let mut watch = Watch::grouped(&expectations, groups, opened).with_levels(levels);
        let waiting = Instant::now();
        c.listen(&mut watch).await;
        let wait_ms = Some(waiting.elapsed().as_millis() as u64);
        let session = c.take_new_failure().map(|e| step::SessionFailure {
            endpoint: c.endpoint.clone(),
            error: e.to_string(),
            at_start: c.failed_at_start && e.is_missing_or_silent(),
        });
        let failure = c.failure.as_ref().map(ToString::to_string);
        let mut outcome = watch.finish(&self.suite.schemas, failure.as_deref());
        records.append(&mut outcome.records);
        notes.append(&mut outcome.notes);
        notes.extend(c.take_notes());
        Heard {
            notified: Some(outcome),
            session,
            wait_ms,
        }
    }
}

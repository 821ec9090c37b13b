//! Runs one case: its steps in order, each judged against every answer it allows, and the case's
//! verdict from the heaviest failed check.

use std::time::Instant;

use super::answers::{self, Weights};
use super::cometd::CaseCometd;
use super::dispatch::Assigned;
use super::Reach;
use crate::check::notifications::{self as notify, Watch};
use crate::execute::{AgentSession, Transport};
use crate::load::Suite;
use crate::model::{Case, CaseHeader, CaseOutline, Step};
use crate::record::{describe, CaseResult, Level, StepResult, Verdict};
use crate::secret::Redactor;

/// A result with the case's header and no steps yet.
pub(super) fn blank_result(header: &CaseHeader, verdict: Verdict) -> CaseResult {
    CaseResult {
        id: header.id.to_string(),
        title: header.title.to_string(),
        spec: header.spec.to_vec(),
        source: header.source().map(str::to_string),
        provenance: header.provenance,
        rationale: header.rationale().map(str::to_string),
        tags: header.tags.to_vec(),
        group: None,
        file: crate::load::display_path(&header.file),
        sha256: header.sha256.hex(),
        verdict,
        reason: None,
        steps: Vec::new(),
        duration_ms: 0,
        agent: None,
        waits_for: Vec::new(),
    }
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
    let verdict = Verdict::of_checks(checks());
    let recorded = Verdict::of_case(checks(), suite.profile.strict);
    result.reason = describe::reason(&result, verdict);
    if recorded != verdict {
        result.reason = result
            .reason
            .map(|r| format!("a warning, which fails under --strict: {r}"));
    }
    result.verdict = recorded;
    result.duration_ms = started.elapsed().as_millis() as u64;
    (result, reach)
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
    let mut session = AgentSession::new(transport, agent, &redactor);
    let mut failed = false;
    let mut warned = false;
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
                cometd_ms: None,
                wait_ms: None,
                notifications: Vec::new(),
                notes: Vec::new(),
            });
            continue;
        }
        let weights = Weights {
            case: case.provenance,
            cleanup: step.always,
        };
        let r = run_step(
            suite,
            step,
            weights,
            transport,
            &mut session,
            &mut cometd,
            &redactor,
            reach,
        )
        .await;
        let mut r = r;
        // After a warning the case goes on, but what it finds is no longer conclusive: the
        // earlier answer, one a conforming server may give, may have changed what follows. So a
        // later miss weighs at most a warning (never a false failure), and nothing is left
        // unchecked.
        if warned && !step.always {
            for c in r.checks.iter_mut().filter(|c| !c.passed) {
                c.level = c.level.max(Level::Warning);
            }
        }
        // A failure stops the case (cleanup aside); what a cleanup step finds stops nothing.
        failed |= r
            .checks
            .iter()
            .any(|c| !c.passed && c.level == Level::Failure);
        warned |= r
            .checks
            .iter()
            .any(|c| !c.passed && c.level == Level::Warning);
        super::live::step_finished(&r);
        result.steps.push(r);
    }
    if let Some(c) = cometd {
        c.close().await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_step(
    suite: &Suite,
    step: &Step,
    weights: Weights,
    transport: &Transport,
    session: &mut AgentSession<'_>,
    cometd: &mut Option<CaseCometd>,
    redactor: &Redactor,
    reach: &mut Reach,
) -> StepResult {
    let step_started = Instant::now();
    let answers = answers::answers(step);
    let listens = answers.iter().any(|a| !a.notifications.is_empty());
    let mut sent = Vec::new();
    let mut records = Vec::new();
    let mut notes = Vec::new();
    let mut cometd_ms = None;
    if listens {
        let setup = Instant::now();
        // Subscribe (to every answer's channels) before the request, so that messages racing
        // ahead of its answer are kept.
        let all: Vec<_> = answers
            .iter()
            .flat_map(|a| a.notifications.iter().cloned())
            .collect();
        let channels = notify::channels(&all);
        match cometd.as_mut() {
            Some(c) => c.subscribe(&channels).await,
            None => {
                // Authenticate over REST first, as the documented flow does [gws-notes §5.1].
                sent.extend(session.open_session().await);
                *cometd = Some(CaseCometd::start(transport, session, &channels).await);
            }
        }
        if let Some(c) = cometd.as_mut() {
            c.drain(&mut records, &mut notes, Instant::now());
        }
        cometd_ms = Some(setup.elapsed().as_millis() as u64);
    }
    // The window opens when the request goes out.
    let opened = Instant::now();
    sent.extend(session.send(&step.request).await);
    let mut exchanges = Vec::with_capacity(sent.len());
    let mut last_response = None;
    for (ex, resp) in sent {
        reach.count(&ex);
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
    let http = answers::http_checks(
        &answers,
        last_response.as_ref(),
        &no_response,
        &suite.schemas,
        redactor,
    );
    let watched = answers::watched(&http);
    let (expectations, groups, levels) = answers::expectations(&answers, &watched, weights);
    let expectations = answers::scaled(expectations, transport.notification_window());
    let mut session_check = None;
    let mut notified = None;
    let mut wait_ms = None;
    match cometd.as_mut() {
        Some(c) if !expectations.is_empty() => {
            let watch_levels = levels.clone();
            let mut watch = Watch::grouped(&expectations, groups, opened).with_levels(levels);
            let waiting = Instant::now();
            c.listen(&mut watch).await;
            wait_ms = Some(waiting.elapsed().as_millis() as u64);
            if let Some(e) = c.take_new_failure() {
                let mut check = notify::session_failed(&c.endpoint, &redactor.redact(&e));
                // It weighs what the notifications it serves weigh.
                check.level = watch_levels.iter().copied().min().unwrap_or(Level::Info);
                session_check = Some(check);
            }
            let mut outcome = watch.finish(&suite.schemas, redactor, c.failure.as_deref());
            records.append(&mut outcome.records);
            notes.append(&mut outcome.notes);
            notes.extend(c.take_notes());
            notified = Some(outcome);
        }
        // A step without expectations still records what the session received meanwhile.
        Some(c) => c.drain(&mut records, &mut notes, opened),
        None => {}
    }
    let checks = answers::decide(&answers, http, &watched, notified, session_check, weights);
    for r in &mut records {
        redactor.redact_json(&mut r.message);
    }
    StepResult {
        name: step.name.clone(),
        exchanges,
        passed: checks.iter().all(|c| c.passed),
        checks,
        ran: true,
        duration_ms: step_started.elapsed().as_millis() as u64,
        cometd_ms,
        wait_ms,
        notifications: records,
        // Notes quote what servers sent: masked as free text (see crate::secret).
        notes: notes.iter().map(|n| redactor.redact(n)).collect(),
    }
}

//! Judging one step against every answer the case allows: the main expectation, then each
//! alternative, each with what must then arrive over CometD. The first that holds decides; when none
//! does, the main answer's failures are shown (or, when the HTTP answer matched one but its
//! notifications did not come, that one's), with what else was tried. Pure: the runner observes
//! (sends, listens) and hands what it saw here; levels, alternatives, setup errors and the policy
//! after a warning are decided here, and unit-tested without a server.

use std::ops::Range;

use super::notifications::{self as notify, Outcome};
use super::setup;
use super::{check_answer, Check};
use crate::load::SchemaSet;
use crate::model::{Expectation, NotificationExpectation, Provenance, Step, StepPurpose};
use crate::record::{Exchange, Level, ResponseRecord};

/// One answer a step allows.
pub struct Answer<'s> {
    pub expect: &'s Expectation,
    pub notifications: &'s [NotificationExpectation],
}

/// Every answer a step allows, the main one first.
pub fn answers(step: &Step) -> Vec<Answer<'_>> {
    let mut all = vec![Answer {
        expect: &step.expect,
        notifications: &step.notifications,
    }];
    all.extend(step.expect.alternatives.iter().map(|a| Answer {
        expect: a,
        notifications: &a.notifications,
    }));
    all
}

/// What failures of a step weigh: cleanup decides nothing; a setup step's HTTP answer is a setup
/// error; otherwise the expectation's own provenance, or its case's.
#[derive(Clone, Copy)]
pub struct Weights {
    pub case: Provenance,
    pub cleanup: bool,
    pub setup: bool,
}

impl Weights {
    /// What a miss of a notification expectation weighs (a setup step's notifications are what its
    /// case checks: they weigh their provenance).
    /// The weights of `step` in a case of provenance `case`.
    pub fn of_step(step: &Step, case: Provenance) -> Weights {
        Weights {
            case,
            cleanup: step.always,
            setup: step.purpose == StepPurpose::Setup,
        }
    }

    pub fn of(&self, own: Option<Provenance>) -> Level {
        if self.cleanup {
            Level::Info
        } else {
            Level::of(own.unwrap_or(self.case))
        }
    }

    /// What a miss of the step's HTTP answer weighs.
    fn http(&self, own: Option<Provenance>) -> Level {
        if self.setup && !self.cleanup {
            Level::Setup
        } else {
            self.of(own)
        }
    }

    /// An answer's own provenance, else the step's main answer's, else the case's.
    fn answer(&self, answers: &[Answer], k: usize) -> Option<Provenance> {
        answers[k]
            .expect
            .provenance
            .or(answers[0].expect.provenance)
    }

    /// What a request that got no answer at all weighs: no conforming server stays silent, so a
    /// failure whatever the provenance (cleanup aside, and a setup step's is a setup error).
    fn silence(&self) -> Level {
        match (self.cleanup, self.setup) {
            (true, _) => Level::Info,
            (false, true) => Level::Setup,
            (false, false) => Level::Failure,
        }
    }
}

/// The HTTP checks of every answer, for one response (or none).
pub fn http_checks(
    answers: &[Answer],
    response: Option<&ResponseRecord>,
    no_response: &str,
    schemas: &SchemaSet,
) -> Vec<Vec<Check>> {
    answers
        .iter()
        .map(|a| match response {
            Some(r) => check_answer(a.expect, r, schemas),
            None => vec![Check::exchange_failed(no_response)],
        })
        .collect()
}

/// The answers worth listening for: those whose HTTP answer matched, or the main one when none did
/// (its notification checks are then reported beside its HTTP failures).
pub fn watched(http: &[Vec<Check>]) -> Vec<usize> {
    let viable: Vec<usize> = (0..http.len())
        .filter(|&k| http[k].iter().all(|c| c.passed))
        .collect();
    if viable.is_empty() {
        vec![0]
    } else {
        viable
    }
}

/// The watched answers' notification expectations, one after another, with each answer's range.
pub fn expectations(
    answers: &[Answer],
    watched: &[usize],
    weights: Weights,
) -> (Vec<NotificationExpectation>, Vec<Range<usize>>, Vec<Level>) {
    let mut all = Vec::new();
    let mut groups = Vec::new();
    let mut levels = Vec::new();
    for &k in watched {
        let start = all.len();
        for n in answers[k].notifications {
            levels.push(weights.of(n.provenance.or(weights.answer(answers, k))));
            all.push(n.clone());
        }
        groups.push(start..all.len());
    }
    (all, groups, levels)
}

/// The step's checks: the first answer that holds, or why none did. `answered` says whether the
/// request got an HTTP answer at all. `session` is the CometD session's failure, if it broke: it
/// counts only when no answer holds (an answer that needs no CometD stands without it).
pub fn decide(
    answers: &[Answer],
    answered: bool,
    mut http: Vec<Vec<Check>>,
    watched: &[usize],
    notified: Option<Outcome>,
    session: Option<Check>,
    weights: Weights,
) -> Vec<Check> {
    let mut groups = notified.map(|o| o.groups).unwrap_or_default();
    groups.resize(watched.len(), Vec::new());
    // Each HTTP check weighs what its answer's provenance says; silence is always a failure.
    for (k, checks) in http.iter_mut().enumerate() {
        let level = if answered {
            weights.http(weights.answer(answers, k))
        } else {
            weights.silence()
        };
        for c in checks.iter_mut() {
            c.level = level;
        }
    }
    let holds =
        |j: usize, k: usize| http[k].iter().all(|c| c.passed) && groups[j].iter().all(|c| c.passed);
    let n = answers.len() - 1;
    let winner = (0..watched.len()).find(|&j| holds(j, watched[j]));
    let mut out = Vec::new();
    if let Some(j) = winner {
        let k = watched[j];
        if k > 0 {
            out.push(Check::new(
                "answer",
                true,
                format!("the main answer or one of {n} alternative(s)"),
                format!(
                    "alternative {k}: {}",
                    answers[k].expect.reason.as_deref().unwrap_or_default()
                ),
            ));
        }
        out.append(&mut http[k]);
        out.append(&mut groups[j]);
        return out;
    }
    // No answer holds. The step weighs what the closest answer missed: each answer's heaviest
    // miss, and the lightest of those (a documented answer missed beside an inferred alternative
    // that only lacked its notification is a warning, not a failure).
    let heaviest = |checks: &[Check]| {
        checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.level)
            .max()
            .unwrap_or(Level::Info)
    };
    let mut step_level = (0..answers.len())
        .map(|k| match watched.iter().position(|&w| w == k) {
            Some(j) => heaviest(&http[k]).worst(heaviest(&groups[j])),
            None => heaviest(&http[k]),
        })
        .min()
        .unwrap_or(Level::Failure);
    // A setup step whose request was not done as meant: what its notifications missed follows
    // from that, and weighs no more than it.
    if weights.setup && !weights.cleanup && !http.iter().any(|c| c.iter().all(|c| c.passed)) {
        step_level = step_level.cap_at(Level::Setup);
    }
    if let Some(s) = &session {
        step_level = step_level.worst(s.level);
    }
    let k = watched[0];
    out.extend(session);
    out.append(&mut http[k]);
    out.append(&mut groups[0]);
    if n > 0 {
        out.push(Check::new(
            "answer",
            false,
            format!("the main answer or one of {n} alternative(s)"),
            format!("none of them; tried: {}", tried(answers)),
        ));
    }
    // What is shown weighs no more than the step does.
    for c in out.iter_mut().filter(|c| !c.passed) {
        c.level = c.level.cap_at(step_level);
    }
    out
}

/// Why the case's CometD session broke, as the runner saw it (its text already masked).
pub struct SessionFailure {
    pub endpoint: String,
    pub error: String,
    /// While it was being set up (handshake, subscription), with no answer or one saying the
    /// endpoint is not there (404, 405, 501): a setup error.
    pub at_start: bool,
}

/// What a step observed after its HTTP checks were made: every exchange (the harness's own first,
/// the step's own last), the notifications judged (when it listened), and a CometD session that
/// broke during this step.
pub struct Observed<'a> {
    pub exchanges: &'a [Exchange],
    pub notified: Option<Outcome>,
    pub session: Option<SessionFailure>,
}

/// The step's checks, from its HTTP checks (`http`, one list per answer, see [`http_checks`]), the
/// answers that were listened for (`watched`) and what else it observed. Setup errors are decided
/// here: a setup step whose answer matched none, a CometD session that could not be started, a
/// request of the harness's own that failed.
pub fn conclude(
    step: &Step,
    answers: &[Answer],
    weights: Weights,
    http: Vec<Vec<Check>>,
    watched: &[usize],
    observed: Observed,
) -> Vec<Check> {
    let Observed {
        exchanges,
        mut notified,
        session,
    } = observed;
    let answered = exchanges.last().is_some_and(|e| e.response.is_some());
    let viable = http.iter().any(|c| c.iter().all(|c| c.passed));
    // A setup step could not be done when it got no answer, or one saying the operation is not
    // there; any other miss weighs what its provenance says, as any step's does.
    let weights = Weights {
        setup: weights.setup && !viable && setup::missing_or_silent(exchanges.last()),
        ..weights
    };
    let session_check = session.map(|f| {
        if f.at_start {
            // Nothing could arrive: what the notifications missed follows from the setup.
            if let Some(o) = notified.as_mut() {
                o.groups.iter_mut().for_each(|g| setup::cap_at_setup(g));
            }
            setup::cometd_not_started(&f.endpoint, &f.error)
        } else {
            let mut check = notify::session_failed(&f.endpoint, &f.error);
            // It weighs what the notifications it serves weigh.
            let (_, _, levels) = expectations(answers, watched, weights);
            check.level = levels.into_iter().max().unwrap_or(Level::Info);
            check
        }
    });
    let mut checks = decide(
        answers,
        answered,
        http,
        watched,
        notified,
        session_check,
        weights,
    );
    if weights.setup && !weights.cleanup && !viable {
        checks.insert(0, setup::step_not_done(step, exchanges.last()));
    }
    // The harness's own requests (a token fetch, the REST login) serve the step: when one failed,
    // the step was not sent as the case means, and what it found weighs at most a setup error.
    let missed = checks.iter().any(|c| !c.passed);
    if let Some(c) = setup::harness_request_failed(exchanges).filter(|_| missed && !weights.cleanup)
    {
        setup::cap_at_setup(&mut checks);
        checks.insert(0, c);
    }
    checks
}

/// What the steps judged so far mean for the next ones.
#[derive(Debug, Default)]
pub struct Progress {
    /// A failure or a setup error: the case stops (cleanup steps still run).
    stopped: bool,
    /// A warning: what follows is no longer conclusive.
    warned: bool,
}

impl Progress {
    /// Whether `step` runs: after a failure or a setup error only cleanup does.
    pub fn runs(&self, step: &Step) -> bool {
        !self.stopped || step.always
    }

    /// Weighs a step's checks by what came before, and notes what they mean for what follows.
    /// After a warning the case goes on, but what it finds is no longer conclusive: the earlier
    /// answer, one a conforming server may give, may have changed what follows. So a later
    /// failure weighs at most a warning (never a false failure), and nothing is left unchecked.
    pub fn weigh(&mut self, step: &Step, checks: &mut [Check]) {
        if self.warned && !step.always {
            for c in checks.iter_mut().filter(|c| !c.passed) {
                if c.level == Level::Failure {
                    c.level = Level::Warning;
                }
            }
        }
        // What a cleanup step finds stops nothing (its checks weigh Info).
        self.stopped |= checks.iter().any(|c| !c.passed && c.level >= Level::Setup);
        self.warned |= checks
            .iter()
            .any(|c| !c.passed && c.level == Level::Warning);
    }
}

/// The answers a step allowed, in words, for a reviewer.
pub fn tried(answers: &[Answer]) -> String {
    answers
        .iter()
        .enumerate()
        .map(|(k, a)| {
            let what = match &a.expect.reason {
                Some(r) => r.clone(),
                None => super::expectation_words::expectation(a.expect),
            };
            if k == 0 {
                format!("main ({what})")
            } else {
                format!("{k}: {what}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Request, StatusPattern};

    fn response(status: u16, ct: &str, body: &str) -> ResponseRecord {
        ResponseRecord {
            status,
            headers: Vec::new(),
            content_type: Some(ct.to_string()),
            body_text: Some(body.to_string()),
            body_bytes: body.len(),
        }
    }

    fn step(expect: Expectation) -> Step {
        Step {
            name: "s".into(),
            always: false,
            purpose: crate::model::StepPurpose::Check,
            capability: None,
            request: Request {
                method: "POST".into(),
                path: "/api/v2/me".into(),
                auth: crate::model::AuthMode::None,
                headers: Vec::new(),
                body: None,
                csrf: true,
                follow_redirects: false,
            },
            expect,
            notifications: Vec::new(),
            sent_from_env: Vec::new(),
            retry: None,
        }
    }

    /// The checks of a step without notifications, weighed as `provenance`.
    fn judge(step: &Step, r: &ResponseRecord, provenance: Provenance) -> Vec<Check> {
        // (through the same path as a run: HTTP checks, the answers worth listening for, the decision)
        let schemas = SchemaSet::load(std::path::Path::new("schemas")).unwrap();
        let all = answers(step);
        let http = http_checks(&all, Some(r), "", &schemas);
        let watched = watched(&http);
        let weights = Weights {
            case: provenance,
            cleanup: step.always,
            setup: step.purpose == crate::model::StepPurpose::Setup,
        };
        decide(&all, true, http, &watched, None, None, weights)
    }

    fn denied_or_csrf() -> Expectation {
        let body = crate::load::case_file::parse_expected(
            &serde_json::json!({"statusCode": 20, "statusMessage": "Access denied"}),
            false,
        )
        .unwrap();
        Expectation {
            status: vec![StatusPattern::Exact(403)],
            body: Some(body),
            alternatives: vec![Expectation {
                status: vec![StatusPattern::Exact(403)],
                text: Some("Missing or invalid Csrf token".into()),
                reason: Some("CSRF filter first".into()),
                ..Expectation::default()
            }],
            ..Expectation::default()
        }
    }

    fn verdict(checks: &[Check]) -> bool {
        checks.iter().all(|c| c.passed)
    }

    #[test]
    fn alternatives_accept_any_allowed_answer_and_nothing_else() {
        let s = step(denied_or_csrf());
        let main = response(
            403,
            "application/json",
            r#"{"statusCode":20,"statusMessage":"Access denied"}"#,
        );
        assert!(verdict(&judge(&s, &main, Provenance::Documented)));
        let alt = response(403, "text/plain", "Missing or invalid Csrf token\n");
        let checks = judge(&s, &alt, Provenance::Documented);
        assert!(verdict(&checks));
        assert_eq!(checks[0].actual, "alternative 1: CSRF filter first");
        for wrong in [
            response(
                403,
                "application/json",
                r#"{"statusCode":3,"statusMessage":"Access denied"}"#,
            ),
            response(401, "text/plain", "Missing or invalid Csrf token"),
            response(403, "text/plain", "Forbidden"),
        ] {
            let checks = judge(&s, &wrong, Provenance::Documented);
            assert!(!verdict(&checks), "{wrong:?}");
            let last = checks.last().unwrap();
            assert_eq!(last.name, "answer");
            assert!(last.actual.contains("1: CSRF filter first"), "{last:?}");
        }
    }

    #[test]
    fn a_failure_weighs_what_its_provenance_says() {
        let s = step(denied_or_csrf());
        let wrong = response(403, "text/plain", "Forbidden");
        let level = |p| crate::record::Verdict::of_checks(&judge(&s, &wrong, p), false);
        assert_eq!(level(Provenance::Documented), crate::record::Verdict::Fail);
        assert_eq!(level(Provenance::Observed), crate::record::Verdict::Fail);
        assert_eq!(level(Provenance::Inferred), crate::record::Verdict::Warn);
        // A step's own provenance overrides its case's.
        let mut own = denied_or_csrf();
        own.provenance = Some(Provenance::Inferred);
        let checks = judge(&step(own), &wrong, Provenance::Documented);
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, false),
            crate::record::Verdict::Warn
        );
        // A cleanup step decides nothing.
        let mut cleanup = step(denied_or_csrf());
        cleanup.always = true;
        let checks = judge(&cleanup, &wrong, Provenance::Documented);
        assert!(!verdict(&checks));
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, false),
            crate::record::Verdict::Pass
        );
    }

    #[test]
    fn an_alternative_that_only_missed_an_inferred_notification_warns() {
        // Main: a documented 403 refusal; alternative: 200, then (inferred) no login message.
        let mut e = denied_or_csrf();
        e.alternatives[0] = Expectation {
            status: vec![StatusPattern::Class(2)],
            reason: Some("accepted, refused later over CometD".into()),
            ..Expectation::default()
        };
        let s = step(e);
        let ok = response(200, "application/json", r#"{"statusCode":0}"#);
        let schemas = SchemaSet::load(std::path::Path::new("schemas")).unwrap();
        let all = answers(&s);
        let http = http_checks(&all, Some(&ok), "", &schemas);
        let watched = watched(&http);
        assert_eq!(
            watched,
            vec![1],
            "only the alternative's HTTP answer matched"
        );
        let mut missed = Check::new("notification:/v2/me/devices", false, "none", "a login");
        missed.level = Level::Warning;
        let outcome = Outcome {
            groups: vec![vec![missed]],
            ..Outcome::default()
        };
        let weights = Weights {
            case: Provenance::Documented,
            cleanup: false,
            setup: false,
        };
        let checks = decide(&all, true, http, &watched, Some(outcome), None, weights);
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, false),
            crate::record::Verdict::Warn,
            "{checks:?}"
        );
    }

    #[test]
    fn no_answer_at_all_fails_whatever_the_provenance() {
        let s = step(denied_or_csrf());
        let schemas = SchemaSet::load(std::path::Path::new("schemas")).unwrap();
        let all = answers(&s);
        let http = http_checks(&all, None, "connection reset", &schemas);
        let watched = watched(&http);
        let weights = Weights {
            case: Provenance::Inferred,
            cleanup: false,
            setup: false,
        };
        let checks = decide(&all, false, http, &watched, None, None, weights);
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, false),
            crate::record::Verdict::Fail
        );
    }

    #[test]
    fn a_broken_cometd_session_does_not_fail_an_answer_that_needs_none() {
        let s = step(denied_or_csrf());
        let main = response(
            403,
            "application/json",
            r#"{"statusCode":20,"statusMessage":"Access denied"}"#,
        );
        let schemas = SchemaSet::load(std::path::Path::new("schemas")).unwrap();
        let all = answers(&s);
        let http = http_checks(&all, Some(&main), "", &schemas);
        let watched = watched(&http);
        let session = Check::new("cometd", false, "a session", "404");
        let weights = Weights {
            case: Provenance::Documented,
            cleanup: false,
            setup: false,
        };
        let checks = decide(&all, true, http, &watched, None, Some(session), weights);
        assert!(verdict(&checks), "{checks:?}");
    }

    fn exchange_of(r: Option<&ResponseRecord>, by_harness: bool) -> Exchange {
        Exchange {
            request: crate::record::RequestRecord {
                method: "POST".into(),
                url: "http://127.0.0.1/api/v2/me/channels/voice".into(),
                headers: Vec::new(),
                body: None,
            },
            response: r.cloned(),
            error: r.is_none().then(|| "connection reset".to_string()),
            error_kind: r.is_none().then_some(crate::record::ErrorKind::Dropped),
            by_harness,
            duration_ms: 0,
            note: None,
        }
    }

    /// A step judged through [`conclude`], as a run judges it, from the exchanges it made and the
    /// notification outcome (if it listened).
    fn concluded(
        step: &Step,
        exchanges: &[Exchange],
        notified: Option<Outcome>,
        session: Option<SessionFailure>,
    ) -> Vec<Check> {
        let schemas = SchemaSet::load(std::path::Path::new("schemas")).unwrap();
        let all = answers(step);
        let last = exchanges.last().and_then(|e| e.response.as_ref());
        let http = http_checks(&all, last, "connection reset", &schemas);
        let watched = watched(&http);
        let weights = Weights::of_step(step, Provenance::Documented);
        let observed = Observed {
            exchanges,
            notified,
            session,
        };
        conclude(step, &all, weights, http, &watched, observed)
    }

    fn ready_step() -> Step {
        let mut s = step(Expectation {
            status: vec![StatusPattern::Class(2)],
            ..Expectation::default()
        });
        s.purpose = StepPurpose::Setup;
        s.capability = Some("agent_state".into());
        s.request.path = "/api/v2/me/channels/voice".into();
        s
    }

    fn missed_notification() -> Outcome {
        Outcome {
            groups: vec![vec![Check::new(
                "notification:/v2/me/devices",
                false,
                "a Ready message",
                "none within 4000 ms",
            )]],
            ..Outcome::default()
        }
    }

    #[test]
    fn a_setup_step_that_is_not_done_is_a_setup_error_naming_the_fix() {
        let s = ready_step();
        let not_found = response(404, "application/json", r#"{"statusCode":6}"#);
        let checks = concluded(
            &s,
            &[exchange_of(Some(&not_found), false)],
            Some(missed_notification()),
            None,
        );
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, true),
            crate::record::Verdict::Error,
            "{checks:?}"
        );
        assert!(
            checks[0].actual.contains("`agent_state` is declared"),
            "{checks:?}"
        );
        // No answer at all: a setup error too, never the silence failure.
        let checks = concluded(&s, &[exchange_of(None, false)], None, None);
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, false),
            crate::record::Verdict::Error
        );
    }

    #[test]
    fn a_setup_step_answered_otherwise_fails_as_any_step() {
        // Not a missing operation: the server answered, and wrongly.
        let s = ready_step();
        let broken = response(500, "text/plain", "oops");
        let checks = concluded(&s, &[exchange_of(Some(&broken), false)], None, None);
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, false),
            crate::record::Verdict::Fail,
            "{checks:?}"
        );
    }

    #[test]
    fn a_setup_step_done_but_not_notified_fails_on_the_notification() {
        let s = ready_step();
        let ok = response(200, "application/json", r#"{"statusCode":0}"#);
        let checks = concluded(
            &s,
            &[exchange_of(Some(&ok), false)],
            Some(missed_notification()),
            None,
        );
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, false),
            crate::record::Verdict::Fail,
            "the notification is what the case checks: {checks:?}"
        );
    }

    #[test]
    fn a_check_step_still_fails_on_its_rule() {
        // The same 404 on a step that is what the case checks.
        let mut s = ready_step();
        s.purpose = StepPurpose::Check;
        s.capability = None;
        let not_found = response(404, "application/json", r#"{"statusCode":6}"#);
        let checks = concluded(&s, &[exchange_of(Some(&not_found), false)], None, None);
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, false),
            crate::record::Verdict::Fail
        );
    }

    #[test]
    fn a_failed_harness_request_caps_the_step_at_a_setup_error() {
        let s = step(Expectation {
            status: vec![StatusPattern::Exact(200)],
            ..Expectation::default()
        });
        let refused = response(403, "text/plain", "Missing or invalid Csrf token");
        let fetch = exchange_of(Some(&response(404, "text/plain", "")), true);
        let checks = concluded(&s, &[fetch, exchange_of(Some(&refused), false)], None, None);
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, false),
            crate::record::Verdict::Error,
            "{checks:?}"
        );
        // A token fetch that worked leaves the step's own failure a failure.
        let fetch = exchange_of(Some(&response(200, "application/json", "{}")), true);
        let checks = concluded(&s, &[fetch, exchange_of(Some(&refused), false)], None, None);
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, false),
            crate::record::Verdict::Fail
        );
    }

    #[test]
    fn a_cometd_session_that_could_not_start_is_a_setup_error() {
        let mut s = step(Expectation {
            status: vec![StatusPattern::Class(2)],
            ..Expectation::default()
        });
        s.notifications = vec![];
        let ok = response(200, "application/json", r#"{"statusCode":0}"#);
        let broke = |at_start| SessionFailure {
            endpoint: "http://127.0.0.1/api/v2/notifications".into(),
            error: "/meta/handshake was answered with HTTP 404".into(),
            at_start,
        };
        let checks = concluded(
            &s,
            &[exchange_of(Some(&ok), false)],
            Some(missed_notification()),
            Some(broke(true)),
        );
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, false),
            crate::record::Verdict::Error,
            "{checks:?}"
        );
        // Broken later, after it worked: what the notifications weigh.
        let checks = concluded(
            &s,
            &[exchange_of(Some(&ok), false)],
            Some(missed_notification()),
            Some(broke(false)),
        );
        assert_eq!(
            crate::record::Verdict::of_checks(&checks, false),
            crate::record::Verdict::Fail,
            "{checks:?}"
        );
    }

    #[test]
    fn after_a_warning_a_failure_weighs_a_warning_and_a_failure_stops_the_case() {
        let s = step(Expectation::default());
        let mut cleanup = step(Expectation::default());
        cleanup.always = true;
        let missed = |level| {
            let mut c = Check::new("status", false, "200", "500");
            c.level = level;
            c
        };
        let mut p = Progress::default();
        let mut first = vec![missed(Level::Warning)];
        p.weigh(&s, &mut first);
        assert!(p.runs(&s));
        let mut second = vec![missed(Level::Failure), missed(Level::Setup)];
        p.weigh(&s, &mut second);
        assert_eq!(
            second[0].level,
            Level::Warning,
            "no false failure after a warning"
        );
        assert_eq!(second[1].level, Level::Setup, "a setup error stays one");
        assert!(!p.runs(&s), "a setup error stops the case");
        assert!(p.runs(&cleanup), "cleanup still runs");
        let mut p = Progress::default();
        p.weigh(&cleanup, &mut [missed(Level::Info)]);
        assert!(p.runs(&s), "what cleanup finds stops nothing");
    }
}

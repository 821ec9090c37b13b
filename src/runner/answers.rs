//! Judging one step's answer against every answer the case allows: the main expectation, then each
//! alternative, each with what must then arrive over CometD. The first that holds decides; when none
//! does, the main answer's failures are shown (or, when the HTTP answer matched one but its
//! notifications did not come, that one's), with what else was tried.

use std::ops::Range;

use crate::check::notifications::Outcome;
use crate::check::{check_answer, Check};
use crate::load::SchemaSet;
use crate::model::{Expectation, NotificationExpectation, Provenance, Step};
use crate::record::{Level, ResponseRecord};
use crate::secret::Redactor;

/// One answer a step allows.
pub(super) struct Answer<'s> {
    pub expect: &'s Expectation,
    pub notifications: &'s [NotificationExpectation],
}

/// Every answer a step allows, the main one first.
pub(super) fn answers(step: &Step) -> Vec<Answer<'_>> {
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

/// What failures of a step weigh: cleanup decides nothing; otherwise the expectation's own
/// provenance, or its case's.
#[derive(Clone, Copy)]
pub(super) struct Weights {
    pub case: Provenance,
    pub cleanup: bool,
}

impl Weights {
    pub fn of(&self, own: Option<Provenance>) -> Level {
        if self.cleanup {
            Level::Info
        } else {
            Level::of(own.unwrap_or(self.case))
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
    /// failure whatever the provenance (cleanup aside).
    fn silence(&self) -> Level {
        if self.cleanup {
            Level::Info
        } else {
            Level::Failure
        }
    }
}

/// The HTTP checks of every answer, for one response (or none).
pub(super) fn http_checks(
    answers: &[Answer],
    response: Option<&ResponseRecord>,
    no_response: &str,
    schemas: &SchemaSet,
    redact: &Redactor,
) -> Vec<Vec<Check>> {
    answers
        .iter()
        .map(|a| match response {
            Some(r) => check_answer(a.expect, r, schemas, redact),
            None => vec![Check::exchange_failed(no_response)],
        })
        .collect()
}

/// The answers worth listening for: those whose HTTP answer matched, or the main one when none did
/// (its notification checks are then reported beside its HTTP failures).
pub(super) fn watched(http: &[Vec<Check>]) -> Vec<usize> {
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
pub(super) fn expectations(
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

/// The windows as the profile's `notification_window_ms` scales them: the cases' `within_ms` are
/// written for the default window, and a slow lab waits proportionally longer (absences too).
pub(super) fn scaled(
    mut all: Vec<NotificationExpectation>,
    window: std::time::Duration,
) -> Vec<NotificationExpectation> {
    let default = crate::load::profile::DEFAULT_NOTIFICATION_WINDOW.as_millis();
    for e in &mut all {
        let ms = (e.within.as_millis() * window.as_millis() / default).max(1);
        e.within = std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX));
        e.settle = e.settle.map(|s| s.min(e.within));
    }
    all
}

/// The step's checks: the first answer that holds, or why none did. `session` is the CometD
/// session's failure, if it broke: it counts only when no answer holds (an answer that needs no
/// CometD stands without it).
pub(super) fn decide(
    answers: &[Answer],
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
        let level = weights.of(weights.answer(answers, k));
        for c in checks.iter_mut() {
            c.level = if c.name == "exchange" {
                weights.silence()
            } else {
                level
            };
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
            .min()
            .unwrap_or(Level::Info)
    };
    let mut step_level = (0..answers.len())
        .map(|k| match watched.iter().position(|&w| w == k) {
            Some(j) => heaviest(&http[k]).min(heaviest(&groups[j])),
            None => heaviest(&http[k]),
        })
        .max()
        .unwrap_or(Level::Failure);
    if let Some(s) = &session {
        step_level = step_level.min(s.level);
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
        c.level = c.level.max(step_level);
    }
    out
}

/// The answers a step allowed, in words, for a reviewer.
pub(super) fn tried(answers: &[Answer]) -> String {
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
    use crate::model::{NotificationKind, Request, StatusPattern};

    #[test]
    fn windows_scale_with_the_profile_and_settle_stays_inside() {
        let e = |within: u64, settle: Option<u64>| NotificationExpectation {
            channel: "/v2/me/devices".into(),
            within: std::time::Duration::from_millis(within),
            schema: None,
            kind: NotificationKind::Absent { body: None },
            exclusive: false,
            provenance: None,
            settle: settle.map(std::time::Duration::from_millis),
        };
        let ms = |d: std::time::Duration| d.as_millis() as u64;
        let same = scaled(
            vec![e(4000, Some(1000))],
            std::time::Duration::from_millis(4000),
        );
        assert_eq!(
            (ms(same[0].within), same[0].settle.map(ms)),
            (4000, Some(1000))
        );
        let slow = scaled(
            vec![e(4000, None), e(2000, None)],
            std::time::Duration::from_millis(10_000),
        );
        assert_eq!((ms(slow[0].within), ms(slow[1].within)), (10_000, 5000));
        let fast = scaled(
            vec![e(4000, Some(1000))],
            std::time::Duration::from_millis(400),
        );
        assert_eq!(
            (ms(fast[0].within), fast[0].settle.map(ms)),
            (400, Some(400))
        );
    }

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
        }
    }

    /// The checks of a step without notifications, weighed as `provenance`.
    fn judge(step: &Step, r: &ResponseRecord, provenance: Provenance) -> Vec<Check> {
        // (through the same path as a run: HTTP checks, the answers worth listening for, the decision)
        let schemas = SchemaSet::load(std::path::Path::new("schemas")).unwrap();
        let id = Redactor::new();
        let all = answers(step);
        let http = http_checks(&all, Some(r), "", &schemas, &id);
        let watched = watched(&http);
        let weights = Weights {
            case: provenance,
            cleanup: step.always,
        };
        decide(&all, http, &watched, None, None, weights)
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
        let level = |p| crate::record::Verdict::of_checks(&judge(&s, &wrong, p));
        assert_eq!(level(Provenance::Documented), crate::record::Verdict::Fail);
        assert_eq!(level(Provenance::Observed), crate::record::Verdict::Fail);
        assert_eq!(level(Provenance::Inferred), crate::record::Verdict::Warn);
        // A step's own provenance overrides its case's.
        let mut own = denied_or_csrf();
        own.provenance = Some(Provenance::Inferred);
        let checks = judge(&step(own), &wrong, Provenance::Documented);
        assert_eq!(
            crate::record::Verdict::of_checks(&checks),
            crate::record::Verdict::Warn
        );
        // A cleanup step decides nothing.
        let mut cleanup = step(denied_or_csrf());
        cleanup.always = true;
        let checks = judge(&cleanup, &wrong, Provenance::Documented);
        assert!(!verdict(&checks));
        assert_eq!(
            crate::record::Verdict::of_checks(&checks),
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
        let http = http_checks(&all, Some(&ok), "", &schemas, &Redactor::new());
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
        };
        let checks = decide(&all, http, &watched, Some(outcome), None, weights);
        assert_eq!(
            crate::record::Verdict::of_checks(&checks),
            crate::record::Verdict::Warn,
            "{checks:?}"
        );
    }

    #[test]
    fn no_answer_at_all_fails_whatever_the_provenance() {
        let s = step(denied_or_csrf());
        let schemas = SchemaSet::load(std::path::Path::new("schemas")).unwrap();
        let all = answers(&s);
        let http = http_checks(&all, None, "connection reset", &schemas, &Redactor::new());
        let watched = watched(&http);
        let weights = Weights {
            case: Provenance::Inferred,
            cleanup: false,
        };
        let checks = decide(&all, http, &watched, None, None, weights);
        assert_eq!(
            crate::record::Verdict::of_checks(&checks),
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
        let http = http_checks(&all, Some(&main), "", &schemas, &Redactor::new());
        let watched = watched(&http);
        let session = Check::new("cometd", false, "a session", "404");
        let weights = Weights {
            case: Provenance::Documented,
            cleanup: false,
        };
        let checks = decide(&all, http, &watched, None, Some(session), weights);
        assert!(verdict(&checks), "{checks:?}");
    }
}

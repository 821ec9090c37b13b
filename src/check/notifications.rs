//! Stage 4, **check**, for CometD: judges the messages a step received against the step's
//! notification expectations.
//!
//! A [`Watch`] opens when the step's request is sent. The runner feeds it every delivered message
//! ([`Watch::offer`]) and asks how long to keep waiting ([`Watch::deadline`]): a positive expectation
//! stops the wait as soon as it is met, an absence only when its window closes, so no step waits longer
//! than its longest unmet window. [`Watch::finish`] turns what was seen into [`Check`]s, records and
//! notes. Messages that no expectation matched are notes, not failures, unless an expectation on their
//! channel is `exclusive`.

use std::ops::Range;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::body::{compare_body, compare_body_shown};
use super::{pointer_to_path, Check, Mismatch};
use crate::load::SchemaSet;
use crate::model::{Expected, MatchMode, NotificationExpectation, NotificationKind};
use crate::record::Level;
use crate::record::NotificationRecord;
use crate::secret::Redactor;

/// How much of a message a note quotes.
const NOTE_CHARS: usize = 240;

/// The expectations of one step, and the messages seen since its request was sent.
pub struct Watch<'a> {
    expectations: &'a [NotificationExpectation],
    /// The answers the expectations belong to, in order of preference: ranges of `expectations`.
    /// The step holds if every expectation of one group is met.
    groups: Vec<Range<usize>>,
    opened: Instant,
    seen: Vec<Seen>,
    progress: Vec<Progress>,
    /// What a failure of each expectation weighs.
    levels: Vec<Level>,
}

/// Where an answer's expectations stand.
#[derive(Debug, PartialEq, Eq)]
enum GroupState {
    Passed,
    Failed,
    Pending,
}

struct Seen {
    channel: String,
    message: Value,
    at: Duration,
    matched_by: Vec<usize>,
}

#[derive(Default)]
struct Progress {
    /// Indexes into `seen` of the messages this expectation matched, in arrival order.
    matched: Vec<usize>,
    /// Messages on the channel, within the window and before the expectation was met, that it did
    /// not match.
    others: Vec<usize>,
    /// When a positive expectation was met.
    met_at: Option<Duration>,
    /// When an absence saw its message, or an exclusive expectation a foreign one.
    violated_at: Option<Duration>,
}

/// What a step's notifications came to.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every check, in expectation order.
    pub checks: Vec<Check>,
    /// The checks of each group (answer), in the order the groups were given.
    pub groups: Vec<Vec<Check>>,
    pub records: Vec<NotificationRecord>,
    pub notes: Vec<String>,
}

impl<'a> Watch<'a> {
    /// Opens the window at `opened`, the moment the step's request is sent.
    pub fn new(expectations: &'a [NotificationExpectation], opened: Instant) -> Self {
        let all = 0..expectations.len();
        Self::grouped(expectations, Vec::from([all]), opened)
    }

    /// A watch over several answers' expectations (`groups`: consecutive ranges covering all of
    /// them, in order of preference): the wait ends as soon as the first answer that can still hold
    /// does.
    pub fn grouped(
        expectations: &'a [NotificationExpectation],
        groups: Vec<Range<usize>>,
        opened: Instant,
    ) -> Self {
        Watch {
            levels: vec![Level::Failure; expectations.len()],
            expectations,
            groups,
            opened,
            seen: Vec::new(),
            progress: expectations.iter().map(|_| Progress::default()).collect(),
        }
    }

    /// Sets what a failure of each expectation weighs (default: a failure).
    pub fn with_levels(mut self, levels: Vec<Level>) -> Self {
        if levels.len() == self.expectations.len() {
            self.levels = levels;
        }
        self
    }

    /// The channels the step must be subscribed to before its request goes out.
    pub fn channels(&self) -> Vec<String> {
        channels(self.expectations)
    }

    /// Takes in one delivered message, received at `at`.
    pub fn offer(&mut self, channel: &str, message: Value, at: Instant) {
        let rel = at.saturating_duration_since(self.opened);
        let k = self.seen.len();
        let mut matched_by = Vec::new();
        for (i, e) in self.expectations.iter().enumerate() {
            if e.channel != channel || rel > e.within {
                continue;
            }
            let p = &mut self.progress[i];
            // Once met, an expectation takes no more messages: what it rests on is the first `count`
            // matches, not however many more happened to arrive before the step stopped listening,
            // so the same server gives the same report. Later messages are notes.
            let done = p.violated_at.is_some() || p.met_at.is_some();
            if done {
                continue;
            }
            let hit = match &e.kind {
                NotificationKind::AtLeast { body, count } => {
                    let hit = matches(body.as_ref(), &message);
                    if hit {
                        p.matched.push(k);
                        if p.matched.len() >= *count && p.met_at.is_none() {
                            p.met_at = Some(rel);
                        }
                    }
                    hit
                }
                NotificationKind::Absent { body } => {
                    let hit = matches(body.as_ref(), &message);
                    if hit {
                        p.matched.push(k);
                        p.violated_at.get_or_insert(rel);
                    }
                    hit
                }
                NotificationKind::Sequence(items) => {
                    let next = items.get(p.matched.len());
                    let hit = next.is_some_and(|x| matches(Some(x), &message));
                    if hit {
                        p.matched.push(k);
                        if p.matched.len() == items.len() {
                            p.met_at = Some(rel);
                        }
                    }
                    hit
                }
            };
            if hit {
                matched_by.push(i);
            } else if p.met_at.is_none() {
                p.others.push(k);
                if e.exclusive {
                    p.violated_at.get_or_insert(rel);
                }
            }
        }
        self.seen.push(Seen {
            channel: channel.to_string(),
            message,
            at: rel,
            matched_by,
        });
    }

    fn settled(&self, i: usize, now: Instant) -> bool {
        let p = &self.progress[i];
        p.violated_at.is_some()
            || p.met_at.is_some()
            || now.saturating_duration_since(self.opened) >= self.expectations[i].within
    }

    /// Whether expectation `i` is met for good (`Some(true)`), failed for good (`Some(false)`), or
    /// still open.
    fn fate(&self, i: usize, now: Instant) -> Option<bool> {
        let p = &self.progress[i];
        let closed = now.saturating_duration_since(self.opened) >= self.expectations[i].within;
        match self.expectations[i].kind {
            _ if p.violated_at.is_some() => Some(false),
            NotificationKind::Absent { .. } => closed.then_some(true),
            _ if p.met_at.is_some() => Some(true),
            _ => closed.then_some(false),
        }
    }

    fn group_state(&self, g: &Range<usize>, now: Instant) -> GroupState {
        let fates: Vec<Option<bool>> = g.clone().map(|i| self.fate(i, now)).collect();
        if fates.contains(&Some(false)) {
            GroupState::Failed
        } else if fates.iter().all(|f| *f == Some(true)) {
            GroupState::Passed
        } else {
            GroupState::Pending
        }
    }

    /// Until when the step must keep listening, or `None` when it may stop: the first answer (in
    /// order) that can still hold decides; it ends the wait once met, and otherwise the latest window
    /// of its expectations not settled yet bounds it. When every answer has failed, the first (the
    /// one reported) waits out its windows, so that every check it reports is final.
    pub fn deadline(&self, now: Instant) -> Option<Instant> {
        let open_until = |g: &Range<usize>| {
            g.clone()
                .filter(|&i| !self.settled(i, now))
                .map(|i| self.opened + self.expectations[i].within)
                .max()
        };
        for g in &self.groups {
            match self.group_state(g, now) {
                GroupState::Passed => return None,
                GroupState::Pending => return open_until(g),
                GroupState::Failed => continue,
            }
        }
        // Every answer failed: the first is the one reported, so every check it shows is final.
        self.groups.first().and_then(open_until)
    }

    /// Judges what was seen. `failure` is why the CometD session broke down, if it did: then nothing
    /// that was not already met can pass, not even an absence, which a dead session cannot show.
    pub fn finish(self, schemas: &SchemaSet, redact: &Redactor, failure: Option<&str>) -> Outcome {
        let mut out = Outcome::default();
        for g in &self.groups {
            let mut checks = Vec::new();
            // Names count within an answer: each answer reads as if it were the only one.
            let names = check_names(&self.expectations[g.clone()]);
            for (i, label) in g.clone().zip(&names) {
                let e = &self.expectations[i];
                let p = &self.progress[i];
                let mut group = vec![self.main_check(e, p, label, redact, failure)];
                if let Some(schema) = &e.schema {
                    if !p.matched.is_empty() {
                        group.push(self.schema_check(schema, p, label, schemas, redact));
                    }
                }
                if e.exclusive {
                    group.push(self.exclusive_check(e, p, label, redact));
                }
                for c in &mut group {
                    c.level = self.levels[i];
                }
                checks.extend(group);
            }
            out.checks.extend(checks.iter().cloned());
            out.groups.push(checks);
        }
        for s in &self.seen {
            let mut message = s.message.clone();
            redact.redact_json(&mut message);
            if s.matched_by.is_empty() {
                out.notes.push(format!(
                    "unexpected message on {} after {} ms: {}",
                    s.channel,
                    s.at.as_millis(),
                    clip(&message.to_string())
                ));
            }
            out.records.push(NotificationRecord {
                channel: s.channel.clone(),
                at_ms: s.at.as_millis() as i64,
                message,
                matched: s.matched_by.clone(),
            });
        }
        out
    }

    fn main_check(
        &self,
        e: &NotificationExpectation,
        p: &Progress,
        label: &str,
        redact: &Redactor,
        failure: Option<&str>,
    ) -> Check {
        let w = e.within.as_millis();
        let what = |body: &Option<Expected>| {
            if body.is_some() {
                "matching the body"
            } else {
                "of any content"
            }
        };
        let expected = match &e.kind {
            NotificationKind::AtLeast { body, count: 1 } => {
                format!("a message {} on {} within {w} ms", what(body), e.channel)
            }
            NotificationKind::AtLeast { body, count } => {
                format!(
                    "{count} messages {} on {} within {w} ms",
                    what(body),
                    e.channel
                )
            }
            NotificationKind::Absent { body } => {
                format!("no message {} on {} within {w} ms", what(body), e.channel)
            }
            NotificationKind::Sequence(items) => format!(
                "{} messages on {} in order within {w} ms",
                items.len(),
                e.channel
            ),
        };
        let name = format!("notification:{label}");
        let others = p.others.len();
        let others_text = match others {
            0 => "no other message on the channel".to_string(),
            1 => "1 other message on the channel".to_string(),
            n => format!("{n} other messages on the channel"),
        };
        match &e.kind {
            NotificationKind::Absent { .. } => {
                if let Some(t) = p.violated_at {
                    let mut c = Check::new(
                        name,
                        false,
                        expected,
                        format!("a matching message arrived after {} ms", t.as_millis()),
                    );
                    if let Some(&k) = p.matched.first() {
                        let mut m = self.seen[k].message.clone();
                        redact.redact_json(&mut m);
                        c.mismatches.push(Mismatch {
                            path: "$".into(),
                            message: format!("unwanted message: {}", clip(&m.to_string())),
                        });
                    }
                    return c;
                }
                if let Some(f) = failure {
                    return Check::new(
                        name,
                        false,
                        expected,
                        format!(
                            "cannot tell: the CometD session failed: {}",
                            redact.redact(f)
                        ),
                    );
                }
                Check::new(
                    name,
                    true,
                    expected,
                    format!("none in {w} ms ({others_text})"),
                )
            }
            NotificationKind::AtLeast { body, count } => {
                if let Some(t) = p.met_at {
                    let actual = if *count == 1 {
                        format!("matched after {} ms", t.as_millis())
                    } else {
                        format!("{count} matched, the last after {} ms", t.as_millis())
                    };
                    return Check::new(name, true, expected, actual);
                }
                let mut actual = if *count == 1 {
                    format!("none within {w} ms ({others_text})")
                } else {
                    format!(
                        "{} of {count} within {w} ms ({others_text})",
                        p.matched.len()
                    )
                };
                if let Some(f) = failure {
                    let f = redact.redact(f);
                    actual = format!("{actual}; the CometD session failed: {f}");
                }
                let mut c = Check::new(name, false, expected, actual);
                if let Some(b) = body {
                    self.closest(&mut c, b, &p.others, redact);
                }
                c
            }
            NotificationKind::Sequence(items) => {
                if let Some(t) = p.met_at {
                    return Check::new(
                        name,
                        true,
                        expected,
                        format!(
                            "all {} in order, the last after {} ms",
                            items.len(),
                            t.as_millis()
                        ),
                    );
                }
                let pos = p.matched.len();
                let mut actual = format!(
                    "{pos} of {} in order within {w} ms; message {} of the sequence never came ({others_text})",
                    items.len(),
                    pos + 1
                );
                if let Some(f) = failure {
                    let f = redact.redact(f);
                    actual = format!("{actual}; the CometD session failed: {f}");
                }
                let mut c = Check::new(name, false, expected, actual);
                // The closest candidates for the missing element are the others after the last match.
                let after = p.matched.last().copied();
                let candidates: Vec<usize> = p
                    .others
                    .iter()
                    .copied()
                    .filter(|&k| after.is_none_or(|a| k > a))
                    .collect();
                if let Some(b) = items.get(pos) {
                    self.closest(&mut c, b, &candidates, redact);
                }
                c
            }
        }
    }

    /// Adds to a failed check the differences between `body` and the nearest of `candidates`.
    fn closest(&self, c: &mut Check, body: &Expected, candidates: &[usize], redact: &Redactor) {
        let best = candidates
            .iter()
            .map(|&k| {
                (
                    k,
                    compare_body_shown(body, &self.seen[k].message, MatchMode::Subset, &[], redact),
                )
            })
            .min_by_key(|(_, cmp)| cmp.mismatches.len());
        if let Some((k, cmp)) = best {
            c.mismatches = cmp
                .mismatches
                .into_iter()
                .map(|m| Mismatch {
                    path: m.path,
                    message: format!(
                        "closest message (after {} ms): {}",
                        self.seen[k].at.as_millis(),
                        m.message
                    ),
                })
                .collect();
            c.diff = Some(cmp.diff);
        }
    }

    fn schema_check(
        &self,
        schema: &str,
        p: &Progress,
        label: &str,
        schemas: &SchemaSet,
        redact: &Redactor,
    ) -> Check {
        let mut mismatches = Vec::new();
        let mut bad = 0;
        for (n, &k) in p.matched.iter().enumerate() {
            let v = schemas.violations(schema, &self.seen[k].message);
            if !v.is_empty() {
                bad += 1;
            }
            mismatches.extend(v.into_iter().map(|v| Mismatch {
                path: pointer_to_path(&v.instance_path),
                message: format!(
                    "message {} (after {} ms): {}",
                    n + 1,
                    self.seen[k].at.as_millis(),
                    redact.redact(&v.message)
                ),
            }));
        }
        let total = p.matched.len();
        let mut c = Check::new(
            format!("notification-schema:{label}"),
            mismatches.is_empty(),
            format!("every matched message conforms to schemas/{schema}.schema.json"),
            if bad == 0 {
                format!("{total} of {total} conform")
            } else {
                format!("{bad} of {total} break it")
            },
        );
        c.mismatches = mismatches;
        c
    }

    fn exclusive_check(
        &self,
        e: &NotificationExpectation,
        p: &Progress,
        label: &str,
        redact: &Redactor,
    ) -> Check {
        let name = format!("notification-exclusive:{label}");
        let expected = format!(
            "no other message on {} until the expectation is met",
            e.channel
        );
        match p.others.first() {
            None => Check::new(name, true, expected, "no other message"),
            Some(&k) => {
                let mut m = self.seen[k].message.clone();
                redact.redact_json(&mut m);
                let mut c = Check::new(
                    name,
                    false,
                    expected,
                    format!(
                        "{} other message(s), the first after {} ms",
                        p.others.len(),
                        self.seen[k].at.as_millis()
                    ),
                );
                c.mismatches.push(Mismatch {
                    path: "$".into(),
                    message: format!("foreign message: {}", clip(&m.to_string())),
                });
                c
            }
        }
    }
}

/// The channels a step's expectations listen on, each once, sorted.
pub fn channels(expectations: &[NotificationExpectation]) -> Vec<String> {
    let mut c: Vec<String> = expectations.iter().map(|e| e.channel.clone()).collect();
    c.sort();
    c.dedup();
    c
}

/// The check a step gets when its CometD session could not be set up or broke down during it.
pub fn session_failed(endpoint: &str, error: &str) -> Check {
    Check::new(
        "cometd",
        false,
        format!("a working CometD session at {endpoint}"),
        error,
    )
}

fn matches(body: Option<&Expected>, message: &Value) -> bool {
    body.is_none_or(|b| {
        compare_body(b, message, MatchMode::Subset, &[])
            .mismatches
            .is_empty()
    })
}

/// `/v2/me/devices`, or `/v2/me/devices#2` for a channel's second expectation.
fn check_names(expectations: &[NotificationExpectation]) -> Vec<String> {
    let mut names = Vec::new();
    for (i, e) in expectations.iter().enumerate() {
        let n = expectations[..i]
            .iter()
            .filter(|x| x.channel == e.channel)
            .count();
        names.push(if n == 0 {
            e.channel.clone()
        } else {
            format!("{}#{}", e.channel, n + 1)
        });
    }
    names
}

fn clip(text: &str) -> String {
    let mut s: String = text.chars().take(NOTE_CHARS).collect();
    if text.chars().count() > NOTE_CHARS {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::case_file::parse_expected;
    use serde_json::json;
    use std::path::Path;

    const DEVICES: &str = "/v2/me/devices";

    fn schemas() -> SchemaSet {
        SchemaSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")).unwrap()
    }

    fn body(v: Value) -> Expected {
        parse_expected(&v, false).unwrap()
    }

    fn exp(kind: NotificationKind) -> NotificationExpectation {
        NotificationExpectation {
            channel: DEVICES.into(),
            within: Duration::from_millis(1000),
            schema: None,
            kind,
            exclusive: false,
            provenance: None,
        }
    }

    fn dsc(state: &str) -> Value {
        json!({"channel": DEVICES, "data": {"messageType": "DeviceStateChangeMessage",
            "devices": [{"id": "5001", "deviceState": "Active", "userState": {"state": state}}]}})
    }

    fn state_is(state: &str) -> Expected {
        body(json!({"data": {"devices": [{"userState": {"state": state}}]}}))
    }

    fn ms(t0: Instant, n: u64) -> Instant {
        t0 + Duration::from_millis(n)
    }

    fn judge(w: Watch) -> Outcome {
        let r = Redactor::new();
        r.add("s3cret");
        w.finish(&schemas(), &r, None)
    }

    #[test]
    fn a_password_member_of_a_notification_is_masked_like_an_exchanges() {
        // Not a registered secret: the member's name alone says what it holds, as in a body.
        let e = [exp(NotificationKind::AtLeast {
            body: Some(state_is("Ready")),
            count: 1,
        })];
        let t0 = Instant::now();
        let mut w = Watch::new(&e, t0);
        let mut m = dsc("LoggedIn");
        m["data"]["password"] = json!("unregistered-pw");
        m["data"]["agentLoginPassword"] = json!("unregistered-lc");
        w.offer(DEVICES, m, ms(t0, 1));
        let o = judge(w);
        let shown = format!("{o:?}");
        assert!(!shown.contains("unregistered-"), "{shown}");
        assert_eq!(o.records[0].message["data"]["password"], "***");
    }

    #[test]
    fn a_positive_wait_ends_when_met_and_passes() {
        let e = [exp(NotificationKind::AtLeast {
            body: Some(state_is("LoggedIn")),
            count: 1,
        })];
        let t0 = Instant::now();
        let mut w = Watch::new(&e, t0);
        assert_eq!(w.deadline(t0), Some(ms(t0, 1000)));
        w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 20));
        assert_eq!(w.deadline(ms(t0, 21)), None, "met: stop waiting at once");
        let o = judge(w);
        assert!(o.checks[0].passed, "{:?}", o.checks);
        assert_eq!(o.checks[0].actual, "matched after 20 ms");
        assert!(o.notes.is_empty());
        assert_eq!(o.records[0].matched, vec![0]);
    }

    #[test]
    fn a_positive_wait_fails_when_nothing_matches_and_shows_the_closest() {
        let e = [exp(NotificationKind::AtLeast {
            body: Some(state_is("LoggedIn")),
            count: 1,
        })];
        let t0 = Instant::now();
        let mut w = Watch::new(&e, t0);
        w.offer(DEVICES, dsc("NotReady"), ms(t0, 5));
        // Too late: outside the window, it neither counts nor is compared.
        w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 1500));
        assert_eq!(w.deadline(ms(t0, 1000)), None);
        let o = judge(w);
        let c = &o.checks[0];
        assert!(!c.passed);
        assert!(
            c.actual.contains("none within 1000 ms (1 other message"),
            "{}",
            c.actual
        );
        assert_eq!(c.mismatches[0].path, "$.data.devices[0].userState.state");
        assert!(c.diff.is_some());
        assert_eq!(o.notes.len(), 2, "both unmatched messages are notes");
    }

    #[test]
    fn counts_need_that_many() {
        let e = [exp(NotificationKind::AtLeast {
            body: None,
            count: 2,
        })];
        let t0 = Instant::now();
        let mut w = Watch::new(&e, t0);
        w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 5));
        assert!(w.deadline(ms(t0, 6)).is_some());
        let o = judge(w);
        assert!(!o.checks[0].passed);
        assert!(o.checks[0].actual.starts_with("1 of 2"));
    }

    #[test]
    fn an_absence_waits_the_window_and_fails_on_a_match() {
        let e = [exp(NotificationKind::Absent { body: None })];
        let t0 = Instant::now();
        let w = Watch::new(&e, t0);
        assert_eq!(w.deadline(ms(t0, 999)), Some(ms(t0, 1000)));
        assert_eq!(w.deadline(ms(t0, 1000)), None);
        let o = judge(w);
        assert!(o.checks[0].passed);
        assert_eq!(
            o.checks[0].actual,
            "none in 1000 ms (no other message on the channel)"
        );

        let mut w = Watch::new(&e, t0);
        w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 40));
        assert_eq!(w.deadline(ms(t0, 41)), None, "violated: no need to wait on");
        let o = judge(w);
        assert!(!o.checks[0].passed);
        assert_eq!(o.checks[0].actual, "a matching message arrived after 40 ms");
        assert!(o.checks[0].mismatches[0].message.contains("LoggedIn"));
    }

    #[test]
    fn an_absence_cannot_pass_on_a_dead_session() {
        let e = [exp(NotificationKind::Absent { body: None })];
        let t0 = Instant::now();
        let o = Watch::new(&e, t0).finish(&schemas(), &Redactor::new(), Some("handshake refused"));
        assert!(!o.checks[0].passed);
        assert!(o.checks[0].actual.contains("handshake refused"));
    }

    #[test]
    fn a_met_expectation_survives_a_later_session_failure() {
        let e = [exp(NotificationKind::AtLeast {
            body: None,
            count: 1,
        })];
        let t0 = Instant::now();
        let mut w = Watch::new(&e, t0);
        w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 1));
        let o = w.finish(&schemas(), &Redactor::new(), Some("closed"));
        assert!(o.checks[0].passed);
    }

    #[test]
    fn sequences_must_come_in_order() {
        let seq = NotificationKind::Sequence(vec![
            state_is("LoggedIn"),
            body(
                json!({"data": {"devices": [{"userState": {"state": {"$one_of": ["NotReady", "Ready"]}}}]}}),
            ),
        ]);
        let e = [exp(seq)];
        let t0 = Instant::now();
        let mut w = Watch::new(&e, t0);
        w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 1));
        w.offer(DEVICES, dsc("Ready"), ms(t0, 2));
        assert_eq!(w.deadline(ms(t0, 3)), None);
        assert!(judge(w).checks[0].passed);

        // Reversed order: the Ready before LoggedIn cannot count as the second element.
        let mut w = Watch::new(&e, t0);
        w.offer(DEVICES, dsc("Ready"), ms(t0, 1));
        w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 2));
        let o = judge(w);
        let c = &o.checks[0];
        assert!(!c.passed);
        assert!(c.actual.starts_with("1 of 2 in order"), "{}", c.actual);
        assert!(c.actual.contains("message 2 of the sequence never came"));
    }

    #[test]
    fn schemas_apply_to_every_matched_message() {
        let mut e = exp(NotificationKind::AtLeast {
            body: Some(body(
                json!({"data": {"messageType": "DeviceStateChangeMessage"}}),
            )),
            count: 2,
        });
        e.schema = Some("device-state-change".into());
        let e = [e];
        let t0 = Instant::now();
        let mut w = Watch::new(&e, t0);
        w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 1));
        let mut bad = dsc("NotReady");
        bad["data"]["devices"][0]["deviceState"] = json!("active");
        w.offer(DEVICES, bad, ms(t0, 2));
        let o = judge(w);
        assert!(o.checks[0].passed, "both match the body");
        let s = &o.checks[1];
        assert_eq!(s.name, "notification-schema:/v2/me/devices");
        assert!(!s.passed);
        assert_eq!(s.actual, "1 of 2 break it");
        assert_eq!(s.mismatches[0].path, "$.data.devices[0].deviceState");
        assert!(s.mismatches[0]
            .message
            .starts_with("message 2 (after 2 ms)"));
    }

    #[test]
    fn schema_passes_when_every_matched_message_conforms() {
        let mut e = exp(NotificationKind::AtLeast {
            body: None,
            count: 1,
        });
        e.schema = Some("device-state-change".into());
        let e = [e];
        let t0 = Instant::now();
        let mut w = Watch::new(&e, t0);
        w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 1));
        let o = judge(w);
        assert!(o.checks[1].passed, "{:?}", o.checks[1]);
    }

    #[test]
    fn foreign_messages_are_notes_unless_exclusive() {
        let mut e = exp(NotificationKind::AtLeast {
            body: Some(state_is("NotReady")),
            count: 1,
        });
        let t0 = Instant::now();
        let mut foreign = dsc("LoggedIn");
        foreign["data"]["token"] = json!("s3cret");
        let run = |e: &[NotificationExpectation]| {
            let mut w = Watch::new(e, t0);
            w.offer(DEVICES, foreign.clone(), ms(t0, 1));
            w.offer(
                "/v2/me/calls",
                json!({"channel": "/v2/me/calls", "data": {}}),
                ms(t0, 2),
            );
            w.offer(DEVICES, dsc("NotReady"), ms(t0, 3));
            judge(w)
        };
        let o = run(std::slice::from_ref(&e));
        assert!(o.checks.iter().all(|c| c.passed));
        assert_eq!(o.notes.len(), 2);
        assert!(o.notes[0].starts_with("unexpected message on /v2/me/devices after 1 ms"));
        assert!(!o.notes[0].contains("s3cret"), "notes are redacted");
        assert_eq!(o.records[0].message["data"]["token"], "***");

        e.exclusive = true;
        let o = run(std::slice::from_ref(&e));
        let x = &o.checks[1];
        assert_eq!(x.name, "notification-exclusive:/v2/me/devices");
        assert!(!x.passed);
        assert!(x
            .actual
            .starts_with("1 other message(s), the first after 1 ms"));
    }

    #[test]
    fn the_longest_unmet_window_bounds_the_wait() {
        let mut absent = exp(NotificationKind::Absent { body: None });
        absent.channel = "/v2/me/calls".into();
        absent.within = Duration::from_millis(300);
        let positive = exp(NotificationKind::AtLeast {
            body: None,
            count: 1,
        });
        let e = [positive, absent];
        let t0 = Instant::now();
        let mut w = Watch::new(&e, t0);
        assert_eq!(w.deadline(t0), Some(ms(t0, 1000)));
        w.offer(DEVICES, dsc("LoggedIn"), ms(t0, 10));
        assert_eq!(w.deadline(ms(t0, 11)), Some(ms(t0, 300)));
        assert_eq!(
            w.channels(),
            vec!["/v2/me/calls".to_string(), DEVICES.to_string()]
        );
        assert_eq!(
            check_names(&e),
            vec![DEVICES.to_string(), "/v2/me/calls".to_string()]
        );
    }

    #[test]
    fn second_expectations_on_a_channel_get_numbered_names() {
        let e = [
            exp(NotificationKind::Absent { body: None }),
            exp(NotificationKind::Absent { body: None }),
        ];
        assert_eq!(check_names(&e)[1], "/v2/me/devices#2");
    }
}

//! What a [`Watch`] saw, judged: one check per expectation (and per schema, and per exclusive
//! channel), grouped by the answer they belong to, with every message recorded and each one that
//! no expectation matched noted.

use super::{Outcome, Progress, Watch, NOTE_CHARS};
use crate::check::body::compare_body_shown;
use crate::check::{pointer_to_path, Check, Mismatch};
use crate::load::SchemaSet;
use crate::model::{Expected, MatchMode, NotificationExpectation, NotificationKind};
use crate::record::NotificationRecord;

impl Watch<'_> {
    /// Judges what was seen. `failure` is why the CometD session broke down, if it did: then nothing
    /// that was not already met can pass, not even an absence, which a dead session cannot show.
    pub fn finish(self, schemas: &SchemaSet, failure: Option<&str>) -> Outcome {
        let mut out = Outcome::default();
        for g in &self.groups {
            let mut checks = Vec::new();
            // Names count within an answer: each answer reads as if it were the only one.
            let names = check_names(&self.expectations[g.clone()]);
            for (i, label) in g.clone().zip(&names) {
                let e = &self.expectations[i];
                let p = &self.progress[i];
                let mut group = vec![self.main_check(e, p, label, failure)];
                if let Some(schema) = &e.schema {
                    if !p.matched.is_empty() {
                        group.push(self.schema_check(schema, p, label, schemas));
                    }
                }
                if e.exclusive {
                    group.push(self.exclusive_check(e, p, label));
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
            crate::secret::mask_secret_fields(&mut message);
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

    /// The expectation's own check: met, absent, or in order, within its window.
    fn main_check(
        &self,
        e: &NotificationExpectation,
        p: &Progress,
        label: &str,
        failure: Option<&str>,
    ) -> Check {
        let said = Said {
            name: format!("notification:{label}"),
            expected: expected_text(e),
            within_ms: e.within.as_millis(),
            others: match p.others.len() {
                0 => "no other message on the channel".to_string(),
                1 => "1 other message on the channel".to_string(),
                n => format!("{n} other messages on the channel"),
            },
            failure: failure.map(str::to_string),
        };
        match &e.kind {
            NotificationKind::Absent { .. } => self.absent_check(said, p),
            NotificationKind::AtLeast { body, count } => {
                self.at_least_check(said, p, body.as_ref(), *count)
            }
            NotificationKind::Sequence(items) => self.sequence_check(said, p, items),
        }
    }

    fn absent_check(&self, said: Said, p: &Progress) -> Check {
        if let Some(t) = p.violated_at {
            let mut c = Check::new(
                said.name,
                false,
                said.expected,
                format!("a matching message arrived after {} ms", t.as_millis()),
            );
            if let Some(&k) = p.matched.first() {
                let mut m = self.seen[k].message.clone();
                crate::secret::mask_secret_fields(&mut m);
                c.mismatches.push(Mismatch {
                    path: "$".into(),
                    message: format!("unwanted message: {}", clip(&m.to_string())),
                });
            }
            return c;
        }
        // A dead session cannot show an absence.
        if let Some(f) = said.failure {
            return Check::new(
                said.name,
                false,
                said.expected,
                format!("cannot tell: the CometD session failed: {f}"),
            );
        }
        let actual = format!("none in {} ms ({})", said.within_ms, said.others);
        Check::new(said.name, true, said.expected, actual)
    }

    fn at_least_check(
        &self,
        said: Said,
        p: &Progress,
        body: Option<&Expected>,
        count: usize,
    ) -> Check {
        if let Some(t) = p.met_at {
            let actual = if count == 1 {
                format!("matched after {} ms", t.as_millis())
            } else {
                format!("{count} matched, the last after {} ms", t.as_millis())
            };
            return Check::new(said.name, true, said.expected, actual);
        }
        let (w, others) = (said.within_ms, &said.others);
        let actual = if count == 1 {
            format!("none within {w} ms ({others})")
        } else {
            format!("{} of {count} within {w} ms ({others})", p.matched.len())
        };
        let actual = said.failure_added(actual);
        let mut c = Check::new(said.name, false, said.expected, actual);
        if let Some(b) = body {
            self.closest(&mut c, b, &p.others);
        }
        c
    }

    fn sequence_check(&self, said: Said, p: &Progress, items: &[Expected]) -> Check {
        if let Some(t) = p.met_at {
            let actual = format!(
                "all {} in order, the last after {} ms",
                items.len(),
                t.as_millis()
            );
            return Check::new(said.name, true, said.expected, actual);
        }
        let pos = p.matched.len();
        let actual = format!(
            "{pos} of {} in order within {} ms; message {} of the sequence never came ({})",
            items.len(),
            said.within_ms,
            pos + 1,
            said.others
        );
        let actual = said.failure_added(actual);
        let mut c = Check::new(said.name, false, said.expected, actual);
        // The closest candidates for the missing element are the others after the last match.
        let after = p.matched.last().copied();
        let candidates: Vec<usize> = p
            .others
            .iter()
            .copied()
            .filter(|&k| after.is_none_or(|a| k > a))
            .collect();
        if let Some(b) = items.get(pos) {
            self.closest(&mut c, b, &candidates);
        }
        c
    }

    /// Adds to a failed check the differences between `body` and the nearest of `candidates`.
    fn closest(&self, c: &mut Check, body: &Expected, candidates: &[usize]) {
        let best = candidates
            .iter()
            .map(|&k| {
                (
                    k,
                    compare_body_shown(body, &self.seen[k].message, MatchMode::Subset, &[]),
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

    fn schema_check(&self, schema: &str, p: &Progress, label: &str, schemas: &SchemaSet) -> Check {
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
                    v.message
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

    fn exclusive_check(&self, e: &NotificationExpectation, p: &Progress, label: &str) -> Check {
        let name = format!("notification-exclusive:{label}");
        let expected = format!(
            "no other message on {} until the expectation is met",
            e.channel
        );
        match p.others.first() {
            None => Check::new(name, true, expected, "no other message"),
            Some(&k) => {
                let mut m = self.seen[k].message.clone();
                crate::secret::mask_secret_fields(&mut m);
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

/// What every form of a main check says the same way.
struct Said {
    name: String,
    expected: String,
    within_ms: u128,
    /// How many other messages came on the channel, in words.
    others: String,
    /// Why the CometD session broke down (masked), if it did.
    failure: Option<String>,
}

impl Said {
    fn failure_added(&self, actual: String) -> String {
        match &self.failure {
            Some(f) => format!("{actual}; the CometD session failed: {f}"),
            None => actual,
        }
    }
}

/// What an expectation asks for, in words.
fn expected_text(e: &NotificationExpectation) -> String {
    let w = e.within.as_millis();
    let what = |body: &Option<Expected>| {
        if body.is_some() {
            "matching the body"
        } else {
            "of any content"
        }
    };
    match &e.kind {
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
    }
}

/// `/v2/me/devices`, or `/v2/me/devices#2` for a channel's second expectation.
pub(super) fn check_names(expectations: &[NotificationExpectation]) -> Vec<String> {
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

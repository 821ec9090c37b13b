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

use super::body::compare_body;
use super::Check;
use crate::model::{Expected, MatchMode, NotificationExpectation, NotificationKind};
use crate::record::Level;
use crate::record::NotificationRecord;

mod judge;

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
                GroupState::Passed => return self.settling_until(g, now),
                GroupState::Pending => return open_until(g),
                GroupState::Failed => continue,
            }
        }
        // Every answer failed: the first is the one reported, so every check it shows is final.
        self.groups.first().and_then(open_until)
    }
}

impl Watch<'_> {
    /// For an answer that holds: until when its met expectations with a `settle` keep listening,
    /// each until its channel has been quiet that long (or its window closes); `None` when none is
    /// still settling.
    fn settling_until(&self, g: &Range<usize>, now: Instant) -> Option<Instant> {
        g.clone()
            .filter_map(|i| {
                let e = &self.expectations[i];
                let settle = e.settle?;
                let met = self.progress[i].met_at?;
                let last = self
                    .seen
                    .iter()
                    .filter(|s| s.channel == e.channel)
                    .map(|s| s.at)
                    .max()
                    .map_or(met, |at| at.max(met));
                let until = self.opened + (last + settle).min(e.within);
                (until > now).then_some(until)
            })
            .max()
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

#[cfg(test)]
mod tests;

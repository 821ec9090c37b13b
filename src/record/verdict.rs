//! What a run concluded: a verdict per case, with the exchanges and checks it rests on.

use serde::{Deserialize, Serialize};

use super::{Check, Exchange, Level};
use crate::model::Provenance;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every check passed, or the answer matched one the spec allows.
    Pass,
    /// Only checks of inferred expectations failed: a conforming server may answer so; needs review.
    /// Fails the run only under `--strict`.
    Warn,
    /// A check of a documented or observed expectation failed.
    Fail,
    /// A step that serves the case without being what it checks could not be done (a helper
    /// operation the target lacks, a setup request that got no answer): the case was not tested.
    /// Shown as "error (setup)"; never a failure, and never makes a sample FAIL.
    Error,
    /// Not run, for a stated reason (a capability or variable the target lacks, a filter).
    Skip,
    /// Selected but never run: the run stopped first (interrupted, target lost, deadline).
    #[serde(rename = "not-run")]
    NotRun,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
            Verdict::Skip => "skip",
            Verdict::NotRun => "not-run",
        }
    }

    /// How the verdict is shown to a reader: "error (setup)" says what kind of error it is.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Error => "error (setup)",
            v => v.as_str(),
        }
    }

    /// The verdict of a case whose checks ran, the one rule every consumer applies (the runner,
    /// the re-derivation of a report, merge): any failed Failure-level check fails the case; else
    /// any failed Setup-level check makes it an error; else any failed Warning-level check warns
    /// (fails under `strict`); else it passes (Info-level misses are notes).
    pub fn of_checks<'a>(checks: impl IntoIterator<Item = &'a Check>, strict: bool) -> Verdict {
        let worst = checks
            .into_iter()
            .filter(|c| !c.passed)
            .map(|c| c.level)
            .max();
        match worst {
            Some(Level::Failure) => Verdict::Fail,
            Some(Level::Setup) => Verdict::Error,
            Some(Level::Warning) if strict => Verdict::Fail,
            Some(Level::Warning) => Verdict::Warn,
            Some(Level::Info) | None => Verdict::Pass,
        }
    }

    /// The verdict of a case whose steps ran, as the run records it: [`Verdict::of_checks`] (the
    /// one rule, `strict` included). `verify`'s re-derivation calls it by this name.
    pub fn of_case<'a>(checks: impl IntoIterator<Item = &'a Check>, strict: bool) -> Verdict {
        Verdict::of_checks(checks, strict)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepResult {
    pub name: String,
    /// Every exchange the step made (a CSRF token fetch comes before the request itself).
    pub exchanges: Vec<Exchange>,
    pub checks: Vec<Check>,
    /// False when the step was not run because an earlier step failed.
    pub ran: bool,
    pub passed: bool,
    pub duration_ms: u64,
    /// For a step that listened on CometD: how long it spent starting the case's CometD session
    /// (handshake, transport) and subscribing, before its request went out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cometd_ms: Option<u64>,
    /// For a step with notification expectations: how long it waited for them after its answer
    /// (an absence waits its whole window). With the exchanges' `duration_ms`, what a latency
    /// bench adds up along a serial group (benches/latency.sh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
    /// For a step with `[steps.retry]`: how many times it was sent. Its exchanges and checks are
    /// the last attempt's (the one the verdict rests on); a note says when it passed or gave up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// The CometD messages the step received, when it had notification expectations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<NotificationRecord>,
    /// Remarks that are not failures: unexpected CometD messages, protocol events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// For a failed step that sent a value of the environment as it is: which to check (see
    /// `model::Step::env_hint`). The project's words and variable names, never a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// One CometD message as a step received it, with secrets scrubbed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NotificationRecord {
    pub channel: String,
    /// Milliseconds after the step's request was sent; negative for a message left over from before.
    pub at_ms: i64,
    /// The whole Bayeux message.
    pub message: serde_json::Value,
    /// The step's expectations (by index) it matched; empty for an unexpected message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matched: Vec<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaseResult {
    pub id: String,
    pub title: String,
    pub spec: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub provenance: Provenance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    pub tags: Vec<String>,
    /// The serial group the case ran in (cases of one group never overlap): `agent:<user>` unless
    /// the case names a `group`. Absent in reports of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub file: String,
    pub sha256: String,
    pub verdict: Verdict,
    /// Why the case was skipped, or the first reason it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub steps: Vec<StepResult>,
    pub duration_ms: u64,
    /// The agent role the case logs in as and its user name (masked like any profile value; the
    /// password never appears), so that a failure says whose session it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<CaseAgent>,
    /// For a case skipped because the profile does not set lab content: the lab variables that
    /// would unlock it, with their meanings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waits_for: Vec<crate::model::LabNeed>,
}

/// The agent of a case: its role and, when the profile has credentials for it, the user name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CaseAgent {
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// With a profile's `[pool]`: how the run chose the user. Absent when the role's user in the
    /// profile was used, as in runs without a pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<UserChoice>,
}

/// How a pool-scheduled run chose a case's user.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "by", rename_all = "lowercase")]
pub enum UserChoice {
    /// Any free pool user would do; this one was free.
    Pool,
    /// The case may run as this user only, for this reason.
    Pinned { why: String },
}

impl std::fmt::Display for UserChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserChoice::Pool => f.write_str("from the pool"),
            UserChoice::Pinned { why } => write!(f, "pinned: {why}"),
        }
    }
}

impl CaseResult {
    /// Every failed check, with the step it belongs to.
    pub fn failures(&self) -> impl Iterator<Item = (&StepResult, &Check)> {
        failures_in(&self.steps)
    }
}

/// Every failed check of these steps, with the step it belongs to.
pub fn failures_in(steps: &[StepResult]) -> impl Iterator<Item = (&StepResult, &Check)> {
    steps
        .iter()
        .flat_map(|s| s.checks.iter().filter(|c| !c.passed).map(move |c| (s, c)))
}

/// Totals for a run: the one count every output shows (the console line, `-q`, report.json and
/// every rendered format), so that none contradicts another or the exit code.
///
/// The counts partition the cases: `total = passed + warned + failed + known + errors + skipped +
/// not_run`. `expired` is part of `failed` and `fixed` part of `passed` and `warned`: they say why.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tally {
    pub total: usize,
    pub passed: usize,
    /// Cases whose only failed checks were inferred expectations (needs review).
    #[serde(default)]
    pub warned: usize,
    /// Failures that fail the run: every failed case no unexpired baseline entry excuses.
    pub failed: usize,
    /// Failures a baseline entry excuses until it expires: they do not fail the run.
    #[serde(default)]
    pub known: usize,
    /// Of `failed`: failures whose baseline entry has expired.
    #[serde(default)]
    pub expired: usize,
    /// Of `passed` and `warned`: cases the baseline lists as failing that no longer fail.
    #[serde(default)]
    pub fixed: usize,
    /// Cases that could not be tested because a step that only serves them went wrong (setup
    /// errors): neither a pass nor a failure of the target.
    #[serde(default)]
    pub errors: usize,
    pub skipped: usize,
    #[serde(default)]
    pub not_run: usize,
    /// Why the cases not run were not run, with how many each reason stopped.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub not_run_why: std::collections::BTreeMap<String, usize>,
}

impl Tally {
    /// Counts a case with no baseline entry.
    pub fn add(&mut self, v: Verdict) {
        self.add_judged(v, None, None);
    }

    /// Counts a case: its verdict, what became of its baseline entry if it has one, and for a case
    /// not run, why.
    pub fn add_judged(&mut self, v: Verdict, known: Option<KnownStatus>, reason: Option<&str>) {
        self.total += 1;
        if known == Some(KnownStatus::Fixed) {
            self.fixed += 1;
        }
        match v {
            Verdict::Pass => self.passed += 1,
            Verdict::Warn => self.warned += 1,
            Verdict::Fail if known == Some(KnownStatus::Known) => self.known += 1,
            Verdict::Fail => {
                self.failed += 1;
                if known == Some(KnownStatus::Expired) {
                    self.expired += 1;
                }
            }
            Verdict::Error => self.errors += 1,
            Verdict::Skip => self.skipped += 1,
            Verdict::NotRun => {
                self.not_run += 1;
                let why = reason.unwrap_or("the run stopped first").to_string();
                *self.not_run_why.entry(why).or_default() += 1;
            }
        }
    }

    /// Cases that ran to a verdict on the target.
    pub fn ran(&self) -> usize {
        self.passed + self.warned + self.failed + self.known
    }
}

/// One entry of a known-failures baseline (`run --baseline known-failures.toml`): a case expected to
/// fail on a given target, why, and until when that is tolerated.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KnownFailure {
    pub case: String,
    pub reason: String,
    /// The last day (`YYYY-MM-DD`, UTC) on which the failure is tolerated.
    pub expires: String,
}

/// What became of a known failure in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum KnownStatus {
    /// Failed, as the baseline expects, on or before its expiry date: does not fail the run.
    Known,
    /// Failed after its expiry date: fails the run like any other failure.
    Expired,
    /// Passed: the entry can be removed from the baseline.
    Fixed,
    /// Skipped: nothing was learnt about it.
    Skipped,
}

impl KnownStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KnownStatus::Known => "known",
            KnownStatus::Expired => "expired",
            KnownStatus::Fixed => "fixed",
            KnownStatus::Skipped => "skipped",
        }
    }

    /// Judges one entry: `today` and `expires` are `YYYY-MM-DD`, which compare as text.
    pub fn judge(entry: &KnownFailure, verdict: Verdict, today: &str) -> KnownStatus {
        match verdict {
            // A warning is not a failure: what the entry excused no longer fails.
            Verdict::Pass | Verdict::Warn => KnownStatus::Fixed,
            // A setup error is no answer about the rule the entry excuses.
            Verdict::Skip | Verdict::NotRun | Verdict::Error => KnownStatus::Skipped,
            Verdict::Fail if today <= entry.expires.as_str() => KnownStatus::Known,
            Verdict::Fail => KnownStatus::Expired,
        }
    }
}

/// A baseline entry and what became of it, as recorded in the report's summary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KnownOutcome {
    pub case: String,
    pub reason: String,
    pub expires: String,
    pub status: KnownStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missed(level: Level) -> Check {
        let mut c = Check::new("status", false, "200", "404");
        c.level = level;
        c
    }

    #[test]
    fn the_worst_failed_check_decides_the_verdict() {
        let passed = Check::new("status", true, "200", "200");
        let v = |checks: &[Check], strict| Verdict::of_checks(checks, strict);
        assert_eq!(v(&[], false), Verdict::Pass);
        assert_eq!(v(std::slice::from_ref(&passed), false), Verdict::Pass);
        assert_eq!(v(&[missed(Level::Info)], true), Verdict::Pass);
        assert_eq!(v(&[missed(Level::Warning)], false), Verdict::Warn);
        assert_eq!(v(&[missed(Level::Warning)], true), Verdict::Fail);
        assert_eq!(v(&[missed(Level::Setup)], false), Verdict::Error);
        assert_eq!(
            v(&[missed(Level::Warning), missed(Level::Setup)], true),
            Verdict::Error,
            "a setup error outranks a warning, even one that strict would fail"
        );
        assert_eq!(
            v(&[missed(Level::Setup), missed(Level::Warning)], false),
            Verdict::Error
        );
        assert_eq!(
            v(&[missed(Level::Setup), missed(Level::Failure)], false),
            Verdict::Fail
        );
        // A passed check weighs nothing, whatever its level.
        let mut heavy_pass = passed;
        heavy_pass.level = Level::Failure;
        assert_eq!(v(&[heavy_pass, missed(Level::Info)], false), Verdict::Pass);
    }

    #[test]
    fn levels_order_worst_last() {
        assert!(Level::Info < Level::Warning);
        assert!(Level::Warning < Level::Setup);
        assert!(Level::Setup < Level::Failure);
        assert_eq!(Level::Warning.worst(Level::Setup), Level::Setup);
        assert_eq!(Level::Failure.cap_at(Level::Warning), Level::Warning);
        assert_eq!(Level::Info.cap_at(Level::Warning), Level::Info);
    }

    #[test]
    fn a_setup_error_counts_apart_from_failures() {
        let mut t = Tally::default();
        t.add(Verdict::Error);
        t.add(Verdict::Fail);
        assert_eq!((t.total, t.failed, t.errors), (2, 1, 1));
        assert_eq!(Verdict::Error.label(), "error (setup)");
        assert_eq!(serde_json::to_string(&Verdict::Error).unwrap(), "\"error\"");
    }

    #[test]
    fn known_failures_are_judged_by_verdict_and_expiry() {
        let e = KnownFailure {
            case: "c".into(),
            reason: "r".into(),
            expires: "2026-12-31".into(),
        };
        assert_eq!(
            KnownStatus::judge(&e, Verdict::Fail, "2026-12-31"),
            KnownStatus::Known
        );
        assert_eq!(
            KnownStatus::judge(&e, Verdict::Fail, "2027-01-01"),
            KnownStatus::Expired
        );
        assert_eq!(
            KnownStatus::judge(&e, Verdict::Pass, "2026-01-01"),
            KnownStatus::Fixed
        );
        assert_eq!(
            KnownStatus::judge(&e, Verdict::Skip, "2026-01-01"),
            KnownStatus::Skipped
        );
    }
}

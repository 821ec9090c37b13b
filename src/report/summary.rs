//! The run's summary as report.json records it, and what it concludes ([`Outcome`]). A leaf of the
//! report stage: the writer, `merge`, `verify` and every format read it; it reads none of them.

use serde::{Deserialize, Serialize};

use super::coverage::{Coverage, ElementStatus, LabWaits, SampleOutcome};
use crate::record::{KnownOutcome, KnownStatus, Tally};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub tally: Tally,
    /// False when the run was interrupted or the target could not be reached.
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<String>,
    /// What became of each baseline entry whose case ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known: Vec<KnownOutcome>,
    /// The run's verdict: complete, every failure excused by an unexpired baseline entry, and no
    /// setup error.
    #[serde(default)]
    pub ok: bool,
    /// What the run says about each of the page's samples (S1..S6): a sample passes only when each
    /// of its documented cases ran and passed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<SampleOutcome>,
    /// Cases skipped because the profile does not set lab content, and the variables that would
    /// unlock them (absent when none waits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_for_lab: Option<LabWaits>,
    pub finished_at: String,
    pub duration_ms: u64,
}

impl Summary {
    pub fn new(
        tally: Tally,
        interrupted: bool,
        unreachable: Option<String>,
        known: Vec<KnownOutcome>,
        finished_at: String,
        duration_ms: u64,
    ) -> Summary {
        let mut summary = Summary {
            ok: false,
            samples: Vec::new(),
            waiting_for_lab: None,
            tally,
            complete: !interrupted && unreachable.is_none(),
            unreachable,
            known,
            finished_at,
            duration_ms,
        };
        summary.ok = Outcome::of(&summary) == Outcome::Ok;
        summary
    }

    /// The baseline outcome of one case, if the baseline names it.
    pub fn known_for(&self, id: &str) -> Option<&KnownOutcome> {
        self.known.iter().find(|k| k.case == id)
    }

    /// Failures no unexpired baseline entry excuses (the tally counts the excused ones apart).
    pub fn unexcused_failures(&self) -> usize {
        self.tally.failed
    }

    /// The baseline outcomes of one status.
    pub fn known_with(&self, status: KnownStatus) -> impl Iterator<Item = &KnownOutcome> {
        self.known.iter().filter(move |k| k.status == status)
    }

    pub fn count_known(&self, status: KnownStatus) -> usize {
        self.known_with(status).count()
    }

    /// Judges the samples from the cases a [`Coverage`] saw, with this summary's baseline outcomes.
    pub fn with_samples(mut self, coverage: &Coverage) -> Summary {
        self.samples = coverage.samples(&self.known);
        self.waiting_for_lab = coverage.lab_waits();
        self
    }

    /// Samples some case of the run covers that were not tested in full (not tested, partial).
    pub fn untested_samples(&self) -> impl Iterator<Item = &SampleOutcome> {
        self.samples.iter().filter(|s| {
            s.status != ElementStatus::NotCovered
                && !s.status.tested()
                && s.status != ElementStatus::Fail
                && s.status != ElementStatus::Known
        })
    }
}

/// What a run (or a merged or re-rendered report) concluded, in the order the exit code weighs it
/// (a failure first, even in a run that stopped early; then a target not tested in full).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// At least one failure no unexpired baseline entry excuses.
    Failed { complete: bool },
    /// Stopped early (interrupted, deadline) or the target could not be tested, with no failure.
    Incomplete,
    /// No failure, but setup errors: some cases could not be tested.
    Errors,
    /// Nothing ran to a verdict: every selected case was skipped.
    NoVerdict,
    /// Every case that ran passed (or warned, or failed as the baseline tolerates).
    Ok,
}

impl Outcome {
    pub fn of(s: &Summary) -> Outcome {
        let t = &s.tally;
        if t.failed > 0 {
            Outcome::Failed {
                complete: s.complete,
            }
        } else if !s.complete {
            Outcome::Incomplete
        } else if t.errors > 0 {
            Outcome::Errors
        } else if t.ran() == 0 && t.total > 0 {
            Outcome::NoVerdict
        } else {
            Outcome::Ok
        }
    }

    /// The word the console's last line opens with.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Failed { complete: true } => "FAILED",
            Outcome::Failed { complete: false } => "FAILED (incomplete)",
            Outcome::Incomplete => "INCOMPLETE",
            Outcome::Errors => "ERROR (setup)",
            Outcome::NoVerdict => "NO VERDICT",
            Outcome::Ok => "ok",
        }
    }
}

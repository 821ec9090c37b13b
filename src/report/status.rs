//! A case's verdict as every report shows it: the verdict the run reached, refined by the
//! known-failures baseline. Its own module because the report, its index, the coverage judgement
//! and every format all speak of it, and none of them should have to import another for it.

use crate::record::{KnownOutcome, KnownStatus, Verdict};

/// A case's verdict as the reports show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CaseStatus {
    Pass,
    /// Only inferred expectations failed: needs review; not a failure unless `--strict`.
    Warn,
    Fail,
    /// A setup step could not be done: not tested, never a failure.
    Error,
    Skip,
    /// Selected, never run: the run stopped first.
    NotRun,
    /// Failed, excused by an unexpired baseline entry.
    Known,
    /// Passed although the baseline lists it: remove it from the baseline.
    Fixed,
}

impl CaseStatus {
    pub fn of(verdict: Verdict, known: Option<&KnownOutcome>) -> CaseStatus {
        match (verdict, known.map(|k| k.status)) {
            (Verdict::Fail, Some(KnownStatus::Known)) => CaseStatus::Known,
            (Verdict::Fail, _) => CaseStatus::Fail,
            (Verdict::Pass, Some(KnownStatus::Fixed)) => CaseStatus::Fixed,
            (Verdict::Pass, _) => CaseStatus::Pass,
            (Verdict::Warn, _) => CaseStatus::Warn,
            (Verdict::Error, _) => CaseStatus::Error,
            (Verdict::Skip, _) => CaseStatus::Skip,
            (Verdict::NotRun, _) => CaseStatus::NotRun,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Pass => "pass",
            CaseStatus::Fail => "FAIL",
            CaseStatus::Warn => "WARN (needs review)",
            CaseStatus::Error => "error (setup)",
            CaseStatus::Skip => "skip",
            CaseStatus::NotRun => "not run",
            CaseStatus::Known => "known failure",
            CaseStatus::Fixed => "pass (known failure fixed)",
        }
    }

    /// A CSS class / machine word.
    pub fn word(self) -> &'static str {
        match self {
            CaseStatus::Pass => "pass",
            CaseStatus::Fail => "fail",
            CaseStatus::Warn => "warn",
            CaseStatus::Error => "error",
            CaseStatus::Skip => "skip",
            CaseStatus::NotRun => "not-run",
            CaseStatus::Known => "known",
            CaseStatus::Fixed => "fixed",
        }
    }
}

//! The outcome of one check, as every stage after `check` and every report sees it.

use serde::{Deserialize, Serialize};

use crate::model::Provenance;

/// One difference between expected and actual.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    /// `$.failed[0].channel`
    pub path: String,
    pub message: String,
}

/// The outcome of one check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Check {
    /// `status`, `content-type`, `json`, `schema:success`, `body`, `exchange`.
    pub name: String,
    pub passed: bool,
    /// What the case expected, in words.
    pub expected: String,
    /// What the target did, in words.
    pub actual: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<Mismatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// What a failure of this check weighs: set from the provenance of the expectation it checks.
    #[serde(default, skip_serializing_if = "Level::is_failure")]
    pub level: Level,
}

/// What a failed check does to its case's verdict. It follows the provenance of the expectation
/// (as the OpenID Foundation's conformance suite separates FAILURE from WARNING): what a source states
/// (documented, observed) fails; our own inference only warns ("needs review"), since a conforming
/// server may answer otherwise; a step that serves the case without being what it checks (a setup
/// step) makes it a setup error; a cleanup step tidies up and decides nothing.
///
/// Ordered lightest first, worst last: `max` (or [`Level::worst`]) is the heavier of two.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// A failed check is a note (cleanup steps): recorded, never a verdict.
    Info,
    /// A failed check makes the case a warning: needs review.
    Warning,
    /// A failed check of a setup step (Ready/NotReady, the CometD handshake, a token fetch): the
    /// case could not be tested, an error (setup), never a failure of the server under test.
    Setup,
    /// A failed check fails the case.
    #[default]
    Failure,
}

impl Level {
    /// What a miss of an expectation of this provenance weighs: a source's word fails, our own
    /// inference warns.
    pub fn of(provenance: Provenance) -> Level {
        match provenance {
            Provenance::Documented | Provenance::Observed => Level::Failure,
            Provenance::Inferred => Level::Warning,
        }
    }

    pub fn is_failure(&self) -> bool {
        *self == Level::Failure
    }

    /// The heavier of two levels.
    pub fn worst(self, other: Level) -> Level {
        self.max(other)
    }

    /// This level, weighing at most `cap`.
    pub fn cap_at(self, cap: Level) -> Level {
        self.min(cap)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Failure => "failure",
            Level::Setup => "setup",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

impl Check {
    pub(crate) fn new(
        name: impl Into<String>,
        passed: bool,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Check {
            name: name.into(),
            passed,
            expected: expected.into(),
            actual: actual.into(),
            mismatches: Vec::new(),
            diff: None,
            level: Level::Failure,
        }
    }

    /// A step whose request never got an answer fails with this single check.
    pub fn exchange_failed(reason: &str) -> Self {
        Check::new("exchange", false, "an HTTP response", reason)
    }
}

//! The outcome of one check, as every stage after `check` and every report sees it.

use serde::{Deserialize, Serialize};

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
        }
    }

    /// A step whose request never got an answer fails with this single check.
    pub fn exchange_failed(reason: &str) -> Self {
        Check::new("exchange", false, "an HTTP response", reason)
    }
}

//! What a run concluded: a verdict per case, with the exchanges and checks it rests on.

use serde::{Deserialize, Serialize};

use crate::check::Check;
use crate::execute::Exchange;
use crate::model::Provenance;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skip => "skip",
        }
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
    pub file: String,
    pub sha256: String,
    pub verdict: Verdict,
    /// Why the case was skipped, or the first reason it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub steps: Vec<StepResult>,
    pub duration_ms: u64,
}

impl CaseResult {
    /// Every failed check, with the step it belongs to.
    pub fn failures(&self) -> impl Iterator<Item = (&StepResult, &Check)> {
        self.steps
            .iter()
            .flat_map(|s| s.checks.iter().filter(|c| !c.passed).map(move |c| (s, c)))
    }
}

/// Totals for a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tally {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Tally {
    pub fn add(&mut self, v: Verdict) {
        self.total += 1;
        match v {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::Skip => self.skipped += 1,
        }
    }
}

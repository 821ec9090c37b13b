//! Known failures: `run --baseline known-failures.toml`.
//!
//! ```toml
//! [[known]]
//! case = "s4-partial-success"
//! reason = "ticket GWS-123: the server answers statusCode 1 instead of 7"
//! expires = 2027-01-31        # or "2027-01-31": the last day the failure is tolerated (UTC)
//! ```
//!
//! A known failure is reported as known and does not fail the run until it expires; a known failure
//! that passes is reported as fixed, so the list can shrink. Judging happens in the report stage: the
//! runner knows nothing of baselines.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::record::{CaseResult, KnownFailure, KnownOutcome, KnownStatus, Verdict};

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// One entry with every field present.
struct Entry {
    case: toml::Spanned<String>,
    reason: toml::Spanned<String>,
    expires: toml::Spanned<toml::Value>,
}

/// A loaded baseline file.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub file: String,
    pub sha256: String,
    pub entries: Vec<KnownFailure>,
    /// Byte offset of each entry's `case`, for error messages.
    offsets: Vec<usize>,
    text: String,
    path: PathBuf,
}

/// The baseline as recorded in a report: what it said, and the day it was judged on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BaselineInfo {
    pub file: String,
    pub sha256: String,
    /// The run's date (`YYYY-MM-DD`, UTC): entries that expire before it no longer excuse a failure.
    pub today: String,
    pub entries: Vec<KnownFailure>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    known: Vec<toml::Spanned<RawEntry>>,
}

/// Every field optional here, so that a missing one is named with its entry and an example (serde
/// would say "missing field `expires`" at line 1).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    case: Option<toml::Spanned<String>>,
    reason: Option<toml::Spanned<String>>,
    expires: Option<toml::Spanned<toml::Value>>,
}

/// What each field of an entry means, for the message when it is missing.
const FIELD_HELP: [(&str, &str); 3] = [
    (
        "case",
        "the id of the case expected to fail, e.g. case = \"s4-partial-success\"",
    ),
    (
        "reason",
        "why the failure is tolerated, e.g. reason = \"ticket GWS-123\"",
    ),
    (
        "expires",
        "the last day (UTC) the failure is tolerated, e.g. expires = 2027-01-31",
    ),
];

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let bytes = std::fs::read(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes.clone()).map_err(|e| BaselineError::Invalid {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!("not UTF-8 text: {e}"),
        })?;
        Baseline::parse(path, &text, crate::load::sha256_hex(&bytes))
    }

    /// A baseline from bytes already read from `path` (`verify` reads it from its root).
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Baseline, BaselineError> {
        let text = std::str::from_utf8(bytes).map_err(|e| BaselineError::Invalid {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!("not UTF-8 text: {e}"),
        })?;
        Baseline::parse(path, text, crate::load::sha256_hex(bytes))
    }

    fn parse(path: &Path, text: &str, sha256: String) -> Result<Baseline, BaselineError> {
        let invalid = |offset: usize, message: String| {
            let (line, column) = line_col(text, offset);
            BaselineError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            invalid(offset, e.message().trim().to_string())
        })?;
        let mut entries = Vec::new();
        let mut offsets: Vec<usize> = Vec::new();
        for (n, spanned) in raw.known.into_iter().enumerate() {
            let at = spanned.span().start;
            let e = spanned.into_inner();
            let present = [e.case.is_some(), e.reason.is_some(), e.expires.is_some()];
            if let Some(((field, help), _)) = FIELD_HELP.iter().zip(present).find(|(_, here)| !here)
            {
                let which = e
                    .case
                    .as_ref()
                    .map(|c| format!(" (case `{}`)", c.get_ref()))
                    .unwrap_or_default();
                return Err(invalid(
                    at,
                    format!(
                        "[[known]] entry {}{which} has no `{field}`: add {help}. Every entry needs case, reason and expires (`gws-conform baseline write REPORT --expires DATE` writes them from a run's failures)",
                        n + 1
                    ),
                ));
            }
            let (Some(case), Some(reason), Some(expires)) = (e.case, e.reason, e.expires) else {
                continue;
            };
            let e = Entry {
                case,
                reason,
                expires,
            };
            let case = e.case.get_ref().trim().to_string();
            if case.is_empty() {
                return Err(invalid(e.case.span().start, "`case` is empty".into()));
            }
            if let Some(i) = entries.iter().position(|k: &KnownFailure| k.case == case) {
                let (first, _) = line_col(text, offsets[i]);
                return Err(invalid(
                    e.case.span().start,
                    format!("case `{case}` is listed twice (first on line {first})"),
                ));
            }
            if e.reason.get_ref().trim().is_empty() {
                return Err(invalid(
                    e.reason.span().start,
                    format!("`reason` of `{case}` is empty: say why the failure is tolerated"),
                ));
            }
            let expires = match e.expires.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
                _ => String::new(),
            };
            if !is_date(&expires) {
                return Err(invalid(
                    e.expires.span().start,
                    format!("`expires` of `{case}` must be a date written YYYY-MM-DD"),
                ));
            }
            offsets.push(e.case.span().start);
            entries.push(KnownFailure {
                case,
                reason: e.reason.get_ref().trim().to_string(),
                expires,
            });
        }
        Ok(Baseline {
            file: crate::load::display_path(path),
            sha256,
            entries,
            offsets,
            text: text.to_string(),
            path: path.to_path_buf(),
        })
    }

    /// Every entry must name a case of the suite: a typo would otherwise excuse nothing, silently.
    pub fn check_cases<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Vec<BaselineError> {
        let mut errors = Vec::new();
        for (e, &offset) in self.entries.iter().zip(&self.offsets) {
            if ids.clone().into_iter().any(|id| id == e.case) {
                continue;
            }
            let hint = crate::load::diagnostic::did_you_mean(&e.case, ids.clone())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            let (line, column) = line_col(&self.text, offset);
            errors.push(BaselineError::Invalid {
                path: self.path.clone(),
                line,
                column,
                message: format!("case `{}` is not in the suite{hint}", e.case),
            });
        }
        errors
    }

    /// The baseline as a run on `today` (`YYYY-MM-DD`) records it.
    pub fn for_run(&self, today: &str) -> BaselineInfo {
        BaselineInfo {
            file: self.file.clone(),
            sha256: self.sha256.clone(),
            today: today.to_string(),
            entries: self.entries.clone(),
        }
    }
}

impl BaselineInfo {
    /// What became of the case's baseline entry, if it has one.
    pub fn judge(&self, case: &CaseResult) -> Option<KnownOutcome> {
        self.judge_verdict(&case.id, case.verdict)
    }

    pub fn judge_verdict(&self, id: &str, verdict: Verdict) -> Option<KnownOutcome> {
        let entry = self.entries.iter().find(|e| e.case == id)?;
        Some(KnownOutcome {
            case: entry.case.clone(),
            reason: entry.reason.clone(),
            expires: entry.expires.clone(),
            status: KnownStatus::judge(entry, verdict, &self.today),
        })
    }
}

/// A baseline file listing every failure of a report (`baseline write`): each failed case (an expired
/// entry's too) and each failure the report's baseline tolerated, until `expires`. An entry the
/// report's baseline had keeps its reason; the others get `reason`, or say which run failed them and
/// how.
pub fn write_from(report: &super::Report, expires: &str, reason: Option<&str>) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = format!(
        "# Known failures, written by `gws-conform baseline write` from run {} ({}, target {}).\n\
         # Give this file to `run --baseline`: a listed case that fails does not fail the run until\n\
         # its `expires` date (UTC); one that passes is reported as fixed, to be removed.\n",
        report.run.run_id, report.run.started_at, report.run.target.url
    );
    let failed = report.cases.iter().filter(|c| {
        matches!(
            report.status(c),
            super::status::CaseStatus::Fail | super::status::CaseStatus::Known
        )
    });
    let mut n = 0;
    for c in failed {
        n += 1;
        let why = report
            .summary
            .known_for(&c.id)
            .map(|k| k.reason.clone())
            .or_else(|| reason.map(str::to_string))
            .unwrap_or_else(|| {
                let first = crate::record::describe::first_failure(c)
                    .or_else(|| c.reason.clone())
                    .unwrap_or_else(|| "failed".to_string());
                format!(
                    "failing since run {} ({}): {}",
                    report.run.run_id,
                    report.run.started_at.get(..10).unwrap_or_default(),
                    first.replace(['\n', '\r'], " ")
                )
            });
        out.push_str(&format!(
            "\n[[known]]\ncase = {}\nreason = {}\nexpires = {expires}\n",
            quote(&c.id),
            quote(&why)
        ));
    }
    if n == 0 {
        out.push_str("\n# The run had no failure: nothing is tolerated.\n");
    }
    out
}

/// `YYYY-MM-DD` with a real month and day.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    let digits = s
        .bytes()
        .enumerate()
        .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    match (digits, num(0..4), num(5..7), num(8..10)) {
        (true, Some(y), Some(m), Some(d)) => {
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let days = match m {
                1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                4 | 6 | 9 | 11 => 30,
                2 if leap => 29,
                2 => 28,
                _ => return false,
            };
            (1..=days).contains(&d)
        }
        _ => false,
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Baseline, BaselineError> {
        Baseline::parse(Path::new("known.toml"), text, "0".into())
    }

    #[test]
    fn entries_load_with_dates_as_toml_dates_or_strings() {
        let b = parse(
            "[[known]]\ncase = \"a\"\nreason = \"r\"\nexpires = 2027-01-31\n\n[[known]]\ncase = \"b\"\nreason = \"r\"\nexpires = \"2026-02-28\"\n",
        )
        .unwrap();
        assert_eq!(b.entries.len(), 2);
        assert_eq!(b.entries[0].expires, "2027-01-31");
        assert_eq!(b.entries[1].expires, "2026-02-28");
        assert!(b.check_cases(["a", "b", "c"]).is_empty());
        let errs = b.check_cases(["a", "bb"]);
        assert_eq!(errs.len(), 1);
        let msg = errs[0].to_string();
        assert!(
            msg.starts_with("known.toml:7:8: case `b` is not in the suite"),
            "{msg}"
        );
    }

    #[test]
    fn bad_entries_are_refused_with_file_line_and_column() {
        let e = parse("[[known]]\ncase = \"a\"\nreason = \"r\"\nexpires = \"2027-02-30\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("known.toml:4:11: `expires` of `a`"), "{e}");
        let e = parse("[[known]]\ncase = \"a\"\nreason = \"  \"\nexpires = 2027-01-01\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`reason` of `a` is empty"), "{e}");
        let e = parse("[[known]]\ncase = \"a\"\nreasn = \"r\"\nexpires = 2027-01-01\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("known.toml:3:1:") && e.contains("reasn"),
            "{e}"
        );
        let twice = "[[known]]\ncase = \"a\"\nreason = \"r\"\nexpires = 2027-01-01\n";
        let e = parse(&format!("{twice}{twice}")).unwrap_err().to_string();
        assert!(e.contains("listed twice (first on line 2)"), "{e}");
    }

    #[test]
    fn dates() {
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2023-13-01"));
        assert!(!is_date("2023-1-01"));
        assert!(!is_date("2023-01-01T00:00:00Z"));
    }
}

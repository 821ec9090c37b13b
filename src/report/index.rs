//! The index of a report: its head and a few short strings per case, everything the summary parts
//! of the formats (verdict, counts, failures, traceability matrix) need. A report can be far larger
//! than its summary, so the formats are written from an index plus one case at a time, never from
//! the whole report in memory.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::coverage::Covering;
use super::json::{Report, ReportHead, Streamed, Summary};
use super::status::CaseStatus;
use super::ReportError;
use crate::intern::Interner;
use crate::model::Provenance;

use crate::record::describe::{first_failure, first_failure_in};
use crate::record::{CaseResult, StepResult, Verdict};

/// What the summary parts of the formats need to know about one case.
///
/// The index is held while every format is rendered, one entry per case: the entries are compact
/// (boxed strings; spec and tag lists shared between the cases that have the same ones, which in a
/// large suite is most of them), so that a 10,000-case report's index stays near 1 MiB.
#[derive(Debug, Clone)]
pub struct CaseEntry {
    pub id: Box<str>,
    pub title: Box<str>,
    pub spec: Arc<[String]>,
    /// The case's tags: the traceability matrix reads its coverage kind from them.
    pub tags: Arc<[String]>,
    pub provenance: Provenance,
    pub verdict: Verdict,
    /// The verdict refined by the baseline.
    pub status: CaseStatus,
    /// [`first_failure`] for failed cases; why, for a warning and for a case that did not run.
    pub first_failure: Option<Box<str>>,
}

/// A report without its cases' details: its head and a [`CaseEntry`] per case, in report order.
#[derive(Debug, Clone)]
pub struct Index {
    pub head: ReportHead,
    pub cases: Vec<CaseEntry>,
    /// The signed attestation beside report.json, when the report was read from a file that has
    /// one (`run --sign`, `attest`).
    pub attestation: Option<super::attest::Seen>,
}

/// A case as the index reads it from a report: the members an entry needs, its steps kept as text
/// and parsed only when the entry says why the case failed. Most cases pass, and their steps (the
/// exchanges, most of a report's bytes) are skipped, not built. The formats read each case whole
/// afterwards, so a report whose steps are malformed is still refused.
#[derive(Deserialize)]
struct Listed {
    id: String,
    title: String,
    spec: Vec<String>,
    tags: Vec<String>,
    provenance: Provenance,
    verdict: Verdict,
    #[serde(default)]
    reason: Option<String>,
    steps: Box<RawValue>,
}

impl Index {
    fn entry(c: &CaseResult, shared: &Interner) -> CaseEntry {
        let first_failure = why(c.verdict, c.reason.as_deref(), || Ok(first_failure(c)));
        Index::entry_of(
            (&c.id, &c.title, &c.spec, &c.tags),
            (c.provenance, c.verdict),
            first_failure.unwrap_or_else(|never: std::convert::Infallible| match never {}),
            shared,
        )
    }

    /// [`Index::entry`] of a case read as [`Listed`]; an error when its steps are not a case's.
    fn entry_listed(c: &Listed, shared: &Interner) -> Result<CaseEntry, serde_json::Error> {
        let first_failure = why(c.verdict, c.reason.as_deref(), || {
            let steps: Vec<StepResult> = serde_json::from_str(c.steps.get())?;
            Ok(first_failure_in(&steps, c.reason.as_deref()))
        })?;
        Ok(Index::entry_of(
            (&c.id, &c.title, &c.spec, &c.tags),
            (c.provenance, c.verdict),
            first_failure,
            shared,
        ))
    }

    fn entry_of(
        (id, title, spec, tags): (&str, &str, &[String], &[String]),
        (provenance, verdict): (Provenance, Verdict),
        first_failure: Option<String>,
        shared: &Interner,
    ) -> CaseEntry {
        CaseEntry {
            id: id.into(),
            title: title.into(),
            spec: shared.list(spec),
            tags: shared.list(tags),
            provenance,
            verdict,
            status: CaseStatus::of(verdict, None),
            first_failure: first_failure.map(String::into_boxed_str),
        }
    }

    /// The baseline is in the summary, at the end of the report: each case's status is refined
    /// once the whole report has been read.
    fn new(head: ReportHead, mut cases: Vec<CaseEntry>) -> Index {
        for c in &mut cases {
            c.status = CaseStatus::of(c.verdict, head.summary.known_for(&c.id));
        }
        Index {
            head,
            cases,
            attestation: None,
        }
    }

    pub fn of_report(report: &Report) -> Index {
        let shared = Interner::default();
        Index::new(
            report.head(),
            report
                .cases
                .iter()
                .map(|c| Index::entry(c, &shared))
                .collect(),
        )
    }

    /// Reads a report.json case by case (see [`super::json::stream`]), each case as [`Listed`].
    pub fn read(path: &Path) -> Result<Index, ReportError> {
        Index::read_slurping_below(path, super::json::SLURP_BELOW)
    }

    /// [`Index::read`], a report smaller than `slurp_below` bytes read into memory first (see
    /// [`super::json::stream`]): the tests take every reading path with it.
    fn read_slurping_below(path: &Path, slurp_below: u64) -> Result<Index, ReportError> {
        let mut cases = Vec::new();
        let shared = Interner::default();
        let head =
            super::json::stream_as::<Listed, serde_json::Error>(path, slurp_below, &mut |c| {
                cases.push(Index::entry_listed(c, &shared)?);
                Ok(())
            })
            .map_err(|e| match e {
                Streamed::Report(e) => e,
                // Read whole, the report gives the error with its line and column.
                Streamed::Case(e) => match super::json::Report::read(path) {
                    Err(whole) => whole,
                    Ok(_) => ReportError::Parse {
                        path: path.to_path_buf(),
                        line: 0,
                        column: 0,
                        message: e.to_string(),
                    },
                },
            })?;
        cases.shrink_to_fit();
        let mut index = Index::new(head, cases);
        index.attestation = super::attest::Seen::beside(path);
        Ok(index)
    }

    pub fn summary(&self) -> &Summary {
        &self.head.summary
    }

    /// The cases shown with one status, in report order.
    pub fn cases_with(&self, status: CaseStatus) -> impl Iterator<Item = &CaseEntry> {
        self.cases.iter().filter(move |c| c.status == status)
    }
}

/// Why a case is listed as it is (see [`CaseEntry::first_failure`]): `failure` gives the first
/// failure of its checks, read only when the verdict needs it.
fn why<E>(
    verdict: Verdict,
    reason: Option<&str>,
    failure: impl FnOnce() -> Result<Option<String>, E>,
) -> Result<Option<String>, E> {
    Ok(match verdict {
        Verdict::Fail => failure()?,
        // A warning's reason says what was tried.
        Verdict::Warn | Verdict::Error => match reason {
            Some(r) => Some(r.to_string()),
            None => failure()?,
        },
        // Why it did not run, for the lists of cases that did not.
        Verdict::Skip | Verdict::NotRun => reason.map(str::to_string),
        _ => None,
    })
}

impl Covering for CaseEntry {
    fn spec(&self) -> &[String] {
        &self.spec
    }

    fn status(&self) -> CaseStatus {
        self.status
    }

    fn provenance(&self) -> Provenance {
        self.provenance
    }

    fn tags(&self) -> &[String] {
        &self.tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report of one case of each verdict, failed checks in the steps of those whose entry
    /// reads them, laid out a case per line as a run writes it, or pretty-printed.
    fn report(lined: bool) -> String {
        let step = |passed: bool, mismatches: serde_json::Value| {
            serde_json::json!({"name": "start", "exchanges": [], "ran": true, "passed": passed,
                "duration_ms": 1, "checks": [{"name": "status", "passed": true, "expected": "2xx",
                "actual": "200"}, {"name": "body", "passed": passed, "expected": "{}",
                "actual": "{\"a\":1}", "mismatches": mismatches}]})
        };
        let differs = serde_json::json!([{"path": "$.a", "message": "unexpected member"}]);
        let case = |id: &str, verdict: &str, reason: Option<&str>, passed: bool| {
            let mut c = serde_json::json!({"id": id, "title": id, "spec": ["S1"],
                "provenance": "documented", "tags": ["t"], "file": "f.toml", "sha256": "00",
                "verdict": verdict, "duration_ms": 1,
                "steps": [step(passed, if passed { serde_json::json!([]) } else { differs.clone() })]});
            if let Some(r) = reason {
                c["reason"] = r.into();
            }
            c
        };
        let cases = [
            case("a-pass", "pass", None, true),
            case("b-fail", "fail", None, false),
            case("c-fail-reason", "fail", Some("also a reason"), false),
            case("d-warn", "warn", None, false),
            case("e-warn-reason", "warn", Some("tried three answers"), false),
            case("f-error", "error", Some("Ready is not there"), true),
            case("g-error", "error", None, false),
            case("h-skip", "skip", Some("needs `place`"), true),
            case("i-not-run", "not-run", Some("interrupted"), true),
        ];
        let lines: Vec<String> = cases
            .iter()
            .map(|c| {
                if lined {
                    c.to_string()
                } else {
                    serde_json::to_string_pretty(c).unwrap()
                }
            })
            .collect();
        format!(
            "{{\n\"format\": \"gws-conform-report/1\",\n\"run\": {{\"run_id\": \"r\", \
             \"harness_version\": \"0\", \"started_at\": \"t\", \"target\": {{\"url\": \"http://t\", \
             \"embedded\": false}}, \"profile\": {{\"name\": \"p\"}}, \"inputs\": [], \
             \"selection\": {{}}, \"planned\": 9, \"jobs\": 1}},\n\"cases\": [\n{}\n],\n\
             \"summary\": {{\"tally\": {{\"total\": 9, \"passed\": 1, \"failed\": 2, \"skipped\": 1}}, \"complete\": true, \"ok\": false, \
             \"finished_at\": \"t\", \"duration_ms\": 1}}\n}}\n",
            lines.join(",\n")
        )
    }

    /// The index read from a file, each case read lightly, lists every case as the index of the
    /// same report held whole does, whichever reading the file takes: from memory, a case per line
    /// (laid out as a run writes it), or streamed (pretty-printed).
    #[test]
    fn an_index_read_from_a_file_is_the_index_of_the_whole_report() {
        let dir = tempfile::tempdir().unwrap();
        for (lined, slurp_below) in [(true, u64::MAX), (false, u64::MAX), (true, 0), (false, 0)] {
            let path = dir.path().join("report.json");
            std::fs::write(&path, report(lined)).unwrap();
            let whole = Index::of_report(&Report::read(&path).unwrap());
            let read = Index::read_slurping_below(&path, slurp_below).unwrap();
            assert_eq!(format!("{:?}", read.cases), format!("{:?}", whole.cases));
            let why: Vec<_> = read
                .cases
                .iter()
                .map(|c| c.first_failure.as_deref())
                .collect();
            assert_eq!(
                why,
                [
                    None,
                    Some("start: body: $.a: unexpected member"),
                    Some("start: body: $.a: unexpected member"),
                    Some("start: body: $.a: unexpected member"),
                    Some("tried three answers"),
                    Some("Ready is not there"),
                    Some("start: body: $.a: unexpected member"),
                    Some("needs `place`"),
                    Some("interrupted"),
                ]
            );
        }
    }

    /// Steps the index reads (a failed case's) that are not a case's steps: the error of the
    /// report read whole, with its line and column.
    #[test]
    fn malformed_steps_of_a_failed_case_are_the_whole_reading_s_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        let text = report(true).replacen("\"passed\":false", "\"passed\":\"no\"", 1);
        std::fs::write(&path, text).unwrap();
        let whole = Report::read(&path).unwrap_err().to_string();
        assert!(whole.contains(":6:"), "{whole}");
        for slurp_below in [u64::MAX, 0] {
            let read = Index::read_slurping_below(&path, slurp_below);
            assert_eq!(read.unwrap_err().to_string(), whole);
        }
    }
}

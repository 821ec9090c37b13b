//! The index of a report: its head and a few short strings per case, everything the summary parts
//! of the formats (verdict, counts, failures, traceability matrix) need. A report can be far larger
//! than its summary, so the formats are written from an index plus one case at a time, never from
//! the whole report in memory.

use std::path::Path;
use std::sync::Arc;

use super::coverage::Covering;
use super::json::{Report, ReportHead, Streamed, Summary};
use super::status::CaseStatus;
use super::ReportError;
use crate::intern::Interner;
use crate::model::Provenance;
use crate::record::describe::first_failure;
use crate::record::{CaseResult, Verdict};

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

impl Index {
    fn entry(c: &CaseResult, shared: &Interner) -> CaseEntry {
        CaseEntry {
            id: c.id.as_str().into(),
            title: c.title.as_str().into(),
            spec: shared.list(&c.spec),
            tags: shared.list(&c.tags),
            provenance: c.provenance,
            verdict: c.verdict,
            status: CaseStatus::of(c.verdict, None),
            first_failure: match c.verdict {
                Verdict::Fail => first_failure(c),
                // A warning's reason says what was tried.
                Verdict::Warn => c.reason.clone().or_else(|| first_failure(c)),
                // Why it did not run, for the lists of cases that did not.
                Verdict::Skip | Verdict::NotRun => c.reason.clone(),
                _ => None,
            }
            .map(String::into_boxed_str),
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

    /// Reads a report.json case by case (see [`super::json::stream`]).
    pub fn read(path: &Path) -> Result<Index, ReportError> {
        let mut cases = Vec::new();
        let shared = Interner::default();
        let head = super::json::stream::<std::convert::Infallible>(path, &mut |c| {
            cases.push(Index::entry(c, &shared));
            Ok(())
        })
        .map_err(|e| match e {
            Streamed::Report(e) => e,
            Streamed::Case(never) => match never {},
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

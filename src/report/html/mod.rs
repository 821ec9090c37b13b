//! One self-contained HTML file for auditors: no network fetch (a Content-Security-Policy forbids
//! any), the verdict first, then a verdict per documented sample, the traceability matrix from every
//! spec element to the cases covering it, and every case with its checks, diffs and exchanges
//! (`<details>`, expandable without script).
//!
//! The page is written in order: [`page`] (head, verdict, counts; inputs and footer at the end),
//! [`glance`] (preflight, failures, warnings), [`coverage`] (samples, traceability, parameters),
//! then every case ([`case`]).
//!
//! Stable hooks for tests and tooling: `#verdict[data-verdict]`, `#counts [data-count]`,
//! `#samples tr[data-element]`, `#matrix tr[data-element]`, `details.case[data-status]`, `pre.diff`.

use std::fmt::Write as _;
use std::io::{self, Read, Seek, Write};

use crate::record::CaseResult;
use crate::report::coverage::ElementStatus;
use crate::report::format::{Sink, Spool, Writer};
use crate::report::index::Index;
use crate::report::markup::esc;
use crate::report::status::CaseStatus;
mod case;
mod coverage;
mod glance;
mod page;

/// The summary parts, then every case, failures first: each case is rendered as it is read into a
/// spool (a temporary file), and copied from there in that order at the end.
pub struct Html {
    spool: Option<io::BufWriter<Box<dyn Spool>>>,
    /// Where each case's HTML is in the spool, in report order.
    spans: Vec<(u64, usize)>,
    at: u64,
    text: String,
}

impl Html {
    pub fn new(spool: Box<dyn Spool>) -> Html {
        Html {
            spool: Some(io::BufWriter::with_capacity(1 << 16, spool)),
            spans: Vec::new(),
            at: 0,
            text: String::new(),
        }
    }
}

impl Writer for Html {
    fn begin(&mut self, index: &Index, h: &mut Sink) -> io::Result<()> {
        begin(index, h)
    }

    fn case(&mut self, index: &Index, n: usize, c: &CaseResult, _: &mut Sink) -> io::Result<()> {
        self.text.clear();
        case::case_html(
            &mut self.text,
            index.cases[n].status,
            index.summary().known_for(&c.id),
            c,
        );
        let text = &self.text;
        let spool = self.spool.as_mut().ok_or_else(spool_gone)?;
        spool.write_all(text.as_bytes())?;
        self.spans.push((self.at, text.len()));
        self.at += text.len() as u64;
        Ok(())
    }

    fn end(&mut self, index: &Index, h: &mut Sink) -> io::Result<()> {
        // Every case, failures first.
        let mut spool = self
            .spool
            .take()
            .ok_or_else(spool_gone)?
            .into_inner()
            .map_err(|e| e.into_error())?;
        let rank = |st: CaseStatus| match st {
            CaseStatus::Fail => 0,
            CaseStatus::Error => 1,
            CaseStatus::Warn => 2,
            CaseStatus::NotRun => 3,
            CaseStatus::Known => 4,
            CaseStatus::Fixed => 5,
            CaseStatus::Skip => 6,
            CaseStatus::Pass => 7,
        };
        let mut order: Vec<usize> = (0..self.spans.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&index.cases[a], &index.cases[b]);
            (rank(a.status), &a.id).cmp(&(rank(b.status), &b.id))
        });
        let mut bytes = Vec::new();
        for i in order {
            let (at, len) = self.spans[i];
            spool.seek(io::SeekFrom::Start(at))?;
            bytes.resize(len, 0);
            spool.read_exact(&mut bytes)?;
            h.write_bytes(&bytes)?;
        }
        page::end(index, h)
    }
}

fn spool_gone() -> io::Error {
    io::Error::other("the HTML case spool is closed")
}
fn begin(index: &Index, h: &mut Sink) -> io::Result<()> {
    page::start(index, h);
    glance::sections(index, h)?;
    coverage::sections(index, h)?;
    let _ = writeln!(
        h,
        "<section id=\"cases\"><h2>Cases ({})</h2><p class=\"muted\">Failures first. Click a case to see its checks, diffs and HTTP exchanges (secrets are shown as ***).</p>",
        index.cases.len()
    );
    h.emit()
}

fn el_badge(s: ElementStatus) -> String {
    format!("<span class=\"badge {}\">{}</span>", s.word(), s.label())
}

fn attr(s: &str) -> String {
    esc(s)
}

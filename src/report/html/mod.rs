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
use std::io::{self, Write};

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
        // Cases that follow each other in the spool are copied as one stretch: in a run where few
        // cases failed, that is nearly the whole spool in one pass, not a seek and a read a case.
        let mut copy = Stretches::new(&mut *spool);
        for i in order {
            let (at, len) = self.spans[i];
            copy.take(at, len as u64, h)?;
        }
        copy.flush(h)?;
        page::end(index, h)
    }
}

/// Copies byte ranges of a spool to a sink in the order asked, joining ranges that follow each
/// other into one read.
struct Stretches<'s> {
    spool: &'s mut dyn Spool,
    /// The stretch not yet copied: where it starts and how long it is.
    pending: Option<(u64, u64)>,
    buf: Vec<u8>,
}

impl<'s> Stretches<'s> {
    fn new(spool: &'s mut dyn Spool) -> Self {
        Stretches {
            spool,
            pending: None,
            buf: Vec::new(),
        }
    }

    fn take(&mut self, at: u64, len: u64, h: &mut Sink) -> io::Result<()> {
        match &mut self.pending {
            Some((start, n)) if *start + *n == at => *n += len,
            _ => {
                self.flush(h)?;
                self.pending = Some((at, len));
            }
        }
        Ok(())
    }

    fn flush(&mut self, h: &mut Sink) -> io::Result<()> {
        let Some((at, len)) = self.pending.take() else {
            return Ok(());
        };
        // Always a seek: a stretch that began where the last one ended would have been joined to it.
        self.spool.seek(io::SeekFrom::Start(at))?;
        self.buf.resize(CHUNK.min(len) as usize, 0);
        let mut left = len;
        while left > 0 {
            let n = CHUNK.min(left) as usize;
            self.spool.read_exact(&mut self.buf[..n])?;
            h.write_bytes(&self.buf[..n])?;
            left -= n as u64;
        }
        Ok(())
    }
}

/// How much of the spool is copied at a time.
const CHUNK: u64 = 1 << 16;

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek};

    /// Copies `ranges` of `spool` through [`Stretches`]; the reads it made are counted.
    fn copied(spool: &[u8], ranges: &[(u64, u64)]) -> (Vec<u8>, usize) {
        struct Counting {
            inner: io::Cursor<Vec<u8>>,
            reads: usize,
        }
        impl Read for Counting {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.reads += 1;
                self.inner.read(buf)
            }
        }
        impl Write for Counting {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.inner.write(buf)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        impl Seek for Counting {
            fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
                self.inner.seek(to)
            }
        }
        let mut spool = Counting {
            inner: io::Cursor::new(spool.to_vec()),
            reads: 0,
        };
        let mut out = Vec::new();
        {
            let mut sink = Sink::new(&mut out);
            let mut copy = Stretches::new(&mut spool);
            for &(at, len) in ranges {
                copy.take(at, len, &mut sink).unwrap();
            }
            copy.flush(&mut sink).unwrap();
            sink.emit().unwrap();
        }
        (out, spool.reads)
    }

    #[test]
    fn ranges_come_out_in_the_order_asked_and_neighbours_are_read_together() {
        let spool = b"aaabbbbccdddd";
        // Out of order, then three that follow each other in the spool.
        let (out, reads) = copied(spool, &[(9, 4), (0, 3), (3, 4), (7, 2)]);
        assert_eq!(out, b"ddddaaabbbbcc");
        assert_eq!(reads, 2, "the last three ranges are one stretch");
        // Asked again after the spool was read past it: the earlier range is read again.
        let (out, _) = copied(spool, &[(9, 4), (0, 3), (0, 3)]);
        assert_eq!(out, b"ddddaaaaaa");
    }

    #[test]
    fn a_stretch_longer_than_a_chunk_is_copied_whole() {
        let spool: Vec<u8> = (0..(CHUNK as usize * 2 + 17)).map(|i| i as u8).collect();
        let n = spool.len() as u64;
        let (out, _) = copied(&spool, &[(0, 10), (10, n - 10)]);
        assert_eq!(out, spool);
    }
}

//! The fast way through a large report.json: the harness writes each case on one line (see
//! [`super::json::JsonReport`]), so a case can be parsed from its line in memory, several times
//! faster than through serde_json's byte-at-a-time reader, without reading the whole report in.
//!
//! [`CaseLines`] is the reader the report's own parse reads through: it passes the report on as it
//! is, except the case lines, which it parses and hands out itself (the parse then sees an empty
//! `cases` array). Everything else (the run, the baseline, the summary, duplicate or missing fields)
//! is parsed and checked exactly as before. Anything not laid out as the harness writes it (a case
//! over several lines, a report edited by hand) stops it, and the caller reads the report the
//! general way, skipping the cases already handed out.

use std::io::{self, BufRead, Read};

use serde::de::DeserializeOwned;

/// Why a [`CaseLines`] stopped early.
pub(super) enum Stop<E> {
    /// `on_case` said stop.
    Case(E),
    /// The report is not laid out a case per line: read it the general way.
    Layout,
}

/// Where the reader is in the report.
enum Part {
    /// Before the cases: passed on, its nesting tracked so that only the top-level `"cases"` counts.
    Head(Nesting),
    /// The case lines; whether the last one ended with a comma (another case must follow).
    Cases { more: bool },
    /// After the cases: passed on.
    Tail,
}

/// The opening line of the cases, as the harness writes it.
const CASES_OPEN: &[u8] = b"\"cases\": [\n";
/// The closing line of the cases.
const CASES_CLOSE: &[u8] = b"],\n";
/// The deepest a case may nest for the report to be readable whole: serde_json refuses more than
/// 127 levels, and a case starts at the third (the report's object, its `cases` array).
const MAX_CASE_DEPTH: usize = 125;
/// The longest line of the head or tail read this way: the harness writes them pretty-printed, so
/// a longer one means a report laid out otherwise (minified, say), better streamed than held.
const MAX_OTHER_LINE: u64 = 1 << 20;

pub(super) struct CaseLines<'f, R, C, E> {
    inner: R,
    part: Part,
    line: Vec<u8>,
    /// What is still to be handed to the parse from `line`.
    at: usize,
    on_case: &'f mut dyn FnMut(&C) -> Result<(), E>,
    /// How many cases were handed to `on_case`.
    pub delivered: usize,
    pub stopped: Option<Stop<E>>,
}

impl<'f, R: BufRead, C: DeserializeOwned, E> CaseLines<'f, R, C, E> {
    pub fn new(inner: R, on_case: &'f mut dyn FnMut(&C) -> Result<(), E>) -> Self {
        CaseLines {
            inner,
            part: Part::Head(Nesting::default()),
            line: Vec::with_capacity(1 << 12),
            at: 0,
            on_case,
            delivered: 0,
            stopped: None,
        }
    }

    fn stop(&mut self, why: Stop<E>) -> io::Error {
        self.stopped = Some(why);
        io::Error::other("not read a case per line")
    }

    /// Reads the next line to pass on into `line`; false at the end of the report.
    fn next_line(&mut self) -> io::Result<bool> {
        loop {
            self.line.clear();
            self.at = 0;
            let read = match self.part {
                Part::Cases { .. } => self.inner.read_until(b'\n', &mut self.line)?,
                _ => {
                    let n = (&mut self.inner)
                        .take(MAX_OTHER_LINE)
                        .read_until(b'\n', &mut self.line)?;
                    if n as u64 == MAX_OTHER_LINE && self.line.last() != Some(&b'\n') {
                        return Err(self.stop(Stop::Layout));
                    }
                    n
                }
            };
            if read == 0 {
                return match self.part {
                    Part::Cases { .. } => Err(self.stop(Stop::Layout)),
                    _ => Ok(false),
                };
            }
            match &mut self.part {
                Part::Head(nesting) => {
                    let top = nesting.depth == 1 && !nesting.in_string;
                    nesting.scan(&self.line);
                    if top && self.line == CASES_OPEN {
                        self.part = Part::Cases { more: false };
                    }
                    return Ok(true);
                }
                Part::Tail => return Ok(true),
                Part::Cases { more } => {
                    let more = *more;
                    if self.line == CASES_CLOSE {
                        if more {
                            return Err(self.stop(Stop::Layout));
                        }
                        self.part = Part::Tail;
                        return Ok(true);
                    }
                    self.case_line(more)?;
                }
            }
        }
    }

    /// One case line: parsed and handed out, nothing passed on.
    fn case_line(&mut self, more: bool) -> io::Result<()> {
        if self.delivered > 0 && !more {
            return Err(self.stop(Stop::Layout));
        }
        let mut text = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
        let comma = text.last() == Some(&b',');
        if comma {
            text = &text[..text.len() - 1];
        }
        // Parsed alone, a case sits two levels shallower than in the report, where serde_json's
        // depth limit (127 levels) would refuse it: such a case is left to the general reading.
        // Counting brackets bounds the depth and is cheap; only a line with many is scanned.
        let opening = text.iter().filter(|&&b| b == b'[' || b == b'{').count();
        if opening > MAX_CASE_DEPTH {
            let mut nesting = Nesting::default();
            nesting.scan(text);
            if nesting.deepest > MAX_CASE_DEPTH {
                return Err(self.stop(Stop::Layout));
            }
        }
        let Ok(case) = serde_json::from_slice::<C>(text) else {
            return Err(self.stop(Stop::Layout));
        };
        if let Err(e) = (self.on_case)(&case) {
            return Err(self.stop(Stop::Case(e)));
        }
        self.delivered += 1;
        self.part = Part::Cases { more: comma };
        Ok(())
    }
}

impl<R: BufRead, C: DeserializeOwned, E> Read for CaseLines<'_, R, C, E> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.line.len() && !self.next_line()? {
            return Ok(0);
        }
        let n = buf.len().min(self.line.len() - self.at);
        buf[..n].copy_from_slice(&self.line[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// How deep in JSON's objects and arrays the text read so far ends.
#[derive(Default)]
struct Nesting {
    depth: usize,
    /// The deepest it has been.
    deepest: usize,
    in_string: bool,
    escaped: bool,
}

impl Nesting {
    fn scan(&mut self, text: &[u8]) {
        for &b in text {
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
            } else {
                match b {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => {
                        self.depth += 1;
                        self.deepest = self.deepest.max(self.depth);
                    }
                    b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_ignores_brackets_in_strings() {
        let mut n = Nesting::default();
        n.scan(br#"{"a": "x{[\"", "b": [1, {"c": "]"}"#);
        assert_eq!((n.depth, n.deepest, n.in_string), (2, 3, false));
    }
}

//! What a rendered format is, and nothing more: the [`Format`] names a user picks from, the
//! [`Writer`] each format implements, and the [`Sink`] it writes into. The formats (`html`, `junit`,
//! `markdown`, `tap`) depend on this module and the driver (`render`) feeds them through it, so no
//! format knows the driver and the driver knows the formats only by this interface and their names.

use std::io::{self, Read, Seek, Write};

use super::index::Index;
use crate::record::CaseResult;

/// A report format that is rendered from the canonical JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Html,
    Junit,
    Markdown,
    Tap,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Html, Format::Junit, Format::Markdown, Format::Tap];

    pub fn name(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Tap => "tap",
        }
    }

    /// The file a run writes it to, beside `report.json`.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Html => "report.html",
            Format::Junit => "junit.xml",
            Format::Markdown => "summary.md",
            Format::Tap => "report.tap",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown format `{s}`; expected one of {}",
                    Format::ALL.map(|f| f.name()).join(", ")
                )
            })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One format being written: what comes before the cases, each case as it is read, and the rest.
///
/// A report can be far larger than its summary, so a writer never gets the whole report: the
/// summary parts come from the [`Index`], and each case is handed over once, then dropped.
pub trait Writer {
    fn begin(&mut self, index: &Index, out: &mut Sink) -> io::Result<()>;
    fn case(
        &mut self,
        index: &Index,
        n: usize,
        case: &CaseResult,
        out: &mut Sink,
    ) -> io::Result<()>;
    fn end(&mut self, index: &Index, out: &mut Sink) -> io::Result<()>;
    /// False when the summary parts are the whole document.
    fn needs_cases(&self) -> bool {
        true
    }
}

/// Scratch space a writer may be given, for a format that writes its cases in another order than
/// the report's: a temporary file, or memory.
pub trait Spool: Read + Write + Seek {}
impl<T: Read + Write + Seek> Spool for T {}

/// Where a rendered document goes: text pushed into it is written by [`Sink::emit`]. Nothing is
/// scrubbed here: the report was redacted where outside data entered it (see `crate::secret`), and
/// a sweep over the whole text would mask ids and paths that happen to hold a password.
pub struct Sink<'a> {
    out: &'a mut dyn Write,
    buf: String,
}

impl<'a> Sink<'a> {
    pub fn new(out: &'a mut dyn Write) -> Sink<'a> {
        Sink {
            out,
            buf: String::new(),
        }
    }

    pub fn push_str(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    pub fn push(&mut self, c: char) {
        self.buf.push(c);
    }

    /// Writes what was pushed since the last call. Writers call it at the end of a whole element or
    /// line.
    pub fn emit(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let done = self.out.write_all(self.buf.as_bytes());
        self.buf.clear();
        done
    }

    /// Writes bytes rendered already (after what was pushed before).
    pub fn write_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.emit()?;
        self.out.write_all(bytes)
    }
}

impl std::fmt::Write for Sink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.buf.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_name() {
        assert_eq!("HTML".parse::<Format>(), Ok(Format::Html));
        assert_eq!("junit".parse::<Format>(), Ok(Format::Junit));
        let e = "pdf".parse::<Format>().unwrap_err();
        assert!(e.contains("html, junit, markdown, tap"), "{e}");
    }
}

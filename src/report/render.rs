//! The rendered formats (HTML, JUnit XML, Markdown, TAP): each a function of a report, written
//! by a run from its finished `report.json` ([`write_formats_from`]), so that `run` and
//! `gws-conform report` produce the same bytes from the same results.
//!
//! A report can be far larger than its summary, so no format needs the whole report in memory: the
//! summary parts (verdict, counts, failures, traceability matrix) come from an [`Index`] of the cases
//! (a few short strings each) and the report's head, and each case's details are written as the
//! case is read, then dropped ([`Writer`]). `report.json` is read twice: once for the index, once
//! for the details of every format at once. [`Format::render`] runs the same writers over a report
//! held in memory.

use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::json::{CaseStatus, Report, ReportHead, Streamed, Summary};
use super::ReportError;
use crate::model::Provenance;
use crate::record::{CaseResult, Verdict};

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

    /// The whole document for a report held in memory (the same writers as [`write_formats_from`]).
    pub fn render(self, report: &Report) -> String {
        let index = Index::of_report(report);
        let mut bytes = Vec::new();
        let mut job = Job::new(
            self.writer(|| Ok(Box::new(io::Cursor::new(Vec::new())))),
            &mut bytes,
        );
        drive(
            &index,
            &Source::Memory(report),
            std::slice::from_mut(&mut job),
        )
        .expect("a report in memory is read whole");
        job.finish().expect("writing to memory cannot fail");
        String::from_utf8(bytes).expect("the renderers write UTF-8")
    }

    /// The format's writer; `spool` gives the scratch space of a format that writes its cases in
    /// another order than the report's (HTML: failures first).
    fn writer(
        self,
        spool: impl FnOnce() -> io::Result<Box<dyn Spool>>,
    ) -> io::Result<Box<dyn Writer>> {
        Ok(match self {
            Format::Html => Box::new(super::html::Html::new(spool()?)),
            Format::Junit => Box::new(super::junit::Junit),
            Format::Markdown => Box::new(super::markdown::Markdown),
            Format::Tap => Box::new(super::tap::Tap),
        })
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

/// What the summary parts of the formats need to know about one case.
#[derive(Debug, Clone)]
pub struct CaseEntry {
    pub id: String,
    pub title: String,
    pub spec: Vec<String>,
    pub provenance: Provenance,
    pub verdict: Verdict,
    /// The verdict refined by the baseline.
    pub status: CaseStatus,
    /// [`first_failure`], for failed cases.
    pub first_failure: Option<String>,
}

/// A report without its cases' details: its head and a [`CaseEntry`] per case, in report order.
#[derive(Debug, Clone)]
pub struct Index {
    pub head: ReportHead,
    pub cases: Vec<CaseEntry>,
}

impl Index {
    fn entry(c: &CaseResult) -> CaseEntry {
        CaseEntry {
            id: c.id.clone(),
            title: c.title.clone(),
            spec: c.spec.clone(),
            provenance: c.provenance,
            verdict: c.verdict,
            status: CaseStatus::of(c.verdict, None),
            first_failure: match c.verdict {
                Verdict::Fail => first_failure(c),
                // A warning's reason says what was tried.
                Verdict::Warn => c.reason.clone().or_else(|| first_failure(c)),
                _ => None,
            },
        }
    }

    fn new(head: ReportHead, mut cases: Vec<CaseEntry>) -> Index {
        for c in &mut cases {
            c.status = CaseStatus::of(c.verdict, head.summary.known_for(&c.id));
        }
        Index { head, cases }
    }

    pub fn of_report(report: &Report) -> Index {
        Index::new(
            report.head(),
            report.cases.iter().map(Index::entry).collect(),
        )
    }

    /// Reads a report.json case by case (see [`super::json::stream`]).
    pub fn read(path: &Path) -> Result<Index, ReportError> {
        let mut cases = Vec::new();
        let head = super::json::stream::<std::convert::Infallible>(path, &mut |c| {
            cases.push(Index::entry(c));
            Ok(())
        })
        .map_err(|e| match e {
            Streamed::Report(e) => e,
            Streamed::Case(never) => match never {},
        })?;
        Ok(Index::new(head, cases))
    }

    pub fn summary(&self) -> &Summary {
        &self.head.summary
    }

    /// The cases shown with one status, in report order.
    pub fn cases_with(&self, status: CaseStatus) -> impl Iterator<Item = &CaseEntry> {
        self.cases.iter().filter(move |c| c.status == status)
    }
}

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

/// Scratch space for a writer: a temporary file, or memory.
pub trait Spool: Read + Write + Seek {}
impl<T: Read + Write + Seek> Spool for T {}

/// One format being written: what comes before the cases, each case as it is read, and the rest.
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

/// One format on its way to one destination; the first write error stops it (and only it).
struct Job<'a> {
    writer: io::Result<Box<dyn Writer>>,
    sink: Sink<'a>,
}

impl<'a> Job<'a> {
    fn new(writer: io::Result<Box<dyn Writer>>, out: &'a mut dyn Write) -> Job<'a> {
        Job {
            writer,
            sink: Sink::new(out),
        }
    }

    fn step(&mut self, f: impl FnOnce(&mut dyn Writer, &mut Sink) -> io::Result<()>) {
        if let Ok(w) = &mut self.writer {
            if let Err(e) = f(&mut **w, &mut self.sink) {
                self.writer = Err(e);
            }
        }
    }

    fn wants_cases(&self) -> bool {
        self.writer.as_ref().is_ok_and(|w| w.needs_cases())
    }

    fn finish(mut self) -> io::Result<()> {
        self.writer?;
        self.sink.emit()
    }
}

/// Where the cases are read from, a second time.
enum Source<'r> {
    Memory(&'r Report),
    File(&'r Path),
}

/// Every job's document: the summary parts from the index, then each case as the source hands it
/// over, then the rest.
fn drive(index: &Index, source: &Source, jobs: &mut [Job]) -> Result<(), ReportError> {
    for j in jobs.iter_mut() {
        j.step(|w, s| w.begin(index, s));
    }
    if jobs.iter().any(Job::wants_cases) {
        let mut n = 0;
        let mut each = |c: &CaseResult| {
            if index.cases.get(n).is_none_or(|e| e.id != c.id) {
                return Err(());
            }
            for j in jobs.iter_mut() {
                if j.wants_cases() {
                    j.step(|w, s| w.case(index, n, c, s));
                }
            }
            n += 1;
            Ok(())
        };
        let changed = |path: &Path| ReportError::Read {
            path: path.to_path_buf(),
            source: io::Error::other("the report changed while it was being rendered"),
        };
        match source {
            Source::Memory(r) => {
                for c in &r.cases {
                    each(c).map_err(|()| changed(Path::new("report.json")))?;
                }
            }
            Source::File(path) => {
                super::json::stream(path, &mut each).map_err(|e| match e {
                    Streamed::Report(e) => e,
                    Streamed::Case(()) => changed(path),
                })?;
            }
        }
        if n != index.cases.len() {
            let path = match source {
                Source::File(p) => p,
                Source::Memory(_) => Path::new("report.json"),
            };
            return Err(changed(path));
        }
    }
    for j in jobs.iter_mut() {
        j.step(|w, s| w.end(index, s));
    }
    Ok(())
}

/// Where [`render_from`] writes one format.
pub enum Output<'a> {
    /// A file, written atomically (a temporary file beside it, synced, then renamed).
    File(PathBuf),
    /// A stream, e.g. standard output.
    Stream(Box<dyn Write + 'a>),
}

/// An [`Output`] once opened.
enum Out<'a> {
    File {
        w: io::BufWriter<std::fs::File>,
        partial: PathBuf,
        dest: PathBuf,
    },
    Stream(io::BufWriter<Box<dyn Write + 'a>>),
}

impl<'a> Out<'a> {
    fn open(output: Output<'a>) -> Result<Out<'a>, ReportError> {
        match output {
            Output::Stream(w) => Ok(Out::Stream(io::BufWriter::with_capacity(1 << 16, w))),
            Output::File(dest) => {
                let err = |source| ReportError::Write {
                    path: dest.clone(),
                    source,
                };
                if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(err)?;
                }
                let partial = sibling(&dest, ".partial");
                let f = std::fs::File::create(&partial).map_err(err)?;
                Ok(Out::File {
                    w: io::BufWriter::with_capacity(1 << 16, f),
                    partial,
                    dest,
                })
            }
        }
    }

    /// The name errors give.
    fn shown(&self) -> PathBuf {
        match self {
            Out::File { dest, .. } => dest.clone(),
            Out::Stream(_) => PathBuf::from("-"),
        }
    }

    /// A temporary file for a writer's scratch space: beside the destination, or in the system's
    /// temporary folder for a stream.
    fn spool(&self) -> io::Result<Box<dyn Spool>> {
        let path = match self {
            Out::File { dest, .. } => sibling(dest, ".cases.partial"),
            Out::Stream(_) => {
                static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                std::env::temp_dir().join(format!(
                    "gws-conform-{}-{n}.cases.partial",
                    std::process::id()
                ))
            }
        };
        Ok(Box::new(TempFile::create(path)?))
    }

    fn close(self, wrote: io::Result<()>) -> io::Result<()> {
        match self {
            Out::Stream(mut w) => wrote.and_then(|()| w.flush()),
            Out::File { w, partial, dest } => {
                let done = wrote
                    .and_then(|()| w.into_inner().map_err(|e| e.into_error()))
                    .and_then(|f| f.sync_all())
                    .and_then(|()| std::fs::rename(&partial, &dest));
                if done.is_err() {
                    let _ = std::fs::remove_file(&partial);
                }
                done
            }
        }
    }
}

impl Write for Out<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::File { w, .. } => w.write(buf),
            Out::Stream(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Out::File { w, .. } => w.write_all(buf),
            Out::Stream(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::File { w, .. } => w.flush(),
            Out::Stream(w) => w.flush(),
        }
    }
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// A scratch file, removed once dropped (at once where an open file can be removed).
struct TempFile {
    file: std::fs::File,
    path: Option<PathBuf>,
}

impl TempFile {
    fn create(path: PathBuf) -> io::Result<TempFile> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        let path = if cfg!(unix) && std::fs::remove_file(&path).is_ok() {
            None
        } else {
            Some(path)
        };
        Ok(TempFile { file, path })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Read for TempFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

impl Write for TempFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Seek for TempFile {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

/// Renders each of `outputs` from the report.json at `path`, reading it case by case (twice:
/// once for the index, once for every format's case details). Returns the report's head when it could be read, and what became of each output,
/// in order.
pub fn render_from<'a>(
    path: &Path,
    outputs: Vec<(Format, Output<'a>)>,
) -> Result<(ReportHead, Vec<Result<(), ReportError>>), ReportError> {
    let index = Index::read(path)?;
    let results = render(&index, &Source::File(path), outputs)?;
    Ok((index.head, results))
}

fn render<'a>(
    index: &Index,
    source: &Source,
    outputs: Vec<(Format, Output<'a>)>,
) -> Result<Vec<Result<(), ReportError>>, ReportError> {
    let mut outs: Vec<(Format, Result<Out<'a>, ReportError>)> = outputs
        .into_iter()
        .map(|(f, o)| (f, Out::open(o)))
        .collect();
    let mut wrote: Vec<io::Result<()>> = Vec::new();
    {
        let mut jobs = Vec::new();
        for (format, out) in outs.iter_mut() {
            if let Ok(out) = out {
                let writer = format.writer(|| out.spool());
                jobs.push(Job::new(writer, out));
            }
        }
        let driven = drive(index, source, &mut jobs);
        wrote.extend(jobs.into_iter().map(Job::finish));
        if let Err(e) = driven {
            // The report could not be read: leave no half-written file behind.
            for (_, out) in outs {
                if let Ok(Out::File { partial, .. }) = out {
                    let _ = std::fs::remove_file(partial);
                }
            }
            return Err(e);
        }
    }
    let mut wrote = wrote.into_iter();
    Ok(outs
        .into_iter()
        .map(|(_, out)| {
            let out = out?;
            let shown = out.shown();
            let w = wrote.next().unwrap_or(Ok(()));
            out.close(w).map_err(|source| ReportError::Write {
                path: shown,
                source,
            })
        })
        .collect())
}

/// Writes every rendered format beside `report.json` (at `report_json`), reading it case by case,
/// each atomically. Returns the report's summary when it
/// could be read, and why any format could not be written.
///
/// A run calls it once `report.json` is complete, so no listener keeps a copy of every case (cases
/// stream to `report.json` as they finish), and `run` and `gws-conform report` produce the same
/// bytes from the same report.
pub fn write_formats_from(
    report_json: &Path,
    dir: &Path,
) -> Result<(Summary, Vec<ReportError>), ReportError> {
    let index = Index::read(report_json)?;
    let source = Source::File(report_json);
    let render_group = |formats: &[Format]| {
        let outputs = formats
            .iter()
            .map(|&f| (f, Output::File(dir.join(f.file_name()))))
            .collect();
        render(&index, &source, outputs)
    };
    // The HTML page costs about as much as the other three together: with a second core, it is
    // rendered beside them, each group reading report.json on its own (same bytes either way).
    let groups: Vec<&[Format]> = if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1
    {
        vec![&Format::ALL[..1], &Format::ALL[1..]]
    } else {
        vec![&Format::ALL[..]]
    };
    let rendered: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .iter()
            .map(|g| scope.spawn(|| render_group(g)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    // A group that could not read the report leaves none of its files behind; the other group's
    // files stand, so each format is accounted for on its own.
    let mut errors = Vec::new();
    for (group, formats) in rendered.into_iter().zip(&groups) {
        match group {
            Ok(results) => errors.extend(results.into_iter().filter_map(Result::err)),
            Err(e) => errors.extend(formats.iter().map(|f| ReportError::Write {
                path: dir.join(f.file_name()),
                source: io::Error::other(e.to_string()),
            })),
        }
    }
    Ok((index.head.summary, errors))
}

/// [`write_formats_from`] for a report held in memory.
pub fn write_formats(report: &Report, dir: &Path) -> Vec<ReportError> {
    let outputs = Format::ALL
        .into_iter()
        .map(|f| (f, Output::File(dir.join(f.file_name()))))
        .collect();
    match render(&Index::of_report(report), &Source::Memory(report), outputs) {
        Ok(results) => results.into_iter().filter_map(Result::err).collect(),
        Err(e) => vec![e],
    }
}

/// The run's verdict as a machine word (a CSS class): `pass` only when nothing failed, nothing warned
/// and every sample the run covers was tested in full; `warn` for a pass that needs review or did not
/// test everything; `fail`; `incomplete`.
pub fn verdict_class(s: &Summary) -> &'static str {
    if !s.complete {
        "incomplete"
    } else if !s.ok {
        "fail"
    } else if s.tally.warned > 0 || s.untested_samples().next().is_some() {
        "warn"
    } else {
        "pass"
    }
}

/// Shared by the renderers: a one-line verdict an auditor reads first, and the sentence under it.
/// Never a bare PASS over a warning or a sample that was not tested: "PASS, 1 sample not tested".
pub fn headline(report: &ReportHead) -> (String, String) {
    let s = &report.summary;
    let t = &s.tally;
    let untested: Vec<_> = s.untested_samples().collect();
    let mut word = if !s.complete {
        "INCOMPLETE".to_string()
    } else if s.ok {
        "PASS".to_string()
    } else {
        "FAIL".to_string()
    };
    if s.complete && s.ok {
        if t.warned > 0 {
            word.push_str(&format!(
                ", {} warning{} to review",
                t.warned,
                plural(t.warned)
            ));
        }
        if !untested.is_empty() {
            let names: Vec<&str> = untested.iter().map(|u| u.element.as_str()).collect();
            word.push_str(&format!(
                ", {} sample{} not tested in full ({})",
                untested.len(),
                plural(untested.len()),
                names.join(", ")
            ));
        }
    }
    let target = match &report.run.target.server_version {
        Some(v) => format!("{} (server {v})", report.run.target.url),
        None => report.run.target.url.clone(),
    };
    let ran = t.total - t.not_run;
    let mut text = if !s.complete {
        match &s.unreachable {
            Some(u) => format!("The target {target} could not be reached ({u}); no verdict."),
            None => format!(
                "The run was interrupted after {ran} of {} planned cases; the verdict covers only those.",
                report.run.planned
            ),
        }
    } else if s.ok {
        format!(
            "The target {target} failed no case: {} of {} passed.",
            t.passed, t.total
        )
    } else {
        format!(
            "The target {target} failed {} of {} cases.",
            s.unexcused_failures(),
            t.total
        )
    };
    let mut extra = Vec::new();
    if t.warned > 0 {
        extra.push(format!(
            "{} warning(s): an inferred expectation was not met, which a conforming server may do; review them (they fail under --strict)",
            t.warned
        ));
    }
    let known = s.count_known(crate::record::KnownStatus::Known);
    if known > 0 {
        extra.push(format!(
            "{known} known failure(s) tolerated by the baseline"
        ));
    }
    let fixed = s.count_known(crate::record::KnownStatus::Fixed);
    if fixed > 0 {
        extra.push(format!(
            "{fixed} known failure(s) now pass: remove them from the baseline"
        ));
    }
    if t.skipped > 0 {
        extra.push(format!(
            "{} skipped (the target profile lacks a capability or variable)",
            t.skipped
        ));
    }
    if t.not_run > 0 {
        extra.push(format!("{} not run", t.not_run));
    }
    for u in &untested {
        extra.push(format!(
            "{} {}: {}",
            u.element,
            u.status.label(),
            u.reason.as_deref().unwrap_or_default()
        ));
    }
    if !extra.is_empty() {
        text.push_str(&format!(" {}.", extra.join("; ")));
    }
    (word, text)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub use super::coverage::{ElementStatus, SPEC_ELEMENTS};

/// One row of the traceability matrix.
pub struct Trace<'r> {
    pub element: String,
    pub kind: &'static str,
    pub what: String,
    pub cases: Vec<&'r CaseEntry>,
    pub status: ElementStatus,
}

/// Every documented spec element (and any other a case names) with the cases that cover it.
pub fn traceability(report: &Index) -> Vec<Trace<'_>> {
    let mut rows: Vec<Trace> = SPEC_ELEMENTS
        .iter()
        .map(|(id, kind, what)| Trace {
            element: id.to_string(),
            kind,
            what: what.to_string(),
            cases: Vec::new(),
            status: ElementStatus::NotCovered,
        })
        .collect();
    for case in &report.cases {
        for el in &case.spec {
            match rows.iter_mut().find(|r| r.element == *el) {
                Some(r) => r.cases.push(case),
                None => rows.push(Trace {
                    element: el.clone(),
                    kind: "other",
                    what: el.clone(),
                    cases: vec![case],
                    status: ElementStatus::NotCovered,
                }),
            }
        }
    }
    for r in &mut rows {
        r.status = super::coverage::judge(r.cases.iter().map(|c| (c.status, c.provenance)));
    }
    rows
}

pub use crate::record::describe::first_failure;

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

    /// Two cases out of id order (HTML puts the failure first), one a failure.
    const REPORT: &str = r#"{
"format": "gws-conform-report/1",
"run": {"run_id": "r1", "harness_version": "0.1.0", "started_at": "2026-11-24T07:00:00Z",
  "target": {"url": "http://t", "embedded": false}, "profile": {"name": "p"}, "inputs": [],
  "selection": {}, "planned": 2, "jobs": 1},
"cases": [
{"id": "b-pass", "title": "B s3cret", "spec": ["S1"], "provenance": "documented", "tags": [],
 "file": "b.toml", "sha256": "00", "verdict": "pass", "steps": [], "duration_ms": 1},
{"id": "a-fail", "title": "A <x>", "spec": ["S5", "param.workmode"], "provenance": "inferred",
 "tags": [], "file": "a.toml", "sha256": "11", "verdict": "fail", "reason": "said s3cret",
 "steps": [], "duration_ms": 2}
],
"summary": {"tally": {"total": 2, "passed": 1, "failed": 1, "skipped": 0}, "complete": true,
  "ok": false, "finished_at": "2026-11-24T07:00:01Z", "duration_ms": 3}
}
"#;

    #[test]
    fn a_report_read_whole_or_through_a_reader_gives_the_same_cases_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let read = |text: &str, slurp_below: u64| {
            let path = dir.path().join("report.json");
            std::fs::write(&path, text).unwrap();
            let mut ids = Vec::new();
            let head =
                super::super::json::stream_slurping_below::<()>(&path, slurp_below, &mut |c| {
                    ids.push(c.id.clone());
                    Ok(())
                });
            match head {
                Ok(h) => Ok((format!("{:?}", h.summary), ids)),
                Err(Streamed::Report(e)) => Err(e.to_string()),
                Err(Streamed::Case(())) => Err("case".to_string()),
            }
        };
        let whole = read(REPORT, u64::MAX);
        assert_eq!(whole, read(REPORT, 0));
        assert_eq!(whole.unwrap().1, ["b-pass", "a-fail"]);
        let cut = &REPORT[..REPORT.len() / 2];
        let error = read(cut, u64::MAX);
        assert!(error.is_err(), "{error:?}");
        assert_eq!(error, read(cut, 0));
    }

    #[test]
    fn streaming_a_file_writes_what_rendering_in_memory_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, REPORT).unwrap();
        let report = Report::read(&path).unwrap();
        let (summary, errors) = write_formats_from(&path, dir.path()).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(summary.unexcused_failures(), 1);
        for f in Format::ALL {
            let streamed = std::fs::read_to_string(dir.path().join(f.file_name())).unwrap();
            let whole = f.render(&report);
            assert_eq!(streamed, whole, "{f}");
            if f == Format::Html {
                let (a, b) = (
                    whole.find("id=\"case-a-fail\""),
                    whole.find("id=\"case-b-pass\""),
                );
                assert!(a.unwrap() < b.unwrap(), "failures first");
            }
        }
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

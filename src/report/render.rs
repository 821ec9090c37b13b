//! The driver of the rendered formats (HTML, JUnit XML, Markdown, TAP): reads a report, whole or
//! case by case, and feeds every format's [`Writer`] at once. A run renders its finished
//! `report.json` this way ([`write_formats_from`]), so `run` and `gws-conform report` produce the
//! same bytes from the same results.
//!
//! `report.json` is read twice: once for the [`Index`] (the summary parts of every format), once
//! for the details of every format at once, each case written as it is read, then dropped.
//! [`Format::render`] runs the same writers over a report held in memory.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::format::{Format, Sink, Spool, Writer};
use super::index::Index;
use super::json::{Report, ReportHead, Streamed, Summary};
use super::output::{AtomicFile, Scratch};
use super::ReportError;
use crate::record::CaseResult;

impl Format {
    /// The whole document for a report held in memory (the same writers as [`write_formats_from`]).
    pub fn render(self, report: &Report) -> String {
        let index = Index::of_report(report);
        let mut bytes = Vec::new();
        let mut job = Job::new(
            writer(self, || Ok(Box::new(io::Cursor::new(Vec::new())))),
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
}

/// The format's writer; `spool` gives the scratch space of a format that writes its cases in
/// another order than the report's (HTML: failures first).
fn writer(
    format: Format,
    spool: impl FnOnce() -> io::Result<Box<dyn Spool>>,
) -> io::Result<Box<dyn Writer>> {
    Ok(match format {
        Format::Html => Box::new(super::html::Html::new(spool()?)),
        Format::Junit => Box::new(super::junit::Junit),
        Format::Markdown => Box::new(super::markdown::Markdown::default()),
        Format::Tap => Box::new(super::tap::Tap),
    })
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

impl Source<'_> {
    /// The error of a report whose cases are not those its index was made from.
    fn changed(&self) -> ReportError {
        let path = match self {
            Source::File(p) => p,
            Source::Memory(_) => Path::new("report.json"),
        };
        ReportError::Read {
            path: path.to_path_buf(),
            source: io::Error::other("the report changed while it was being rendered"),
        }
    }
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
            if index.cases.get(n).is_none_or(|e| *e.id != *c.id) {
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
        match source {
            Source::Memory(r) => {
                for c in &r.cases {
                    each(c).map_err(|()| source.changed())?;
                }
            }
            Source::File(path) => {
                super::json::stream_cases(path, &mut each).map_err(|e| match e {
                    Streamed::Report(e) => e,
                    Streamed::Case(()) => source.changed(),
                })?;
            }
        }
        if n != index.cases.len() {
            return Err(source.changed());
        }
    }
    for j in jobs.iter_mut() {
        j.step(|w, s| w.end(index, s));
    }
    Ok(())
}

/// Where [`render_from`] writes one format.
pub enum Output<'a> {
    /// A file, written atomically (see [`AtomicFile`]).
    File(PathBuf),
    /// A stream, e.g. standard output.
    Stream(Box<dyn Write + 'a>),
}

/// An [`Output`] once opened.
enum Out<'a> {
    File(AtomicFile),
    Stream(io::BufWriter<Box<dyn Write + 'a>>),
}

impl<'a> Out<'a> {
    fn open(output: Output<'a>) -> Result<Out<'a>, ReportError> {
        match output {
            Output::Stream(w) => Ok(Out::Stream(io::BufWriter::with_capacity(1 << 16, w))),
            Output::File(dest) => AtomicFile::create(&dest)
                .map(Out::File)
                .map_err(|source| ReportError::Write { path: dest, source }),
        }
    }

    /// The name errors give.
    fn shown(&self) -> PathBuf {
        match self {
            Out::File(f) => f.path().to_path_buf(),
            Out::Stream(_) => PathBuf::from("-"),
        }
    }

    /// A writer's scratch space: beside the destination, or in the system's temporary folder for
    /// a stream.
    fn spool(&self) -> io::Result<Box<dyn Spool>> {
        Ok(Box::new(match self {
            Out::File(f) => Scratch::beside(f.path())?,
            Out::Stream(_) => Scratch::in_temp_dir()?,
        }))
    }

    /// Publishes the file (or flushes the stream) if the document was written whole; a file that
    /// was not is removed.
    fn close(self, wrote: io::Result<()>) -> io::Result<()> {
        match self {
            Out::Stream(mut w) => wrote.and_then(|()| w.flush()),
            Out::File(f) => wrote.and_then(|()| f.commit()),
        }
    }
}

impl Write for Out<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::File(f) => f.write(buf),
            Out::Stream(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Out::File(f) => f.write_all(buf),
            Out::Stream(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::File(f) => f.flush(),
            Out::Stream(w) => w.flush(),
        }
    }
}

/// Renders each of `outputs` from the report.json at `path`, reading it case by case (twice:
/// once for the index, once for every format's case details). Returns the report's head when it
/// could be read, and what became of each output, in order.
pub fn render_from<'a>(
    path: &Path,
    outputs: Vec<(Format, Output<'a>)>,
) -> Result<(ReportHead, Vec<Result<(), ReportError>>), ReportError> {
    let index = Index::read(path)?;
    let results = render(&index, &Source::File(path), outputs)?;
    Ok((index.head, results))
}

/// Every output from one reading of `source`. When the report cannot be read, no output is
/// published and no temporary file is left behind (an [`AtomicFile`] dropped uncommitted).
fn render<'a>(
    index: &Index,
    source: &Source,
    outputs: Vec<(Format, Output<'a>)>,
) -> Result<Vec<Result<(), ReportError>>, ReportError> {
    let mut outs: Vec<(Format, Result<Out<'a>, ReportError>)> = outputs
        .into_iter()
        .map(|(f, o)| (f, Out::open(o)))
        .collect();
    let mut jobs = Vec::new();
    for (format, out) in outs.iter_mut() {
        if let Ok(out) = out {
            let w = writer(*format, || out.spool());
            jobs.push(Job::new(w, out));
        }
    }
    let driven = drive(index, source, &mut jobs);
    let wrote: Vec<io::Result<()>> = jobs.into_iter().map(Job::finish).collect();
    driven?;
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
/// each atomically. Returns the report's summary when it could be read, and why any format could
/// not be written.
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
    let render_group = |formats: &[Format]| render(&index, &source, files_in(dir, formats));
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
    let outputs = files_in(dir, &Format::ALL);
    match render(&Index::of_report(report), &Source::Memory(report), outputs) {
        Ok(results) => results.into_iter().filter_map(Result::err).collect(),
        Err(e) => vec![e],
    }
}

/// Each format to its file in `dir`.
fn files_in<'a>(dir: &Path, formats: &[Format]) -> Vec<(Format, Output<'a>)> {
    formats
        .iter()
        .map(|&f| (f, Output::File(dir.join(f.file_name()))))
        .collect()
}
#[cfg(test)]
mod tests {
    use super::*;

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

    /// [`REPORT`] laid out as the harness writes it: a case per line.
    fn lined() -> String {
        let report: serde_json::Value = serde_json::from_str(REPORT).unwrap();
        let cases: Vec<String> = report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let head = &REPORT[..REPORT.find("\"cases\": [").unwrap()];
        let tail = &REPORT[REPORT.find("\n],\n\"summary\"").unwrap()..];
        format!("{head}\"cases\": [\n{}{tail}", cases.join(",\n"))
    }

    /// Reads `text` as a large report (a case per line where it can), stopping after `stop_after`.
    fn read_large(text: &str, stop_after: usize) -> (Result<String, String>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, text).unwrap();
        let mut ids = Vec::new();
        let head = super::super::json::stream_slurping_below::<usize>(&path, 0, &mut |c| {
            if ids.len() == stop_after {
                return Err(ids.len());
            }
            ids.push(c.id.clone());
            Ok(())
        });
        let head = match head {
            Ok(h) => Ok(format!("{:?}", h.summary)),
            Err(Streamed::Report(e)) => Err(e.to_string()),
            Err(Streamed::Case(n)) => Err(format!("stopped after {n}")),
        };
        (head, ids)
    }

    #[test]
    fn a_report_read_a_case_per_line_gives_what_the_general_reading_gives() {
        let lined = lined();
        let case_lines = lined.lines().filter(|l| l.starts_with("{\"id\"")).count();
        assert_eq!(case_lines, 2, "{lined}");
        let general = read_large(REPORT, usize::MAX);
        assert!(general.0.is_ok(), "{general:?}");
        assert_eq!(read_large(&lined, usize::MAX), general);
        // One case on a line, the next over two: the rest is read the general way, each case once.
        let at = lined.find("{\"id\":\"a-fail\"").unwrap();
        let mixed = format!("{}\n {}", &lined[..at], &lined[at..]);
        assert_eq!(read_large(&mixed, usize::MAX), general);
        let wrapped = lined.replacen(",\"tags\"", ",\n\"tags\"", 2);
        assert_eq!(read_large(&wrapped, usize::MAX), general);
        // A stop from the caller is a stop, on either path.
        let stopped = (
            Err("stopped after 1".to_string()),
            vec!["b-pass".to_string()],
        );
        assert_eq!(read_large(&lined, 1), stopped);
        assert_eq!(read_large(REPORT, 1), stopped);
        // Cut inside the cases, or a case line that is not a case: the same error either way.
        let cut = &lined[..at + 10];
        let error = read_large(cut, usize::MAX);
        assert!(error.0.is_err(), "{error:?}");
        let bad = lined.replacen("\"verdict\":\"fail\"", "\"verdict\":\"maybe\"", 1);
        let (bad_head, bad_ids) = read_large(&bad, usize::MAX);
        assert!(bad_head.unwrap_err().contains("maybe"), "{bad_ids:?}");
        assert_eq!(bad_ids, ["b-pass"]);
    }

    /// Where the case-per-line reading would accept what the whole report's reading refuses (a case
    /// nested within two levels of serde_json's limit) or would hold a long line whole (a minified
    /// report), it leaves the report to the general reading: the same result either way.
    #[test]
    fn deep_cases_and_minified_reports_read_as_the_general_reading_reads_them() {
        let general = |text: &str| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("report.json");
            std::fs::write(&path, text).unwrap();
            let mut ids = Vec::new();
            let head = super::super::json::stream_slurping_below::<()>(&path, u64::MAX, &mut |c| {
                ids.push(c.id.clone());
                Ok(())
            });
            (
                head.map(|h| format!("{:?}", h.summary)).map_err(|_| ()),
                ids,
            )
        };
        let lined = lined();
        // A notification's message `levels` arrays deep, in the second case's one step: the case
        // is then 4 + `levels` deep.
        let deep = |levels: usize| {
            let nested = format!("{}{}", "[".repeat(levels), "]".repeat(levels));
            let step = format!(
                "[{{\"name\":\"s\",\"exchanges\":[],\"checks\":[],\"ran\":true,\"passed\":true,\
                 \"duration_ms\":1,\"notifications\":[{{\"channel\":\"/c\",\"at_ms\":1,\
                 \"message\":{nested}}}]}}]"
            );
            let at = lined.find("{\"id\":\"a-fail\"").unwrap();
            let (head, tail) = lined.split_at(at);
            let tail = tail.replacen("\"steps\":[]", &format!("\"steps\":{step}"), 1);
            format!("{head}{tail}")
        };
        let mut refused = 0;
        for levels in 116..=124 {
            let text = deep(levels);
            let (want, want_ids) = general(&text);
            let (got, got_ids) = read_large(&text, usize::MAX);
            assert_eq!(got.is_ok(), want.is_ok(), "{levels} levels: {got:?}");
            assert_eq!(got_ids, want_ids, "{levels} levels");
            refused += usize::from(want.is_err());
        }
        assert!(
            refused > 0 && refused < 9,
            "the limit lies within the levels tried"
        );
        let report: serde_json::Value = serde_json::from_str(REPORT).unwrap();
        let minified = report.to_string();
        assert_eq!(
            read_large(&minified, usize::MAX),
            read_large(REPORT, usize::MAX)
        );
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

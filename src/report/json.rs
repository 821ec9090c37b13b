//! The canonical JSON report, `report.json`: every other format can be rendered from it.
//!
//! Cases are written as they finish, so memory stays flat however large the suite; the file is
//! written as an [`AtomicFile`] (a temporary name, renamed at the end), so a reader never sees half
//! a report. A
//! run that is interrupted still ends here, with `"complete": false`.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::baseline::BaselineInfo;
use super::judge::Judgement;
use super::output::AtomicFile;
use super::status::CaseStatus;
pub use super::summary::Summary;
use super::{Event, Listener, ReportError, RunInfo};
use crate::record::CaseResult;

pub const FORMAT: &str = "gws-conform-report/1";

/// A whole report, as read back by `report`, `verify` and `merge`. `schemas/report.schema.json`
/// describes the same shape.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub format: String,
    pub run: RunInfo,
    /// The known-failures baseline the run was judged with (`run --baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineInfo>,
    /// The shard reports this one was merged from (`merge`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<MergedPart>,
    pub cases: Vec<CaseResult>,
    pub summary: Summary,
}

/// One shard report of a merged report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MergedPart {
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    pub cases: usize,
    pub complete: bool,
    /// The shard's profile: its file, or its name when it had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// SHA-256 of the shard's profile file (of its redacted summary when it had no file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_sha256: Option<String>,
}

impl Report {
    pub fn read(path: &Path) -> Result<Report, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Report::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Report, ReportError> {
        let parse_err = |e: serde_json::Error| ReportError::Parse {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        // One typed parse for a report of this format (a whole run's report can be large) ...
        let typed = serde_json::from_str::<Report>(text);
        if let Ok(r) = &typed {
            if r.format == FORMAT && text.trim_start().starts_with('{') {
                return typed.map_err(parse_err);
            }
        }
        // ... and otherwise the format first, so that a report of another version says so rather
        // than "missing field".
        let value: serde_json::Value = serde_json::from_str(text).map_err(parse_err)?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => typed.map_err(parse_err),
            other => Err(ReportError::Format {
                path: path.to_path_buf(),
                found: other.unwrap_or("(none)").to_string(),
            }),
        }
    }

    /// The report as JSON text, as `run` writes it.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// How a case is shown: its verdict, refined by the baseline.
    pub fn status(&self, case: &CaseResult) -> CaseStatus {
        CaseStatus::of(case.verdict, self.summary.known_for(&case.id))
    }

    /// The cases shown with one status, in report order.
    pub fn cases_with(&self, status: CaseStatus) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(move |c| self.status(c) == status)
    }
}

/// Everything a report holds but its cases: what the summary parts of the rendered formats need,
/// with the per-case index of [`super::index::Index`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReportHead {
    pub format: String,
    pub run: RunInfo,
    pub baseline: Option<BaselineInfo>,
    pub merged_from: Vec<MergedPart>,
    pub summary: Summary,
}

impl Report {
    /// A copy of everything but the cases.
    pub fn head(&self) -> ReportHead {
        ReportHead {
            format: self.format.clone(),
            run: self.run.clone(),
            baseline: self.baseline.clone(),
            merged_from: self.merged_from.clone(),
            summary: self.summary.clone(),
        }
    }
}

/// Why [`stream`] stopped: the report could not be read, or `on_case` said stop.
#[derive(Debug)]
pub enum Streamed<E> {
    Report(ReportError),
    Case(E),
}

/// Reports smaller than this are read whole before they are parsed (see [`stream`]). Above it a
/// report written by the harness is read a case per line, as fast as from memory without holding
/// its bytes: rendering reads the report three times at once (the index, then two groups of
/// formats), and whole, a 10,000-case report's three copies were a run's memory peak.
pub(crate) const SLURP_BELOW: u64 = 256 << 10;

/// Reads a report.json without holding all its cases as values (a report under 256 KiB is read
/// into memory as bytes first; larger ones a case per line, or streamed): each case is parsed,
/// handed to `on_case` in report order, and dropped; returns everything else. A report that cannot be read this way is
/// read whole by [`Report::read`], so that the error is the one `Report::read` gives.
pub fn stream<E>(
    path: &Path,
    on_case: &mut dyn FnMut(&CaseResult) -> Result<(), E>,
) -> Result<ReportHead, Streamed<E>> {
    stream_slurping_below(path, SLURP_BELOW, on_case)
}

/// [`stream`], each case read as `C`: a reader that needs only some of a case's members (the
/// [`super::index::Index`]) gives a type with only those, and the rest is skipped, not built. A
/// report `C` reads is not thereby a valid report: the reading that renders it reads each case whole.
pub(crate) fn stream_as<C: DeserializeOwned, E>(
    path: &Path,
    slurp_below: u64,
    on_case: &mut dyn FnMut(&C) -> Result<(), E>,
) -> Result<ReportHead, Streamed<E>> {
    stream_head(path, slurp_below, on_case)
}

/// [`stream`] for a reader that has the head already (the formats, rendered from an index): the
/// run's description, with a large suite's list of inputs, is checked to be there but not kept.
pub fn stream_cases<E>(
    path: &Path,
    on_case: &mut dyn FnMut(&CaseResult) -> Result<(), E>,
) -> Result<(), Streamed<E>> {
    read_report(path, SLURP_BELOW, Run::Skip, on_case).map(|_| ())
}

/// Whether a reading keeps the run's description (see [`stream_cases`]).
#[derive(Clone, Copy, PartialEq)]
enum Run {
    Keep,
    Skip,
}

/// [`stream`], reading the file whole first when it is smaller than `slurp_below` bytes; a larger one
/// is read a case per line (see [`super::case_lines`]) when it is laid out as the harness writes it,
/// and streamed otherwise.
pub(crate) fn stream_slurping_below<E>(
    path: &Path,
    slurp_below: u64,
    on_case: &mut dyn FnMut(&CaseResult) -> Result<(), E>,
) -> Result<ReportHead, Streamed<E>> {
    stream_head(path, slurp_below, on_case)
}

/// [`stream_slurping_below`], each case read as `C`.
fn stream_head<C: DeserializeOwned, E>(
    path: &Path,
    slurp_below: u64,
    on_case: &mut dyn FnMut(&C) -> Result<(), E>,
) -> Result<ReportHead, Streamed<E>> {
    let Head {
        format,
        run,
        baseline,
        merged_from,
        summary,
    } = read_report(path, slurp_below, Run::Keep, on_case)?;
    // A reading that keeps the run fails without one; this only keeps the types honest.
    let run = run.ok_or_else(|| {
        Streamed::Report(ReportError::Parse {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: "missing field `run`".to_string(),
        })
    })?;
    Ok(ReportHead {
        format,
        run,
        baseline,
        merged_from,
        summary,
    })
}

/// [`stream_slurping_below`], keeping the run's description or not.
fn read_report<C: DeserializeOwned, E>(
    path: &Path,
    slurp_below: u64,
    keep: Run,
    on_case: &mut dyn FnMut(&C) -> Result<(), E>,
) -> Result<Head, Streamed<E>> {
    let open = || {
        File::open(path).map_err(|source| {
            Streamed::Report(ReportError::Read {
                path: path.to_path_buf(),
                source,
            })
        })
    };
    let mut file = open()?;
    let size = file.metadata().map_or(u64::MAX, |m| m.len());
    let slurp = size < slurp_below;
    let mut skip = 0;
    if !slurp {
        match by_lines(file, keep, on_case) {
            Ok(head) => return Ok(head),
            Err(Unlined::Stopped(e)) => return Err(Streamed::Case(e)),
            Err(Unlined::Layout { delivered }) => skip = delivered,
        }
        file = open()?;
    }
    stream_from(path, file, slurp, (keep, skip), on_case)
}

/// Why a report was not read to its end a case per line.
enum Unlined<E> {
    Stopped(E),
    /// Not laid out a case per line: the first `delivered` cases were handed out.
    Layout {
        delivered: usize,
    },
}

fn by_lines<C: DeserializeOwned, E>(
    file: File,
    keep: Run,
    on_case: &mut dyn FnMut(&C) -> Result<(), E>,
) -> Result<Head, Unlined<E>> {
    use super::case_lines::{CaseLines, Stop};
    use serde::de::DeserializeSeed;
    let mut lines = CaseLines::new(std::io::BufReader::with_capacity(1 << 16, file), on_case);
    // The parse sees no case unless the report was not laid out as expected: then it stops.
    let mut stray = |_: &C| Err(());
    let mut strayed = None;
    let head = {
        // serde_json reads a reader a byte at a time: through a BufReader that is a copy from its
        // buffer, where each byte was otherwise a call into CaseLines (the run's description, with
        // an input per case file, is most of what the parse reads). CaseLines hands out at most the
        // rest of one line per read, so it runs at most a line ahead of the parse.
        let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(
            1 << 13,
            &mut lines,
        ));
        let top = Top {
            on_case: &mut stray,
            failed: &mut strayed,
            skip: 0,
            keep,
        };
        top.deserialize(&mut de).and_then(|h| de.end().map(|()| h))
    };
    match (lines.stopped.take(), head) {
        (Some(Stop::Case(e)), _) => Err(Unlined::Stopped(e)),
        (None, Ok(h)) if strayed.is_none() && h.format == FORMAT => Ok(h),
        _ => Err(Unlined::Layout {
            delivered: lines.delivered,
        }),
    }
}

/// The general reading of a report: from memory (`slurp`) or streamed, handing out the cases after
/// the first `skip`.
fn stream_from<C: DeserializeOwned, E>(
    path: &Path,
    file: File,
    slurp: bool,
    (keep, skip): (Run, usize),
    on_case: &mut dyn FnMut(&C) -> Result<(), E>,
) -> Result<Head, Streamed<E>> {
    use serde::de::DeserializeSeed;
    let mut failed = None;
    let top = Top {
        on_case,
        failed: &mut failed,
        skip,
        keep,
    };
    // A report under SLURP_BELOW bytes is parsed from memory, about twice as fast as through a
    // reader; a larger one streams. The bound is per reader: rendering runs two at once.
    let head = if slurp {
        let size = file.metadata().map_or(0, |m| m.len());
        let mut bytes = Vec::with_capacity(size as usize);
        std::io::Read::read_to_end(&mut &file, &mut bytes).map_err(|source| {
            Streamed::Report(ReportError::Read {
                path: path.to_path_buf(),
                source,
            })
        })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        top.deserialize(&mut de).and_then(|h| de.end().map(|()| h))
    } else {
        let mut de =
            serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, file));
        top.deserialize(&mut de).and_then(|h| de.end().map(|()| h))
    };
    if let Some(e) = failed {
        return Err(Streamed::Case(e));
    }
    match head {
        Ok(h) if h.format == FORMAT => Ok(h),
        other => Err(Streamed::Report(match Report::read(path) {
            Err(e) => e,
            // Not expected: both read the same shape.
            Ok(_) => match other {
                Err(e) => ReportError::Parse {
                    path: path.to_path_buf(),
                    line: e.line(),
                    column: e.column(),
                    message: e.to_string(),
                },
                Ok(h) => ReportError::Format {
                    path: path.to_path_buf(),
                    found: h.format,
                },
            },
        })),
    }
}

/// The top-level object of a report, its cases handed out one by one.
struct Top<'f, C, E> {
    on_case: &'f mut dyn FnMut(&C) -> Result<(), E>,
    failed: &'f mut Option<E>,
    /// Cases already handed out: read, not handed out again.
    skip: usize,
    keep: Run,
}

/// A [`ReportHead`] as read: without the run's description when the reading skips it.
struct Head {
    format: String,
    run: Option<RunInfo>,
    baseline: Option<BaselineInfo>,
    merged_from: Vec<MergedPart>,
    summary: Summary,
}

impl<'de, C: DeserializeOwned, E> serde::de::DeserializeSeed<'de> for Top<'_, C, E> {
    type Value = Head;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Head, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, C: DeserializeOwned, E> serde::de::Visitor<'de> for Top<'_, C, E> {
    type Value = Head;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a gws-conform report")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
        use serde::de::Error;
        let Top {
            on_case,
            failed,
            skip,
            keep,
        } = self;
        let mut format: Option<String> = None;
        let mut run: Option<Option<RunInfo>> = None;
        let mut baseline: Option<Option<BaselineInfo>> = None;
        let mut merged_from: Option<Vec<MergedPart>> = None;
        let mut cases = false;
        let mut summary: Option<Summary> = None;
        fn once<T, Er: Error>(slot: &Option<T>, name: &'static str) -> Result<(), Er> {
            match slot {
                Some(_) => Err(Er::duplicate_field(name)),
                None => Ok(()),
            }
        }
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => {
                    once::<_, A::Error>(&format, "format")?;
                    format = Some(map.next_value()?);
                }
                "run" => {
                    once::<_, A::Error>(&run, "run")?;
                    run = Some(match keep {
                        Run::Keep => Some(map.next_value()?),
                        Run::Skip => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            None
                        }
                    });
                }
                "baseline" => {
                    once::<_, A::Error>(&baseline, "baseline")?;
                    baseline = Some(map.next_value()?);
                }
                "merged_from" => {
                    once::<_, A::Error>(&merged_from, "merged_from")?;
                    merged_from = Some(map.next_value()?);
                }
                "cases" => {
                    if cases {
                        return Err(A::Error::duplicate_field("cases"));
                    }
                    cases = true;
                    map.next_value_seed(Cases {
                        on_case: &mut *on_case,
                        failed: &mut *failed,
                        skip,
                    })?;
                }
                "summary" => {
                    once::<_, A::Error>(&summary, "summary")?;
                    summary = Some(map.next_value()?);
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        if !cases {
            return Err(A::Error::missing_field("cases"));
        }
        Ok(Head {
            format: format.ok_or_else(|| A::Error::missing_field("format"))?,
            run: run.ok_or_else(|| A::Error::missing_field("run"))?,
            baseline: baseline.flatten(),
            merged_from: merged_from.unwrap_or_default(),
            summary: summary.ok_or_else(|| A::Error::missing_field("summary"))?,
        })
    }
}

/// The `cases` array: each case to `on_case`, then dropped.
struct Cases<'f, C, E> {
    on_case: &'f mut dyn FnMut(&C) -> Result<(), E>,
    failed: &'f mut Option<E>,
    skip: usize,
}

impl<'de, C: DeserializeOwned, E> serde::de::DeserializeSeed<'de> for Cases<'_, C, E> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, C: DeserializeOwned, E> serde::de::Visitor<'de> for Cases<'_, C, E> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sequence of case results")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut seen = 0;
        while let Some(case) = seq.next_element::<C>()? {
            seen += 1;
            if seen <= self.skip {
                continue;
            }
            if let Err(e) = (self.on_case)(&case) {
                *self.failed = Some(e);
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// Streams the report to disk.
pub struct JsonReport {
    /// `None` once committed, or after a write error (which removed the temporary file).
    out: Option<AtomicFile>,
    first_case: bool,
    started: std::time::Instant,
    error: Option<String>,
    baseline: Option<BaselineInfo>,
    judgement: Judgement,
    /// The index of the next case to write, and the cases that finished before it.
    next: usize,
    pending: std::collections::BTreeMap<usize, CaseResult>,
}

impl JsonReport {
    /// Writes events as they are: outside data was redacted where it entered (see `crate::secret`).
    pub fn create(path: &Path) -> std::io::Result<JsonReport> {
        Ok(JsonReport {
            out: Some(AtomicFile::create(path)?),
            first_case: true,
            started: std::time::Instant::now(),
            error: None,
            baseline: None,
            judgement: Judgement::default(),
            next: 0,
            pending: std::collections::BTreeMap::new(),
        })
    }

    /// Judges the run's failures against a known-failures baseline, and records it.
    pub fn with_baseline(mut self, baseline: Option<BaselineInfo>) -> Self {
        self.judgement = Judgement::new(baseline.clone());
        self.baseline = baseline;
        self
    }

    /// Why the report could not be written, if it could not.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn write(&mut self, text: &str) {
        if let Some(out) = &mut self.out {
            if let Err(e) = out.write_all(text.as_bytes()) {
                self.error = Some(format!("{}: {e}", out.partial_path().display()));
                self.out = None;
            }
        }
    }

    /// Serialises into the file as `write` writes: the first error stops the report.
    fn write_json(&mut self, f: impl FnOnce(&mut AtomicFile) -> Result<(), serde_json::Error>) {
        if let Some(out) = &mut self.out {
            if let Err(e) = f(out) {
                self.error = Some(format!("{}: {e}", out.partial_path().display()));
                self.out = None;
            }
        }
    }

    fn write_case(&mut self, result: &CaseResult) {
        self.judgement.add(result);
        let sep = if self.first_case { "\n" } else { ",\n" };
        self.first_case = false;
        self.write(sep);
        // Straight into the file, with no `Value` (and no string) in between.
        self.write_json(|w| serde_json::to_writer(w, result));
    }

    fn finish(&mut self) {
        let Some(out) = self.out.take() else {
            return;
        };
        let path = out.path().to_path_buf();
        if let Err(e) = out.commit() {
            self.error = Some(format!("{}: {e}", path.display()));
        }
    }
}

impl Listener for JsonReport {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::RunStarted { info } => {
                self.started = std::time::Instant::now();
                // Serialised straight into the file: as one string (and a copy of it), the run's
                // description held a large suite's inputs list twice, the run's memory peak.
                self.write(&format!("{{\n\"format\": {FORMAT:?},\n\"run\": "));
                self.write_json(|w| serde_json::to_writer_pretty(w, info));
                self.write(",");
                if let Some(b) = self.baseline.take() {
                    self.write("\n\"baseline\": ");
                    self.write_json(|w| serde_json::to_writer_pretty(w, &b));
                    self.write(",");
                    self.baseline = Some(b);
                }
                self.write("\n\"cases\": [");
            }
            Event::CaseFinished { index, result, .. } => {
                // Cases finish in any order; the report lists them in case order. One that comes
                // early waits (as a copy) until those before it are written.
                if *index == self.next {
                    self.write_case(result);
                    self.next += 1;
                    while let Some(r) = self.pending.remove(&self.next) {
                        self.write_case(&r);
                        self.next += 1;
                    }
                } else {
                    self.pending.insert(*index, (*result).clone());
                }
            }
            Event::RunFinished {
                interrupted,
                unreachable,
                ..
            } => {
                // Every case has been reported by now; any left waiting are written in order.
                for (_, r) in std::mem::take(&mut self.pending) {
                    self.write_case(&r);
                }
                // The judgement is taken (and freed) now, before the formats are rendered.
                // The report's own count of the cases it wrote, judged against the baseline: the
                // one tally every output shows.
                let summary = std::mem::take(&mut self.judgement).summary(
                    None,
                    *interrupted,
                    unreachable.map(str::to_string),
                    super::utc_timestamp(std::time::SystemTime::now()),
                    self.started.elapsed().as_millis() as u64,
                );
                let s = serde_json::to_string_pretty(&summary).unwrap_or_default();
                self.write(&format!("\n],\n\"summary\": {s}\n}}\n"));
                self.finish();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report of `results` delivered in `order` (indexes into `results`), read back, with the
    /// summary's clock fields cleared.
    fn written_in(order: &[usize], results: &[CaseResult], dir: &Path) -> Report {
        let path = dir.join(format!("report-{order:?}.json"));
        let baseline: BaselineInfo = serde_json::from_value(serde_json::json!({
            "file": "b.toml", "sha256": "00", "today": "2026-12-07",
            "entries": [{"case": "b-known", "reason": "tracked", "expires": "2099-01-01"}]}))
        .unwrap();
        write_report(&path, Some(baseline), order, results);
        let mut read = Report::read(&path).unwrap();
        read.summary.finished_at.clear();
        read.summary.duration_ms = 0;
        read
    }

    /// Writes `results` to `path` as a run would, each case finishing in `order` (indexes into
    /// `results`), judged against `baseline` when there is one; the report must be written.
    fn write_report(
        path: &Path,
        baseline: Option<BaselineInfo>,
        order: &[usize],
        results: &[CaseResult],
    ) {
        let info: RunInfo = serde_json::from_value(serde_json::json!({
            "run_id": "r1", "harness_version": "0", "started_at": "t",
            "target": {"url": "http://t", "embedded": false}, "profile": {"name": "p"},
            "inputs": [], "selection": {}, "planned": results.len(), "jobs": 2}))
        .unwrap();
        let mut report = JsonReport::create(path).unwrap();
        if baseline.is_some() {
            report = report.with_baseline(baseline);
        }
        report.on_event(&Event::RunStarted { info: &info });
        for &index in order {
            report.on_event(&Event::CaseFinished {
                index,
                total: results.len(),
                result: &results[index],
            });
        }
        let tally = crate::record::Tally::default();
        report.on_event(&Event::RunFinished {
            tally: &tally,
            interrupted: false,
            unreachable: None,
        });
        assert_eq!(report.error(), None);
    }

    /// Cases that finish before an earlier one wait until it is written: the report, its summary
    /// included (the baseline's outcomes, the samples' coverage, the lab needs), is the same
    /// whatever order they finished in.
    #[test]
    fn the_report_is_the_same_whatever_order_the_cases_finished_in() {
        let step = serde_json::json!({"name": "start", "checks": [{"name": "status",
            "passed": false, "expected": "2xx", "actual": "500"}], "exchanges": [], "ran": true,
            "passed": false, "duration_ms": 1});
        let case = |id: &str, verdict: &str, spec: &str| -> serde_json::Value {
            serde_json::json!({"id": id, "title": id, "spec": [spec], "provenance": "documented",
                "tags": [], "file": format!("{id}.toml"), "sha256": "00", "verdict": verdict,
                "steps": [], "duration_ms": 1})
        };
        let mut failed = case("a-fail", "fail", "S1");
        failed["steps"] = serde_json::json!([step.clone()]);
        let mut known = case("b-known", "fail", "S2");
        known["steps"] = serde_json::json!([step]);
        let mut waits = case("c-waits", "skip", "S3");
        waits["reason"] = "waits for lab content".into();
        waits["waits_for"] = serde_json::json!([{"variable": "place", "meaning": "a place"}]);
        let results: Vec<CaseResult> = [failed, known, waits, case("d-pass", "pass", "S1")]
            .into_iter()
            .map(|v| serde_json::from_value(v).unwrap())
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let in_order = written_in(&[0, 1, 2, 3], &results, dir.path());
        assert_eq!(in_order.cases, results);
        assert!(!in_order.summary.known.is_empty(), "{:?}", in_order.summary);
        for order in [[3, 2, 1, 0], [1, 0, 3, 2], [2, 3, 0, 1]] {
            assert_eq!(
                written_in(&order, &results, dir.path()),
                in_order,
                "{order:?}"
            );
        }
    }

    /// The fast reading rests on the writer's layout: a report the harness wrote is read a case
    /// per line, to the end, with no fallback.
    #[test]
    fn a_report_this_writer_wrote_is_read_a_case_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        let case = |id: &str| -> CaseResult {
            serde_json::from_value(serde_json::json!({
                "id": id, "title": "T \"q\" [x] {y}\n", "spec": ["S1"], "provenance": "documented",
                "tags": [], "file": "a.toml", "sha256": "00", "verdict": "pass", "steps": [],
                "duration_ms": 1}))
            .unwrap()
        };
        let results: Vec<CaseResult> = ["c", "a", "b"].into_iter().map(case).collect();
        write_report(&path, None, &[0, 1, 2], &results);
        let mut ids = Vec::new();
        let lined = by_lines::<CaseResult, ()>(File::open(&path).unwrap(), Run::Keep, &mut |c| {
            ids.push(c.id.clone());
            Ok(())
        });
        assert!(lined.is_ok(), "fell back to the general reading");
        assert_eq!(ids, ["c", "a", "b"]);
        // Read for its cases only, the same cases; the run is still required.
        let mut again = Vec::new();
        let cases_only = stream_cases::<()>(&path, &mut |c| {
            again.push(c.id.clone());
            Ok(())
        });
        assert!(cases_only.is_ok() && again == ids, "{again:?}");
        let text = std::fs::read_to_string(&path).unwrap();
        let without_run = text.replacen("\"run\":", "\"ran\":", 1);
        std::fs::write(&path, without_run).unwrap();
        let missing = stream_cases::<()>(&path, &mut |_| Ok(()));
        assert!(matches!(missing, Err(Streamed::Report(_))), "{missing:?}");
    }
}

//! Stage 5, **report**: listeners on the run's event stream. The console is one listener, each
//! report format another; the runner knows none of them.

pub mod attest;
pub mod baseline;
mod case_lines;
pub mod cited;
pub mod compare;
pub mod console;
pub mod coverage;
pub mod events;
pub mod format;
pub mod headline;
pub mod html;
pub mod index;
pub mod json;
pub mod judge;
pub mod junit;
pub mod markdown;
pub mod markup;
pub mod merge;
pub mod output;
pub mod progress;
pub mod rederive;
pub mod render;
pub mod status;
pub mod summary;
pub mod tally;
pub mod tap;
pub mod verify;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::load::InputFile;
use crate::record::{CaseResult, StepResult, Tally};

pub use format::Format;
pub use json::Report;
pub use render::{write_formats, write_formats_from};
pub use summary::Summary;

/// What a run is about, known before the first case runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunInfo {
    pub run_id: String,
    pub harness_version: String,
    pub started_at: String,
    pub target: TargetInfo,
    /// The profile with secrets replaced.
    pub profile: serde_json::Value,
    /// Every case file, schema and other input the verdicts rest on, with its SHA-256.
    pub inputs: Vec<InputFile>,
    /// Where the case files and schemas were read from: the suite built into the harness (which
    /// `verify` then checks against by default) or a folder. Absent in reports of older harnesses
    /// and of runs that write no report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<crate::load::SuiteOrigin>,
    pub selection: SelectionInfo,
    pub planned: usize,
    pub jobs: usize,
    /// What the probes sent before any case found (`run` only; see `crate::execute::preflight`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<crate::record::preflight::Preflight>,
}

impl RunInfo {
    /// The header of a run that writes no report (mutants, tests): no inputs listed, no selection,
    /// no server version.
    pub fn unreported(
        run_id: &str,
        url: &str,
        embedded: bool,
        profile: &crate::load::Profile,
        planned: usize,
        jobs: usize,
    ) -> RunInfo {
        RunInfo {
            run_id: run_id.to_string(),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: utc_timestamp(std::time::SystemTime::now()),
            target: TargetInfo {
                url: url.to_string(),
                embedded,
                server_version: None,
            },
            profile: profile.redacted_summary(),
            inputs: Vec::new(),
            suite: None,
            selection: SelectionInfo::default(),
            planned,
            jobs,
            preflight: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetInfo {
    pub url: String,
    /// The embedded reference server, started by the harness itself.
    pub embedded: bool,
    /// What `GET /api/v2/diagnostics/version` said, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SelectionInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
}

/// What happens during a run, each event as it happens: cases start and finish in whatever order
/// the run reaches them (serial groups, `--jobs`), so a listener that writes in case order
/// (report.json) puts the cases in order itself. Every kind has a listener: the console and the
/// live progress, report.json, and the JSON lines of `run --message-format json`.
#[derive(Debug)]
pub enum Event<'a> {
    RunStarted {
        info: &'a RunInfo,
    },
    /// The case's first request is about to go out (a skipped case starts and finishes at once).
    CaseStarted {
        index: usize,
        total: usize,
        id: &'a str,
    },
    /// One step of a case is done (its checks made).
    StepFinished {
        index: usize,
        case_id: &'a str,
        step: &'a StepDone,
    },
    CaseFinished {
        index: usize,
        total: usize,
        result: &'a CaseResult,
    },
    /// (The run's description came with `RunStarted` and is not repeated.)
    RunFinished {
        tally: &'a Tally,
        interrupted: bool,
        unreachable: Option<&'a str>,
    },
}

/// What a finished step tells a live listener: its name and outcome, not its exchanges (those come
/// with the case's result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepDone {
    pub name: String,
    pub ran: bool,
    pub passed: bool,
    pub duration_ms: u64,
    pub checks: usize,
    pub failed_checks: usize,
}

impl StepDone {
    pub fn of(step: &StepResult) -> StepDone {
        StepDone {
            name: step.name.clone(),
            ran: step.ran,
            passed: step.passed,
            duration_ms: step.duration_ms,
            checks: step.checks.len(),
            failed_checks: step.checks.iter().filter(|c| !c.passed).count(),
        }
    }
}

/// Anything that wants to hear about a run.
pub trait Listener: Send {
    fn on_event(&mut self, event: &Event);
}

/// A listener lent to a run, so that the caller can ask it how things went once the run is over.
impl<L: Listener + ?Sized> Listener for &mut L {
    fn on_event(&mut self, event: &Event) {
        (**self).on_event(event)
    }
}

/// Why a report could not be read or written. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: not a gws-conform report: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: report format `{found}` is not `{}`, the one this harness reads", path.display(), json::FORMAT)]
    Format { path: PathBuf, found: String },
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes a whole file so that a reader never sees half of it (see [`output::AtomicFile`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    use std::io::Write;
    output::AtomicFile::create(path)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.commit()
        })
        .map_err(|source| ReportError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// `2026-11-24T07:01:02Z` from the system clock, without a date crate.
pub fn utc_timestamp(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_501_200);
        assert_eq!(utc_timestamp(t), "2026-11-24T06:20:00Z");
        let leap = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_709_251_199);
        assert_eq!(utc_timestamp(leap), "2024-02-29T23:59:59Z");
        assert_eq!(utc_timestamp(std::time::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }
}

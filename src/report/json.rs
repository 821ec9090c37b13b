//! The canonical JSON report, `report.json`: every other format can be rendered from it.
//!
//! Cases are written as they finish, so memory stays flat however large the suite; the file is
//! written under a temporary name and renamed at the end, so a reader never sees half a report. A
//! run that is interrupted still ends here, with `"complete": false`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Event, Listener, RunInfo};
use crate::secret::Redactor;
use crate::verdict::{CaseResult, Tally};

pub const FORMAT: &str = "gws-conform-report/1";

/// A whole report, as read back by `report`, `verify` and `merge`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub format: String,
    pub run: RunInfo,
    pub cases: Vec<CaseResult>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub tally: Tally,
    /// False when the run was interrupted or the target could not be reached.
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<String>,
    pub finished_at: String,
    pub duration_ms: u64,
}

impl Report {
    pub fn read(path: &Path) -> Result<Report, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}:{}:{}: not a gws-conform report: {e}",
                path.display(),
                e.line(),
                e.column()
            )
        })
    }
}

/// Streams the report to disk.
pub struct JsonReport {
    path: PathBuf,
    partial: PathBuf,
    out: Option<BufWriter<File>>,
    redactor: Redactor,
    first_case: bool,
    started: std::time::Instant,
    error: Option<String>,
}

impl JsonReport {
    pub fn create(path: &Path, redactor: Redactor) -> std::io::Result<JsonReport> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let partial = path.with_extension("json.partial");
        let out = BufWriter::new(File::create(&partial)?);
        Ok(JsonReport {
            path: path.to_path_buf(),
            partial,
            out: Some(out),
            redactor,
            first_case: true,
            started: std::time::Instant::now(),
            error: None,
        })
    }

    /// Why the report could not be written, if it could not.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn write(&mut self, text: &str) {
        let text = self.redactor.redact(text);
        if let Some(out) = &mut self.out {
            if let Err(e) = out.write_all(text.as_bytes()) {
                self.error = Some(format!("{}: {e}", self.partial.display()));
                self.out = None;
            }
        }
    }

    fn finish(&mut self) {
        let Some(mut out) = self.out.take() else {
            return;
        };
        let done = out
            .flush()
            .and_then(|_| out.get_ref().sync_all())
            .and_then(|_| std::fs::rename(&self.partial, &self.path));
        if let Err(e) = done {
            self.error = Some(format!("{}: {e}", self.path.display()));
        }
    }
}

impl Listener for JsonReport {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::RunStarted { info } => {
                self.started = std::time::Instant::now();
                let run = serde_json::to_string_pretty(info).unwrap_or_default();
                self.write(&format!(
                    "{{\n\"format\": {FORMAT:?},\n\"run\": {run},\n\"cases\": ["
                ));
            }
            Event::CaseFinished { result, .. } => {
                let mut v = serde_json::to_value(result).unwrap_or_default();
                self.redactor.redact_json(&mut v);
                let sep = if self.first_case { "\n" } else { ",\n" };
                self.first_case = false;
                self.write(&format!(
                    "{sep}{}",
                    serde_json::to_string(&v).unwrap_or_default()
                ));
            }
            Event::RunFinished {
                tally,
                interrupted,
                unreachable,
                ..
            } => {
                let summary = Summary {
                    tally: (*tally).clone(),
                    complete: !interrupted && unreachable.is_none(),
                    unreachable: unreachable.map(str::to_string),
                    finished_at: super::utc_timestamp(std::time::SystemTime::now()),
                    duration_ms: self.started.elapsed().as_millis() as u64,
                };
                let s = serde_json::to_string_pretty(&summary).unwrap_or_default();
                self.write(&format!("\n],\n\"summary\": {s}\n}}\n"));
                self.finish();
            }
            _ => {}
        }
    }
}

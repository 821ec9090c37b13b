//! `run --message-format json`: the run's events as JSON lines on standard output, each written
//! (and flushed) when it happens, in the shape of nextest's and cargo's machine-readable output:
//! `{"type": "run" | "case" | "step", "event": "started" | "finished", ...}`. The run's last line
//! carries the tally every report shows (counted by the same [`Counter`], with the same baseline).

use std::io::Write;

use serde_json::json;

use super::baseline::BaselineInfo;
use super::tally::Counter;
use super::{Event, Listener};

pub struct JsonLines<W: Write + Send> {
    out: W,
    baseline: Option<BaselineInfo>,
    counter: Counter,
    started: std::time::Instant,
}

impl<W: Write + Send> JsonLines<W> {
    /// Writes what it is told: outside data in events was redacted where it entered.
    pub fn new(out: W, baseline: Option<BaselineInfo>) -> Self {
        JsonLines {
            out,
            baseline,
            counter: Counter::default(),
            started: std::time::Instant::now(),
        }
    }

    fn line(&mut self, value: serde_json::Value) {
        // A closed pipe (`| head -3`) ends nothing: the run goes on and writes its reports.
        let _ = writeln!(self.out, "{value}");
        let _ = self.out.flush();
    }
}

impl<W: Write + Send> Listener for JsonLines<W> {
    fn on_event(&mut self, event: &Event) {
        let value = match event {
            Event::RunStarted { info } => {
                self.started = std::time::Instant::now();
                json!({"type": "run", "event": "started", "run_id": info.run_id,
                    "started_at": info.started_at, "target": info.target.url,
                    "planned": info.planned, "jobs": info.jobs})
            }
            Event::CaseStarted { index, total, id } => {
                json!({"type": "case", "event": "started", "index": index, "total": total, "id": id})
            }
            Event::StepFinished {
                index,
                case_id,
                step,
            } => {
                json!({"type": "step", "event": "finished", "index": index, "case": case_id,
                    "step": step})
            }
            Event::CaseFinished {
                index,
                total,
                result,
            } => {
                self.counter.add(result, self.baseline.as_ref());
                let status = super::status::CaseStatus::of(
                    result.verdict,
                    self.counter.known.iter().find(|k| k.case == result.id),
                );
                json!({"type": "case", "event": "finished", "index": index, "total": total,
                    "id": result.id, "verdict": result.verdict, "status": status.word(),
                    "reason": result.reason, "duration_ms": result.duration_ms})
            }
            Event::RunFinished {
                interrupted,
                unreachable,
                ..
            } => {
                json!({"type": "run", "event": "finished", "tally": self.counter.tally,
                    "interrupted": interrupted, "unreachable": unreachable,
                    "duration_ms": self.started.elapsed().as_millis() as u64})
            }
        };
        self.line(value);
    }
}

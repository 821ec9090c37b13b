//! Live progress on a terminal, from the run's events: cases done of total, the cases in flight and
//! for how long, the elapsed time and an estimate (indicatif). The console's lines are printed
//! through [`Progress::writer`], above the bar. Never used without a terminal: there the console
//! prints plain lines only, with no control characters.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::{Event, Listener};

/// The cases in flight, by index, with when each started.
type InFlight = Arc<Mutex<Vec<(usize, String, Instant)>>>;

pub struct Progress {
    bar: ProgressBar,
    in_flight: InFlight,
}

/// How many cases in flight the bar names (the rest are counted).
const NAMED: usize = 2;

impl Progress {
    pub fn new() -> Progress {
        let in_flight: InFlight = Arc::default();
        let shown = in_flight.clone();
        let style = ProgressStyle::with_template(
            "{elapsed_precise} [{bar:24}] {pos}/{len} cases, eta {eta} {in_flight}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
        .with_key(
            "in_flight",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let list = shown.lock().map(|l| l.clone()).unwrap_or_default();
                if list.is_empty() {
                    return;
                }
                let now = Instant::now();
                let named: Vec<String> = list
                    .iter()
                    .take(NAMED)
                    .map(|(_, id, at)| format!("{id} {}s", now.duration_since(*at).as_secs()))
                    .collect();
                let more = list.len().saturating_sub(NAMED);
                let _ = write!(w, "| running: {}", named.join(", "));
                if more > 0 {
                    let _ = write!(w, " +{more}");
                }
            },
        );
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress { bar, in_flight }
    }

    /// Standard output, written above the bar: each line the console prints goes out whole while
    /// the bar is cleared, then the bar is drawn again.
    pub fn writer(&self) -> io::LineWriter<AboveBar> {
        io::LineWriter::new(AboveBar(self.bar.clone()))
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

impl Listener for Progress {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::RunStarted { info } => self.bar.set_length(info.planned as u64),
            Event::CaseStarted { index, id, .. } => {
                if let Ok(mut l) = self.in_flight.lock() {
                    l.push((*index, id.to_string(), Instant::now()));
                }
            }
            Event::CaseFinished { index, .. } => {
                if let Ok(mut l) = self.in_flight.lock() {
                    l.retain(|(i, _, _)| i != index);
                }
                self.bar.inc(1);
            }
            Event::RunFinished { .. } => self.bar.finish_and_clear(),
            Event::StepFinished { .. } => {}
        }
    }
}

/// Standard output that clears the progress bar while it writes.
pub struct AboveBar(ProgressBar);

impl Write for AboveBar {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.suspend(|| io::stdout().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}

//! The console reporter: looks like `cargo test`, with the diffs of every failure at the end.

use std::io::Write;

use super::baseline::BaselineInfo;
use super::{Event, Listener};
use crate::record::describe::describe_failure;
use crate::record::{CaseResult, KnownOutcome, KnownStatus, Verdict};
use crate::report::RunInfo;

/// How many failures the end-of-run summary describes in full; the rest are listed by id (every
/// detail is in the reports), so a run where everything fails does not hold every result.
pub const DESCRIBED_FAILURES: usize = 100;

pub struct Console<W: Write + Send> {
    out: W,
    /// The first [`DESCRIBED_FAILURES`] failures, described.
    failures: Vec<String>,
    /// Every failed case's id.
    failed: Vec<String>,
    /// `id: reason` of every case that warned, listed at the end (a line each: they are few).
    warned: Vec<String>,
    /// `id: reason` of every case that ended in a setup error, listed at the end.
    errors: Vec<String>,
    verbose: bool,
    baseline: Option<BaselineInfo>,
    known: Vec<KnownOutcome>,
    /// The cases that wait for lab content, said at the end with the variables that unlock them.
    lab: super::coverage::LabWaits,
    /// Cases finished so far: cases finish in any order, and each line counts them.
    done: usize,
    /// The reason the last case that did not run gave: a reason shared by the cases that follow is
    /// printed once, then counted.
    last_reason: Option<(String, usize)>,
}

impl<W: Write + Send> Console<W> {
    /// Writes what it is told: outside data in events was redacted where it entered (see
    /// `crate::secret`), and ids and paths are shown as the suite has them.
    pub fn new(out: W, verbose: bool) -> Self {
        Console {
            out,
            failures: Vec::new(),
            failed: Vec::new(),
            warned: Vec::new(),
            errors: Vec::new(),
            verbose,
            baseline: None,
            known: Vec::new(),
            lab: Default::default(),
            done: 0,
            last_reason: None,
        }
    }

    /// Marks the failures a known-failures baseline tolerates, and the known failures that pass.
    pub fn with_baseline(mut self, baseline: Option<BaselineInfo>) -> Self {
        self.baseline = baseline;
        self
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }
}

impl<W: Write + Send> Listener for Console<W> {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::RunStarted { info } => self.run_started(info),
            Event::CaseFinished { total, result, .. } => {
                self.done += 1;
                self.case_finished(self.done, *total, result)
            }
            Event::RunFinished {
                interrupted,
                unreachable,
                ..
            } => self.run_finished(*interrupted, *unreachable),
            _ => {}
        }
    }
}

impl<W: Write + Send> Console<W> {
    fn run_started(&mut self, info: &RunInfo) {
        let what = if info.target.embedded {
            format!("{} (the embedded reference server)", info.target.url)
        } else {
            info.target.url.clone()
        };
        self.line(&format!("\nrunning {} cases against {what}", info.planned));
        if let Some(v) = &info.target.server_version {
            self.line(&format!("server version: {v}"));
        }
        if let Some(p) = &info.selection.partition {
            self.line(&format!("partition: {p}"));
        }
    }

    /// One line per case as it finishes (`done` of `total` so far); failures and warnings kept for
    /// the end.
    fn case_finished(&mut self, done: usize, total: usize, result: &CaseResult) {
        self.lab.add(result);
        let known = self.baseline.as_ref().and_then(|b| b.judge(result));
        let status = match (result.verdict, known.as_ref().map(|k| k.status)) {
            (Verdict::Pass, Some(KnownStatus::Fixed)) => {
                "ok (a known failure that passes: remove it from the baseline)".to_string()
            }
            (Verdict::Pass, _) => "ok".to_string(),
            (Verdict::Fail, Some(KnownStatus::Known)) => format!(
                "known failure (tolerated until {})",
                known
                    .as_ref()
                    .map(|k| k.expires.as_str())
                    .unwrap_or_default()
            ),
            (Verdict::Fail, Some(KnownStatus::Expired)) => format!(
                "FAILED (its known-failure entry expired on {})",
                known
                    .as_ref()
                    .map(|k| k.expires.as_str())
                    .unwrap_or_default()
            ),
            (Verdict::Fail, _) => "FAILED".to_string(),
            (Verdict::Warn, _) => format!(
                "warning: {}",
                result.reason.as_deref().unwrap_or("needs review")
            ),
            (Verdict::Error, _) => result
                .reason
                .clone()
                .unwrap_or_else(|| "error (setup)".to_string()),
            (Verdict::Skip, _) => self.reason_once("skipped", result),
            (Verdict::NotRun, _) => self.reason_once("not run", result),
        };
        if !matches!(result.verdict, Verdict::Skip | Verdict::NotRun) {
            self.close_reason();
        }
        let excused = known.as_ref().map(|k| k.status) == Some(KnownStatus::Known);
        let expired = known
            .as_ref()
            .filter(|k| k.status == KnownStatus::Expired)
            .map(|k| format!(" (its known-failure entry expired on {})", k.expires))
            .unwrap_or_default();
        if let Some(k) = known {
            self.known.push(k);
        }
        let width = total.to_string().len();
        self.line(&format!(
            "[{done:>width$}/{total}] case {} [{}] ... {status}",
            result.id,
            result.provenance.as_str()
        ));
        if self.verbose && result.verdict == Verdict::Pass {
            for s in &result.steps {
                for c in &s.checks {
                    self.line(&format!("        {}: {}: {}", s.name, c.name, c.actual));
                }
            }
        }
        if result.verdict == Verdict::Error {
            self.errors.push(format!(
                "{}: {}",
                result.id,
                result.reason.as_deref().unwrap_or_default()
            ));
        }
        if result.verdict == Verdict::Warn {
            self.warned.push(format!(
                "{}: {}",
                result.id,
                result.reason.as_deref().unwrap_or_default()
            ));
            // A warning tells the whole story too (what was sent, got, expected).
            if self.failures.len() < DESCRIBED_FAILURES {
                self.failures.push(describe_failure(result));
            }
        }
        if result.verdict == Verdict::Fail && !excused {
            if self.failures.len() < DESCRIBED_FAILURES {
                self.failures.push(describe_failure(result));
            }
            self.failed.push(format!("{}{expired}", result.id));
        }
    }

    /// `skipped: REASON` the first time; for the cases right after it with the same reason, a
    /// pointer to it, and their count once they end.
    fn reason_once(&mut self, word: &str, result: &CaseResult) -> String {
        let reason = format!("{word}: {}", result.reason.as_deref().unwrap_or(""));
        if let Some((last, n)) = &mut self.last_reason {
            if *last == reason {
                *n += 1;
                return format!("{word} (the same reason as above)");
            }
        }
        self.close_reason();
        self.last_reason = Some((reason.clone(), 1));
        reason
    }

    /// Says how many cases in a row shared the last reason, when more than one did.
    fn close_reason(&mut self) {
        if let Some((reason, n)) = self.last_reason.take() {
            if n > 1 {
                self.line(&format!("        ({n} cases in a row: {reason})"));
            }
        }
    }

    /// What failed, what needs review and the baseline's verdicts. The one-line result is printed
    /// by `run` from report.json's summary (`report::tally::result_line`), as `-q` prints it, so
    /// that the console counts what every report counts.
    fn run_finished(&mut self, interrupted: bool, unreachable: Option<&str>) {
        self.close_reason();
        let failures = std::mem::take(&mut self.failures);
        let failed = std::mem::take(&mut self.failed);
        if !failures.is_empty() {
            self.line("\nfailures and warnings:");
            for f in &failures {
                for l in f.lines() {
                    self.line(l);
                }
            }
            if failed.len() > failures.len() {
                self.line(&format!(
                    "\n... and {} more failures, described in the reports",
                    failed.len() - failures.len()
                ));
            }
            if !failed.is_empty() {
                self.line("\nfailures:");
                for id in &failed {
                    self.line(&format!("    {id}"));
                }
            }
        }
        let errors = std::mem::take(&mut self.errors);
        if !errors.is_empty() {
            self.line("\nsetup errors (not tested: a step that serves the case could not be done; never a failure of the server):");
            for e in &errors {
                self.line(&format!("    {e}"));
            }
        }
        let warned = std::mem::take(&mut self.warned);
        if !warned.is_empty() {
            self.line("\nwarnings (needs review: an inferred expectation was not met; they fail only under --strict):");
            for w in &warned {
                self.line(&format!("    {w}"));
            }
        }
        let known = std::mem::take(&mut self.known);
        let tolerated: Vec<&KnownOutcome> = known
            .iter()
            .filter(|k| k.status == KnownStatus::Known)
            .collect();
        if !tolerated.is_empty() {
            self.line("\nknown failures (tolerated by the baseline):");
            for k in &tolerated {
                self.line(&format!(
                    "    {}: {} (until {})",
                    k.case, k.reason, k.expires
                ));
            }
        }
        let fixed: Vec<&KnownOutcome> = known
            .iter()
            .filter(|k| k.status == KnownStatus::Fixed)
            .collect();
        if !fixed.is_empty() {
            self.line("\nknown failures that now pass (remove them from the baseline):");
            for k in &fixed {
                self.line(&format!("    {}: {}", k.case, k.reason));
            }
        }
        if self.lab.cases > 0 {
            let lab = std::mem::take(&mut self.lab);
            self.line(&format!("\n{}:", lab.sentence()));
            for v in &lab.variables {
                self.line(&format!(
                    "    {} ({}): {} case(s)",
                    v.variable, v.meaning, v.cases
                ));
            }
        }
        if let Some(u) = unreachable {
            self.line(&format!("\nerror: the target could not be tested: {u}"));
        }
        if interrupted {
            self.line("\nrun stopped early (interrupted, or its deadline passed): the results cover the cases that finished");
        }
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{CaseResult, Tally};

    fn failed_case(i: usize) -> CaseResult {
        serde_json::from_value(serde_json::json!({
            "id": format!("case-{i:04}"), "title": "t", "spec": ["S1"], "provenance": "documented",
            "tags": [], "file": "c.toml", "sha256": "00", "verdict": "fail",
            "reason": format!("reason {i}"), "steps": [], "duration_ms": 0
        }))
        .unwrap()
    }

    #[test]
    fn only_the_first_failures_are_described_and_every_failure_is_listed() {
        let mut out = Vec::new();
        let n = DESCRIBED_FAILURES + 5;
        {
            let mut console = Console::new(&mut out, false);
            let mut tally = Tally::default();
            for i in 0..n {
                let result = failed_case(i);
                tally.add(result.verdict);
                console.on_event(&Event::CaseFinished {
                    index: i,
                    total: n,
                    result: &result,
                });
            }
            assert_eq!(console.failures.len(), DESCRIBED_FAILURES);
            console.on_event(&Event::RunFinished {
                tally: &tally,
                interrupted: false,
                unreachable: None,
            });
        }
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("... and 5 more failures, described in the reports"),
            "{text}"
        );
        let described = |i: usize| text.contains(&format!("---- case-{i:04} ("));
        assert!(described(0) && described(DESCRIBED_FAILURES - 1), "{text}");
        assert!(!described(DESCRIBED_FAILURES), "{text}");
        assert!(text.contains(&format!("    case-{:04}\n", n - 1)), "{text}");
    }

    #[test]
    fn a_failure_names_the_role_and_the_user_of_the_case() {
        let mut result = failed_case(1);
        result.agent = Some(crate::record::CaseAgent {
            role: "sample4".into(),
            user: Some("agent4".into()),
            scheduled: None,
        });
        let mut out = Vec::new();
        {
            let mut console = Console::new(&mut out, false);
            let mut tally = Tally::default();
            tally.add(result.verdict);
            console.on_event(&Event::CaseFinished {
                index: 0,
                total: 1,
                result: &result,
            });
            console.on_event(&Event::RunFinished {
                tally: &tally,
                interrupted: false,
                unreachable: None,
            });
        }
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("agent: role `sample4`, user `agent4`"),
            "{text}"
        );
    }

    #[test]
    fn a_reason_shared_by_cases_in_a_row_is_printed_once_with_its_count() {
        let mut out = Vec::new();
        {
            let mut console = Console::new(&mut out, false);
            for i in 0..4 {
                let mut result = failed_case(i);
                result.verdict = Verdict::NotRun;
                result.reason = Some("the target answered 401 to every login".into());
                console.on_event(&Event::CaseFinished {
                    index: i,
                    total: 4,
                    result: &result,
                });
            }
            let tally = Tally {
                not_run: 4,
                total: 4,
                ..Tally::default()
            };
            console.on_event(&Event::RunFinished {
                tally: &tally,
                interrupted: false,
                unreachable: None,
            });
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("401 to every login").count(), 2, "{text}");
        assert_eq!(
            text.matches("not run (the same reason as above)").count(),
            3,
            "{text}"
        );
        assert!(
            text.contains("(4 cases in a row: not run: the target answered 401"),
            "{text}"
        );
    }
}

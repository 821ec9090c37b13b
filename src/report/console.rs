//! The console reporter: looks like `cargo test`, with the diffs of every failure at the end.

use std::io::Write;

use super::{Event, Listener};
use crate::secret::Redactor;
use crate::verdict::{CaseResult, Verdict};

pub struct Console<W: Write + Send> {
    out: W,
    redactor: Redactor,
    failures: Vec<CaseResult>,
    started: std::time::Instant,
    verbose: bool,
}

impl<W: Write + Send> Console<W> {
    pub fn new(out: W, redactor: Redactor, verbose: bool) -> Self {
        Console {
            out,
            redactor,
            failures: Vec::new(),
            started: std::time::Instant::now(),
            verbose,
        }
    }

    fn line(&mut self, text: &str) {
        let text = self.redactor.redact(text);
        let _ = writeln!(self.out, "{text}");
    }
}

impl<W: Write + Send> Listener for Console<W> {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::RunStarted { info } => {
                self.started = std::time::Instant::now();
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
            Event::CaseFinished {
                index,
                total,
                result,
            } => {
                let status = match result.verdict {
                    Verdict::Pass => "ok".to_string(),
                    Verdict::Fail => "FAILED".to_string(),
                    Verdict::Skip => format!("skipped: {}", result.reason.as_deref().unwrap_or("")),
                };
                let width = total.to_string().len();
                self.line(&format!(
                    "[{:>width$}/{total}] case {} [{}] ... {status}",
                    index + 1,
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
                if result.verdict == Verdict::Fail {
                    self.failures.push((*result).clone());
                }
            }
            Event::RunFinished {
                tally,
                interrupted,
                unreachable,
                ..
            } => {
                let failures = std::mem::take(&mut self.failures);
                if !failures.is_empty() {
                    self.line("\nfailures:");
                    for f in &failures {
                        for l in describe_failure(f).lines() {
                            self.line(l);
                        }
                    }
                    self.line("\nfailures:");
                    for f in &failures {
                        self.line(&format!("    {}", f.id));
                    }
                }
                if let Some(u) = unreachable {
                    self.line(&format!("\nerror: the target could not be reached: {u}"));
                }
                if *interrupted {
                    self.line("\nrun interrupted: the results cover the cases that finished");
                }
                let verdict = if tally.failed == 0 && unreachable.is_none() && !interrupted {
                    "ok"
                } else {
                    "FAILED"
                };
                self.line(&format!(
                    "\ncase result: {verdict}. {} passed; {} failed; {} skipped; finished in {:.2}s\n",
                    tally.passed,
                    tally.failed,
                    tally.skipped,
                    self.started.elapsed().as_secs_f64()
                ));
                let _ = self.out.flush();
            }
            _ => {}
        }
    }
}

/// The full account of one failed case: each failed check, its JSON paths, and the diff.
pub fn describe_failure(f: &CaseResult) -> String {
    let mut s = format!(
        "\n---- {} ({}) [{}; {}] ----\n{}\n",
        f.id,
        f.file,
        f.spec.join(", "),
        f.provenance.as_str(),
        f.title
    );
    if let Some(src) = &f.source {
        s.push_str(&format!("spec: {src}\n"));
    }
    for step in &f.steps {
        if !step.ran {
            s.push_str(&format!(
                "  step `{}`: not run (an earlier step failed)\n",
                step.name
            ));
            continue;
        }
        if step.passed {
            continue;
        }
        let req = step
            .exchanges
            .last()
            .map(|e| format!("{} {}", e.request.method, e.request.url));
        s.push_str(&format!(
            "  step `{}`: {}\n",
            step.name,
            req.unwrap_or_default()
        ));
        for c in step.checks.iter().filter(|c| !c.passed) {
            s.push_str(&format!(
                "    {}: expected {}, got {}\n",
                c.name, c.expected, c.actual
            ));
            for m in &c.mismatches {
                s.push_str(&format!("      {}: {}\n", m.path, m.message));
            }
            if let Some(d) = &c.diff {
                for l in d.lines() {
                    s.push_str(&format!("      {l}\n"));
                }
            }
        }
        if let Some(body) = step
            .exchanges
            .last()
            .and_then(|e| e.response.as_ref())
            .and_then(|r| r.body_text.as_deref())
        {
            let preview: String = body.chars().take(300).collect();
            s.push_str(&format!("    response body: {preview}\n"));
        }
    }
    s
}

//! TAP version 14: one test point per case. A known failure is a `# TODO` (so a TAP harness does not
//! fail on it, and reports it as "unexpectedly succeeded" once it passes); a skipped case is a
//! `# SKIP`; an incomplete run ends with `Bail out!`.

use std::fmt::Write;
use std::io;

use super::format::{Sink, Writer};
use super::headline::headline;
use super::index::Index;
use super::status::CaseStatus;
use super::tally::result_line;
use crate::record::describe::{describe_failure, first_failure};
use crate::record::CaseResult;

/// The plan, a test point per case as it is read, and the verdict.
pub struct Tap;

impl Writer for Tap {
    fn begin(&mut self, index: &Index, t: &mut Sink) -> io::Result<()> {
        t.push_str("TAP version 14\n");
        let _ = writeln!(t, "1..{}", index.cases.len());
        t.emit()
    }

    fn case(&mut self, index: &Index, i: usize, c: &CaseResult, t: &mut Sink) -> io::Result<()> {
        let s = index.summary();
        let status = index.cases[i].status;
        let n = i + 1;
        let name = format!("{} - {}", c.id, one_line(&c.title));
        let known = s.known_for(&c.id);
        let todo = |k: Option<&crate::record::KnownOutcome>| {
            k.map(|k| {
                format!(
                    " # TODO known failure until {}: {}",
                    k.expires,
                    one_line(&k.reason)
                )
            })
            .unwrap_or_default()
        };
        match status {
            CaseStatus::Pass => {
                let _ = writeln!(t, "ok {n} - {name}");
            }
            CaseStatus::Fixed => {
                let _ = writeln!(t, "ok {n} - {name}{}", todo(known));
            }
            CaseStatus::Skip => {
                let _ = writeln!(
                    t,
                    "ok {n} - {name} # SKIP {}",
                    one_line(c.reason.as_deref().unwrap_or(""))
                );
            }
            CaseStatus::NotRun => {
                let _ = writeln!(
                    t,
                    "ok {n} - {name} # SKIP not run: {}",
                    one_line(c.reason.as_deref().unwrap_or("the run stopped first"))
                );
            }
            // TAP has no warning result: the point passes (as the run does) and its YAML block
            // says it needs review.
            CaseStatus::Warn => {
                let _ = writeln!(t, "ok {n} - {name}");
                t.push_str("  ---\n");
                t.push_str("  severity: warning\n");
                let _ = writeln!(t, "  provenance: {}", c.provenance.as_str());
                let _ = writeln!(
                    t,
                    "  message: {}",
                    yaml_str(c.reason.as_deref().unwrap_or("needs review"))
                );
                t.push_str("  ...\n");
            }
            CaseStatus::Known | CaseStatus::Fail => {
                let directive = if status == CaseStatus::Known {
                    todo(known)
                } else {
                    String::new()
                };
                let _ = writeln!(t, "not ok {n} - {name}{directive}");
                t.push_str("  ---\n");
                let _ = writeln!(t, "  spec: {}", yaml_str(&c.spec.join(", ")));
                let _ = writeln!(t, "  provenance: {}", c.provenance.as_str());
                let _ = writeln!(t, "  file: {}", yaml_str(&c.file));
                if let Some(k) = known.filter(|_| status == CaseStatus::Fail) {
                    let _ = writeln!(
                        t,
                        "  baseline: {}",
                        yaml_str(&format!("expired on {}: {}", k.expires, k.reason))
                    );
                }
                if let Some(f) = first_failure(c) {
                    let _ = writeln!(t, "  message: {}", yaml_str(&f));
                }
                let detail = describe_failure(c);
                t.push_str("  detail: |-\n");
                for l in detail.trim_matches('\n').lines() {
                    let _ = writeln!(t, "    {l}");
                }
                t.push_str("  ...\n");
            }
        }
        t.emit()
    }

    fn end(&mut self, index: &Index, t: &mut Sink) -> io::Result<()> {
        let r = &index.head;
        let s = &r.summary;
        let (word, line) = headline(r);
        let _ = writeln!(t, "# {word}: {}", one_line(&line));
        let _ = writeln!(t, "# {}", one_line(&result_line(s)));
        if !s.complete {
            let why = match &s.unreachable {
                Some(u) => format!("the target could not be tested: {}", one_line(u)),
                None => format!(
                    "run stopped early after {} of {} planned cases",
                    s.tally.total.saturating_sub(s.tally.not_run),
                    r.run.planned
                ),
            };
            let _ = writeln!(t, "Bail out! {why}");
        }
        t.emit()
    }
}

/// Test point descriptions are one line, and `#` starts a directive.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('#', "\\#")
}

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

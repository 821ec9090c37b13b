//! JUnit XML, as Jenkins, GitLab and GitHub test-report actions read it: one `testcase` per case,
//! the failed checks and their diffs in the failure text. Valid against the Jenkins xunit plugin's
//! `junit-10.xsd` (vendored in `tests/`, checked by `tests/reports.rs`).
//!
//! Layout: the run's own `testsuite` first (its properties, the verdict, the tally, and an `error`
//! testcase when the run is incomplete, so that CI fails), then a `testsuite` per case whose `file`
//! is the case file (junit-10.xsd allows `file` on a testsuite, not on a testcase). What CI test
//! views show of each verdict: a pass passes; a warning passes (as the exit code does) with
//! `[WARN: needs review]` in its name and what was tried in its `system-out`; a failure is a
//! `failure`; a skip and a case not run are `skipped`; a known failure is `skipped
//! type="known-failure"` with `[KNOWN FAILURE, tolerated until DATE]` in its name, so it does not fail
//! the job but cannot pass for a pass.

use std::fmt::Write;
use std::io;

use super::format::{Sink, Writer};
use super::headline::headline;
use super::index::Index;
use super::status::CaseStatus;
use super::tally::counts_line;
use crate::record::describe::{describe_failure, first_failure};
use crate::record::CaseResult;

/// The suite's counts and properties, a `testcase` per case as it is read, and the verdict.
pub struct Junit;

impl Writer for Junit {
    fn begin(&mut self, index: &Index, x: &mut Sink) -> io::Result<()> {
        let r = &index.head;
        let s = &r.summary;
        let incomplete = if s.complete { 0 } else { 1 };
        // From the run's one tally: every other format shows the same counts.
        let t = &s.tally;
        let failures = t.failed;
        let errors = t.errors + incomplete;
        let tests = index.cases.len() + incomplete;
        let time = secs(s.duration_ms);
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            x,
            "<testsuites name=\"gws-conform\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time}\">"
        );
        // The run's own suite: its properties, the verdict, and an error testcase when the run is
        // incomplete. Each case follows in a suite of its own, whose `file` is the case file (the
        // XSD allows `file` on a testsuite only).
        let _ = writeln!(
            x,
            "  <testsuite name=\"gws-conform: StartContactCenterSession (POST /api/v2/me)\" tests=\"{incomplete}\" failures=\"0\" errors=\"{incomplete}\" skipped=\"0\" time=\"{time}\" timestamp=\"{}\" id=\"{}\" package=\"gws-conform\">",
            attr(&r.run.started_at),
            attr(&r.run.run_id)
        );
        x.push_str("    <properties>\n");
        let mut props: Vec<(String, String)> = vec![
            ("harness_version".into(), r.run.harness_version.clone()),
            ("run_id".into(), r.run.run_id.clone()),
            ("target".into(), r.run.target.url.clone()),
            (
                "server_version".into(),
                r.run.target.server_version.clone().unwrap_or_default(),
            ),
            ("complete".into(), s.complete.to_string()),
            ("verdict".into(), headline(r).0.to_string()),
            ("tally".into(), counts_line(t)),
        ];
        if let Some(p) = &r.run.selection.partition {
            props.push(("partition".into(), p.clone()));
        }
        if let Some(b) = &r.baseline {
            props.push(("baseline".into(), format!("{} sha256:{}", b.file, b.sha256)));
        }
        // The inputs are written as they are read, not gathered with the others: a large suite
        // lists a file per case, and a copy of that list was the rendering's memory peak.
        let inputs = r
            .run
            .inputs
            .iter()
            .map(|i| (format!("sha256:{}", i.path), i.sha256.to_string()));
        for (k, v) in props.into_iter().chain(inputs) {
            let _ = writeln!(
                x,
                "      <property name=\"{}\" value=\"{}\"/>",
                attr(&k),
                attr(&v)
            );
            x.emit()?;
        }
        x.push_str("    </properties>\n");
        if !s.complete {
            let why = match &s.unreachable {
                Some(u) => format!("the target could not be tested: {u}"),
                None => format!(
                    "run stopped early (interrupted, or its deadline passed) after {} of {} planned cases: the report covers those that finished",
                    s.tally.total.saturating_sub(s.tally.not_run), r.run.planned
                ),
            };
            let _ = writeln!(
                x,
                "    <testcase name=\"run: complete\" classname=\"gws-conform.run\" time=\"0.000\">\n      <error type=\"incomplete\" message=\"{}\"/>\n    </testcase>",
                attr(&why)
            );
        }
        let _ = writeln!(x, "    <system-out>{}</system-out>", text(&headline(r).1));
        x.push_str("  </testsuite>\n");
        x.emit()
    }

    fn case(&mut self, index: &Index, n: usize, c: &CaseResult, x: &mut Sink) -> io::Result<()> {
        let s = index.summary();
        let classname = format!(
            "gws-conform.{}",
            c.spec.first().map(String::as_str).unwrap_or("case")
        );
        let known = s.known_for(&c.id);
        let status = index.cases[n].status;
        // A suite per case: the XSD's only place for the case file. Its counts are the case's.
        let (failures, errors, skipped) = match status {
            CaseStatus::Fail => (1, 0, 0),
            CaseStatus::Skip | CaseStatus::NotRun | CaseStatus::Known => (0, 0, 1),
            _ => (0, 0, 0),
        };
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" file=\"{}\" tests=\"1\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{}\" package=\"gws-conform\">",
            attr(&c.id),
            attr(&c.file),
            secs(c.duration_ms)
        );
        // CI test views list names: what is neither a plain pass nor a plain failure says so there.
        let marker = match status {
            CaseStatus::Warn => " [WARN: needs review]".to_string(),
            CaseStatus::Known => format!(
                " [KNOWN FAILURE, tolerated until {}]",
                known.map(|k| k.expires.as_str()).unwrap_or_default()
            ),
            CaseStatus::Fixed => " [known failure fixed]".to_string(),
            _ => String::new(),
        };
        let _ = write!(
            x,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
            attr(&format!("{}: {}{marker}", c.id, c.title)),
            attr(&classname),
            secs(c.duration_ms)
        );
        match status {
            CaseStatus::Pass => x.push_str("/>\n"),
            CaseStatus::Fixed => {
                x.push_str(">\n");
                let _ = writeln!(
                    x,
                    "      <system-out>{}</system-out>",
                    text(&format!(
                        "known failure fixed: `{}` passes; remove it from the baseline ({})",
                        c.id,
                        known.map(|k| k.reason.as_str()).unwrap_or_default()
                    ))
                );
                x.push_str("    </testcase>\n");
            }
            CaseStatus::Skip => {
                x.push_str(">\n");
                let _ = writeln!(
                    x,
                    "      <skipped message=\"{}\"/>",
                    attr(c.reason.as_deref().unwrap_or("skipped"))
                );
                x.push_str("    </testcase>\n");
            }
            CaseStatus::NotRun => {
                x.push_str(">\n");
                let _ = writeln!(
                    x,
                    "      <skipped type=\"not-run\" message=\"{}\"/>",
                    attr(&format!(
                        "not run: {}",
                        c.reason.as_deref().unwrap_or("the run stopped first")
                    ))
                );
                x.push_str("    </testcase>\n");
            }
            // JUnit has no warning state: a warning is not a failure (CI stays green, as the run's
            // exit code does), so the testcase passes and says why it needs review in its output.
            CaseStatus::Warn => {
                x.push_str(">\n");
                let _ = writeln!(
                    x,
                    "      <system-out>{}</system-out>",
                    text(&format!(
                        "WARNING (needs review; fails under --strict): {}\n{}",
                        c.reason.as_deref().unwrap_or_default(),
                        describe_failure(c)
                    ))
                );
                x.push_str("    </testcase>\n");
            }
            CaseStatus::Known => {
                x.push_str(">\n");
                let (reason, expires) = known
                    .map(|k| (k.reason.as_str(), k.expires.as_str()))
                    .unwrap_or_default();
                let _ = writeln!(
                    x,
                    "      <skipped type=\"known-failure\" message=\"{}\">{}</skipped>",
                    attr(&format!(
                        "known failure (tolerated until {expires}): {reason}"
                    )),
                    text(&describe_failure(c))
                );
                x.push_str("    </testcase>\n");
            }
            // A setup error is JUnit's `<error>`: the test could not be carried out.
            CaseStatus::Error => {
                x.push_str(">\n");
                let _ = writeln!(
                    x,
                    "      <error type=\"setup\" message=\"{}\">{}</error>",
                    attr(c.reason.as_deref().unwrap_or("error (setup)")),
                    text(&describe_failure(c))
                );
                x.push_str("    </testcase>\n");
            }
            CaseStatus::Fail => {
                x.push_str(">\n");
                let mut message = first_failure(c).unwrap_or_default();
                if let Some(k) = known {
                    message = format!(
                        "known failure expired on {} ({}): {message}",
                        k.expires, k.reason
                    );
                }
                let _ = writeln!(
                    x,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    c.provenance.as_str(),
                    attr(&message),
                    text(&describe_failure(c))
                );
                x.push_str("    </testcase>\n");
            }
        }
        x.push_str("  </testsuite>\n");
        x.emit()
    }

    fn end(&mut self, _index: &Index, x: &mut Sink) -> io::Result<()> {
        x.push_str("</testsuites>\n");
        x.emit()
    }
}

fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Text content: XML escapes, and characters XML 1.0 cannot carry written as `\u{..}`.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Attribute values: as text, plus quotes, and line breaks kept as character references.
fn attr(s: &str) -> String {
    text(s)
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(text("a<b>&c\u{1}"), "a&lt;b&gt;&amp;c\\u{1}");
        assert_eq!(attr("say \"hi\"\n"), "say &quot;hi&quot;&#10;");
        assert_eq!(secs(1234), "1.234");
        assert_eq!(secs(5), "0.005");
    }
}

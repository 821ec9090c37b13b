//! A short Markdown summary, fit for a CI job summary (`$GITHUB_STEP_SUMMARY`): the verdict, the
//! counts, a verdict per documented sample, and the failures in one line each.

use std::fmt::Write;
use std::io;

use super::coverage::{traceability, ElementStatus};
use super::format::{Sink, Writer};
use super::headline::{headline, verdict_class};
use super::index::Index;
use super::status::CaseStatus;
use crate::record::{CaseResult, KnownStatus};

/// Failures listed in full; more are counted.
const MAX_LISTED: usize = 20;

/// The whole summary, from the index, with what each failure or warning listed sent and got back
/// (collected as the cases stream past: at most [`MAX_LISTED`] of each, in brief).
#[derive(Default)]
pub struct Markdown {
    /// Per case listed, by id: its failing step's request and response.
    exchanges: Vec<(String, String)>,
    listed: [usize; 2],
}

impl Writer for Markdown {
    fn begin(&mut self, _: &Index, _: &mut Sink) -> io::Result<()> {
        Ok(())
    }

    fn case(&mut self, index: &Index, n: usize, case: &CaseResult, _: &mut Sink) -> io::Result<()> {
        let slot = match index.cases.get(n).map(|c| c.status) {
            Some(CaseStatus::Fail) => 0,
            Some(CaseStatus::Warn) => 1,
            _ => return Ok(()),
        };
        if self.listed[slot] < MAX_LISTED {
            self.listed[slot] += 1;
            if let Some(block) = exchange_block(case) {
                self.exchanges.push((case.id.clone(), block));
            }
        }
        Ok(())
    }

    fn end(&mut self, index: &Index, m: &mut Sink) -> io::Result<()> {
        render(index, &self.exchanges, m)
    }
}

/// A body longer than this is cut (report.json and report.html have it whole, with the headers).
const BODY_CHARS: usize = 600;

/// The request and response of the case's first failing step, as a collapsed block under its line.
fn exchange_block(case: &CaseResult) -> Option<String> {
    let (step, _) = case.failures().next()?;
    let text = crate::record::describe::exchange_brief(step.exchanges.last()?, BODY_CHARS);
    let text = text.trim_end();
    // A fence longer than any run of backticks in the text.
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    Some(format!(
        "  <details><summary>request and response of step <code>{}</code></summary>\n\n  {fence}text\n{}\n  {fence}\n  </details>\n",
        html_text(&step.name),
        text.lines()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}

/// Text for inside an HTML element of the summary.
fn html_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn render(index: &Index, exchanges: &[(String, String)], m: &mut Sink) -> io::Result<()> {
    let r = &index.head;
    let s = &r.summary;
    let (word, line) = headline(r);
    let icon = match verdict_class(s) {
        "pass" => "✅",
        "fail" => "❌",
        // Amber: a pass that needs review, or an incomplete run.
        _ => "🟡",
    };
    let _ = writeln!(m, "## {icon} gws-conform: {word}\n");
    let _ = writeln!(m, "{}\n", md(&line));
    let t = &s.tally;
    m.push_str("| passed | warnings | failed | known failures | errors (setup) | skipped | not run | total |\n");
    m.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let failed = if t.expired > 0 {
        format!("{} ({} expired)", t.failed, t.expired)
    } else {
        t.failed.to_string()
    };
    let _ = writeln!(
        m,
        "| {} | {} | {failed} | {} | {} | {} | {} | {} |\n",
        t.passed, t.warned, t.known, t.errors, t.skipped, t.not_run, t.total
    );
    for (why, n) in &t.not_run_why {
        let _ = writeln!(m, "Not run ({n}): {}\n", md(why));
    }
    let samples: Vec<String> = traceability(&index.cases)
        .iter()
        .filter(|t| t.kind == "sample")
        .map(|t| {
            let mark = match t.status {
                ElementStatus::Pass => "✅",
                ElementStatus::Warn => "🟡",
                ElementStatus::Fail => "❌",
                ElementStatus::Known => "⚠️",
                ElementStatus::Partial => "◐",
                ElementStatus::NotTested | ElementStatus::NotCovered => "➖",
            };
            format!("{} {mark} {}", t.element, t.status.label())
        })
        .collect();
    let _ = writeln!(m, "**Samples:** {}\n", samples.join(" · "));

    parameter_table(m, index);
    case_list(m, index, exchanges, CaseStatus::Fail, "### Failures", 200);
    case_list(
        m,
        index,
        exchanges,
        CaseStatus::Warn,
        "### 🟡 Warnings (needs review: an inferred expectation was not met)",
        300,
    );
    not_run(m, index);
    baseline_lists(m, s);
    let _ = writeln!(
        m,
        "<sub>gws-conform {} · run {} · {} input files hashed (SHA-256) · full details in report.html and report.json</sub>",
        r.run.harness_version,
        md(&r.run.run_id),
        r.run.inputs.len()
    );
    m.emit()
}

/// How many cases cover each parameter, per kind (positive, wrong value, wrong type).
fn parameter_table(m: &mut Sink, index: &Index) {
    let params: Vec<String> = traceability(&index.cases)
        .iter()
        .filter(|t| t.kind == "parameter")
        .map(|t| {
            let k = t.kinds();
            format!(
                "| `{}` | {} | {} | {} |",
                t.element,
                k[0].describe(),
                k[1].describe(),
                k[2].describe()
            )
        })
        .collect();
    if !params.is_empty() {
        m.push_str("**Parameter coverage** (cases per kind; how many documented):\n\n| parameter | positive | wrong value | wrong type |\n|---|---|---|---|\n");
        for row in params {
            let _ = writeln!(m, "{row}");
        }
        m.push('\n');
    }
}

/// The baseline's entries that expired, that excused a failure, and that now pass, each under its
/// heading; nothing for an empty list.
fn baseline_lists(m: &mut Sink, s: &super::json::Summary) {
    let expired: Vec<_> = s.known_with(KnownStatus::Expired).collect();
    if !expired.is_empty() {
        m.push_str(
            "### ❌ Expired baseline entries (these failures count again)

",
        );
        for k in expired {
            let _ = writeln!(
                m,
                "- `{}`: tolerated until {}, which has passed: {}",
                k.case,
                k.expires,
                md(&k.reason)
            );
        }
        m.push('\n');
    }
    let known: Vec<_> = s.known_with(KnownStatus::Known).collect();
    if !known.is_empty() {
        m.push_str("### Known failures (tolerated by the baseline)\n\n");
        for k in known {
            let _ = writeln!(m, "- `{}`: {} (until {})", k.case, md(&k.reason), k.expires);
        }
        m.push('\n');
    }
    let fixed: Vec<_> = s.known_with(KnownStatus::Fixed).collect();
    if !fixed.is_empty() {
        m.push_str("### Known failures that now pass: remove them from the baseline\n\n");
        for k in fixed {
            let _ = writeln!(m, "- `{}`: {}", k.case, md(&k.reason));
        }
        m.push('\n');
    }
}

/// The cases of one status under a heading, each with its first failure cut to `chars`, at most
/// [`MAX_LISTED`] of them; nothing when there is none.
fn case_list(
    m: &mut Sink,
    index: &Index,
    exchanges: &[(String, String)],
    status: CaseStatus,
    heading: &str,
    chars: usize,
) {
    let cases: Vec<_> = index.cases_with(status).collect();
    if cases.is_empty() {
        return;
    }
    let _ = writeln!(m, "{heading}\n");
    for c in cases.iter().take(MAX_LISTED) {
        let why = c.first_failure.clone().unwrap_or_default();
        let expired = match index.head.summary.known_for(&c.id) {
            Some(k) if k.status == KnownStatus::Expired => {
                format!(" **(its baseline entry expired on {})**", k.expires)
            }
            _ => String::new(),
        };
        let _ = writeln!(
            m,
            "- `{}` ({}; {}){expired}: {}",
            c.id,
            md(&c.spec.join(", ")),
            c.provenance.as_str(),
            md(&truncate(&why, chars))
        );
        if let Some((_, block)) = exchanges.iter().find(|(id, _)| **id == *c.id) {
            m.push_str(block);
        }
    }
    if cases.len() > MAX_LISTED {
        let _ = writeln!(m, "- … and {} more", cases.len() - MAX_LISTED);
    }
    m.push('\n');
}

/// Every case that did not run (skipped, or not run), named, under each reason once with its count.
fn not_run(m: &mut Sink, index: &Index) {
    let mut by_reason: Vec<(&str, Vec<&str>)> = Vec::new();
    for c in index
        .cases
        .iter()
        .filter(|c| matches!(c.status, CaseStatus::Skip | CaseStatus::NotRun))
    {
        let why = c.first_failure.as_deref().unwrap_or(match c.status {
            CaseStatus::Skip => "skipped",
            _ => "not run",
        });
        match by_reason.iter_mut().find(|(r, _)| *r == why) {
            Some((_, ids)) => ids.push(&c.id),
            None => by_reason.push((why, vec![&c.id])),
        }
    }
    if by_reason.is_empty() {
        return;
    }
    let total: usize = by_reason.iter().map(|(_, ids)| ids.len()).sum();
    let _ = writeln!(m, "### ➖ Did not run ({total})\n");
    for (why, ids) in by_reason {
        let names: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
        let _ = writeln!(
            m,
            "- {} case{}: {}  \n  {}",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
            md(why),
            names.join(", ")
        );
    }
    m.push('\n');
}

/// Escapes what Markdown or HTML would otherwise interpret, and keeps it on one line. A code span
/// (text between backticks, when they pair up) is kept as written: Markdown shows it literally.
fn md(s: &str) -> String {
    let pieces: Vec<&str> = s.split('`').collect();
    // An odd number of backticks (a span cut short): the last one is text, escaped.
    let paired = if pieces.len().is_multiple_of(2) {
        pieces.len() - 1
    } else {
        pieces.len()
    };
    let mut out: String = pieces[..paired]
        .iter()
        .enumerate()
        .map(|(k, p)| {
            if k % 2 == 1 && !p.is_empty() {
                format!("`{}`", p.replace(['\n', '\r'], " "))
            } else if k % 2 == 1 {
                "\\`\\`".to_string()
            } else {
                md_text(p)
            }
        })
        .collect();
    if paired < pieces.len() {
        out.push_str("\\`");
        out.push_str(&md_text(pieces[paired]));
    }
    out
}

fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\n' | '\r' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' | '*' | '_' | '`' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::md;

    #[test]
    fn code_spans_are_kept_and_the_rest_escaped() {
        assert_eq!(md("`notify-s4` failed: a|b"), "`notify-s4` failed: a\\|b");
        // A span cut short by truncation: its backtick is text.
        assert_eq!(md("`a` and `b…"), "`a` and \\`b…");
        assert_eq!(md("no *span*"), "no \\*span\\*");
    }
}

//! One case as a `<details>` element: its verdict, checks and diffs, each step with its exchanges
//! (secrets already masked in the report).

use std::fmt::Write as _;

use super::attr;
use crate::execute::Exchange;
use crate::record::{CaseResult, KnownOutcome, KnownStatus, Level, StepResult};
use crate::report::markup::{esc, esc_code};
use crate::report::status::CaseStatus;

pub(super) fn case_html(
    h: &mut String,
    st: CaseStatus,
    known: Option<&KnownOutcome>,
    c: &CaseResult,
) {
    let _ = write!(
        h,
        "<details class=\"case\" id=\"case-{}\" data-status=\"{}\"><summary><span class=\"badge {}\">{}</span> <code>{}</code><span class=\"title\">{}</span><span class=\"spec\">{}</span>{}</summary><div class=\"casebody\">",
        attr(&c.id),
        st.word(),
        st.word(),
        esc(st.label()),
        esc(&c.id),
        esc(&c.title),
        esc(&c.spec.join(", ")),
        prov(c.provenance.as_str())
    );
    if let Some(k) = known {
        let note = match k.status {
            KnownStatus::Known => {
                format!("Known failure, tolerated until {}: {}", k.expires, k.reason)
            }
            KnownStatus::Expired => format!(
                "Listed as a known failure, but the entry expired on {}: it fails the run. ({})",
                k.expires, k.reason
            ),
            KnownStatus::Fixed => format!(
                "Listed as a known failure ({}), but it passes: remove it from the baseline.",
                k.reason
            ),
            KnownStatus::Skipped => format!("Listed as a known failure: {}", k.reason),
        };
        let _ = write!(h, "<div class=\"known-note\">{}</div>", esc(&note));
    }
    if let Some(reason) = &c.reason {
        let _ = write!(h, "<p class=\"reason\">{}</p>", esc(reason));
    }
    h.push_str("<dl class=\"meta\">");
    let mut meta: Vec<(&str, String)> = vec![
        ("Spec", c.spec.join(", ")),
        ("Provenance", c.provenance.as_str().to_string()),
    ];
    if let Some(s) = &c.source {
        meta.push(("Source", s.clone()));
    }
    if let Some(s) = &c.rationale {
        meta.push(("Rationale", s.clone()));
    }
    if !c.tags.is_empty() {
        meta.push(("Tags", c.tags.join(", ")));
    }
    if let Some(a) = &c.agent {
        let who = match &a.user {
            Some(u) => format!("role {}, user {u}", a.role),
            None => format!("role {} (no credentials)", a.role),
        };
        let who = match &a.scheduled {
            Some(how) => format!("{who} ({how})"),
            None => who,
        };
        meta.push(("Agent", who));
    }
    meta.push(("File", format!("{} (sha256 {})", c.file, c.sha256)));
    meta.push(("Duration", format!("{} ms", c.duration_ms)));
    for (k, v) in meta {
        let _ = write!(h, "<dt>{k}</dt><dd>{}</dd>", esc(&v));
    }
    h.push_str("</dl>");
    if let Some(s) = &c.source {
        h.push_str(&crate::report::cited::sections_html(s));
    }
    for step in &c.steps {
        step_html(h, step);
    }
    h.push_str("</div></details>\n");
}

fn step_html(h: &mut String, step: &StepResult) {
    let state = if !step.ran {
        "<span class=\"badge skip\">not run</span> an earlier step failed".to_string()
    } else if step.passed {
        format!(
            "<span class=\"badge pass\">passed</span> <span class=\"muted\">{} ms</span>",
            step.duration_ms
        )
    } else {
        format!(
            "<span class=\"badge fail\">failed</span> <span class=\"muted\">{} ms</span>",
            step.duration_ms
        )
    };
    let _ = write!(
        h,
        "<div class=\"step\" data-passed=\"{}\"><h4>{} {state}</h4>",
        step.passed,
        esc(&step.name)
    );
    if !step.checks.is_empty() {
        h.push_str("<table class=\"checks\"><thead><tr><th>Check</th><th>Result</th><th>Expected</th><th>Actual</th></tr></thead><tbody>");
        for c in &step.checks {
            let _ = write!(
                h,
                "<tr data-passed=\"{}\"><td><code>{}</code></td><td class=\"r\">{}</td><td>{}</td><td>{}</td></tr>",
                c.passed,
                esc(&c.name),
                match (c.passed, c.level) {
                    (true, _) => "<span class=\"badge pass\">ok</span>",
                    (false, Level::Failure) => "<span class=\"badge fail\">FAIL</span>",
                    (false, Level::Warning) => {
                        "<span class=\"badge warn\" title=\"an inferred expectation: needs review\">WARN</span>"
                    }
                    (false, Level::Setup) => {
                        "<span class=\"badge error\" title=\"a setup step could not be done: the case was not tested\">ERROR</span>"
                    }
                    (false, Level::Info) => {
                        "<span class=\"badge skip\" title=\"a cleanup step: decides nothing\">note</span>"
                    }
                },
                esc(&c.expected),
                esc(&c.actual)
            );
        }
        h.push_str("</tbody></table>");
        for c in step.checks.iter().filter(|c| !c.passed) {
            if !c.mismatches.is_empty() {
                h.push_str("<ul class=\"mismatches\">");
                for m in &c.mismatches {
                    let _ = write!(
                        h,
                        "<li><code>{}</code>: {}</li>",
                        esc(&m.path),
                        esc_code(&m.message)
                    );
                }
                h.push_str("</ul>");
            }
            if let Some(d) = c.diff.as_deref().filter(|d| !d.trim().is_empty()) {
                let _ = write!(
                    h,
                    "<p class=\"diffnote\"><code>{}</code>: <span style=\"color:#82071e\">- expected</span> / <span style=\"color:#116329\">+ actual</span></p><pre class=\"diff\" data-check=\"{}\">",
                    esc(&c.name),
                    attr(&c.name)
                );
                for l in d.lines() {
                    let class = if l.starts_with("@@") {
                        "hunk"
                    } else if l.starts_with('+') && !l.starts_with("+++") {
                        "add"
                    } else if l.starts_with('-') && !l.starts_with("---") {
                        "del"
                    } else {
                        ""
                    };
                    if class.is_empty() {
                        let _ = writeln!(h, "{}", esc(l));
                    } else {
                        let _ = write!(h, "<span class=\"{class}\">{}</span>", esc(l));
                    }
                }
                h.push_str("</pre>");
            }
        }
    }
    if let Some(hint) = &step.hint {
        let _ = write!(h, "<p class=\"note\">hint: {}</p>", esc(hint));
    }
    // A failing or warning step's answer is open: the request sent and the answer got are the
    // story of the failure.
    let last = step.exchanges.len().saturating_sub(1);
    for (k, ex) in step.exchanges.iter().enumerate() {
        exchange_html(h, ex, !step.passed && k == last);
    }
    for note in &step.notes {
        let _ = write!(h, "<p class=\"muted note\">note: {}</p>", esc(note));
    }
    if !step.notifications.is_empty() {
        let _ = write!(
            h,
            "<details class=\"exchange notifications\"><summary>CometD notifications received ({})</summary>",
            step.notifications.len()
        );
        for n in &step.notifications {
            let matched = if n.matched.is_empty() {
                "unexpected".to_string()
            } else {
                "matched an expectation".to_string()
            };
            let body = serde_json::to_string_pretty(&n.message).unwrap_or_default();
            let _ = write!(
                h,
                "<pre class=\"notification\">{} at {} ms ({matched})\n{}</pre>",
                esc(&n.channel),
                n.at_ms,
                esc(&body)
            );
        }
        h.push_str("</details>");
    }
    h.push_str("</div>");
}

fn exchange_html(h: &mut String, ex: &Exchange, open: bool) {
    let answer = match (&ex.response, &ex.error) {
        (Some(r), _) => r.status.to_string(),
        (None, Some(e)) => format!("no answer: {e}"),
        (None, None) => "no answer".to_string(),
    };
    let _ = write!(
        h,
        "<details class=\"exchange\"{}><summary>{} {} → {} <span class=\"muted\">({} ms)</span></summary>",
        if open { " open" } else { "" },
        esc(&ex.request.method),
        esc(&ex.request.url),
        esc(&answer),
        ex.duration_ms
    );
    let mut req = format!("{} {}\n", ex.request.method, ex.request.url);
    for (k, v) in &ex.request.headers {
        req.push_str(&format!("{k}: {v}\n"));
    }
    if let Some(b) = &ex.request.body {
        req.push('\n');
        req.push_str(b);
    }
    let _ = write!(h, "<pre class=\"request\">{}</pre>", esc(&req));
    if let Some(resp) = &ex.response {
        let mut text = format!("HTTP {}\n", resp.status);
        for (k, v) in &resp.headers {
            text.push_str(&format!("{k}: {v}\n"));
        }
        text.push('\n');
        match &resp.body_text {
            Some(b) => text.push_str(&pretty(b)),
            None => text.push_str("(body is not UTF-8 text)"),
        }
        let _ = write!(h, "<pre class=\"response\">{}</pre>", esc(&text));
    }
    h.push_str("</details>");
}
/// JSON bodies pretty-printed; anything else as it came.
fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_string())
}

pub(super) fn prov(p: &str) -> String {
    format!("<span class=\"prov {p}\" title=\"provenance: {p}\">{p}</span>")
}

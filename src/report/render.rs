//! The rendered formats (HTML, JUnit XML, Markdown, TAP): each a pure function of a [`Report`],
//! written by a run from its finished `report.json` ([`write_formats`]), so that `run` and
//! `gws-conform report` produce the same bytes from the same results.

use std::path::Path;

use super::json::Report;
use super::ReportError;
use crate::secret::Redactor;
use crate::verdict::CaseResult;

/// A report format that is rendered from the canonical JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Html,
    Junit,
    Markdown,
    Tap,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Html, Format::Junit, Format::Markdown, Format::Tap];

    pub fn name(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Tap => "tap",
        }
    }

    /// The file a run writes it to, beside `report.json`.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Html => "report.html",
            Format::Junit => "junit.xml",
            Format::Markdown => "summary.md",
            Format::Tap => "report.tap",
        }
    }

    pub fn render(self, report: &Report) -> String {
        match self {
            Format::Html => super::html::render(report),
            Format::Junit => super::junit::render(report),
            Format::Markdown => super::markdown::render(report),
            Format::Tap => super::tap::render(report),
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown format `{s}`; expected one of {}",
                    Format::ALL.map(|f| f.name()).join(", ")
                )
            })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Writes every rendered format beside `report.json`, from the finished report, each atomically and
/// scrubbed once more by `redactor`; returns why any could not be written.
///
/// A run calls it once `report.json` is complete, so no listener keeps a copy of every case (cases
/// stream to `report.json` as they finish), and `run` and `gws-conform report` produce the same
/// bytes from the same report.
pub fn write_formats(report: &Report, dir: &Path, redactor: &Redactor) -> Vec<ReportError> {
    Format::ALL
        .into_iter()
        .filter_map(|format| {
            let text = redactor.redact(&format.render(report));
            super::write_atomic(&dir.join(format.file_name()), text.as_bytes()).err()
        })
        .collect()
}

/// Shared by the renderers: a one-line verdict an auditor reads first.
pub fn headline(report: &Report) -> (&'static str, String) {
    let s = &report.summary;
    let t = &s.tally;
    let word = if !s.complete {
        "INCOMPLETE"
    } else if s.ok {
        "PASS"
    } else {
        "FAIL"
    };
    let target = match &report.run.target.server_version {
        Some(v) => format!("{} (server {v})", report.run.target.url),
        None => report.run.target.url.clone(),
    };
    let mut text = if !s.complete {
        match &s.unreachable {
            Some(u) => format!("The target {target} could not be reached ({u}); no verdict."),
            None => format!(
                "The run was interrupted after {} of {} planned cases; the verdict covers only those.",
                t.total, report.run.planned
            ),
        }
    } else if s.ok {
        format!(
            "The target {target} passed every case run: {} of {} passed.",
            t.passed, t.total
        )
    } else {
        format!(
            "The target {target} failed {} of {} cases.",
            s.unexcused_failures(),
            t.total
        )
    };
    let mut extra = Vec::new();
    let known = s.count_known(crate::verdict::KnownStatus::Known);
    if known > 0 {
        extra.push(format!(
            "{known} known failure(s) tolerated by the baseline"
        ));
    }
    let fixed = s.count_known(crate::verdict::KnownStatus::Fixed);
    if fixed > 0 {
        extra.push(format!(
            "{fixed} known failure(s) now pass: remove them from the baseline"
        ));
    }
    if t.skipped > 0 {
        extra.push(format!(
            "{} skipped (the target profile lacks a capability)",
            t.skipped
        ));
    }
    if !extra.is_empty() {
        text.push_str(&format!(" {}.", extra.join("; ")));
    }
    (word, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_name() {
        assert_eq!("HTML".parse::<Format>(), Ok(Format::Html));
        assert_eq!("junit".parse::<Format>(), Ok(Format::Junit));
        let e = "pdf".parse::<Format>().unwrap_err();
        assert!(e.contains("html, junit, markdown, tap"), "{e}");
    }
}

/// The spec elements of `cases/README.md`, in the order an auditor reads them.
pub const SPEC_ELEMENTS: &[(&str, &str, &str)] = &[
    (
        "S1",
        "sample",
        "Sample 1: start a session on the voice channel",
    ),
    ("S2", "sample", "Sample 2: place, loginCode and queue"),
    (
        "S3",
        "sample",
        "Sample 3: loginCode with agentLoginPassword",
    ),
    (
        "S4",
        "sample",
        "Sample 4: voice and chat, one channel out of service (partial success)",
    ),
    ("S5", "sample", "Sample 5: workmode"),
    ("S6", "sample", "Sample 6: dynamicPhoneNumber"),
    ("param.channels", "parameter", "channels"),
    ("param.place", "parameter", "place"),
    ("param.loginCode", "parameter", "loginCode"),
    (
        "param.agentLoginPassword",
        "parameter",
        "agentLoginPassword",
    ),
    ("param.queue", "parameter", "queue"),
    ("param.devicePath", "parameter", "devicePath"),
    ("param.workmode", "parameter", "workmode"),
    (
        "param.dynamicPhoneNumber",
        "parameter",
        "dynamicPhoneNumber",
    ),
    ("param.operationName", "parameter", "operationName"),
    ("auth", "rule", "authentication (gws-notes.md)"),
    ("csrf", "rule", "CSRF protection (gws-notes.md)"),
    ("lifecycle.end", "rule", "ending the session (gws-notes.md)"),
    ("http", "rule", "HTTP behaviour (gws-notes.md)"),
];

/// What the cases covering one spec element concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementStatus {
    Pass,
    Fail,
    Known,
    /// Every case covering it was skipped.
    NotTested,
    /// No case covers it.
    NotCovered,
}

impl ElementStatus {
    pub fn label(self) -> &'static str {
        match self {
            ElementStatus::Pass => "pass",
            ElementStatus::Fail => "FAIL",
            ElementStatus::Known => "known failure",
            ElementStatus::NotTested => "not tested",
            ElementStatus::NotCovered => "not covered",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            ElementStatus::Pass => "pass",
            ElementStatus::Fail => "fail",
            ElementStatus::Known => "known",
            ElementStatus::NotTested => "skip",
            ElementStatus::NotCovered => "none",
        }
    }
}

/// One row of the traceability matrix.
pub struct Trace<'r> {
    pub element: String,
    pub kind: &'static str,
    pub what: String,
    pub cases: Vec<&'r CaseResult>,
    pub status: ElementStatus,
}

/// Every documented spec element (and any other a case names) with the cases that cover it.
pub fn traceability(report: &Report) -> Vec<Trace<'_>> {
    use super::json::CaseStatus as C;
    let mut rows: Vec<Trace> = SPEC_ELEMENTS
        .iter()
        .map(|(id, kind, what)| Trace {
            element: id.to_string(),
            kind,
            what: what.to_string(),
            cases: Vec::new(),
            status: ElementStatus::NotCovered,
        })
        .collect();
    for case in &report.cases {
        for el in &case.spec {
            match rows.iter_mut().find(|r| r.element == *el) {
                Some(r) => r.cases.push(case),
                None => rows.push(Trace {
                    element: el.clone(),
                    kind: "other",
                    what: el.clone(),
                    cases: vec![case],
                    status: ElementStatus::NotCovered,
                }),
            }
        }
    }
    for r in &mut rows {
        let statuses: Vec<C> = r.cases.iter().map(|c| report.status(c)).collect();
        r.status = if statuses.is_empty() {
            ElementStatus::NotCovered
        } else if statuses.contains(&C::Fail) {
            ElementStatus::Fail
        } else if statuses.contains(&C::Known) {
            ElementStatus::Known
        } else if statuses.iter().any(|s| matches!(s, C::Pass | C::Fixed)) {
            ElementStatus::Pass
        } else {
            ElementStatus::NotTested
        };
    }
    rows
}

/// The first failed check of a case, in one line: `step: check: expected X, got Y`.
pub fn first_failure(case: &CaseResult) -> Option<String> {
    case.failures()
        .next()
        .map(|(s, c)| match c.mismatches.first() {
            // The first differing member says more than "1 difference(s)".
            Some(m) => format!("{}: {}: {}: {}", s.name, c.name, m.path, m.message),
            None => format!(
                "{}: {}: expected {}, got {}",
                s.name, c.name, c.expected, c.actual
            ),
        })
        .or_else(|| case.reason.clone())
}

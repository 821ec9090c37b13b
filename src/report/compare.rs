//! `compare OLD/report.json NEW/report.json`: every case whose verdict changed between two runs
//! (the last release and this one), as text, Markdown or JSON, and whether any change is a
//! regression. Two runs are comparable when they tested the same suite (the same case files and
//! schemas, byte for byte); their targets, profiles and dates differ, that is the point.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::json::Report;
use super::status::CaseStatus;

pub const FORMAT: &str = "gws-conform-compare/1";

/// What counts as a regression: a case that fails now and did not before; with `Warn`, a case that
/// warns now and passed before (or did not exist) too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Fail,
    Warn,
}

/// One case whose verdict changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Change {
    pub case: String,
    /// The case's status in the old run (`pass`, `warn`, `fail`, `skip`, `not-run`, `known`,
    /// `fixed`); absent for a new case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<&'static str>,
    /// Its status in the new run; absent for a removed case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<&'static str>,
    /// `pass -> fail`, `new`, `removed`, ...
    pub change: String,
    pub regression: bool,
    /// Why the case fails, warns or was skipped now (or before, for a removed case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One side of the comparison, as the output names it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Side {
    pub report: String,
    pub run_id: String,
    pub started_at: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    pub cases: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Comparison {
    pub format: &'static str,
    pub old: Side,
    pub new: Side,
    /// How the suites differ (empty when they are the same): only compared when allowed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suite_changes: Vec<String>,
    pub fail_on: &'static str,
    pub regressions: usize,
    pub changes: Vec<Change>,
}

#[derive(Debug, thiserror::Error)]
#[error("{old} and {new} were run with different suites: {}; refusing to compare (--allow-suite-change compares them anyway)", .differences.join("; "))]
pub struct SuiteChanged {
    pub old: String,
    pub new: String,
    pub differences: Vec<String>,
}

/// How the two reports' suites differ: files only in one, or with other contents. The profile's own
/// files are not the suite (see `merge::suite_files`).
pub fn suite_differences(old: &Report, new: &Report) -> Vec<String> {
    let (a, b) = (
        super::merge::suite_files(old),
        super::merge::suite_files(new),
    );
    let mut out = Vec::new();
    for (path, sha) in &a {
        match b.get(path) {
            None => out.push(format!("{path} is only in the old run")),
            Some(other) if other != sha => out.push(format!(
                "{path} differs (sha256 {} against {})",
                &sha[..sha.len().min(12)],
                &other[..other.len().min(12)]
            )),
            Some(_) => {}
        }
    }
    out.extend(
        b.keys()
            .filter(|p| !a.contains_key(*p))
            .map(|p| format!("{p} is only in the new run")),
    );
    out
}

/// Compares two reports (read from `old_name` and `new_name`, as the output names them).
pub fn compare(
    (old_name, old): (&str, &Report),
    (new_name, new): (&str, &Report),
    fail_on: FailOn,
    allow_suite_change: bool,
) -> Result<Comparison, SuiteChanged> {
    let suite_changes = suite_differences(old, new);
    if !suite_changes.is_empty() && !allow_suite_change {
        return Err(SuiteChanged {
            old: old_name.to_string(),
            new: new_name.to_string(),
            differences: suite_changes,
        });
    }
    let statuses = |r: &Report| -> BTreeMap<String, (CaseStatus, Option<String>)> {
        r.cases
            .iter()
            .map(|c| (c.id.clone(), (r.status(c), c.reason.clone())))
            .collect()
    };
    let (a, b) = (statuses(old), statuses(new));
    let mut ids: Vec<&String> = a.keys().chain(b.keys()).collect();
    ids.sort();
    ids.dedup();
    let mut changes = Vec::new();
    for id in ids {
        let (was, now) = (a.get(id), b.get(id));
        let (was_s, now_s) = (was.map(|w| w.0), now.map(|n| n.0));
        if was_s.map(same_verdict) == now_s.map(same_verdict) {
            continue;
        }
        let change = match (was_s, now_s) {
            (Some(w), Some(n)) => format!("{} -> {}", w.word(), n.word()),
            (None, Some(n)) => format!("new ({})", n.word()),
            (Some(w), None) => format!("removed (was {})", w.word()),
            (None, None) => continue,
        };
        changes.push(Change {
            case: id.clone(),
            old: was_s.map(CaseStatus::word),
            new: now_s.map(CaseStatus::word),
            change,
            regression: now_s.is_some_and(|n| is_regression(was_s, n, fail_on)),
            reason: now.or(was).and_then(|x| x.1.clone()),
        });
    }
    Ok(Comparison {
        format: FORMAT,
        old: side(old_name, old),
        new: side(new_name, new),
        suite_changes,
        fail_on: match fail_on {
            FailOn::Fail => "fail",
            FailOn::Warn => "warn",
        },
        regressions: changes.iter().filter(|c| c.regression).count(),
        changes,
    })
}

/// Statuses that are one verdict: a known failure that passes passed.
fn same_verdict(s: CaseStatus) -> CaseStatus {
    match s {
        CaseStatus::Fixed => CaseStatus::Pass,
        other => other,
    }
}

/// Fails now (and did not before), or warns now where it passed (or did not exist) under `--fail-on
/// warn`. A known failure the new run's baseline tolerates is not a regression.
fn is_regression(was: Option<CaseStatus>, now: CaseStatus, fail_on: FailOn) -> bool {
    let failed_before = was == Some(CaseStatus::Fail);
    match now {
        CaseStatus::Fail => !failed_before,
        CaseStatus::Warn if fail_on == FailOn::Warn => !matches!(
            was,
            Some(CaseStatus::Warn | CaseStatus::Fail | CaseStatus::Known)
        ),
        _ => false,
    }
}

fn side(name: &str, r: &Report) -> Side {
    Side {
        report: name.to_string(),
        run_id: r.run.run_id.clone(),
        started_at: r.run.started_at.clone(),
        target: r.run.target.url.clone(),
        server_version: r.run.target.server_version.clone(),
        cases: r.cases.len(),
    }
}

impl Comparison {
    /// The first line of every rendering.
    fn headline(&self) -> String {
        let n = self.changes.len();
        format!(
            "{n} case{} changed verdict; {} regression{} (counted: {}{})",
            if n == 1 { "" } else { "s" },
            self.regressions,
            if self.regressions == 1 { "" } else { "s" },
            "new failures",
            if self.fail_on == "warn" {
                " and new warnings"
            } else {
                ""
            }
        )
    }

    fn describe(s: &Side) -> String {
        let server = s
            .server_version
            .as_deref()
            .map(|v| format!(", server {v}"))
            .unwrap_or_default();
        format!(
            "{} (run {}, {}, {}{server}, {} cases)",
            s.report, s.run_id, s.started_at, s.target, s.cases
        )
    }

    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "old: {}", Self::describe(&self.old));
        let _ = writeln!(t, "new: {}", Self::describe(&self.new));
        for d in &self.suite_changes {
            let _ = writeln!(t, "suite changed: {d}");
        }
        let width = self
            .changes
            .iter()
            .map(|c| c.change.len())
            .max()
            .unwrap_or(0);
        for c in &self.changes {
            let mark = if c.regression { " REGRESSION" } else { "" };
            let reason = c
                .reason
                .as_deref()
                .map(|r| format!(": {}", one_line(r)))
                .unwrap_or_default();
            let _ = writeln!(t, "  {:<width$}  {}{mark}{reason}", c.change, c.case);
        }
        let _ = writeln!(t, "{}", self.headline());
        t
    }

    pub fn to_markdown(&self) -> String {
        let mut m = String::new();
        let icon = if self.regressions > 0 { "❌" } else { "✅" };
        let _ = writeln!(m, "## {icon} gws-conform compare: {}\n", self.headline());
        let _ = writeln!(m, "- old: {}", md(&Self::describe(&self.old)));
        let _ = writeln!(m, "- new: {}", md(&Self::describe(&self.new)));
        for d in &self.suite_changes {
            let _ = writeln!(m, "- suite changed: {}", md(d));
        }
        m.push('\n');
        if !self.changes.is_empty() {
            m.push_str("| case | change | regression | reason |\n|---|---|---|---|\n");
            for c in &self.changes {
                let _ = writeln!(
                    m,
                    "| `{}` | {} | {} | {} |",
                    c.case,
                    md(&c.change),
                    if c.regression { "❌ yes" } else { "no" },
                    md(&one_line(c.reason.as_deref().unwrap_or("")))
                );
            }
        }
        m
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Markdown table cells: no pipes or markup.
fn md(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('`', "'")
}

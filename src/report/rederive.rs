//! `verify`'s second question: does the report's result follow from what it records? Each case's
//! verdict is recomputed from its checks (their levels, which already weigh the alternatives the
//! step tried) and `--strict`; the baseline's outcomes, the tally, each sample's status, the verdict
//! and the headline from the cases; and the report is checked against `schemas/report.schema.json`.
//! Every rule is the one the run used ([`Verdict::of_case`], [`Judgement`], [`headline`]): there
//! is no second copy here to drift.

use super::headline::headline;
use std::collections::BTreeSet;

use super::json::{Report, ReportHead, Summary};
use super::judge::Judgement;
use crate::record::{CaseResult, Tally, Verdict};

/// One place where the report's result does not follow from what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The case, when the field is one case's.
    pub case: Option<String>,
    /// The field, as a path in report.json (`cases[12].verdict`, `summary.tally.failed`).
    pub field: String,
    pub recorded: String,
    /// What the report's own records give, and why.
    pub derived: String,
}

impl std::fmt::Display for Disagreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(case) = &self.case {
            write!(f, "case `{case}`: ")?;
        }
        write!(
            f,
            "`{}` is {} in the report, but {}",
            self.field, self.recorded, self.derived
        )
    }
}

/// Every disagreement between the report's result and its records, cases first.
pub fn rederive(report: &Report) -> Vec<Disagreement> {
    let strict = report
        .run
        .profile
        .get("strict")
        .and_then(|s| s.as_bool())
        .unwrap_or(false);
    let mut out: Vec<Disagreement> = report
        .cases
        .iter()
        .enumerate()
        .filter_map(|(i, c)| case_verdict(i, c, strict))
        .collect();
    for (i, c) in report.cases.iter().enumerate() {
        out.extend(case_shape(i, c));
    }
    out.extend(run_shape(report));
    out.extend(summary(report));
    out
}

/// What the runner always keeps of a case (see `runner::case`): a step that did not run made no
/// exchange and no check; a case skipped or not run has no steps and says why. Without these, a
/// failure could be forged into a skip by marking its steps not run.
fn case_shape(index: usize, case: &CaseResult) -> Vec<Disagreement> {
    let mut out = Vec::new();
    let mut disagree = |field: String, recorded: String, derived: &str| {
        out.push(Disagreement {
            case: Some(case.id.clone()),
            field,
            recorded,
            derived: derived.to_string(),
        })
    };
    for (j, step) in case.steps.iter().enumerate().filter(|(_, s)| !s.ran) {
        if !step.exchanges.is_empty() || !step.checks.is_empty() {
            disagree(
                format!("cases[{index}].steps[{j}]"),
                format!(
                    "not run with {} exchange(s) and {} check(s)",
                    step.exchanges.len(),
                    step.checks.len()
                ),
                "a step that did not run makes no exchange and no check",
            );
        }
    }
    if matches!(case.verdict, Verdict::Skip | Verdict::NotRun) {
        if !case.steps.is_empty() {
            disagree(
                format!("cases[{index}].steps"),
                format!("{} step(s)", case.steps.len()),
                &format!(
                    "a case recorded \"{}\" never started, so it has no steps",
                    case.verdict.as_str()
                ),
            );
        }
        if case.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            disagree(
                format!("cases[{index}].reason"),
                "absent".into(),
                &format!(
                    "a case recorded \"{}\" always says why",
                    case.verdict.as_str()
                ),
            );
        }
    }
    out
}

/// The run as a whole: every planned case is in the report, and a run with a case not run is not
/// complete.
fn run_shape(report: &Report) -> Vec<Disagreement> {
    let mut out = Vec::new();
    let mut disagree = |field: &str, recorded: String, derived: String| {
        out.push(Disagreement {
            case: None,
            field: field.to_string(),
            recorded,
            derived,
        })
    };
    let cases = report.cases.len();
    if report.run.planned != cases {
        disagree(
            "run.planned",
            report.run.planned.to_string(),
            format!("the report holds {cases} case(s), one for every case planned"),
        );
    }
    if !report.merged_from.is_empty() {
        let shards: usize = report.merged_from.iter().map(|m| m.cases).sum();
        if shards != cases {
            disagree(
                "merged_from[].cases",
                format!("{shards} in all"),
                format!("the merged report holds {cases} case(s), every case of every shard"),
            );
        }
    }
    // The run's UTC date judges the baseline's expiry (`run` takes it from `started_at`); a merged
    // report's shards ran between its start and its finish.
    if let Some(b) = &report.baseline {
        let started = report.run.started_at.get(..10).unwrap_or_default();
        let finished = report.summary.finished_at.get(..10).unwrap_or_default();
        let fits = if report.merged_from.is_empty() {
            b.today == started
        } else {
            started <= b.today.as_str() && b.today.as_str() <= finished
        };
        if !fits {
            disagree(
                "baseline.today",
                format!("{:?}", b.today),
                format!(
                    "the run started on {started}{}, the day its baseline is judged on",
                    if report.merged_from.is_empty() {
                        String::new()
                    } else {
                        format!(" and finished on {finished}")
                    }
                ),
            );
        }
    }
    let not_run = report
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::NotRun)
        .count();
    if report.summary.complete && not_run > 0 {
        disagree(
            "summary.complete",
            "true".into(),
            format!("{not_run} case(s) did not run, so the run is not complete"),
        );
    }
    out
}

/// The case's recorded verdict against the one its checks give.
fn case_verdict(index: usize, case: &CaseResult, strict: bool) -> Option<Disagreement> {
    let disagree = |derived: String| Disagreement {
        case: Some(case.id.clone()),
        field: format!("cases[{index}].verdict"),
        recorded: format!("\"{}\"", case.verdict.as_str()),
        derived,
    };
    let ran = case.steps.iter().any(|s| s.ran);
    if !ran {
        // No step ran: skipped, not run, or a case file that could not be read (a failure that
        // says why). Nothing can pass without a step.
        return match case.verdict {
            Verdict::Skip | Verdict::NotRun => None,
            Verdict::Fail if case.reason.is_some() => None,
            _ => Some(disagree(
                "no step of it ran, so it can only be skipped, not run, or a failure with a reason"
                    .into(),
            )),
        };
    }
    let derived = Verdict::of_case(case.steps.iter().flat_map(|s| &s.checks), strict);
    (derived != case.verdict).then(|| {
        let why = match case
            .failures()
            .find(|(_, c)| Verdict::of_case(std::iter::once(*c), strict) == derived)
        {
            Some((step, check)) => format!(
                " (step `{}`, check `{}` failed at level {})",
                step.name,
                check.name,
                check.level.as_str()
            ),
            None => String::new(),
        };
        disagree(format!(
            "its recorded checks give \"{}\"{why}{}",
            derived.as_str(),
            if strict { " under --strict" } else { "" }
        ))
    })
}

/// The summary's fields against those judged afresh from the cases.
fn summary(report: &Report) -> Vec<Disagreement> {
    let recorded = &report.summary;
    let mut judgement = Judgement::new(report.baseline.clone());
    report.cases.iter().for_each(|c| judgement.add(c));
    let derived = judgement.summary(
        None,
        !recorded.complete && recorded.unreachable.is_none(),
        recorded.unreachable.clone(),
        recorded.finished_at.clone(),
        recorded.duration_ms,
    );
    let mut out = Vec::new();
    if recorded.tally != derived.tally {
        out.extend(field(
            "tally",
            tally_text(&recorded.tally),
            tally_text(&derived.tally),
        ));
    }
    out.extend(field(
        "complete",
        recorded.complete.to_string(),
        derived.complete.to_string(),
    ));
    out.extend(known_outcomes(recorded, &derived));
    out.extend(samples(recorded, &derived));
    out.extend(field("ok", recorded.ok.to_string(), derived.ok.to_string()));
    let head = report.head();
    let derived_head = ReportHead {
        summary: derived,
        ..report.head()
    };
    let (rw, rs) = headline(&head);
    let (dw, ds) = headline(&derived_head);
    out.extend(field(
        "headline",
        format!("{:?}", format!("{rw}: {rs}")),
        format!("{:?}", format!("{dw}: {ds}")),
    ));
    out
}

/// A summary field whose recorded text `r` differs from the one the cases give, `d`.
fn field(name: &str, r: String, d: String) -> Option<Disagreement> {
    (r != d).then(|| Disagreement {
        case: None,
        field: format!("summary.{name}"),
        recorded: r,
        derived: format!("the cases give {d}"),
    })
}

/// The entries of `items` that `matches`, each as `text` gives it, or "absent".
fn listed<T>(items: &[T], matches: impl Fn(&T) -> bool, text: impl Fn(&T) -> String) -> String {
    let all: Vec<String> = items.iter().filter(|i| matches(i)).map(text).collect();
    if all.is_empty() {
        "absent".to_string()
    } else {
        all.join(" and ")
    }
}

/// Every baseline outcome, both ways: one the report adds is as wrong as one it changes.
fn known_outcomes(recorded: &Summary, derived: &Summary) -> Vec<Disagreement> {
    let ids = recorded.known.iter().chain(&derived.known).map(|k| &k.case);
    let ids: BTreeSet<&String> = ids.collect();
    ids.into_iter()
        .filter_map(|id| {
            let text = |s: &Summary| {
                listed(
                    &s.known,
                    |k| &k.case == id,
                    |k| format!("{:?} (expires {})", k.status.as_str(), k.expires),
                )
            };
            field(&format!("known[{id}]"), text(recorded), text(derived))
        })
        .collect()
}

/// Every sample's whole outcome, both ways; its status named first, as the field most read.
fn samples(recorded: &Summary, derived: &Summary) -> Vec<Disagreement> {
    let elements = recorded.samples.iter().chain(&derived.samples);
    let elements: BTreeSet<&String> = elements.map(|s| &s.element).collect();
    elements
        .into_iter()
        .filter_map(|element| {
            let text = |s: &Summary| {
                listed(
                    &s.samples,
                    |o| &o.element == element,
                    |o| {
                        let why = o.reason.as_deref().map(|r| format!("; {r}"));
                        format!(
                            "{:?} ({} of {} case(s) ran{})",
                            o.status.word(),
                            o.ran,
                            o.cases,
                            why.unwrap_or_default()
                        )
                    },
                )
            };
            let status = |s: &Summary| {
                s.samples
                    .iter()
                    .find(|o| &o.element == element)
                    .map(|o| format!("{:?}", o.status.word()))
                    .unwrap_or_else(|| "absent".into())
            };
            field(
                &format!("samples[{element}].status"),
                status(recorded),
                status(derived),
            )
            .or_else(|| {
                field(
                    &format!("samples[{element}]"),
                    text(recorded),
                    text(derived),
                )
            })
        })
        .collect()
}

/// The whole tally, every count named (a count added later is shown without a change here).
fn tally_text(t: &Tally) -> String {
    serde_json::to_string(t).unwrap_or_default()
}

/// Where report.json breaks the project's own `schemas/report.schema.json`, in sentences.
pub fn schema_violations(report: &serde_json::Value, schema: &serde_json::Value) -> Vec<String> {
    let validator = match jsonschema::draft202012::new(schema) {
        Ok(v) => v,
        Err(e) => return vec![format!("schemas/report.schema.json does not compile: {e}")],
    };
    validator
        .iter_errors(report)
        .take(20)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!(
                "`{}` breaks schemas/report.schema.json: {}",
                if at.is_empty() { "/" } else { &at },
                crate::load::schema_words::sentence(&e)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Provenance;
    use crate::record::{Check, Level, StepResult};

    fn case(verdict: Verdict, checks: Vec<Check>) -> CaseResult {
        CaseResult {
            id: "c".into(),
            title: String::new(),
            spec: vec![],
            source: None,
            provenance: Provenance::Documented,
            rationale: None,
            tags: vec![],
            group: None,
            file: "cases/c.toml".into(),
            sha256: String::new(),
            verdict,
            reason: None,
            steps: (!checks.is_empty())
                .then(|| StepResult {
                    name: "s".into(),
                    exchanges: vec![],
                    passed: checks.iter().all(|c| c.passed),
                    checks,
                    ran: true,
                    duration_ms: 0,
                    cometd_ms: None,
                    wait_ms: None,
                    attempts: None,
                    notifications: vec![],
                    notes: vec![],
                    hint: None,
                })
                .into_iter()
                .collect(),
            duration_ms: 0,
            agent: None,
            waits_for: Vec::new(),
        }
    }

    fn missed(level: Level) -> Check {
        let mut c = Check::exchange_failed("x");
        c.name = "status".into();
        c.level = level;
        c
    }

    #[test]
    fn a_skip_has_no_steps_and_a_step_not_run_nothing_in_it() {
        // What the runner writes: a skip with a reason and no steps; a failure whose later step
        // did not run.
        let mut skip = case(Verdict::Skip, vec![]);
        skip.reason = Some("the profile lacks a capability".into());
        assert_eq!(case_shape(0, &skip), vec![]);
        let mut failed = case(Verdict::Fail, vec![missed(Level::Failure)]);
        let mut later = failed.steps[0].clone();
        (later.ran, later.checks) = (false, vec![]);
        failed.steps.push(later);
        assert_eq!(case_shape(0, &failed), vec![]);
        // The failure forged into a skip: its steps marked not run, their checks kept.
        let mut forged = failed.clone();
        forged.verdict = Verdict::Skip;
        forged.reason = Some("r".into());
        forged.steps.iter_mut().for_each(|s| s.ran = false);
        let fields: Vec<String> = case_shape(2, &forged)
            .into_iter()
            .map(|d| d.field)
            .collect();
        assert_eq!(fields, ["cases[2].steps[0]", "cases[2].steps"]);
        skip.reason = None;
        assert_eq!(case_shape(1, &skip)[0].field, "cases[1].reason");
    }

    #[test]
    fn a_verdict_is_judged_by_its_checks_and_strict() {
        let warned = || vec![missed(Level::Warning)];
        assert_eq!(case_verdict(0, &case(Verdict::Warn, warned()), false), None);
        let d = case_verdict(3, &case(Verdict::Warn, warned()), true).unwrap();
        assert_eq!(d.field, "cases[3].verdict");
        assert!(d.to_string().contains("give \"fail\""), "{d}");
        assert!(d.to_string().contains("under --strict"), "{d}");
        let d = case_verdict(0, &case(Verdict::Pass, vec![missed(Level::Failure)]), false);
        assert!(d
            .unwrap()
            .to_string()
            .contains("check `status` failed at level failure"));
        // Nothing passes without a step; a skip needs none.
        assert!(case_verdict(0, &case(Verdict::Pass, vec![]), false).is_some());
        assert_eq!(case_verdict(0, &case(Verdict::Skip, vec![]), false), None);
        assert_eq!(
            case_verdict(0, &case(Verdict::Fail, vec![]), false).map(|d| d.field),
            Some("cases[0].verdict".into())
        );
    }
}

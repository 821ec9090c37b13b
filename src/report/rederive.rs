//! `verify`'s second question: does the report's result follow from what it records? Each case's
//! verdict is recomputed from its checks (their levels, which already weigh the alternatives the
//! step tried) and `--strict`; the baseline's outcomes, the tally, each sample's status, the verdict
//! and the headline from the cases; and the report is checked against `schemas/report.schema.json`.
//! Every rule is the one the run used ([`Verdict::of_case`], [`Judgement`], [`headline`]): there
//! is no second copy here to drift.

use super::headline::headline;
use super::json::{Report, ReportHead};
use super::judge::Judgement;
use crate::record::{CaseResult, Verdict};

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
    out.extend(summary(report));
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
    let mut field = |name: &str, r: String, d: String| {
        if r != d {
            out.push(Disagreement {
                case: None,
                field: format!("summary.{name}"),
                recorded: r,
                derived: format!("the cases give {d}"),
            });
        }
    };
    let (rt, dt) = (&recorded.tally, &derived.tally);
    for (name, r, d) in [
        ("total", rt.total, dt.total),
        ("passed", rt.passed, dt.passed),
        ("warned", rt.warned, dt.warned),
        ("failed", rt.failed, dt.failed),
        ("skipped", rt.skipped, dt.skipped),
        ("not_run", rt.not_run, dt.not_run),
    ] {
        field(&format!("tally.{name}"), r.to_string(), d.to_string());
    }
    for d in &derived.known {
        let r = recorded.known_for(&d.case).map(|k| k.status.as_str());
        field(
            &format!("known[{}].status", d.case),
            format!("{:?}", r.unwrap_or("absent")),
            format!("{:?}", d.status.as_str()),
        );
    }
    for d in &derived.samples {
        let r = recorded.samples.iter().find(|s| s.element == d.element);
        field(
            &format!("samples[{}].status", d.element),
            format!("{:?}", r.map(|s| s.status.word()).unwrap_or("absent")),
            format!("{:?}", d.status.word()),
        );
    }
    field("ok", recorded.ok.to_string(), derived.ok.to_string());
    let head = report.head();
    let derived_head = ReportHead {
        summary: derived,
        ..report.head()
    };
    let (rw, _) = headline(&head);
    let (dw, _) = headline(&derived_head);
    field("headline", format!("{rw:?}"), format!("{dw:?}"));
    out
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
                    notifications: vec![],
                    notes: vec![],
                })
                .into_iter()
                .collect(),
            duration_ms: 0,
            agent: None,
        }
    }

    fn missed(level: Level) -> Check {
        let mut c = Check::exchange_failed("x");
        c.name = "status".into();
        c.level = level;
        c
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

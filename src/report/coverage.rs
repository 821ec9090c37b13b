//! What a run says about each spec element: a sample passes only when each of its documented cases
//! ran and passed; it is "not tested" when none ran and "partial" when some did not. Reports show it,
//! and the headline never says a bare PASS over a sample that was not tested. The traceability
//! matrix ([`traceability`]) judges every spec element the same way.

use serde::{Deserialize, Serialize};

use super::status::CaseStatus;
use crate::model::Provenance;
use crate::record::{CaseResult, KnownOutcome, KnownStatus, Verdict};

/// The spec elements, kept with the loader that refuses any other (`crate::load::names`).
pub use crate::load::names::SPEC_ELEMENTS;

/// What the cases covering one spec element concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ElementStatus {
    Pass,
    /// Passed, but some inferred expectation needs review.
    Warn,
    Fail,
    Known,
    /// Some cases ran, but not every documented one.
    Partial,
    /// No case covering it ran (all skipped or not run).
    NotTested,
    /// No case covers it.
    NotCovered,
}

impl ElementStatus {
    pub fn label(self) -> &'static str {
        match self {
            ElementStatus::Pass => "pass",
            ElementStatus::Warn => "pass, with warnings",
            ElementStatus::Fail => "FAIL",
            ElementStatus::Known => "known failure",
            ElementStatus::Partial => "partial",
            ElementStatus::NotTested => "not tested",
            ElementStatus::NotCovered => "not covered",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            ElementStatus::Pass => "pass",
            ElementStatus::Warn => "warn",
            ElementStatus::Fail => "fail",
            ElementStatus::Known => "known",
            ElementStatus::Partial => "partial",
            ElementStatus::NotTested => "skip",
            ElementStatus::NotCovered => "none",
        }
    }

    /// Whether the element was tested in full: what a bare PASS may rest on.
    pub fn tested(self) -> bool {
        matches!(self, ElementStatus::Pass | ElementStatus::Warn)
    }
}

/// An element's status from its cases' statuses and provenances.
pub fn judge(cases: impl Iterator<Item = (CaseStatus, Provenance)>) -> ElementStatus {
    let cases: Vec<(CaseStatus, Provenance)> = cases.collect();
    let any = |f: &dyn Fn(CaseStatus) -> bool| cases.iter().any(|(s, _)| f(*s));
    let ran = |s: CaseStatus| {
        matches!(
            s,
            CaseStatus::Pass
                | CaseStatus::Fixed
                | CaseStatus::Warn
                | CaseStatus::Fail
                | CaseStatus::Known
        )
    };
    if cases.is_empty() {
        return ElementStatus::NotCovered;
    }
    if any(&|s| s == CaseStatus::Fail) {
        return ElementStatus::Fail;
    }
    if any(&|s| s == CaseStatus::Known) {
        return ElementStatus::Known;
    }
    // A setup error is not a test: like a skip, it leaves the element partial or not tested.
    if !any(&ran) {
        return ElementStatus::NotTested;
    }
    // Each documented case must have run (every case, where none is documented).
    let documented = cases.iter().any(|(_, p)| *p == Provenance::Documented);
    let missing = cases
        .iter()
        .any(|(s, p)| (!documented || *p == Provenance::Documented) && !ran(*s));
    if missing {
        ElementStatus::Partial
    } else if any(&|s| s == CaseStatus::Warn) {
        ElementStatus::Warn
    } else {
        ElementStatus::Pass
    }
}

/// What the traceability matrix needs of a case. The report's index (`super::index::CaseEntry`)
/// has it; naming that type here would make coverage import the index, which imports the report,
/// whose summary imports coverage: a circle.
pub trait Covering {
    fn spec(&self) -> &[String];
    fn status(&self) -> CaseStatus;
    fn provenance(&self) -> Provenance;
    /// Its tags: `wrong-type`, `wrong-value` (or `negative`) say which coverage kind it gives.
    fn tags(&self) -> &[String];
}

/// What a case shows about a parameter: that a good value works, that a wrong value is refused, or
/// that a value of the wrong JSON type is refused. Read from the case's tags: `wrong-type`; then
/// `wrong-value` or `negative`; anything else is `positive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageKind {
    Positive,
    WrongValue,
    WrongType,
}

impl CoverageKind {
    pub const ALL: [CoverageKind; 3] = [
        CoverageKind::Positive,
        CoverageKind::WrongValue,
        CoverageKind::WrongType,
    ];

    pub fn of(tags: &[String]) -> CoverageKind {
        let has = |t: &str| tags.iter().any(|x| x == t);
        if has("wrong-type") {
            CoverageKind::WrongType
        } else if has("wrong-value") || has("negative") {
            CoverageKind::WrongValue
        } else {
            CoverageKind::Positive
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CoverageKind::Positive => "positive",
            CoverageKind::WrongValue => "wrong value",
            CoverageKind::WrongType => "wrong type",
        }
    }
}

/// How many cases of one kind cover an element, and how many of them are documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KindCount {
    pub cases: usize,
    pub documented: usize,
}

impl KindCount {
    /// `3 (1 documented)`, `2 (inferred)`, or `none`.
    pub fn describe(self) -> String {
        match (self.cases, self.documented) {
            (0, _) => "none".to_string(),
            (n, 0) => format!("{n} (none documented)"),
            (n, d) => format!("{n} ({d} documented)"),
        }
    }
}

impl<C: Covering> Trace<'_, C> {
    /// The element's cases counted per coverage kind, in [`CoverageKind::ALL`] order.
    pub fn kinds(&self) -> [KindCount; 3] {
        let mut out = [KindCount::default(); 3];
        for c in &self.cases {
            let k = CoverageKind::of(c.tags());
            let i = CoverageKind::ALL.iter().position(|x| *x == k).unwrap_or(0);
            out[i].cases += 1;
            if c.provenance() == Provenance::Documented {
                out[i].documented += 1;
            }
        }
        out
    }
}

/// One row of the traceability matrix.
pub struct Trace<'r, C> {
    pub element: String,
    pub kind: &'static str,
    pub what: String,
    pub cases: Vec<&'r C>,
    pub status: ElementStatus,
}

/// Every documented spec element (and any other a case names) with the cases that cover it.
pub fn traceability<C: Covering>(cases: &[C]) -> Vec<Trace<'_, C>> {
    let mut rows: Vec<Trace<C>> = SPEC_ELEMENTS
        .iter()
        .map(|(id, kind, what)| Trace {
            element: id.to_string(),
            kind,
            what: what.to_string(),
            cases: Vec::new(),
            status: ElementStatus::NotCovered,
        })
        .collect();
    for case in cases {
        for el in case.spec() {
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
        r.status = judge(r.cases.iter().map(|c| (c.status(), c.provenance())));
    }
    rows
}

/// One sample's outcome, as the report's summary records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SampleOutcome {
    /// `S1`..`S6`.
    pub element: String,
    pub status: ElementStatus,
    /// Cases of the run that cover it, and how many of them ran.
    pub cases: usize,
    pub ran: usize,
    /// Why it is not tested in full: every case that did not run, named under its reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Collects, as cases finish, what the summary needs to judge each sample.
#[derive(Debug, Default)]
pub struct Coverage {
    /// Per sample, the cases that cover it.
    entries: Vec<SampleCases>,
    /// The cases that wait for lab content, and per variable how many.
    lab: LabWaits,
}

/// Cases skipped because the profile does not set lab content (`[lab]` variables of
/// `cases/variables.toml`), and the variables that would unlock them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabWaits {
    pub cases: usize,
    /// In name order.
    pub variables: Vec<LabVariableWait>,
}

/// One lab variable the profile does not set, and how many skipped cases need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabVariableWait {
    pub variable: String,
    pub meaning: String,
    pub cases: usize,
}

impl LabWaits {
    pub fn add(&mut self, case: &CaseResult) {
        if case.verdict != Verdict::Skip || case.waits_for.is_empty() {
            return;
        }
        self.cases += 1;
        for need in &case.waits_for {
            match self
                .variables
                .binary_search_by(|v| v.variable.cmp(&need.variable))
            {
                Ok(i) => self.variables[i].cases += 1,
                Err(i) => self.variables.insert(
                    i,
                    LabVariableWait {
                        variable: need.variable.clone(),
                        meaning: need.meaning.clone(),
                        cases: 1,
                    },
                ),
            }
        }
    }

    /// "3 case(s) wait for lab content: set `a`, `b` in the profile's [vars]".
    pub fn sentence(&self) -> String {
        let names: Vec<String> = self
            .variables
            .iter()
            .map(|v| format!("`{}`", v.variable))
            .collect();
        format!(
            "{} case(s) wait for lab content: set {} in the profile's [vars] to unlock them",
            self.cases,
            names.join(", ")
        )
    }
}

/// A case id, its verdict and provenance, and why it did not run.
type Covered = (String, Verdict, Provenance, Option<String>);

/// The cases covering one sample. A case that ran and has no baseline entry matters to the
/// judgement only by its verdict and provenance, so such cases are counted, not listed: a large run
/// holds a few counters per sample instead of an id per case. The others are listed by id, in
/// order: the baseline's judgement looks a case up by id, and a reason names the cases that did not
/// run.
#[derive(Debug)]
struct SampleCases {
    element: String,
    /// How many cases ran with each verdict and provenance, unlisted.
    counted: Vec<(Verdict, Provenance, usize)>,
    listed: Vec<Covered>,
}

impl SampleCases {
    fn len(&self) -> usize {
        self.listed.len() + self.counted.iter().map(|(_, _, n)| n).sum::<usize>()
    }

    /// Each distinct status and provenance of its cases (all the judgement looks at), the
    /// counted cases judged as cases without a baseline entry.
    fn statuses<'a>(
        &'a self,
        status_of: impl Fn(&str, Verdict) -> CaseStatus + 'a,
    ) -> impl Iterator<Item = (CaseStatus, Provenance)> + 'a {
        let counted = self
            .counted
            .iter()
            .map(|(v, p, _)| (CaseStatus::of(*v, None), *p));
        let listed = self
            .listed
            .iter()
            .map(move |(id, v, p, _)| (status_of(id, *v), *p));
        counted.chain(listed)
    }
}

/// Whether a verdict means the case did not run (it is then named in its sample's reason).
fn did_not_run(v: Verdict) -> bool {
    matches!(v, Verdict::Skip | Verdict::NotRun | Verdict::Error)
}

impl Coverage {
    pub fn new() -> Coverage {
        Coverage {
            entries: SPEC_ELEMENTS
                .iter()
                .filter(|(_, kind, _)| *kind == "sample")
                .map(|(id, _, _)| SampleCases {
                    element: id.to_string(),
                    counted: Vec::new(),
                    listed: Vec::new(),
                })
                .collect(),
            lab: LabWaits::default(),
        }
    }

    /// The cases that wait for lab content, if any did.
    pub fn lab_waits(&self) -> Option<LabWaits> {
        (self.lab.cases > 0).then(|| self.lab.clone())
    }

    /// Adds a case; `in_baseline`: the run's baseline has an entry for it.
    pub fn add(&mut self, case: &CaseResult, in_baseline: bool) {
        self.lab.add(case);
        for covering in &mut self.entries {
            if !case.spec.contains(&covering.element) {
                continue;
            }
            let (v, p) = (case.verdict, case.provenance);
            if !in_baseline && !did_not_run(v) {
                match covering.counted.iter_mut().find(|c| (c.0, c.1) == (v, p)) {
                    Some(c) => c.2 += 1,
                    None => covering.counted.push((v, p, 1)),
                }
                continue;
            }
            let why = did_not_run(v).then(|| case.reason.clone()).flatten();
            covering.listed.push((case.id.clone(), v, p, why));
        }
    }

    /// Each sample's outcome, with the baseline's judgement of each case.
    pub fn samples(&self, known: &[KnownOutcome]) -> Vec<SampleOutcome> {
        self.entries
            .iter()
            .map(|covering| {
                let status_of = |id: &str, v: Verdict| {
                    CaseStatus::of(
                        v,
                        known
                            .iter()
                            .find(|k| k.case == id && k.status != KnownStatus::Skipped),
                    )
                };
                let status = judge(covering.statuses(status_of));
                let not_run = covering.listed.iter().filter(|c| did_not_run(c.1));
                let ran = covering.len() - not_run.clone().count();
                // Every case that did not run, named, under each reason once.
                let mut by_reason: Vec<(&str, Vec<String>)> = Vec::new();
                for (id, _, _, why) in not_run {
                    let why = why.as_deref().unwrap_or("not run");
                    match by_reason.iter_mut().find(|(w, _)| *w == why) {
                        Some((_, ids)) => ids.push(format!("`{id}`")),
                        None => by_reason.push((why, vec![format!("`{id}`")])),
                    }
                }
                let reason = (!by_reason.is_empty() && !status.tested()).then(|| {
                    let parts: Vec<String> = by_reason
                        .iter()
                        .map(|(why, ids)| format!("{}: {why}", ids.join(", ")))
                        .collect();
                    format!(
                        "{} of {} case(s) did not run; {}",
                        covering.len() - ran,
                        covering.len(),
                        parts.join("; ")
                    )
                });
                SampleOutcome {
                    element: covering.element.clone(),
                    status,
                    cases: covering.len(),
                    ran,
                    reason,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, verdict: &str, provenance: &str) -> CaseResult {
        serde_json::from_value(serde_json::json!({
            "id": id, "title": id, "spec": ["S1"], "provenance": provenance, "tags": [],
            "file": "a.toml", "sha256": "00", "verdict": verdict, "reason": format!("why {id}"),
            "steps": [], "duration_ms": 1}))
        .unwrap()
    }

    /// S1's outcome from cases added in order, `in_baseline` naming the cases the baseline lists.
    fn s1(cases: &[CaseResult], in_baseline: &[&str], known: &[KnownOutcome]) -> SampleOutcome {
        let mut coverage = Coverage::new();
        for c in cases {
            coverage.add(c, in_baseline.contains(&c.id.as_str()));
        }
        let samples = coverage.samples(known);
        samples.into_iter().find(|s| s.element == "S1").unwrap()
    }

    /// Counted or listed, the cases give the judgement and the counts a list of every case gave.
    #[test]
    fn counted_cases_judge_as_listed_ones_did() {
        let pass = |id: &str| case(id, "pass", "documented");
        let many: Vec<_> = (0..50).map(|i| pass(&format!("p{i}"))).collect();
        let all = s1(&many, &[], &[]);
        assert_eq!(
            (all.status, all.cases, all.ran),
            (ElementStatus::Pass, 50, 50)
        );

        let mut mixed = many.clone();
        mixed.push(case("w", "warn", "inferred"));
        mixed.push(case("s", "skip", "documented"));
        mixed.push(case("n", "not-run", "inferred"));
        let out = s1(&mixed, &[], &[]);
        assert_eq!(
            (out.status, out.cases, out.ran),
            (ElementStatus::Partial, 53, 51)
        );
        assert_eq!(
            out.reason.as_deref(),
            Some("2 of 53 case(s) did not run; `s`: why s; `n`: why n")
        );

        // An inferred case that did not run leaves a sample whose documented cases all ran whole.
        let mut inferred_skip = many.clone();
        inferred_skip.push(case("w", "warn", "documented"));
        inferred_skip.push(case("n", "not-run", "inferred"));
        let out = s1(&inferred_skip, &[], &[]);
        assert_eq!(
            (out.status, out.ran, out.reason),
            (ElementStatus::Warn, 51, None)
        );

        // A failure the baseline lists is judged by it; one it does not list fails the sample.
        let mut failing = many.clone();
        failing.push(case("f", "fail", "documented"));
        let known = KnownOutcome {
            case: "f".into(),
            reason: "r".into(),
            expires: "2099-01-01".into(),
            status: KnownStatus::Known,
        };
        let out = s1(&failing, &["f"], std::slice::from_ref(&known));
        assert_eq!(
            (out.status, out.cases, out.ran),
            (ElementStatus::Known, 51, 51)
        );
        assert_eq!(s1(&failing, &[], &[]).status, ElementStatus::Fail);
        assert_eq!(s1(&[], &[], &[]).status, ElementStatus::NotCovered);
    }
}

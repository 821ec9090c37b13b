//! Which parsed cases a suite keeps for its run, so that each case file is parsed once.
//!
//! A case's steps are most of what parsing it builds. Large suites repeat themselves (a matrix, a
//! generated corpus: the same request and expectations under other ids and roles), so equal steps
//! are kept once and shared: a suite of 10,000 cases with a handful of distinct step lists holds a
//! handful. Distinct steps are kept while their estimated size fits the budget; past it, a case
//! keeps only its slim outline and is rebuilt from its file when it runs, so that memory stays
//! bounded whatever the suite holds.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use sha2::Digest;

use crate::model::{Case, CaseOutline, Sha256, Step};

/// What a suite keeps parsed by default: the estimated bytes of its distinct steps and of the texts
/// only reports show (`source`, `rationale`). The embedded suite needs under 1 MiB of it.
pub const KEEP_BUDGET_BYTES: usize = 4 << 20;

/// The steps kept so far, by fingerprint, and what they are estimated to cost.
#[derive(Debug)]
pub struct Kept {
    budget: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    steps: HashMap<Sha256, Arc<[Step]>>,
    used: usize,
}

impl Kept {
    pub fn with_budget(budget: usize) -> Kept {
        Kept {
            budget,
            state: Mutex::default(),
        }
    }

    /// The outline of a freshly built case: with its steps (shared with every equal list kept
    /// before) while the budget allows, else slim.
    pub fn outline(&self, mut case: Case) -> CaseOutline {
        let (print, size) = fingerprint(&case.steps);
        let notes = case.header.notes.as_ref().map_or(0, |n| {
            n.source.as_ref().map_or(0, String::len) + n.rationale.as_ref().map_or(0, String::len)
        });
        // A poisoned lock only means another loading thread panicked, which stops the load anyway.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(shared) = state.steps.get(&print).cloned() {
            if state.used + notes <= self.budget {
                state.used += notes;
                case.steps = shared;
                return CaseOutline::kept(case);
            }
        } else if state.used + size + notes <= self.budget {
            state.used += size + notes;
            state.steps.insert(print, Arc::clone(&case.steps));
            return CaseOutline::kept(case);
        }
        CaseOutline::slim(&case)
    }
}

/// A fingerprint of a list of steps, and the length of the text it was taken from (an estimate of
/// what the parsed steps occupy).
///
/// The text is the steps' `Debug` form: every type a step is made of derives `Debug`, which writes
/// every field and value, so two lists with the same text are equal. It is hashed as it is written
/// (SHA-256, so that no case file can be made to collide with another), never held whole.
fn fingerprint(steps: &[Step]) -> (Sha256, usize) {
    struct Hashing {
        hasher: sha2::Sha256,
        len: usize,
    }
    impl std::fmt::Write for Hashing {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.hasher.update(s.as_bytes());
            self.len += s.len();
            Ok(())
        }
    }
    let mut h = Hashing {
        hasher: sha2::Sha256::new(),
        len: 0,
    };
    // Writing into a hasher cannot fail.
    let _ = write!(h, "{steps:?}");
    (Sha256(h.hasher.finalize().into()), h.len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuthMode, CaseHeader, Expectation, Request, StepPurpose};

    fn case(id: &str, path: &str) -> Case {
        let step = Step {
            name: "s".into(),
            always: false,
            purpose: StepPurpose::Check,
            capability: None,
            request: Request {
                method: "GET".into(),
                path: path.into(),
                auth: AuthMode::None,
                headers: Vec::new(),
                body: None,
                csrf: false,
                follow_redirects: false,
            },
            expect: Expectation::default(),
            notifications: Vec::new(),
            sent_from_env: Vec::new(),
            retry: None,
        };
        Case {
            header: CaseHeader {
                id: id.into(),
                title: id.into(),
                shape: Arc::new(crate::model::CaseShape {
                    spec: Arc::from(Vec::new()),
                    provenance: crate::model::Provenance::Inferred,
                    tags: Arc::from(Vec::new()),
                    agent_role: Arc::from("default"),
                    group: Arc::from("default"),
                    requires: Arc::from(Vec::new()),
                    costs: Arc::from(Vec::new()),
                    names_lab_resource: false,
                    needs_credentials: false,
                    listens: false,
                }),
                file: crate::model::CaseFile::new(std::path::Path::new("x.toml"), |d| Arc::from(d)),
                sha256: Sha256::default(),
                notes: None,
            },
            steps: Arc::from(vec![step]),
        }
    }

    #[test]
    fn equal_steps_are_kept_once_and_distinct_ones_while_they_fit() {
        let (_, one) = fingerprint(&case("a", "/a").steps);
        let kept = Kept::with_budget(2 * one);
        let a = kept.outline(case("a", "/a"));
        let b = kept.outline(case("b", "/a"));
        let c = kept.outline(case("c", "/c"));
        let d = kept.outline(case("d", "/d"));
        let (a, b) = (a.steps().unwrap(), b.steps().unwrap());
        assert!(std::ptr::eq(a, b), "equal steps share one allocation");
        assert_eq!(c.steps().unwrap()[0].request.path, "/c");
        assert!(d.steps().is_none(), "past the budget the outline is slim");
        // Still shared past the budget: an equal list costs nothing more.
        assert!(kept.outline(case("e", "/c")).steps().is_some());
    }

    #[test]
    fn steps_that_differ_anywhere_have_different_fingerprints() {
        let a = case("a", "/a");
        let mut b = case("a", "/a");
        assert_eq!(fingerprint(&a.steps), fingerprint(&b.steps));
        let mut steps = b.steps.to_vec();
        steps[0].expect.status = vec![crate::model::StatusPattern::Exact(200)];
        b.steps = steps.into();
        assert_ne!(fingerprint(&a.steps).0, fingerprint(&b.steps).0);
    }
}

//! Lab resources for a run without a pool: two cases that log in at one place, device or dynamic
//! number (see [`lab_resources`]) never run at once, whatever users they run as, since the second
//! would find it in use (409) and fail for the lab's sake, not the server's. A pool's dispatcher
//! holds the same locks (`plan::pool`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::load::Suite;
use crate::model::{lab_resources, CaseOutline};

/// One async lock per lab resource, made when a case first names it.
#[derive(Default)]
pub(super) struct LabLocks {
    by_name: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

/// The locks a running case holds, released when it is dropped.
pub(super) struct Held(#[allow(dead_code)] Vec<OwnedMutexGuard<()>>);

/// The lab resources `case` logs in at, in name order. Its file is read again (a slim outline is
/// rebuilt) only when its outline says it names one.
pub(super) fn resources_of(suite: &Suite, case: &CaseOutline) -> Vec<String> {
    if !case.names_lab_resource {
        return Vec::new();
    }
    let mut names = suite
        .case(case)
        .map(|c| lab_resources(&c.steps, c.provenance))
        .unwrap_or_default();
    names.sort();
    names
}

impl LabLocks {
    /// Waits until no running case holds any of `case`'s lab resources, and holds them. They are
    /// taken in name order, so two cases waiting for each other's cannot deadlock.
    pub(super) async fn hold(&self, suite: &Suite, case: &CaseOutline) -> Held {
        // A slim outline is rebuilt from its file; the case is rebuilt again to run (rare: only
        // cases that log in at a lab resource, in a suite past its keep budget).
        let names = resources_of(suite, case);
        let locks: Vec<Arc<AsyncMutex<()>>> = {
            let mut by_name = self.by_name.lock().unwrap_or_else(PoisonError::into_inner);
            names
                .into_iter()
                .map(|n| Arc::clone(by_name.entry(n).or_default()))
                .collect()
        };
        let mut held = Vec::with_capacity(locks.len());
        for l in locks {
            held.push(l.lock_owned().await);
        }
        Held(held)
    }
}

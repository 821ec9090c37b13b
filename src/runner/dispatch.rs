//! Runs a pool-scheduled plan (a profile's `[pool]`): one worker per user takes the next case the
//! dispatcher (`crate::plan::pool::Dispatch`) gives it, so that each user runs one case at a time
//! and a free user takes the longest case it may run.

use std::sync::Mutex;

use futures_util::StreamExt;
use tokio::sync::{mpsc, Notify, Semaphore};

use super::case::{run_case, Assigned};
use super::live::{self, Live};
use crate::execute::Transport;
use crate::load::Suite;
use crate::plan::pool::{explicit_group, Dispatch, Job, Next, Placement, PoolPlan};
use crate::plan::{shard, Plan};
use crate::record::UserChoice;

pub(super) type Sender = mpsc::UnboundedSender<Live>;

/// Runs every case of `plan` over its pool's users, at most `jobs` at once, sending each result.
/// `lost` says when the target has been lost: then no further case starts.
pub(super) async fn run_pool(
    suite: &Suite,
    plan: &Plan<'_>,
    pool: &PoolPlan,
    transport: &Transport,
    jobs: usize,
    tx: &Sender,
    lost: &(dyn Fn() -> Option<String> + Sync),
) {
    let rtt = plan.round_trip_ms.unwrap_or(shard::NOMINAL_RTT_MS);
    let jobs_known: Vec<Job<'_>> = plan
        .cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut locks: Vec<String> = explicit_group(c.case)
                .map(|g| format!("group {g}"))
                .into_iter()
                .collect();
            // The places and devices it logs in at (a large suite's case is rebuilt for it once).
            if c.skip.is_none() {
                locks.extend(super::lab_locks::resources_of(suite, c.case));
            }
            Job {
                placement: &pool.placement[i],
                listens: c.case.listens,
                expected_ms: plan.expected_ms(i, rtt),
                locks,
            }
        })
        .collect();
    let dispatch = Dispatch::new(pool.users.len(), pool.pool_size, &jobs_known);
    let shared = Shared {
        suite,
        plan,
        pool,
        transport,
        tx,
        lost,
        dispatch: Mutex::new(dispatch),
        changed: Notify::new(),
        permits: Semaphore::new(jobs.max(1)),
    };
    let workers = futures_util::future::join_all((0..pool.users.len()).map(|u| shared.worker(u)));
    futures_util::future::join(workers, shared.unplaced(jobs)).await;
}

struct Shared<'a, 'p> {
    suite: &'a Suite,
    plan: &'a Plan<'p>,
    pool: &'a PoolPlan,
    transport: &'a Transport,
    tx: &'a Sender,
    lost: &'a (dyn Fn() -> Option<String> + Sync),
    dispatch: Mutex<Dispatch>,
    /// Notified whenever a case finishes: a waiting user may have something to run.
    changed: Notify,
    permits: Semaphore,
}

impl Shared<'_, '_> {
    /// User `u`'s loop: take the next case, run it, until nothing is left for it.
    async fn worker(&self, u: usize) {
        loop {
            // Registered before asking, so that a finish in between is not missed.
            let changed = self.changed.notified();
            let next = self.dispatch.lock().expect("dispatch lock").next(u);
            let i = match next {
                Next::Done => return,
                Next::Wait => {
                    changed.await;
                    continue;
                }
                Next::Run(i) => i,
            };
            let Ok(_permit) = self.permits.acquire().await else {
                return;
            };
            // Once the target is lost no case starts (see the runner's in-order loop).
            if (self.lost)().is_some() {
                self.finished(i);
                return;
            }
            let planned = &self.plan.cases[i];
            let assigned = match &self.pool.placement[i] {
                Placement::Pinned { agent, why, .. } => Assigned {
                    agent,
                    by: UserChoice::Pinned { why: why.clone() },
                },
                _ => Assigned {
                    agent: &self.pool.users[u],
                    by: UserChoice::Pool,
                },
            };
            let _ = self.tx.send(Live::Started(i));
            let steps = live::StepSink::new(i, self.tx.clone());
            let case = run_case(
                self.suite,
                planned.case,
                planned.skip.as_deref(),
                self.transport,
                Some(&assigned),
            );
            let (mut result, reach) = live::STEPS.scope(steps, case).await;
            let group = format!("agent:{}", assigned.agent.username);
            result.group = Some(self.suite.redactor.redact(&group));
            self.finished(i);
            let _ = self.tx.send(Live::Finished(i, Box::new(result), reach));
        }
    }

    fn finished(&self, i: usize) {
        self.dispatch.lock().expect("dispatch lock").finish(i);
        self.changed.notify_waiters();
    }

    /// The cases that run on no user: skips, and cases that send no credentials and have no user.
    async fn unplaced(&self, jobs: usize) {
        let free = (0..self.plan.cases.len())
            .filter(|&i| matches!(self.pool.placement[i], Placement::Free));
        futures_util::stream::iter(free)
            .map(|i| async move {
                let planned = &self.plan.cases[i];
                let _ = self.tx.send(Live::Started(i));
                let steps = live::StepSink::new(i, self.tx.clone());
                let case = run_case(
                    self.suite,
                    planned.case,
                    planned.skip.as_deref(),
                    self.transport,
                    None,
                );
                let (mut result, reach) = live::STEPS.scope(steps, case).await;
                result.group = Some(self.suite.redactor.redact(&planned.case.group));
                let _ = self.tx.send(Live::Finished(i, Box::new(result), reach));
            })
            .buffer_unordered(jobs.max(1))
            .for_each(|_| async {})
            .await;
    }
}

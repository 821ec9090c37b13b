//! Scheduling over a profile's `[pool]` of users: which cases may run as any pool user and which
//! stay pinned to one (and why), and the dispatcher that hands each free user its next case.
//!
//! The dispatcher minimises the makespan by longest-expected-first: a free user takes the longest
//! case it may run. Isolation rules:
//! - a user runs one case at a time (a user is busy from taking a case until it finishes);
//! - a notification case (one that listens on CometD) runs only on a user that has run nothing but
//!   notification cases so far in the run, so that no earlier case of its user (its late events, a
//!   session it left) is around its windows; notification cases are therefore handed out first, and
//!   while any is left, one pool user keeps to them;
//! - a case whose lab content belongs to one user (a role the catalogue says needs a particular
//!   user), or whose role the profile maps to a user of its own, is pinned to that user;
//! - cases that log in at one place or device (a `place` or `devicePath` in a request body) never
//!   overlap, whatever their users: a fixed role->user map kept them on one user, and a device
//!   held by one user's session refuses another's login (409);
//! - cases naming one serial group (`group = "..."` in the case file) never overlap.

use std::collections::BTreeMap;

use crate::load::catalogue;
use crate::load::profile::{Agent, Profile};
use crate::model::CaseOutline;

use super::PlannedCase;

/// Where a planned case runs.
#[derive(Debug, Clone)]
pub enum Placement {
    /// On whichever pool user is free.
    Pool,
    /// On one user only (an index into [`PoolPlan::users`]), with these credentials, and why.
    Pinned {
        user: usize,
        agent: Agent,
        why: String,
    },
    /// On no user: a skipped case, or one that sends no credentials and has no user of its own.
    Free,
}

/// A pool-scheduled plan: the users, and where each planned case runs.
#[derive(Debug)]
pub struct PoolPlan {
    /// The pool's users first (`users[..pool_size]`), then the users only pinned cases use.
    pub users: Vec<Agent>,
    pub pool_size: usize,
    /// One per planned case.
    pub placement: Vec<Placement>,
}

/// Roles whose lab user matters only for the cases that log in at a named place or device: `params`
/// needs "the agent whose default place is ${single_device_place}" for the one case that logs in
/// there (any other user's default-place login would be refused by that user's session); its other
/// cases (malformed channels, operation names, bodies) log in at the user's own default place and may
/// run as any user.
const PINNED_AT_A_PLACE_ONLY: &[&str] = &["params"];

/// Roles with a case that expects its user's own lab content (the device of the user's default
/// place, named by a lab variable): on another user that expectation would be wrong.
const USER_CONTENT: &[(&str, &str)] = &[
    (
        "notify",
        "`default-place-login-lands` and `default-assignment-restored` expect its user's default place device, ${default_place_device_number}",
    ),
    (
        "sample6",
        "`s6-dynamic-number-events-on-default-dn` expects its user's default place number, ${sample6_default_place_number}",
    ),
];

/// Why a case stays on its role's user even with a pool, or None when any pool user will do.
pub fn pin_reason(case: &CaseOutline, profile: &Profile) -> Option<String> {
    let role = &*case.agent_role;
    if let Some((_, why)) = USER_CONTENT.iter().find(|(r, _)| *r == role) {
        return Some(format!("role `{role}`: {why}"));
    }
    let info = catalogue::ROLES.iter().find(|r| r.name == role);
    if let Some(need) = info.and_then(|r| r.lab_user) {
        if PINNED_AT_A_PLACE_ONLY.contains(&role) && !case.names_lab_resource {
            return None;
        }
        return Some(format!("role `{role}`: its lab user must be {need}"));
    }
    (role != "default" && profile.agents.contains_key(role))
        .then(|| format!("role `{role}` has a user of its own in the profile ([agents.{role}])"))
}

/// Places every planned case, when the profile has a pool.
pub fn place(cases: &[PlannedCase<'_>], profile: &Profile) -> Option<PoolPlan> {
    if profile.pool.is_empty() {
        return None;
    }
    let mut users: Vec<Agent> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for a in &profile.pool {
        index.entry(a.username.clone()).or_insert_with(|| {
            users.push(a.clone());
            users.len() - 1
        });
    }
    let pool_size = users.len();
    let placement = cases
        .iter()
        .map(|p| {
            if p.skip.is_some() {
                return Placement::Free;
            }
            let case = p.case;
            let why = explicit_group(case)
                .map(|g| format!("the case names serial group `{g}`"))
                .or_else(|| pin_reason(case, profile));
            let Some(why) = why else {
                return Placement::Pool;
            };
            match profile.agent(&case.agent_role) {
                Some((_, agent)) => {
                    let user = *index.entry(agent.username.clone()).or_insert_with(|| {
                        users.push(agent.clone());
                        users.len() - 1
                    });
                    Placement::Pinned {
                        user,
                        agent: agent.clone(),
                        why,
                    }
                }
                None => Placement::Free,
            }
        })
        .collect();
    Some(PoolPlan {
        users,
        pool_size,
        placement,
    })
}

/// The serial group a case names itself, if it does (the loader's own groups are `agent:<user>` and
/// `role:<role>`).
pub fn explicit_group(case: &CaseOutline) -> Option<&str> {
    let g = &*case.group;
    (!g.starts_with("agent:") && !g.starts_with("role:")).then_some(g)
}

/// What a free user is told.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Run(usize),
    /// Nothing it may run now; something may become runnable when another case finishes.
    Wait,
    /// Nothing is left for it.
    Done,
}

/// What the dispatcher knows of a case.
pub struct Job<'a> {
    pub placement: &'a Placement,
    /// A notification case (it listens on CometD).
    pub listens: bool,
    pub expected_ms: u64,
    /// What it must not share with a running case: its explicit serial group (`group X`) and its
    /// [`lab_resources`](crate::model::lab_resources).
    pub locks: Vec<String>,
}

/// The dispatcher's state: the cases not yet handed out, each list sorted shortest first (taken from
/// the end), each user's state, and which locks (serial groups, lab resources) running cases hold.
pub struct Dispatch {
    pool_notify: Vec<usize>,
    pool_other: Vec<usize>,
    pinned_notify: Vec<Vec<usize>>,
    pinned_other: Vec<Vec<usize>>,
    pool_size: usize,
    /// The user has run only notification cases so far.
    clean: Vec<bool>,
    listens: Vec<bool>,
    /// Per case, the locks it holds while it runs.
    locks: Vec<Vec<usize>>,
    held: Vec<bool>,
}

impl Dispatch {
    /// Every planned case as a [`Job`] (a `Free` one is never handed out), over `users` users of
    /// which the first `pool_size` are the pool's.
    pub fn new(users: usize, pool_size: usize, jobs: &[Job<'_>]) -> Dispatch {
        let mut d = Dispatch {
            pool_notify: Vec::new(),
            pool_other: Vec::new(),
            pinned_notify: vec![Vec::new(); users],
            pinned_other: vec![Vec::new(); users],
            pool_size,
            clean: vec![true; users],
            listens: jobs.iter().map(|j| j.listens).collect(),
            locks: vec![Vec::new(); jobs.len()],
            held: Vec::new(),
        };
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, job) in jobs.iter().enumerate() {
            for name in &job.locks {
                let next = names.len();
                d.locks[i].push(*names.entry(name).or_insert(next));
            }
            let list = match (job.placement, job.listens) {
                (Placement::Pool, true) => &mut d.pool_notify,
                (Placement::Pool, false) => &mut d.pool_other,
                (Placement::Pinned { user, .. }, true) => &mut d.pinned_notify[*user],
                (Placement::Pinned { user, .. }, false) => &mut d.pinned_other[*user],
                (Placement::Free, _) => continue,
            };
            list.push(i);
        }
        d.held = vec![false; names.len()];
        // A case's weight: its expected duration, or the sum of the cases that share a lock with it
        // when larger, since those run one after another (left to the end, such a chain would keep
        // one user busy while the others wait).
        let mut chain = vec![0u64; names.len()];
        for (i, locks) in d.locks.iter().enumerate() {
            locks.iter().for_each(|l| chain[*l] += jobs[i].expected_ms);
        }
        let weight: Vec<u64> = (0..jobs.len())
            .map(|i| {
                let longest_chain = d.locks[i].iter().map(|l| chain[*l]).max().unwrap_or(0);
                jobs[i].expected_ms.max(longest_chain)
            })
            .collect();
        // Lightest first, so that the heaviest is popped first; ties: earlier cases first.
        let order = |v: &mut Vec<usize>| {
            v.sort_by_key(|&i| (weight[i], jobs[i].expected_ms, std::cmp::Reverse(i)));
        };
        order(&mut d.pool_notify);
        order(&mut d.pool_other);
        d.pinned_notify.iter_mut().for_each(order);
        d.pinned_other.iter_mut().for_each(order);
        d
    }

    /// The next case for free user `user`: its own pinned notification cases, then (while it has run
    /// only notification cases, and any are left) the pool's, then its other pinned cases, then the
    /// pool's others; in each, the longest whose locks are free. A user with a notification case
    /// of its own left waits for it rather than take another kind of case, and so does the last
    /// pool user that has run only notification cases while the pool's are left (so that one
    /// always can run them).
    pub fn next(&mut self, user: usize) -> Next {
        let in_pool = user < self.pool_size;
        if let Some(next) = self.first_free(user, List::PinnedNotify(user), true) {
            return next;
        }
        if in_pool && self.clean[user] {
            // The last clean pool user keeps itself for the pool's notification cases that wait
            // on a lock; the others may go on to other cases meanwhile.
            let clean = self.clean[..self.pool_size].iter().filter(|c| **c).count();
            if let Some(next) = self.first_free(user, List::PoolNotify, clean <= 1) {
                return next;
            }
        }
        if let Some(next) = self.first_free(user, List::PinnedOther(user), false) {
            return next;
        }
        if in_pool {
            if let Some(next) = self.first_free(user, List::PoolOther, false) {
                return next;
            }
        }
        let left = !self.pinned_other[user].is_empty() || in_pool && !self.pool_other.is_empty();
        if left {
            Next::Wait
        } else {
            Next::Done
        }
    }

    /// From one list: the longest case whose locks are free (taken), else `Wait` when the list is
    /// not empty and `must` (nothing else may come first), else None.
    fn first_free(&mut self, user: usize, list: List, must: bool) -> Option<Next> {
        let (locks, held) = (&self.locks, &self.held);
        let free = |i: &usize| locks[*i].iter().all(|l| !held[*l]);
        let cases = match list {
            List::PinnedNotify(u) => &mut self.pinned_notify[u],
            List::PoolNotify => &mut self.pool_notify,
            List::PinnedOther(u) => &mut self.pinned_other[u],
            List::PoolOther => &mut self.pool_other,
        };
        match cases.iter().rposition(free) {
            Some(pos) => {
                let i = cases.remove(pos);
                if !self.listens[i] {
                    self.clean[user] = false;
                }
                for l in &self.locks[i] {
                    self.held[*l] = true;
                }
                Some(Next::Run(i))
            }
            None => (must && !cases.is_empty()).then_some(Next::Wait),
        }
    }

    /// Case `i` has finished: its locks are free again.
    pub fn finish(&mut self, i: usize) {
        for l in &self.locks[i] {
            self.held[*l] = false;
        }
    }
}

#[derive(Clone, Copy)]
enum List {
    PinnedNotify(usize),
    PoolNotify,
    PinnedOther(usize),
    PoolOther,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One case as the simulation sees it: where it may run, whether it listens, how long it takes
    /// and what it locks.
    struct Spec {
        placement: Placement,
        listens: bool,
        ms: u64,
        locks: Vec<String>,
    }

    fn pinned(user: usize) -> Placement {
        Placement::Pinned {
            user,
            agent: Agent {
                username: format!("u{user}"),
                password: crate::secret::Secret::new("pw-1234"),
            },
            why: "test".into(),
        }
    }

    /// Runs the dispatcher as the runner does, in simulated time (each case takes exactly its
    /// expected duration): returns each case's (user, start, end).
    fn simulate(users: usize, pool_size: usize, specs: &[Spec]) -> Vec<(usize, u64, u64)> {
        let jobs: Vec<Job<'_>> = specs
            .iter()
            .map(|s| Job {
                placement: &s.placement,
                listens: s.listens,
                expected_ms: s.ms,
                locks: s.locks.clone(),
            })
            .collect();
        let mut d = Dispatch::new(users, pool_size, &jobs);
        let mut ran = vec![None; specs.len()];
        let mut running: Vec<(u64, usize, usize)> = Vec::new(); // (end, user, case)
        let mut free: Vec<bool> = vec![true; users];
        let mut done = vec![false; users];
        let mut now = 0;
        loop {
            for u in 0..users {
                if free[u] && !done[u] {
                    match d.next(u) {
                        Next::Run(i) => {
                            free[u] = false;
                            ran[i] = Some((u, now, now + specs[i].ms));
                            running.push((now + specs[i].ms, u, i));
                        }
                        Next::Done => done[u] = true,
                        Next::Wait => {}
                    }
                }
            }
            running.sort();
            if running.is_empty() {
                break;
            }
            let (end, u, i) = running.remove(0);
            now = end;
            free[u] = true;
            d.finish(i);
        }
        let wanted = specs
            .iter()
            .filter(|s| !matches!(s.placement, Placement::Free));
        assert_eq!(
            ran.iter().flatten().count(),
            wanted.count(),
            "every case ran"
        );
        ran.into_iter()
            .map(|r| r.unwrap_or((usize::MAX, 0, 0)))
            .collect()
    }

    fn overlap(a: (usize, u64, u64), b: (usize, u64, u64)) -> bool {
        a.1 < b.2 && b.1 < a.2
    }

    fn spec(placement: Placement, listens: bool, ms: u64, locks: &[&str]) -> Spec {
        Spec {
            placement,
            listens,
            ms,
            locks: locks.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn the_longest_case_goes_first_to_a_free_user() {
        // LPT on 2 users: 5+1 | 4+2 => 6; in case order (5,1,2,4 round robin) it would be 7.
        let specs: Vec<Spec> = [5u64, 1, 2, 4]
            .iter()
            .map(|&ms| spec(Placement::Pool, false, ms, &[]))
            .collect();
        let ran = simulate(2, 2, &specs);
        assert_eq!(ran.iter().map(|r| r.2).max(), Some(6), "{ran:?}");
    }

    /// 400 pseudo-random mixes (a fixed linear congruential sequence, so the test is the same every
    /// time) checked against every isolation rule.
    #[test]
    fn no_user_runs_two_cases_and_notification_cases_have_their_user_to_themselves() {
        let mut seed = 0x2545_f491_u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        for round in 0..400 {
            let users = 1 + next(6) as usize;
            let pool_size = users - next(2).min(users as u64 - 1) as usize;
            let specs: Vec<Spec> = (0..40)
                .map(|_| {
                    let placement = match next(10) {
                        0 | 1 => pinned(next(users as u64) as usize),
                        _ => Placement::Pool,
                    };
                    let lock = format!("place P{}", next(8));
                    let locks: Vec<&str> = if next(2) == 0 { vec![&lock] } else { vec![] };
                    spec(placement, next(4) == 0, 1 + next(30), &locks)
                })
                .collect();
            let ran = simulate(users, pool_size, &specs);
            for (i, a) in ran.iter().enumerate() {
                if let Placement::Pinned { user, .. } = specs[i].placement {
                    assert_eq!(a.0, user, "round {round}: case {i} is pinned");
                } else {
                    assert!(
                        a.0 < pool_size,
                        "round {round}: case {i} ran on a pool user"
                    );
                }
                for (j, b) in ran.iter().enumerate().skip(i + 1) {
                    let same_user = a.0 == b.0;
                    assert!(
                        !(same_user && overlap(*a, *b)),
                        "round {round}: {i} and {j}"
                    );
                    let shared = specs[i].locks.iter().any(|l| specs[j].locks.contains(l));
                    assert!(!(shared && overlap(*a, *b)), "round {round}: lock {i} {j}");
                }
                // Nothing but notification cases before a notification case on its user.
                if specs[i].listens {
                    let before = ran
                        .iter()
                        .enumerate()
                        .filter(|(j, b)| b.0 == a.0 && b.2 <= a.1 && *j != i);
                    for (j, _) in before {
                        assert!(specs[j].listens, "round {round}: case {j} before {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn cases_of_one_place_never_run_at_once() {
        let specs = vec![
            spec(Placement::Pool, false, 10, &["place P"]),
            spec(Placement::Pool, false, 10, &["place P"]),
            spec(Placement::Pool, false, 1, &[]),
        ];
        let ran = simulate(3, 3, &specs);
        assert!(!overlap(ran[0], ran[1]), "{ran:?}");
        assert_eq!(ran.iter().map(|r| r.2).max(), Some(20));
    }
}

//! `doctor` on a profile's `[pool]`: its users (probed with the roles' users, see `probe_users`),
//! where the suite's cases run, the pinned roles a pool cannot serve, and role `auth`'s wrong
//! passwords landing on a pool user. Decided by the planner `run` uses, so doctor says what a run
//! would do.

use std::collections::{BTreeMap, BTreeSet};

use gws_conform::load::Suite;
use gws_conform::plan::pool::{pin_reason, Placement};
use gws_conform::plan::{self, Selection};

use super::{item, Item, Mark};

/// The roles whose cases all run on the pool's users (none is pinned): the profile need not name a
/// user for them. Empty without a pool.
pub fn roles_on_pool(suite: &Suite) -> BTreeSet<String> {
    let profile = &suite.profile;
    if profile.pool.is_empty() {
        return BTreeSet::new();
    }
    let mut pinned = BTreeSet::new();
    let mut all = BTreeSet::new();
    for case in suite.cases.iter().filter(|c| c.needs_credentials) {
        let role = case.agent_role.to_string();
        if pin_reason(case, profile).is_some() {
            pinned.insert(role.clone());
        }
        all.insert(role);
    }
    all.difference(&pinned).cloned().collect()
}

/// The pool's checklist lines; none without a pool. `variable` is the environment variable its
/// password is read from, when the profile names one.
pub fn items(suite: &Suite, variable: Option<&str>) -> Vec<Item> {
    let profile = &suite.profile;
    if profile.pool.is_empty() {
        return Vec::new();
    }
    let mut out = vec![placement(suite, variable)];
    out.extend(unserved_roles(suite));
    let pool: BTreeSet<&str> = profile.pool.iter().map(|a| a.username.as_str()).collect();
    if let Some((_, auth)) = profile.agent("auth") {
        if pool.contains(auth.username.as_str()) {
            // A failed login on the server's books: a lockout would stop every case the pool
            // hands that user.
            out.push(item(
                Mark::Warn,
                format!(
                    "role `auth` sends deliberately wrong passwords for user `{}`, which is in the pool: a lockout policy on the target would lock it for the pool's cases too",
                    suite.redactor.redact(&auth.username)
                ),
                Some("give role `auth` a user outside the pool, one no lockout policy protects (or ignore this if the target has none)".into()),
            ));
        }
    }
    out
}

/// One line: the pool's users and password, and how many cases run on it or stay pinned.
fn placement(suite: &Suite, variable: Option<&str>) -> Item {
    let plan = plan::plan(&suite.cases, &Selection::default(), &suite.profile);
    let placed = plan.pool.as_ref().map(|p| p.placement.as_slice());
    let (mut pooled, mut pinned) = (0, 0);
    for at in placed.unwrap_or_default() {
        match at {
            Placement::Pool => pooled += 1,
            Placement::Pinned { .. } => pinned += 1,
            Placement::Free => {}
        }
    }
    let users: Vec<String> = suite
        .profile
        .pool
        .iter()
        .map(|a| format!("`{}`", suite.redactor.redact(&a.username)))
        .collect();
    let password = variable.map_or("the environment".to_string(), |v| format!("${v}"));
    item(
        Mark::Ok,
        format!(
            "pool: {} user(s) ({}), password from {password}: {pooled} case(s) run on whichever is free, {pinned} pinned to their role's user",
            users.len(),
            users.join(", ")
        ),
        None,
    )
}

/// The roles whose cases must stay on a user of their own and have none (no `[agents.ROLE]`, no
/// `[agents.default]`): `run` skips those cases, since a pool user will not do.
fn unserved_roles(suite: &Suite) -> Vec<Item> {
    let profile = &suite.profile;
    let mut unserved: BTreeMap<&str, (usize, String)> = BTreeMap::new();
    for case in suite.cases.iter().filter(|c| c.needs_credentials) {
        let role = &*case.agent_role;
        if profile.agent(role).is_some() {
            continue;
        }
        if let Some(why) = pin_reason(case, profile) {
            let why = why
                .strip_prefix(&format!("role `{role}`: "))
                .unwrap_or(&why)
                .to_string();
            unserved.entry(role).or_insert((0, why)).0 += 1;
        }
    }
    unserved
        .into_iter()
        .map(|(role, (n, why))| {
            item(
                Mark::Warn,
                format!("role `{role}` must run as a user of its own ({why}), and the profile gives none: its {n} case(s) will be skipped (a pool user will not do)"),
                Some(format!("add [agents.{role}]")),
            )
        })
        .collect()
}

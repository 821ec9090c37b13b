//! Stage 2, **plan**: which cases run, which are skipped and why, in which serial groups, and which
//! shard of a partitioned run this is, and (with a profile's `[pool]`) where each case may run.

pub mod pool;
pub mod shard;

use std::collections::BTreeMap;

use sha2::Digest;

use crate::load::timings::Timings;
use crate::load::Profile;
use crate::model::{CaseOutline, Provenance};

/// Which cases to run. Every filter that is set must match (an empty list matches everything).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Substrings of a case's names, `<spec>/<id>` (see [`Selection::names`]).
    pub ids: Vec<String>,
    pub tags: Vec<String>,
    pub provenance: Vec<Provenance>,
    /// Spec elements, exact (`S4`) or as a prefix ending in `.` or `*` (`param.`, `param.*`).
    pub spec: Vec<String>,
    /// Substrings of a case's names that leave it out (`--skip`).
    pub skip: Vec<String>,
    pub partition: Option<Partition>,
    /// `--timings report.json`: each case's duration in an earlier run.
    pub timings: Option<Timings>,
}

/// This is shard K of N. `hash:K/N`: a case belongs to the shard its id hashes to, so the split is
/// stable however the suite grows. `time:K/N` and `user:K/N`: serial groups (users) are spread over
/// the shards longest first (see [`shard::balanced_shards`]), by their durations in `--timings`
/// (required by `time:`), else by their estimated durations; a group's cases stay in one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub split: Split,
    pub shard: u32,
    pub count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Hash,
    Time,
    User,
}

const PARTITION_SYNTAX: &str =
    "a partition is written `hash:K/N`, `time:K/N` or `user:K/N`, e.g. hash:1/4";

impl std::str::FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (split, rest) = match s.split_once(':') {
            Some(("hash", rest)) => (Split::Hash, rest),
            Some(("time", rest)) => (Split::Time, rest),
            Some(("user", rest)) => (Split::User, rest),
            _ => return Err(format!("`{s}`: {PARTITION_SYNTAX}")),
        };
        let (k, n) = rest
            .split_once('/')
            .ok_or_else(|| format!("`{s}`: {PARTITION_SYNTAX}"))?;
        let shard: u32 = k
            .parse()
            .map_err(|_| format!("`{k}` is not a shard number"))?;
        let count: u32 = n
            .parse()
            .map_err(|_| format!("`{n}` is not a shard count"))?;
        if count == 0 || shard == 0 || shard > count {
            return Err(format!("`{s}`: K must be between 1 and N"));
        }
        Ok(Partition {
            split,
            shard,
            count,
        })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let split = match self.split {
            Split::Hash => "hash",
            Split::Time => "time",
            Split::User => "user",
        };
        write!(f, "{split}:{}/{}", self.shard, self.count)
    }
}

impl Partition {
    /// For `hash:K/N`: whether the case id hashes to this shard.
    pub fn contains(&self, id: &str) -> bool {
        let d = sha2::Sha256::digest(id.as_bytes());
        let h = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
        (h % u64::from(self.count)) as u32 == self.shard - 1
    }
}

impl Selection {
    pub fn selects(&self, case: &CaseOutline) -> bool {
        (self.ids.is_empty()
            || self
                .ids
                .iter()
                .any(|i| Selection::names(case).any(|n| n.contains(i.as_str()))))
            && (self.tags.is_empty() || self.tags.iter().any(|t| case.tags.contains(t)))
            && (self.provenance.is_empty() || self.provenance.contains(&case.provenance))
            && (self.spec.is_empty()
                || self
                    .spec
                    .iter()
                    .any(|s| case.spec.iter().any(|c| spec_matches(s, c))))
            && !self
                .skip
                .iter()
                .any(|k| Selection::names(case).any(|n| n.contains(k.as_str())))
            && self
                .partition
                .is_none_or(|p| p.split != Split::Hash || p.contains(&case.id))
    }

    /// Each `--skip` value that matches no case, with the nearest case id.
    pub fn unmatched_skips(&self, cases: &[CaseOutline]) -> Vec<String> {
        self.skip
            .iter()
            .filter(|k| {
                !cases
                    .iter()
                    .any(|c| Selection::names(c).any(|n| n.contains(k.as_str())))
            })
            .map(|k| {
                let ids = cases.iter().map(|c| &*c.id);
                let hint = crate::load::diagnostic::did_you_mean(k, ids).map(str::to_string);
                describe_miss("name", k, hint).replace("no case has", "--skip: no case has")
            })
            .collect()
    }
}

impl Selection {
    /// A case's names, as `cargo test` sees them (tests/cases.rs): `<spec>/<id>` for each spec
    /// element, so that `run S4` and `cargo test -- S4` select the same cases.
    pub fn names(case: &CaseOutline) -> impl Iterator<Item = String> + '_ {
        case.spec.iter().map(move |s| format!("{s}/{}", case.id))
    }

    /// Whether nothing but the shard is asked for.
    pub fn is_unfiltered(&self) -> bool {
        self.ids.is_empty()
            && self.tags.is_empty()
            && self.provenance.is_empty()
            && self.spec.is_empty()
            && self.skip.is_empty()
    }

    /// For a selection that matched nothing: each filter value that matches no case, with the
    /// nearest value that does.
    pub fn suggestions(&self, cases: &[CaseOutline]) -> Vec<String> {
        let mut out = Vec::new();
        let near = |wanted: &str, known: &mut dyn Iterator<Item = String>| {
            let known: Vec<String> = known.collect();
            known
                .iter()
                .map(|k| {
                    (
                        strsim::jaro_winkler(&wanted.to_lowercase(), &k.to_lowercase()),
                        k,
                    )
                })
                .filter(|(score, _)| *score > 0.85)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, k)| k.clone())
        };
        for i in &self.ids {
            if !cases
                .iter()
                .any(|c| Selection::names(c).any(|n| n.contains(i.as_str())))
            {
                let hint = near(i, &mut cases.iter().map(|c| c.id.to_string()));
                out.push(describe_miss("name", i, hint));
            }
        }
        for t in &self.tags {
            if !cases.iter().any(|c| c.tags.contains(t)) {
                let hint = near(t, &mut cases.iter().flat_map(|c| c.tags.iter().cloned()));
                out.push(describe_miss("tag", t, hint));
            }
        }
        for s in &self.spec {
            if !cases
                .iter()
                .any(|c| c.spec.iter().any(|e| spec_matches(s, e)))
            {
                let hint = near(s, &mut cases.iter().flat_map(|c| c.spec.iter().cloned()));
                out.push(describe_miss("spec element", s, hint));
            }
        }
        out
    }
}

fn describe_miss(what: &str, value: &str, hint: Option<String>) -> String {
    match hint {
        Some(h) => format!("no case has the {what} `{value}`; did you mean `{h}`?"),
        None => format!("no case has the {what} `{value}`"),
    }
}

fn spec_matches(filter: &str, element: &str) -> bool {
    if let Some(prefix) = filter.strip_suffix('*') {
        element.starts_with(prefix)
    } else if filter.ends_with('.') {
        element.starts_with(filter)
    } else {
        filter.eq_ignore_ascii_case(element)
    }
}

/// One case in the plan: run it, or skip it for a reason.
#[derive(Debug, Clone)]
pub struct PlannedCase<'s> {
    pub case: &'s CaseOutline,
    pub skip: Option<Skip>,
}

/// Why a planned case is skipped. One pointer wide: every planned case has the field for the whole
/// run, and few have a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(Box<Box<str>>);

impl From<&str> for Skip {
    fn from(reason: &str) -> Skip {
        Skip(Box::new(reason.into()))
    }
}

impl std::ops::Deref for Skip {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// The cases to run, in case order, and the serial groups they run in.
#[derive(Debug)]
pub struct Plan<'s> {
    pub cases: Vec<PlannedCase<'s>>,
    /// Indexes into `cases`, one list per serial group, each list in case order (u32: one per case).
    pub groups: Vec<Vec<u32>>,
    /// With a profile's `[pool]`: the users and where each case runs (the runner's dispatcher
    /// replaces the serial groups).
    pub pool: Option<pool::PoolPlan>,
    /// `--timings`: expected durations from an earlier run.
    pub timings: Option<Timings>,
    /// The round trip the preflight measured, for the expected durations of cases `--timings`
    /// does not give (set by the caller once the preflight has run).
    pub round_trip_ms: Option<u64>,
}

/// The most serial groups a run starts at once by default.
pub const MAX_DEFAULT_JOBS: usize = 64;

impl Plan<'_> {
    /// Cases run at once when `--jobs` is not given: every serial group at once, up to
    /// [`MAX_DEFAULT_JOBS`]. A run waits on the target far more than it computes (a remote GWS adds
    /// its round trip to every exchange), so concurrency follows the work's shape, not the core
    /// count; the CPU work (checks) runs on the runtime's worker threads, one per core, and rendering
    /// on its own threads after the run, so it stays bounded by the cores anyway.
    pub fn default_jobs(&self) -> usize {
        match &self.pool {
            // Every user at once, and the cases that run on none (skips).
            Some(p) => (p.users.len() + 1).clamp(1, MAX_DEFAULT_JOBS),
            None => self.groups.len().clamp(1, MAX_DEFAULT_JOBS),
        }
    }

    /// How long case `i` is expected to take with round trips of `rtt_ms`.
    pub fn expected_ms(&self, i: usize, rtt_ms: u64) -> u64 {
        shard::expected_ms(self.cases[i].case, self.timings.as_ref(), rtt_ms)
    }
}

pub fn plan<'s>(cases: &'s [CaseOutline], selection: &Selection, profile: &Profile) -> Plan<'s> {
    let mut planned: Vec<PlannedCase> = cases
        .iter()
        .filter(|c| selection.selects(c))
        .map(|case| PlannedCase {
            case,
            skip: skip_reason(case, profile).as_deref().map(Skip::from),
        })
        .collect();
    if let Some(p) = selection.partition.filter(|p| p.split != Split::Hash) {
        let outlines: Vec<&CaseOutline> = planned.iter().map(|c| c.case).collect();
        let timings = selection.timings.as_ref();
        let durations: Vec<u64> = outlines
            .iter()
            .map(|c| shard::expected_ms(c, timings, shard::NOMINAL_RTT_MS))
            .collect();
        let shards = shard::balanced_shards(&outlines, &durations, p.count);
        let mut k = shards.into_iter();
        planned.retain(|_| k.next() == Some(p.shard - 1));
    }
    planned.shrink_to_fit();
    let mut by_group: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (i, p) in planned.iter().enumerate() {
        by_group.entry(&*p.case.group).or_default().push(i as u32);
    }
    let mut groups: Vec<Vec<u32>> = by_group
        .into_values()
        .map(|mut g| {
            g.shrink_to_fit();
            g
        })
        .collect();
    // Start the longest groups first, so that the run's length is not set by a long group started last.
    groups.sort_by_key(|g| (std::cmp::Reverse(g.len()), g[0]));
    let pool = pool::place(&planned, profile);
    Plan {
        cases: planned,
        groups,
        pool,
        timings: selection.timings.clone(),
        round_trip_ms: None,
    }
}

/// Turn-taking inside serial groups: a case waits for the previous case of its group to finish.
///
/// With this, a runner can start cases in case order (a bounded window ahead of the oldest unfinished
/// one) rather than whole groups at a time, so that results can be reported in case order without
/// holding most of a large suite's results while one long group finishes.
///
/// The cases of a group finish in their order (each waits for the one before), so a group's state is
/// how many of its cases have finished, and a case's is its group and its place in it: 8 bytes a
/// case, where a flag and a `Notify` per case cost a 10,000-case run about half a MiB.
pub struct Turns {
    /// Per case, its group (`NO_GROUP` for a case in none) and how many of the group come before it.
    place: Vec<(u32, u32)>,
    /// Per group, how many of its cases have finished, and the wake-up of the cases waiting on it.
    groups: Vec<(std::sync::atomic::AtomicU32, tokio::sync::Notify)>,
}

const NO_GROUP: u32 = u32::MAX;

impl Turns {
    pub fn new(plan: &Plan<'_>) -> Turns {
        Turns::of_groups(plan.cases.len(), &plan.groups)
    }

    /// The turns of `cases` cases in `groups` (each a list of case indices, in case order).
    fn of_groups(cases: usize, groups: &[Vec<u32>]) -> Turns {
        let mut place = vec![(NO_GROUP, 0); cases];
        for (g, group) in groups.iter().enumerate() {
            for (k, &i) in group.iter().enumerate() {
                place[i as usize] = (g as u32, k as u32);
            }
        }
        Turns {
            place,
            groups: groups.iter().map(|_| Default::default()).collect(),
        }
    }

    /// Resolves once case `i` may start: the previous case of its group has finished.
    pub async fn wait(&self, i: usize) {
        let (g, k) = self.place[i];
        if g == NO_GROUP || k == 0 {
            return;
        }
        let (finished, notify) = &self.groups[g as usize];
        loop {
            // Registered before the check, so a `finish` in between is not missed.
            let notified = notify.notified();
            if finished.load(std::sync::atomic::Ordering::Acquire) >= k {
                return;
            }
            notified.await;
        }
    }

    /// Case `i` has finished; its group's next case may start.
    pub fn finish(&self, i: usize) {
        let (g, k) = self.place[i];
        if g == NO_GROUP {
            return;
        }
        let (finished, notify) = &self.groups[g as usize];
        finished.fetch_max(k + 1, std::sync::atomic::Ordering::Release);
        notify.notify_waiters();
    }
}

/// Why a case cannot run against this profile: every missing piece, in one reason (an unset
/// environment variable, lab content the profile does not set, a capability it does not declare,
/// credentials for the case's role).
fn skip_reason(case: &CaseOutline, profile: &Profile) -> Option<String> {
    let mut why = Vec::new();
    let needs_env = case.needs_env();
    if !needs_env.is_empty() {
        why.push(format!(
            "needs the environment variable{} {}, which {} not set",
            plural(needs_env.len()),
            quoted_list(needs_env.iter().map(String::as_str)),
            if needs_env.len() == 1 { "is" } else { "are" }
        ));
    }
    let needs_lab = case.needs_lab();
    if !needs_lab.is_empty() {
        why.push(format!(
            "waits for lab content: profile `{}` does not set {} in [vars]",
            profile.name,
            needs_lab
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let missing: Vec<&str> = case
        .requires
        .iter()
        .filter(|r| !profile.capabilities.contains(r.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        why.push(format!(
            "requires {} that profile `{}` does not declare in `capabilities`",
            quoted_list(missing.iter().copied()),
            profile.name
        ));
    }
    let pooled = !profile.pool.is_empty() && pool::pin_reason(case, profile).is_none();
    if why.is_empty()
        && case.needs_credentials
        && !pooled
        && profile.agent(&case.agent_role).is_none()
        && !profile.pool.is_empty()
    {
        let pin = pool::pin_reason(case, profile).unwrap_or_default();
        why.push(format!(
            "needs a user of its own for agent role `{}` ({pin}), and profile `{}` gives none: a pool user will not do; add [agents.{}]",
            case.agent_role, profile.name, case.agent_role
        ));
    }
    if why.is_empty()
        && case.needs_credentials
        && !pooled
        && profile.agent(&case.agent_role).is_none()
    {
        why.push(format!(
            "needs credentials for agent role `{}`, and profile `{}` has none (add [agents.default], or set GWS_USERNAME and GWS_PASSWORD)",
            case.agent_role, profile.name
        ));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn quoted_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A case waits for the one before it in its group, and only for that one.
    #[test]
    fn a_case_waits_for_its_groups_previous_case_only() {
        use futures_util::FutureExt;
        // Cases 0, 2, 3 are one group, 1 and 4 another; 5 is in none.
        let turns = Turns::of_groups(6, &[vec![0, 2, 3], vec![1, 4]]);
        let ready = |i: usize| turns.wait(i).now_or_never().is_some();
        assert_eq!(
            (0..6).map(ready).collect::<Vec<_>>(),
            [true, true, false, false, false, true]
        );
        let mut third = Box::pin(turns.wait(2));
        assert!((&mut third).now_or_never().is_none());
        turns.finish(1);
        assert!(ready(4) && !ready(2) && !ready(3));
        turns.finish(0);
        assert!(
            (&mut third).now_or_never().is_some(),
            "woken by its predecessor"
        );
        assert!(!ready(3));
        turns.finish(2);
        assert!(ready(3));
        turns.finish(5);
        assert!(ready(5));
    }

    #[test]
    fn partitions_split_every_id_into_exactly_one_shard() {
        let ids: Vec<String> = (0..200).map(|i| format!("case-{i}")).collect();
        let parts: Vec<Partition> = (1..=4)
            .map(|k| format!("hash:{k}/4").parse().unwrap())
            .collect();
        for id in &ids {
            assert_eq!(parts.iter().filter(|p| p.contains(id)).count(), 1);
        }
        // Not all in one shard.
        assert!(parts.iter().all(|p| ids.iter().any(|i| p.contains(i))));
    }

    #[test]
    fn partition_syntax_errors() {
        assert!("hash:0/4".parse::<Partition>().is_err());
        assert!("hash:5/4".parse::<Partition>().is_err());
        assert!("1/4".parse::<Partition>().unwrap_err().contains("hash:K/N"));
        let p: Partition = "user:2/3".parse().unwrap();
        assert_eq!((p.split, p.shard, p.count), (Split::User, 2, 3));
        assert_eq!(p.to_string(), "user:2/3");
        assert!("time:4/3".parse::<Partition>().is_err());
    }

    #[test]
    fn spec_filters() {
        assert!(spec_matches("param.", "param.workmode"));
        assert!(spec_matches("param.*", "param.workmode"));
        assert!(spec_matches("s4", "S4"));
        assert!(!spec_matches("S4", "S5"));
    }
}

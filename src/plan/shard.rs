//! Expected case durations, and shards balanced by them: `--partition time:K/N` and `user:K/N`.

use std::collections::BTreeMap;

use crate::load::timings::Timings;
use crate::model::CaseOutline;

/// The round trip a partition's estimates assume: shards are computed before any preflight, and
/// every shard must compute the same split, so no measured value may enter it.
pub const NOMINAL_RTT_MS: u64 = 100;

/// How long a case is expected to take: its duration in `timings` when it ran there, else
/// [`estimate_ms`] with `rtt_ms`.
pub fn expected_ms(case: &CaseOutline, timings: Option<&Timings>, rtt_ms: u64) -> u64 {
    timings
        .and_then(|t| t.get(&case.id))
        .unwrap_or_else(|| estimate_ms(case, rtt_ms))
}

/// A case's expected duration from what it is known to wait for: one round trip per step, one for
/// its session (the CSRF token or the login before CometD), four more for the CometD session of a
/// case that listens (handshake, subscribe, the first connect, disconnect), each absence window
/// whole, and each awaited message's settle. Read from the case's shape (see
/// [`CaseShape`](crate::model::CaseShape)), so every case has one, kept steps or not.
pub fn estimate_ms(case: &CaseOutline, rtt_ms: u64) -> u64 {
    let cometd = if case.listens { 4 * rtt_ms } else { 0 };
    let steps: u64 = case
        .costs
        .iter()
        .map(|c| {
            let heard = c.heard_settle_ms.map_or(0, |s| rtt_ms + s);
            rtt_ms + c.absent_ms.max(heard)
        })
        .sum();
    steps + rtt_ms + cometd
}

/// Splits the cases into `count` shards, longest serial group first onto the least-loaded shard
/// (LPT), and returns each case's shard (0-based). Cases of one serial group (one user) stay in one
/// shard. Ties go to the group that comes first in case order and to the lowest shard, so every
/// shard computes the same split from the same suite, whatever its profile's user names.
pub fn balanced_shards(cases: &[&CaseOutline], durations: &[u64], count: u32) -> Vec<u32> {
    let mut units: BTreeMap<&str, (usize, u64, Vec<usize>)> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        let unit = units.entry(&*c.group).or_insert((i, 0, Vec::new()));
        unit.1 += durations[i];
        unit.2.push(i);
    }
    let mut units: Vec<(usize, u64, Vec<usize>)> = units.into_values().collect();
    units.sort_by_key(|(first, ms, _)| (std::cmp::Reverse(*ms), *first));
    let mut load = vec![0u64; count.max(1) as usize];
    let mut shard = vec![0u32; cases.len()];
    for (_, ms, members) in units {
        let (k, _) = load
            .iter()
            .enumerate()
            .min_by_key(|(k, l)| (**l, *k))
            .expect("at least one shard");
        load[k] += ms;
        for i in members {
            shard[i] = k as u32;
        }
    }
    shard
}

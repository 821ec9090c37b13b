//! Scheduling over a profile's `[pool]` of users, and shards balanced by time or kept by user
//! (`--partition time:K/N`, `user:K/N`): the real binary against the embedded reference server.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use support::{root, run};

const PASSWORD: &str = "pool-test-pw";
const LIMIT: Duration = Duration::from_secs(120);

/// The reference profile with its roles replaced by a pool of `users` users and only `pinned`
/// roles mapped (each to its reference user).
fn pool_profile(dir: &Path, users: usize, pinned: &[&str]) -> std::path::PathBuf {
    let text = std::fs::read_to_string(root().join("profiles/reference.toml")).unwrap();
    let (head, agents) = text.split_once("[agents.default]").unwrap();
    let agents = format!("[agents.default]{agents}");
    let mut out = head.replace("target = \"http://127.0.0.1:8090\"\n", "");
    let names: Vec<String> = (1..=users).map(|n| format!("\"agent{n}\"")).collect();
    out.push_str(&format!(
        "[pool]\nusers = [{}]\npassword = \"${{env:GWS_PASSWORD}}\"\n\n",
        names.join(", ")
    ));
    for block in agents.split("\n[agents.") {
        let block = block.trim_start_matches("[agents.");
        let role = block.split(']').next().unwrap();
        if pinned.contains(&role) {
            out.push_str(&format!("[agents.{}\n", block.trim_end()));
        }
    }
    let p = dir.join(format!("pool{users}.toml"));
    std::fs::write(&p, out).unwrap();
    p
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

const PINNED: &[&str] = &[
    "sample4",
    "params",
    "multimedia",
    "auth",
    "notify4",
    "notify",
    "sample6",
];

#[test]
fn a_pool_runs_the_suite_over_its_users_and_pins_the_roles_whose_user_is_special() {
    let dir = tempfile::tempdir().unwrap();
    let profile = pool_profile(dir.path(), 6, PINNED);
    let out = dir.path().join("r");
    let r = run(
        &[
            "run",
            "-q",
            "--profile",
            profile.to_str().unwrap(),
            "--report-dir",
            out.to_str().unwrap(),
        ],
        &root(),
        &[
            ("GWS_PASSWORD", PASSWORD),
            ("GWS_AGENT_LOGIN_PASSWORD", "switch-pw"),
        ],
        LIMIT,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let rep = report(&out);
    let pool: BTreeSet<String> = (1..=6).map(|n| format!("agent{n}")).collect();
    let mut by_user: BTreeMap<String, usize> = BTreeMap::new();
    for c in rep["cases"].as_array().unwrap() {
        let agent = &c["agent"];
        let role = agent["role"].as_str().unwrap();
        let user = agent["user"].as_str().unwrap().to_string();
        let by = agent["scheduled"]["by"].as_str().unwrap();
        // `params` needs its user only for the case that logs in at ${single_device_place}.
        let needs_its_user = if ["notify", "sample6"].contains(&role) {
            true
        } else if role == "params" {
            c["id"] == "param-accepted[devicePath.single-device]"
        } else {
            PINNED.contains(&role)
        };
        if needs_its_user {
            assert_eq!(by, "pinned", "{c}");
            let why = agent["scheduled"]["why"].as_str().unwrap();
            assert!(why.starts_with(&format!("role `{role}`: ")), "{why}");
        } else {
            assert_eq!(by, "pool", "{c}");
            assert!(pool.contains(&user), "{user} is not a pool user");
        }
        assert_eq!(c["group"], format!("agent:{user}"));
        *by_user.entry(user).or_default() += 1;
    }
    // Spread: every pool user ran cases.
    assert!(pool.iter().all(|u| by_user.contains_key(u)), "{by_user:?}");
    // The preflight probed every pool user.
    let probed: BTreeSet<&str> = rep["run"]["preflight"]["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["user"].as_str())
        .collect();
    assert!(
        pool.iter().all(|u| probed.contains(u.as_str())),
        "{probed:?}"
    );
}

#[test]
fn a_role_that_needs_its_own_user_is_skipped_when_the_pool_profile_gives_none() {
    let dir = tempfile::tempdir().unwrap();
    let profile = pool_profile(dir.path(), 3, &[]);
    let r = run(
        &[
            "list",
            "--wide",
            "--profile",
            profile.to_str().unwrap(),
            "s4-partial-success",
        ],
        &root(),
        &[("GWS_PASSWORD", PASSWORD)],
        LIMIT,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("a pool user will not do; add [agents.sample4]"),
        "{}",
        r.stdout
    );
}

/// The case ids `list` prints for a selection.
fn listed(args: &[&str]) -> Vec<String> {
    let mut all = vec!["list", "--wide", "--profile", "profiles/reference.toml"];
    all.extend_from_slice(args);
    let r = run(&all, &root(), &[("GWS_PASSWORD", PASSWORD)], LIMIT);
    assert_eq!(r.code, 0, "{}", r.stderr);
    rows(&r.stdout).map(|(id, _)| id).collect()
}

/// `list --wide`'s rows: each case id and its role.
fn rows(listing: &str) -> impl Iterator<Item = (String, String)> + '_ {
    listing.lines().filter_map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        let provenance = ["documented", "observed", "inferred"];
        (cols.len() > 2 && provenance.contains(&cols[1]))
            .then(|| (cols[0].to_string(), cols[2].to_string()))
    })
}

#[test]
fn user_shards_keep_each_user_in_one_shard_and_cover_every_case_once() {
    let every: BTreeSet<String> = listed(&[]).into_iter().collect();
    let role_of = role_map();
    let mut seen = BTreeSet::new();
    let mut users_seen: BTreeMap<String, usize> = BTreeMap::new();
    for k in 1..=3 {
        let shard = listed(&["--partition", &format!("user:{k}/3")]);
        assert!(!shard.is_empty(), "shard {k} is empty");
        for id in shard {
            let user = &role_of[&id];
            let prev = users_seen.insert(user.clone(), k);
            assert!(
                prev.is_none_or(|p| p == k),
                "{user} in shards {prev:?} and {k}"
            );
            assert!(seen.insert(id.clone()), "{id} in two shards");
        }
    }
    assert_eq!(seen, every);
}

/// Each case id's user in the reference profile (its role's, from `list`).
fn role_map() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(root().join("profiles/reference.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let agents = table["agents"].as_table().unwrap();
    let r = run(
        &["list", "--wide", "--profile", "profiles/reference.toml"],
        &root(),
        &[("GWS_PASSWORD", PASSWORD)],
        LIMIT,
    );
    rows(&r.stdout)
        .map(|(id, role)| {
            let agent = agents.get(&role).or(agents.get("default")).unwrap();
            (id, agent["username"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn time_shards_need_timings_and_balance_by_them() {
    let r = run(
        &[
            "list",
            "--profile",
            "profiles/reference.toml",
            "--partition",
            "time:1/2",
        ],
        &root(),
        &[("GWS_PASSWORD", PASSWORD)],
        LIMIT,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("needs --timings REPORT"), "{}", r.stderr);

    // A report where one user's one case is far the longest: it has a shard to itself.
    let every = listed(&[]);
    let role_of = role_map();
    let long = "notify-s1-twice";
    let cases: Vec<serde_json::Value> = every
        .iter()
        .map(|id| {
            let ms = if id == long { 100_000 } else { 100 };
            serde_json::json!({"id": id, "verdict": "pass", "duration_ms": ms})
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let timings = dir.path().join("report.json");
    std::fs::write(&timings, serde_json::json!({"cases": cases}).to_string()).unwrap();
    let t = timings.to_str().unwrap();
    let one = listed(&["--partition", "time:1/2", "--timings", t]);
    let two = listed(&["--partition", "time:2/2", "--timings", t]);
    let long_user = &role_of[long];
    let (with, without) = if one.contains(&long.to_string()) {
        (one, two)
    } else {
        (two, one)
    };
    assert!(with.iter().all(|id| &role_of[id] == long_user), "{with:?}");
    assert_eq!(with.len() + without.len(), every.len());
}

/// A login refused only by our inference holds its place: under `workmode-case-insensitive` the
/// server logs `workmode-wrong-case-*` in at Sample 5's place (a conforming answer, which warns), and
/// with `slow-logout` the place stays held 3 s after End. Had those cases held nothing, the pool
/// would run them beside the cases that must log in there, which would get 409 and fail.
#[test]
fn an_inferred_refusal_holds_its_place_in_a_pool() {
    let dir = tempfile::tempdir().unwrap();
    let served = support::Served::start(
        &[
            "--variant",
            "workmode-case-insensitive",
            "--variant",
            "slow-logout",
        ],
        PASSWORD,
        "sw-pool-wci",
    );
    let profile = pool_profile(dir.path(), 6, PINNED);
    let out = dir.path().join("r");
    let r = run(
        &[
            "run",
            "--target",
            &served.url,
            "--profile",
            profile.to_str().unwrap(),
            "--report-dir",
            out.to_str().unwrap(),
            "workmode-wrong",
            "s5-",
            "workmode-auto",
        ],
        &root(),
        &[
            ("GWS_PASSWORD", PASSWORD),
            ("GWS_AGENT_LOGIN_PASSWORD", "sw-pool-wci"),
        ],
        LIMIT,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(" 0 failed"), "{}", r.stdout);
}

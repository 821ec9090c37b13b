//! The role and capability catalogue (`src/load/catalogue.rs`) describes every role a case uses and
//! every capability a profile may name, and the README's "Roles and capabilities" tables are the
//! ones generated from it. Regenerate them with `UPDATE_README=1 cargo test --test catalogue` (or
//! paste `gws-conform init --print-reference-table`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use gws_conform::load::catalogue::{self, CAPABILITIES, ROLES};
use gws_conform::load::names::DOCUMENTED_CAPABILITIES;
use gws_conform::load::{load_suite, Env, Sources, Suite};

const START: &str = "<!-- roles-and-capabilities:start (generated: UPDATE_README=1 cargo test --test catalogue) -->\n";
const END: &str = "<!-- roles-and-capabilities:end -->";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn suite() -> Suite {
    let sources = Sources {
        cases_dir: root().join("cases"),
        schemas_dir: root().join("schemas"),
        profile: Some(root().join("profiles/reference.toml")),
    };
    let env = Env::empty()
        .with("GWS_PASSWORD", "x")
        .with("GWS_AGENT_LOGIN_PASSWORD", "y");
    load_suite(&sources, &env).unwrap()
}

#[test]
fn every_role_and_capability_is_described_and_every_description_is_used() {
    let suite = suite();
    let described: BTreeSet<&str> = ROLES.iter().map(|r| r.name).collect();
    let used: BTreeSet<&str> = suite.cases.iter().map(|c| &*c.agent_role).collect();
    let undescribed: Vec<&&str> = used.difference(&described).collect();
    assert!(
        undescribed.is_empty(),
        "roles used by cases but not described in src/load/catalogue.rs ROLES: {undescribed:?}"
    );
    let unused: Vec<&&str> = described.difference(&used).collect();
    assert!(
        unused.is_empty(),
        "roles described in src/load/catalogue.rs but used by no case: {unused:?}"
    );
    let caps: BTreeSet<&str> = CAPABILITIES.iter().map(|c| c.name).collect();
    let mut named: BTreeSet<&str> = DOCUMENTED_CAPABILITIES.iter().copied().collect();
    named.extend(
        suite
            .cases
            .iter()
            .flat_map(|c| c.requires.iter().map(String::as_str)),
    );
    let missing: Vec<&&str> = named.difference(&caps).collect();
    assert!(
        missing.is_empty(),
        "capabilities not described in src/load/catalogue.rs CAPABILITIES: {missing:?}"
    );
    // The reference profile maps each role to agent{slot}.
    for r in ROLES {
        let (_, agent) = suite.profile.agent(r.name).unwrap();
        assert_eq!(
            agent.username,
            format!("agent{}", r.slot),
            "role {}",
            r.name
        );
    }
}

#[test]
fn the_readme_table_is_generated_from_the_catalogue() {
    let table = catalogue::reference_table(&catalogue::counts(&suite().cases));
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (before, rest) = readme
        .split_once(START)
        .expect("README.md has the roles-and-capabilities start marker");
    let (current, after) = rest.split_once(END).expect("README.md has the end marker");
    if current == table {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(&path, format!("{before}{START}{table}{END}{after}")).unwrap();
        return;
    }
    panic!("README.md's \"Roles and capabilities\" tables are out of date with src/load/catalogue.rs and the cases; regenerate them with `UPDATE_README=1 cargo test --test catalogue` (or paste `gws-conform init --print-reference-table`)");
}

#[test]
fn the_reference_directory_has_one_agent_per_role() {
    // profiles/reference.toml gives each role agent{slot}; `gws-conform serve` must know every one, and
    // hold no agent that no role uses (init's default, one user per role, is the reference mapping).
    let directory = gws_reference::Directory::builtin("pw", "lc");
    let expected: BTreeSet<String> = ROLES.iter().map(|r| format!("agent{}", r.slot)).collect();
    let held: BTreeSet<String> = directory
        .agent_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    assert_eq!(held, expected);
    assert_eq!(gws_reference::directory::BUILTIN_AGENTS, ROLES.len());
}

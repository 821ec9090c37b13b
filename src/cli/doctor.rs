//! `doctor`: the preflight and every check possible without running a case, as a checklist with a
//! suggested fix per item. Exit 0 when nothing failed, 1 on a failure, 2 on a usage error, a profile
//! that does not load, or a target that cannot be reached. No secret is printed: every line passes
//! through the suite's redactor.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use gws_conform::execute::preflight::{ProbeUser, ME_PATH, POOL_ROLE};
use gws_conform::execute::probe::{self, TargetFacts};
use gws_conform::execute::Transport;
use gws_conform::load::catalogue::{self, Discovery};
use gws_conform::load::{self, Env, Suite, Transport as CometdTransport};
use gws_conform::secret::Redactor;

use super::exit;

mod pool;

#[derive(Args)]
pub struct DoctorArgs {
    /// The profile to check.
    #[arg(long)]
    pub profile: PathBuf,
    /// The server to check it against. Default: the profile's `target`.
    #[arg(long)]
    pub target: Option<String>,
    /// Folder of case files (default: ./cases if present, else the built-in suite).
    #[arg(long)]
    pub cases: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    Ok,
    /// Not wrong, but something left to do: lab content the profile does not set yet.
    Todo,
    Warn,
    Fail,
}

/// One line of the checklist.
pub struct Item {
    pub mark: Mark,
    pub what: String,
    pub fix: Option<String>,
}

fn item(mark: Mark, what: impl Into<String>, fix: Option<String>) -> Item {
    Item {
        mark,
        what: what.into(),
        fix,
    }
}

pub async fn doctor(args: DoctorArgs) -> u8 {
    let input = super::InputArgs {
        cases: args.cases.clone(),
        schemas: None,
        profile: Some(args.profile.clone()),
    };
    let env = Env::from_process().unset_skips_case();
    let suite = match super::suite::load_or_report(&input.suite_sources(false), &env) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let Some(target) = args.target.clone().or_else(|| suite.profile.target.clone()) else {
        eprintln!(
            "error: {} names no target: give --target URL",
            args.profile.display()
        );
        return exit::ERROR;
    };
    if let Err(e) = super::args_check::target(&target) {
        eprintln!("error: {e}");
        return exit::ERROR;
    }
    let transport = match Transport::new(&target, &suite.profile) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let users = probe_users(&suite);
    let facts = match probe::probe_target(&transport, &users, &suite.redactor).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {}", suite.redactor.redact(&e.to_string()));
            return exit::ERROR;
        }
    };
    let env_names = password_variables(&args.profile);
    let mut items = vec![target_item(&facts)];
    items.extend(credentials(&facts, &env_names));
    items.push(csrf(&suite, &facts));
    items.push(transport_item(&suite, &facts));
    items.extend(capabilities(&suite, &facts));
    items.extend(shared_users(&suite));
    items.extend(pool::items(
        &suite,
        env_names.get(POOL_ROLE).map(String::as_str),
    ));
    items.extend(variables(&suite));
    items.extend(sent_as_is(&suite));
    print(&args, &target, &items, &suite.redactor);
    if items.iter().any(|i| i.mark == Mark::Fail) {
        exit::FAIL
    } else {
        exit::PASS
    }
}

fn print(args: &DoctorArgs, target: &str, items: &[Item], redactor: &Redactor) {
    outln!(
        "doctor: profile {} against {}",
        args.profile.display(),
        redactor.redact(target)
    );
    for i in items {
        let mark = match i.mark {
            Mark::Ok => "ok  ",
            Mark::Todo => "todo",
            Mark::Warn => "warn",
            Mark::Fail => "FAIL",
        };
        // The items are the tool's words with outside values masked where they were put in (as a
        // report masks values, not its own prose): a password `password` must not mask the word.
        outln!("{mark}  {}", i.what);
        if let Some(f) = &i.fix {
            outln!("      fix: {f}");
        }
    }
    let count = |m: Mark| items.iter().filter(|i| i.mark == m).count();
    outln!(
        "\n{} ok, {} to do, {} warning(s), {} failed",
        count(Mark::Ok),
        count(Mark::Todo),
        count(Mark::Warn),
        count(Mark::Fail)
    );
}

/// One probe user per distinct user name of the profile's roles and `[pool]` (a pool user's role
/// is [`POOL_ROLE`], as in `run`'s preflight).
fn probe_users(suite: &Suite) -> Vec<ProbeUser<'_>> {
    let mut by_user: BTreeMap<&str, ProbeUser> = BTreeMap::new();
    let roles = suite.profile.agents.iter().map(|(r, a)| (r.as_str(), a));
    let pool = suite.profile.pool.iter().map(|a| (POOL_ROLE, a));
    for (role, agent) in roles.chain(pool) {
        by_user
            .entry(agent.username.as_str())
            .or_insert_with(|| ProbeUser {
                roles: Vec::new(),
                agent,
            })
            .roles
            .push(role.to_string());
    }
    by_user.into_values().collect()
}

/// The environment variable each role's password is read from (`agents.ROLE.password`), and the
/// pool's (`pool.password`, under [`POOL_ROLE`]).
fn password_variables(profile: &std::path::Path) -> BTreeMap<String, String> {
    let table: toml::Table = std::fs::read_to_string(profile)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_default();
    let variable = |t: &toml::Value| {
        let pw = t.get("password")?.as_str()?;
        Some(pw.strip_prefix("${env:")?.strip_suffix('}')?.to_string())
    };
    let agents = table.get("agents").and_then(|a| a.as_table());
    let mut names: BTreeMap<String, String> = agents
        .into_iter()
        .flatten()
        .filter_map(|(role, a)| Some((role.clone(), variable(a)?)))
        .collect();
    if let Some(name) = table.get("pool").and_then(variable) {
        names.insert(POOL_ROLE.to_string(), name);
    }
    names
}

fn target_item(facts: &TargetFacts) -> Item {
    match &facts.preflight.server_version {
        Some(v) => item(Mark::Ok, format!("target answers: version `{v}`"), None),
        None => item(
            Mark::Warn,
            format!("target answers, but {}", facts.diagnostics.how),
            Some("cases that require `diagnostics` will fail: leave it out of capabilities".into()),
        ),
    }
}

fn credentials(facts: &TargetFacts, env_names: &BTreeMap<String, String>) -> Vec<Item> {
    let probes = facts.preflight.record.probes.iter().skip(1);
    probes
        .filter(|p| p.request.ends_with(ME_PATH))
        .map(|p| {
            let user = p.user.as_deref().unwrap_or_default();
            let (who, tables) = whose_credentials(&p.roles, user);
            let vars: Vec<String> = p
                .roles
                .iter()
                .filter_map(|r| env_names.get(r).map(|v| format!("${v}")))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            match p.status {
                Some(s) if (200..300).contains(&s) => {
                    item(Mark::Ok, format!("{who}: accepted"), None)
                }
                Some(s @ (401 | 403)) => item(
                    Mark::Fail,
                    format!("{who}: rejected ({s} on GET {ME_PATH})"),
                    Some(format!(
                        "check the user name in {tables} and the password in {}",
                        if vars.is_empty() {
                            "the environment".into()
                        } else {
                            vars.join(", ")
                        }
                    )),
                ),
                _ => item(
                    Mark::Warn,
                    format!("{who}: {}", p.error.as_deref().unwrap_or(&p.found)),
                    Some("check that the target is a GWS server and that the user exists".into()),
                ),
            }
        })
        .collect()
}

/// Whose credentials a probe tried, in words (`credentials of role `a`, `b` (user `u`)`, `... of
/// pool user `u``), and the profile tables that name the user (`[agents.a]`, `[pool] users`).
fn whose_credentials(roles: &[String], user: &str) -> (String, String) {
    let pooled = roles.iter().any(|r| r == POOL_ROLE);
    let named: Vec<&String> = roles.iter().filter(|r| *r != POOL_ROLE).collect();
    let listed: Vec<String> = named.iter().map(|r| format!("`{r}`")).collect();
    let who = match (listed.is_empty(), pooled) {
        (true, _) => format!("credentials of pool user `{user}`"),
        (false, true) => format!(
            "credentials of role {} and the pool (user `{user}`)",
            listed.join(", ")
        ),
        (false, false) => format!("credentials of role {} (user `{user}`)", listed.join(", ")),
    };
    let mut tables: Vec<String> = named
        .first()
        .map(|r| format!("[agents.{r}]"))
        .into_iter()
        .collect();
    if pooled {
        tables.push("[pool] users".to_string());
    }
    (who, tables.join(" and "))
}

fn csrf(suite: &Suite, facts: &TargetFacts) -> Item {
    let on = suite.profile.csrf;
    match (on, facts.csrf.detected) {
        // Not a failure: `run` sees the tokens in its preflight and sends them (as a client must).
        (false, Some(true)) => item(
            Mark::Warn,
            format!("CSRF: the profile says csrf = false, but {}: run sends the tokens anyway", facts.csrf.how),
            Some("set csrf = true in the profile".into()),
        ),
        (true, Some(false)) => item(
            Mark::Warn,
            format!("CSRF: the profile says csrf = true, but {}", facts.csrf.how),
            Some("if the target does not use CSRF tokens, set csrf = false (and drop the `csrf` capability)".into()),
        ),
        (_, Some(_)) => item(Mark::Ok, format!("CSRF: csrf = {on} agrees with the target ({})", facts.csrf.how), None),
        (_, None) => item(
            Mark::Warn,
            format!("CSRF: csrf = {on}, not checked: {}", facts.csrf.how),
            Some("fix the credentials above, then run doctor again".into()),
        ),
    }
}

fn transport_item(suite: &Suite, facts: &TargetFacts) -> Item {
    let choice = suite.profile.transport;
    let offered = facts.transports.clone();
    let Some(offered) = offered else {
        let wants = suite.profile.capabilities.contains("cometd");
        return item(
            if wants { Mark::Warn } else { Mark::Ok },
            format!(
                "CometD transport (transport = \"{}\"): not checked: {}",
                transport_name(choice),
                facts.cometd.how
            ),
            wants
                .then(|| "without a working handshake, the `cometd` cases cannot pass".to_string()),
        );
    };
    let list = suite.redactor.redact(&offered.join(", "));
    let ws = facts.websocket.detected == Some(true);
    let lp = offered.iter().any(|t| t == "long-polling");
    match choice {
        CometdTransport::Websocket if !ws => item(
            Mark::Fail,
            format!("CometD transport: the profile says transport = \"websocket\", but the target offers {list} ({})", facts.websocket.how),
            Some("set transport = \"auto\" (or \"long-polling\")".into()),
        ),
        CometdTransport::LongPolling if !lp => item(
            Mark::Fail,
            format!("CometD transport: the profile says transport = \"long-polling\", but the target offers only {list}"),
            Some("set transport = \"auto\" (or \"websocket\")".into()),
        ),
        _ => item(
            Mark::Ok,
            format!("CometD transport = \"{}\": the target offers {list}; WebSocket: {}", transport_name(choice), facts.websocket.how),
            None,
        ),
    }
}

/// The profile's spelling of a transport.
fn transport_name(t: CometdTransport) -> &'static str {
    match t {
        CometdTransport::Auto => "auto",
        CometdTransport::LongPolling => "long-polling",
        CometdTransport::Websocket => "websocket",
    }
}

fn capabilities(suite: &Suite, facts: &TargetFacts) -> Vec<Item> {
    let counts = catalogue::counts(&suite.cases);
    let claimed = &suite.profile.capabilities;
    let mut out = Vec::new();
    for c in catalogue::CAPABILITIES {
        let n = counts.capability(c.name);
        let has = claimed.contains(c.name);
        let evidence = facts.capability(c.name);
        let i = match (has, evidence.and_then(|e| e.detected)) {
            (true, Some(false)) => item(
                Mark::Fail,
                format!(
                    "capability `{}` is claimed, but the probe found it absent: {}",
                    c.name,
                    evidence.map(|e| e.how.as_str()).unwrap_or_default()
                ),
                Some(format!(
                    "remove `{}` from capabilities (its {n} case(s) would fail), or fix the target",
                    c.name
                )),
            ),
            (true, Some(true)) => item(
                Mark::Ok,
                format!("capability `{}`: claimed and detected", c.name),
                None,
            ),
            (false, Some(true)) => item(
                Mark::Warn,
                format!(
                    "capability `{}` is detected but not claimed: {n} case(s) will be skipped",
                    c.name
                ),
                Some(format!("add \"{}\" to capabilities", c.name)),
            ),
            (true, None) => match c.discovery {
                Discovery::Probed(_) => item(
                    Mark::Warn,
                    format!(
                        "capability `{}`: claimed, not checked ({})",
                        c.name,
                        evidence.map(|e| e.how.as_str()).unwrap_or("not probed")
                    ),
                    None,
                ),
                _ => item(
                    Mark::Ok,
                    format!(
                        "capability `{}`: claimed (cannot be probed; the lab must provide it)",
                        c.name
                    ),
                    None,
                ),
            },
            (false, _) => continue,
        };
        out.push(i);
    }
    out
}

/// One line about users shared by several roles: sharing is how a lab with fewer users than roles
/// runs the suite (the cases of one user run one at a time), not a mistake. Only role `auth`
/// sharing a user deserves a word of its own: its wrong passwords could lock that user out.
fn shared_users(suite: &Suite) -> Vec<Item> {
    let mut by_user: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (role, a) in &suite.profile.agents {
        by_user
            .entry(a.username.as_str())
            .or_default()
            .push(role.as_str());
    }
    let shared: Vec<(&str, &Vec<&str>)> = by_user
        .iter()
        .filter(|(_, r)| r.len() > 1)
        .map(|(u, r)| (*u, r))
        .collect();
    if shared.is_empty() {
        return Vec::new();
    }
    let roles = suite.profile.agents.len();
    let mut out = vec![item(
        Mark::Ok,
        format!(
            "{roles} roles on {} user(s), {} of them shared: the cases of one user run one at a time (serialised), so the run is slower, not different",
            by_user.len(),
            shared.len()
        ),
        None,
    )];
    if let Some((user, others)) = shared.iter().find(|(_, r)| r.contains(&"auth")) {
        // A wrong password is a failed login on the server's books: where a lockout policy counts
        // them, the user of every other role sharing it could be locked out mid-run.
        out.push(item(
            Mark::Warn,
            format!(
                "role `auth` sends deliberately wrong passwords for user `{}`, which roles {} share: a lockout policy on the target would lock it for them too",
                suite.redactor.redact(user),
                others.iter().filter(|r| **r != "auth").map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
            ),
            Some("give role `auth` a user of its own, one no lockout policy protects (or ignore this if the target has none)".to_string()),
        ));
    }
    out
}

/// Each lab variable the profile does not set, as a checklist item naming the cases it unlocks
/// (they are skipped until then: nothing is wrong, something is left to do); then unset environment
/// variables and undefined roles.
fn variables(suite: &Suite) -> Vec<Item> {
    let mut out = Vec::new();
    let mut waiting: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for case in &suite.cases {
        for need in case.needs_lab() {
            waiting.entry(&need.variable).or_default().push(&case.id);
        }
    }
    for (name, meaning) in suite.lab_variables() {
        let Some(cases) = waiting.get(name.as_str()) else {
            continue;
        };
        let mut shown = cases
            .iter()
            .take(3)
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if cases.len() > 3 {
            shown.push_str(&format!(", +{} more", cases.len() - 3));
        }
        out.push(item(
            Mark::Todo,
            format!(
                "lab variable `{name}` ({meaning}) is not set: it unlocks {} case(s): {shown}",
                cases.len()
            ),
            Some(format!("set {name} in [vars] to your lab's value")),
        ));
    }
    let mut unset: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &suite.cases {
        for v in case.needs_env() {
            *unset.entry(v.as_str()).or_default() += 1;
        }
    }
    for (v, n) in unset {
        out.push(item(
            Mark::Warn,
            format!("environment variable {v} is not set: {n} case(s) will be skipped"),
            Some(format!("export {v}")),
        ));
    }
    // With a pool, a role without a user runs on the pool, or is said by `pool::items`.
    let on_pool = pool::roles_on_pool(suite);
    let pool_says = |role: &str| {
        !suite.profile.pool.is_empty()
            && (on_pool.contains(role) || suite.profile.agent(role).is_none())
    };
    for role in catalogue::counts(&suite.cases).roles.keys() {
        if !suite.profile.agents.contains_key(role)
            && role != load::names::DEFAULT_ROLE
            && !pool_says(role)
        {
            out.push(item(
                Mark::Warn,
                format!(
                    "role `{role}` ({}) is used by cases but not defined: they log in as `default`",
                    catalogue::role(role).map_or("not in the catalogue", |r| r.purpose)
                ),
                Some(format!("add [agents.{role}]")),
            ));
        }
    }
    out
}

/// Each set environment variable a case sends as it is (Sample 3's switch password): doctor cannot
/// check it, since only a login would, so it says which case to look at when that one fails.
fn sent_as_is(suite: &Suite) -> Vec<Item> {
    let mut sent: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for outline in &suite.cases {
        let Ok(case) = suite.case(outline) else {
            continue;
        };
        for step in case.steps.iter() {
            for (member, var) in &step.sent_from_env {
                if !outline.needs_env().contains(var) {
                    let cases = sent.entry((var.clone(), member.clone())).or_default();
                    if !cases.contains(&&*outline.id) {
                        cases.push(&outline.id);
                    }
                }
            }
        }
    }
    sent.into_iter()
        .map(|((var, member), cases)| {
            let cases: Vec<String> = cases.iter().map(|c| format!("`{c}`")).collect();
            let what = format!(
                "environment variable {var} is set: {} sends it as `{member}` as it is; doctor cannot check it (only a login would): when that fails, check {var} first",
                cases.join(", ")
            );
            item(Mark::Ok, what, None)
        })
        .collect()
}

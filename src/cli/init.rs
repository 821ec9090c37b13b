//! `init`: probe a target and write a commented profile for it.
//!
//! Users: `--username NAME --agents N` gives N users. A NAME holding `{n}` has it replaced by 1..N
//! (`lab_{n}` → lab_1..lab_N); else the number is appended (`agent` → agent1..agentN), except with
//! `--agents 1`, where NAME is the one user as written. With one user per role (the default: 21),
//! role slot s (`catalogue::ROLES`) gets user s, the reference lab's mapping. With fewer, the roles
//! are spread so that each user carries about the same number of cases (the busiest role first, to
//! the least busy user). The reference lab's users are `agent1`..`agent21`
//! (`directory::BUILTIN_AGENTS`). Sharing is safe because the planner serialises the cases of one
//! user name (a case's default group is `agent:<user>`), so no two cases of one user ever run at
//! once, notification roles included.
//!
//! Passwords: `--password-env NAME` (default `GWS_PASSWORD`) names the variable every user's password
//! is read from; a NAME holding `{n}` gives each user its own (`GWS_PASSWORD_{n}` → GWS_PASSWORD_1 for
//! the first user, ...), for a lab with a password per user.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use gws_conform::execute::preflight::ProbeUser;
use gws_conform::execute::probe::{self, TargetFacts};
use gws_conform::execute::Transport;
use gws_conform::load::catalogue::{self, Discovery, ROLES};
use gws_conform::load::{Agent, Env, Profile};
use gws_conform::secret::{Redactor, Secret};
use gws_reference::directory::BUILTIN_AGENTS;

use super::embedded::PASSWORD_VAR;
use super::exit;
use super::init_users::{assign, password_variables, user_names};
use super::profile_text::{self, Decision, Draft};

#[derive(Args)]
pub struct InitArgs {
    /// Base URL of the server to probe, e.g. http://127.0.0.1:8090.
    #[arg(long, required_unless_present = "print_reference_table")]
    pub target: Option<String>,
    /// User names: `agent` gives agent1..agentN; a name holding the placeholder `n` in braces puts the number there (`lab_` + that placeholder gives lab_1..lab_N; see --agents and the README).
    #[arg(long, default_value = "agent")]
    pub username: String,
    /// How many distinct users the roles get (1 to the number of roles, the default: one user per
    /// role; fewer share users, serialised).
    #[arg(long, default_value_t = ROLES.len())]
    pub agents: usize,
    /// Write the profile to FILE (refused if it exists, unless --force). Default: standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite an existing -o FILE.
    #[arg(long)]
    pub force: bool,
    /// The environment variable holding the users' password. A name holding the placeholder `n` in
    /// braces gives each user a variable of its own, numbered as the users are (`GWS_PASSWORD_` +
    /// that placeholder: GWS_PASSWORD_1 for the first user, ...), for a lab with a password per user.
    #[arg(long, value_name = "NAME", default_value = PASSWORD_VAR)]
    pub password_env: String,
    /// Per-probe timeout, written to the profile as `timeout_ms`.
    #[arg(long, default_value_t = 5000)]
    pub timeout_ms: u64,
    /// PEM CA certificate(s) trusted besides the system's, for an HTTPS target with a private CA;
    /// written to the profile as `ca_file` (absolute).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Print the README's "Roles and capabilities" tables (from the catalogue) and exit.
    #[arg(long)]
    pub print_reference_table: bool,
}

/// The suite (embedded, or ./cases), with no profile: its cases are counted per role and capability,
/// and those that wait for lab content say which variables they need.
fn load_suite() -> Result<gws_conform::load::Suite, u8> {
    let input = super::InputArgs {
        cases: None,
        schemas: None,
        profile: None,
    };
    let env = Env::from_process().unset_skips_case();
    super::suite::load_or_report(&input.suite_sources(false), &env)
}

pub async fn init(args: InitArgs) -> u8 {
    let suite = match load_suite() {
        Ok(s) => s,
        Err(code) => return code,
    };
    let counts = catalogue::counts(&suite.cases);
    if args.print_reference_table {
        outln!("{}", catalogue::reference_table(&counts));
        return exit::PASS;
    }
    let target = args.target.clone().unwrap_or_default();
    if let Err(e) = super::args_check::target(&target) {
        eprintln!("error: {e}");
        return exit::ERROR;
    }
    if !(1..=ROLES.len()).contains(&args.agents) {
        eprintln!(
            "error: --agents {}: give 1 to {} (one user per role at most)",
            args.agents,
            ROLES.len()
        );
        return exit::ERROR;
    }
    if let Some(o) = &args.output {
        if o.exists() && !args.force {
            eprintln!(
                "error: {} exists; choose another file, or give --force to overwrite it",
                o.display()
            );
            return exit::ERROR;
        }
    }
    let users = user_names(&args.username, args.agents);
    let roles = assign(&users, &counts);
    let password_vars: BTreeMap<String, String> = users
        .iter()
        .cloned()
        .zip(password_variables(&args.password_env, users.len()))
        .collect();
    let facts = match probe(&target, &args, &roles, &password_vars).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    };
    let roles_for_vars = roles.clone();
    let draft = Draft {
        target: target.clone(),
        timeout_ms: args.timeout_ms,
        ca_file: ca_file_written(&args),
        username: args.username.clone(),
        agents: args.agents,
        decisions: decide(&facts, &users, &roles),
        roles,
        password_env: &args.password_env,
        password_vars: &password_vars,
        facts: &facts,
        counts: &counts,
        lab: suite.lab_variables(),
        lab_cases: lab_cases(&suite),
        reference_vars: reference_vars(&roles_for_vars),
    };
    let text = profile_text::render(&draft);
    let skipped = profile_text::skipped_cases(&draft, &suite.cases);
    let mut summary = profile_text::summary(&draft, &skipped, args.output.as_deref());
    let unset: Vec<&gws_conform::model::CaseOutline> = suite
        .cases
        .iter()
        .filter(|c| !c.needs_env().is_empty())
        .collect();
    if let Some(first) = unset.first() {
        summary.insert(
            summary.len() - 1,
            format!(
                "{} case(s) will be skipped until {} is set",
                unset.len(),
                first.needs_env().join(", ")
            ),
        );
    }
    match &args.output {
        Some(o) => {
            if let Err(e) = std::fs::write(o, &text) {
                eprintln!("error: cannot write {}: {e}", o.display());
                return exit::ERROR;
            }
            for l in summary {
                outln!("{l}");
            }
        }
        None => {
            outln!("{text}");
            for l in summary {
                eprintln!("{l}");
            }
        }
    }
    exit::PASS
}

/// Per lab variable, the cases of the suite that name it (each is skipped until the profile sets it).
fn lab_cases(suite: &gws_conform::load::Suite) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in &suite.cases {
        for need in c.needs_lab() {
            out.entry(need.variable.clone())
                .or_default()
                .push(c.id.to_string());
        }
    }
    out
}

/// The reference lab's content: `[vars]` of the reference profile built into the binary, the one
/// place that names it. Some values belong to a role's own user (agentN's default place is
/// `PLACE_agentN`, its device `/devices/70NN` with number 70NN), so they follow the user `init` gave
/// that role: the single-device place is the `params` role's agent's own, so that no case of another
/// user logs in there meanwhile; the default-place numbers are those of `notify`'s and `sample6`'s.
fn reference_vars(roles: &BTreeMap<&'static str, String>) -> BTreeMap<String, String> {
    let mut vars = reference_profile_vars();
    let agent = |role: &str| {
        roles
            .get(role)
            .and_then(|u| u.strip_prefix("agent")?.parse::<usize>().ok())
            .filter(|n| (1..=BUILTIN_AGENTS).contains(n))
    };
    if let Some(n) = agent("params") {
        vars.insert("single_device_place".into(), format!("PLACE_agent{n}"));
        vars.insert("single_device_path".into(), format!("/devices/70{n:02}"));
    }
    if let Some(n) = agent("notify") {
        vars.insert("default_place_device_number".into(), format!("70{n:02}"));
    }
    if let Some(n) = agent("sample6") {
        vars.insert("sample6_default_place_number".into(), format!("70{n:02}"));
    }
    vars
}

fn reference_profile_vars() -> BTreeMap<String, String> {
    let path = std::path::Path::new(gws_conform::load::REFERENCE_PROFILE);
    gws_conform::load::Dir::Embedded("profiles")
        .read(path)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| t.get("vars")?.as_table().cloned())
        .map(|v| {
            v.into_iter()
                .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Probes the target with each user's credentials whose password variable is set.
async fn probe(
    target: &str,
    args: &InitArgs,
    roles: &BTreeMap<&'static str, String>,
    password_vars: &BTreeMap<String, String>,
) -> Result<TargetFacts, String> {
    let redactor = Redactor::new();
    let mut profile = Profile::from_environment(&Env::empty(), &redactor).map_err(|_| "profile")?;
    profile.timeout = std::time::Duration::from_millis(args.timeout_ms);
    // The harness copes with either CSRF setting when it fetches tokens; `true` lets the CometD probe
    // send the session's token if the target wants one there.
    profile.csrf = true;
    if let Some(ca) = ca_file_written(args) {
        // Read and checked as a profile's `ca_file` is, so a bad file is said the same way.
        let text = format!("ca_file = {}\n", toml::Value::String(ca));
        let trusted = Profile::parse(
            std::path::Path::new("--ca-file"),
            &text,
            &Env::empty(),
            &redactor,
        )
        .map_err(|d| {
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        profile.ca_certificates = trusted.ca_certificates;
    }
    let mut agents: BTreeMap<String, (Vec<String>, Agent)> = BTreeMap::new();
    for (role, user) in roles {
        let Some(pw) = password_vars.get(user).and_then(|v| std::env::var(v).ok()) else {
            continue;
        };
        redactor.add(&pw);
        let entry = agents.entry(user.clone()).or_insert_with(|| {
            let agent = Agent {
                username: user.clone(),
                password: Secret::new(pw),
            };
            (Vec::new(), agent)
        });
        entry.0.push(role.to_string());
    }
    let probe_users: Vec<ProbeUser> = agents
        .values()
        .map(|(roles, agent)| ProbeUser {
            roles: roles.clone(),
            agent,
        })
        .collect();
    let transport = Transport::new(target, &profile)?;
    probe::probe_target(&transport, &probe_users, &redactor)
        .await
        .map_err(|e| e.to_string())
}

/// `--ca-file` as the profile will name it: absolute, since a profile resolves a relative `ca_file`
/// against its own folder.
fn ca_file_written(args: &InitArgs) -> Option<String> {
    let f = args.ca_file.as_ref()?;
    let absolute = std::path::absolute(f).unwrap_or_else(|_| f.clone());
    Some(absolute.display().to_string())
}

/// Whether each capability goes in enabled, and why, in words that never claim more than the
/// probes found.
fn decide(
    facts: &TargetFacts,
    users: &[String],
    roles: &BTreeMap<&'static str, String>,
) -> BTreeMap<&'static str, Decision> {
    let version = facts.preflight.server_version.clone().unwrap_or_default();
    let reference = facts.says_reference;
    let from_reference = format!(
        "not probed: the reference lab has it (the target's version `{version}` says it is gws-conform's reference server)"
    );
    let mut out = BTreeMap::new();
    for c in catalogue::CAPABILITIES {
        let decision = match (c.discovery, facts.capability(c.name)) {
            (Discovery::Probed(_), Some(e)) => Decision {
                enabled: e.detected == Some(true),
                note: match e.detected {
                    Some(true) => format!("probed: detected ({})", e.how),
                    Some(false) => format!("probed: absent ({})", e.how),
                    None => e.how.clone(),
                },
            },
            (_, _) if reference => match reference_lab_conflict(c.name, users, roles) {
                None => Decision {
                    enabled: true,
                    note: from_reference.clone(),
                },
                Some(why) => Decision {
                    enabled: false,
                    note: format!("not enabled on the reference server: {why}"),
                },
            },
            (Discovery::NotProbed(why), _) => Decision {
                enabled: false,
                note: format!("not probed ({why}): enable it if the target supports it"),
            },
            (Discovery::Lab(needs), _) => Decision {
                enabled: false,
                note: format!("lab content, not discoverable through the API: {needs}"),
            },
            (Discovery::Probed(_), None) => Decision {
                enabled: false,
                note: "not probed".into(),
            },
        };
        out.insert(c.name, decision);
    }
    out
}

/// Why the reference lab's content does not fit this user mapping, for the capabilities that
/// depend on which agent a role gets (the reference lab's agent4 has its multimedia out of service).
fn reference_lab_conflict(
    capability: &str,
    users: &[String],
    roles: &BTreeMap<&'static str, String>,
) -> Option<String> {
    let user = |r: &str| roles.get(r).cloned().unwrap_or_default();
    let standard = users.iter().all(|u| {
        u.strip_prefix("agent")
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| (1..=BUILTIN_AGENTS).contains(&n))
    });
    if !standard {
        return matches!(capability, "multimedia_down_agent" | "multimedia_agent").then(|| {
            format!("the users are not the reference lab's agent1..agent{BUILTIN_AGENTS}, so which one has multimedia out of service is unknown")
        });
    }
    match capability {
        "multimedia_down_agent" if user("sample4") != "agent4" => Some(format!(
            "role `sample4` gets `{}`, not agent4 (the reference lab's agent with multimedia out of service)",
            user("sample4")
        )),
        "multimedia_agent" => ["multimedia", "notify4"]
            .iter()
            .find(|r| user(r) == "agent4")
            .map(|r| format!("role `{r}` gets agent4, whose multimedia is out of service in the reference lab")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cases per role as the shipped suite has them, roughly: what `assign` balances.
    fn counts() -> catalogue::Counts {
        let mut c = catalogue::Counts::default();
        for r in ROLES {
            let n = if r.name.starts_with("params") {
                18
            } else {
                4 + r.slot % 5
            };
            c.roles.insert(r.name.to_string(), n);
        }
        c
    }

    #[test]
    fn one_user_per_role_is_the_reference_mapping_and_fewer_share_evenly() {
        assert_eq!(ROLES.len(), BUILTIN_AGENTS, "one reference agent per role");
        let counts = counts();
        let full = assign(&user_names("agent", ROLES.len()), &counts);
        for r in ROLES {
            assert_eq!(full[r.name], format!("agent{}", r.slot), "{}", r.name);
        }
        for n in [1, 2, 4, 8, 16, 20] {
            let users = user_names("agent", n);
            let roles = assign(&users, &counts);
            assert_eq!(roles.len(), ROLES.len());
            let load = |u: &String| -> usize {
                ROLES
                    .iter()
                    .filter(|r| roles[r.name] == *u)
                    .map(|r| counts.role(r.name))
                    .sum()
            };
            let loads: Vec<usize> = users.iter().map(load).collect();
            let busiest_role = ROLES.iter().map(|r| counts.role(r.name)).max().unwrap();
            // Greedy spreading: no user carries more than one role's worth above another.
            let (max, min) = (*loads.iter().max().unwrap(), *loads.iter().min().unwrap());
            assert!(max - min <= busiest_role, "{n} users: {loads:?}");
            assert!(
                loads.iter().all(|l| *l > 0),
                "{n} users: every user gets work"
            );
        }
        let two = assign(&user_names("agent", 2), &counts);
        let conflict =
            reference_lab_conflict("multimedia_down_agent", &user_names("agent", 2), &two);
        assert!(
            conflict.is_some_and(|w| w.contains("role `sample4` gets `agent")),
            "agent4 is not among two users"
        );
    }
}

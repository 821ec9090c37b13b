//! The text of the profile `init` writes: every role with its purpose and case count, every
//! capability with its meaning, the cases it unlocks and what the probe found (from
//! `load::catalogue`), and the sharing of users explained.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use gws_conform::execute::probe::TargetFacts;
use gws_conform::load::catalogue::{self, Counts, CAPABILITIES, ROLES};
use gws_conform::model::CaseOutline;

use super::embedded::{LOGIN_CODE_PASSWORD_VAR, PASSWORD_VAR};

/// Whether a capability is written enabled, and the comment that says why.
pub struct Decision {
    pub enabled: bool,
    pub note: String,
}

/// What `init` learnt and chose.
pub struct Draft<'a> {
    pub target: String,
    pub timeout_ms: u64,
    /// `ca_file` for an HTTPS target with a private CA (`--ca-file`).
    pub ca_file: Option<String>,
    pub username: String,
    pub agents: usize,
    /// Each role's user name.
    pub roles: BTreeMap<&'static str, String>,
    /// `--password-env` as given.
    pub password_env: &'a str,
    /// Each user's password variable (`--password-env`).
    pub password_vars: &'a BTreeMap<String, String>,
    pub decisions: BTreeMap<&'static str, Decision>,
    pub facts: &'a TargetFacts,
    pub counts: &'a Counts,
    /// The lab variables (`[lab]` of `cases/variables.toml`) and their meanings.
    pub lab: &'a BTreeMap<String, String>,
    /// Per lab variable, the cases that wait for it.
    pub lab_cases: BTreeMap<String, Vec<String>>,
    /// The reference lab's content (the reference profile's `[vars]`), written only for a target
    /// that says it is the reference server.
    pub reference_vars: BTreeMap<String, String>,
}

impl Draft<'_> {
    /// The distinct password variables, in user order.
    fn distinct_password_vars(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for v in self.password_vars.values() {
            if !seen.contains(&v.as_str()) {
                seen.push(v);
            }
        }
        seen
    }

    /// How the profile's passwords are read, in one phrase.
    fn passwords_phrase(&self) -> String {
        match self.distinct_password_vars().as_slice() {
            [one] => format!("every agent's from ${one}"),
            many => format!(
                "each user's from a variable of its own (${} .. ${})",
                many.first().copied().unwrap_or_default(),
                many.last().copied().unwrap_or_default()
            ),
        }
    }

    fn enabled(&self, cap: &str) -> bool {
        self.decisions.get(cap).is_some_and(|d| d.enabled)
    }

    /// Users shared by several roles, with their roles, in user order.
    fn shared(&self) -> Vec<(String, Vec<&'static str>)> {
        let mut by_user: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
        for r in ROLES {
            by_user
                .entry(self.roles[r.name].clone())
                .or_default()
                .push(r.name);
        }
        by_user.into_iter().filter(|(_, r)| r.len() > 1).collect()
    }
}

/// Cases (ids) that will be skipped for a capability written disabled, with the capabilities.
pub fn skipped_cases(draft: &Draft, cases: &[CaseOutline]) -> Vec<(String, Vec<String>)> {
    cases
        .iter()
        .filter_map(|c| {
            let missing: Vec<String> = c
                .requires
                .iter()
                .filter(|r| !draft.enabled(r))
                .cloned()
                .collect();
            (!missing.is_empty()).then(|| (c.id.to_string(), missing))
        })
        .collect()
}

fn host_of(target: &str) -> String {
    url::Url::parse(target)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "target".into())
}

/// A TOML basic string (quotes, backslashes and control characters escaped).
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The profile's text.
pub fn render(d: &Draft) -> String {
    let mut t = String::new();
    header(&mut t, d);
    let _ = writeln!(t, "name = {}", quoted(&host_of(&d.target)));
    let _ = writeln!(t, "target = {}", quoted(&d.target));
    let csrf = &d.facts.csrf;
    let csrf_on = csrf.detected != Some(false);
    let _ = writeln!(
        t,
        "# {}{}",
        csrf.how,
        match csrf.detected {
            Some(true) => ": the harness fetches the token and sends it on every POST",
            Some(false) => "",
            None => "; true is safe either way: with no token offered, none is sent",
        }
    );
    let _ = writeln!(t, "csrf = {csrf_on}");
    let _ = writeln!(t, "timeout_ms = {}", d.timeout_ms);
    let _ = writeln!(t, "max_body_bytes = 1048576");
    if let Some(ca) = &d.ca_file {
        let _ = writeln!(t, "# PEM CA(s) trusted besides the system's (init --ca-file), for the REST calls and wss://");
        let _ = writeln!(t, "ca_file = {}", quoted(ca));
    }
    transport(&mut t, d);
    capabilities(&mut t, d);
    vars(&mut t, d);
    agents(&mut t, d);
    t
}

fn header(t: &mut String, d: &Draft) {
    let version = d
        .facts
        .preflight
        .server_version
        .as_deref()
        .unwrap_or("none");
    let _ = writeln!(
        t,
        "# Target profile written by `gws-conform init --target {} --username {} --agents {}`{}.",
        quoted(&d.target),
        quoted(&d.username),
        d.agents,
        if d.password_env == PASSWORD_VAR {
            String::new()
        } else {
            format!(" --password-env {}", quoted(d.password_env))
        }
    );
    let _ = writeln!(
        t,
        "# The target answered GET /api/v2/diagnostics/version with version `{version}`."
    );
    if d.facts.says_reference {
        let _ = writeln!(t, "# That version says the target is gws-conform's reference server: the lab capabilities below are");
        let _ = writeln!(t, "# filled from its built-in lab (reference/README.md), NOT probed; a reference server started with");
        let _ = writeln!(t, "# another --directory may differ.");
    }
    let _ = writeln!(
        t,
        "# Passwords come from the environment only: {}, and Sample 3's switch",
        d.passwords_phrase()
    );
    let _ = writeln!(t, "# password (agentLoginPassword) from ${LOGIN_CODE_PASSWORD_VAR} (unset: its cases are skipped).");
    let _ = writeln!(t, "# Check it with `gws-conform doctor --profile THIS_FILE` before `gws-conform run --profile THIS_FILE`.\n");
}

fn transport(t: &mut String, d: &Draft) {
    let f = d.facts;
    let offered = f
        .transports
        .as_ref()
        .map_or("not probed".to_string(), |o| o.join(", "));
    let _ = writeln!(
        t,
        "\n# CometD transports the handshake offered: {offered}; WebSocket: {}.",
        f.websocket.how
    );
    let _ = writeln!(t, "# \"auto\" uses WebSocket when offered and usable, else long-polling (\"long-polling\", \"websocket\" force one).");
    let _ = writeln!(t, "transport = \"auto\"");
}

fn capabilities(t: &mut String, d: &Draft) {
    let _ = writeln!(t, "\n# What this target can demonstrate. A case whose `requires` names a capability missing here is");
    let _ = writeln!(t, "# skipped with the reason, never passed. Commented-out entries are off; uncomment one only when the");
    let _ = writeln!(t, "# target really has it.");
    let _ = writeln!(t, "capabilities = [");
    for c in CAPABILITIES {
        let n = d.counts.capability(c.name);
        let dec = &d.decisions[c.name];
        let _ = writeln!(t, "  # {}: {}.", c.name, c.meaning);
        let _ = writeln!(
            t,
            "  #   unlocks {n} case(s): {}",
            d.counts.unlocked(c.name, 4)
        );
        let _ = writeln!(t, "  #   {}", dec.note);
        if dec.enabled {
            let _ = writeln!(t, "  \"{}\",", c.name);
        } else {
            let _ = writeln!(t, "  # \"{}\",", c.name);
        }
    }
    let _ = writeln!(t, "]");
}

fn vars(t: &mut String, d: &Draft) {
    let _ = writeln!(t, "\n# Case variables naming the lab's content (cases/variables.toml, [lab]). They have no default: a");
    let _ = writeln!(
        t,
        "# case that needs one this table does not set is skipped, naming it, until you set it."
    );
    let _ = writeln!(t, "[vars]");
    if d.facts.says_reference {
        let _ = writeln!(t, "# The target says it is the reference server: its lab's content, as profiles/reference.toml names it.");
        for (name, value) in &d.reference_vars {
            let _ = writeln!(t, "{name} = {}", quoted(value));
        }
        return;
    }
    let _ = writeln!(t, "# Uncomment each and set it to your lab's content: what it must name, and the cases it unlocks.");
    let mut names: Vec<&String> = d.lab.keys().collect();
    names.sort_by_key(|n| catalogue::capability_of_variable(n).map(|c| c.name));
    for name in names {
        let cases = d.lab_cases.get(name).map(Vec::as_slice).unwrap_or_default();
        let used = catalogue::capability_of_variable(name)
            .map_or(String::new(), |c| format!(", with capability `{}`", c.name));
        let _ = writeln!(t, "#\n# {name}: {}", d.lab[name]);
        let mut shown = cases.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        if cases.len() > 3 {
            shown.push_str(&format!(", +{} more", cases.len() - 3));
        }
        let _ = writeln!(t, "#   unlocks {} case(s){used}: {shown}", cases.len());
        let _ = writeln!(t, "# {name} = \"\"");
    }
}

fn agents(t: &mut String, d: &Draft) {
    let _ = writeln!(t, "\n# Agent roles used by the cases, and their users.");
    let shared = d.shared();
    if shared.is_empty() {
        let _ = writeln!(
            t,
            "# Each role has a user of its own, so the roles' cases run in parallel."
        );
    } else {
        let users: std::collections::BTreeSet<&String> = d.roles.values().collect();
        let _ = writeln!(t, "# {} roles on {} users: the roles are spread so that each user carries about the same number of", d.roles.len(), users.len());
        let _ = writeln!(t, "# cases. The cases of one user run one at a time (their serial group is `agent:<user>`), so a");
        let _ = writeln!(t, "# notification role's agent is used by no other case while its CometD windows are open: the run");
        let _ = writeln!(t, "# takes longer, not differently.");
        if shared.iter().any(|(_, roles)| roles.contains(&"auth")) {
            let _ = writeln!(t, "# But role `auth` sends its user deliberately wrong passwords: if the target locks accounts");
            let _ = writeln!(
                t,
                "# after failed logins, give `auth` a user of its own (`doctor` warns about this)."
            );
        }
    }
    for r in ROLES {
        let n = d.counts.role(r.name);
        let _ = writeln!(t, "\n# {}: {} ({n} case(s)).", r.name, r.purpose);
        if let Some(lab) = r.lab_user {
            let _ = writeln!(t, "# Its user must be {lab}.");
        }
        if catalogue::is_notify_role(r.name) {
            let _ = writeln!(
                t,
                "# A notification role: no other case may use its agent at the same time."
            );
        }
        let _ = writeln!(t, "[agents.{}]", r.name);
        let _ = writeln!(t, "username = {}", quoted(&d.roles[r.name]));
        let var = d
            .password_vars
            .get(&d.roles[r.name])
            .map_or(PASSWORD_VAR, String::as_str);
        let _ = writeln!(t, "password = \"${{env:{var}}}\"");
    }
}

/// What `init` says after writing the profile.
pub fn summary(d: &Draft, skipped: &[(String, Vec<String>)], output: Option<&Path>) -> Vec<String> {
    let mut out = Vec::new();
    let f = d.facts;
    let version = f.preflight.server_version.as_deref().unwrap_or("none");
    out.push(format!(
        "probed {}: version {version}{}",
        d.target,
        if f.says_reference {
            " (says it is gws-conform's reference server)"
        } else {
            ""
        }
    ));
    for r in f.preflight.record.probes.iter().skip(1) {
        out.push(format!(
            "  {} as {} (roles {}): {}",
            r.request,
            r.user.as_deref().unwrap_or("-"),
            r.roles.join(", "),
            r.found
        ));
    }
    if let Some(reason) = f.preflight.blocking_reason() {
        out.push(format!(
            "warning: {reason}: fix the users or the password, then run init again"
        ));
    }
    let unset: Vec<&str> = d
        .distinct_password_vars()
        .into_iter()
        .filter(|v| std::env::var_os(v).is_none())
        .collect();
    if !unset.is_empty() {
        let all = unset.len() == d.distinct_password_vars().len();
        out.push(format!(
            "warning: {} {} not set: {}; export {} and run init again",
            unset.join(", "),
            if unset.len() == 1 { "is" } else { "are" },
            if all {
                "no credentials were probed, so csrf, cometd and user_resource stay off"
            } else {
                "those users were not probed"
            },
            if unset.len() == 1 { "it" } else { "them" }
        ));
    }
    for c in CAPABILITIES {
        let dec = &d.decisions[c.name];
        out.push(format!(
            "  {:<22} {}  {}",
            c.name,
            if dec.enabled { "on " } else { "off" },
            dec.note
        ));
    }
    out.push(format!(
        "  CometD transports offered: {}; WebSocket: {}",
        f.transports
            .as_ref()
            .map_or("not probed".into(), |t| t.join(", ")),
        f.websocket.how
    ));
    let users: std::collections::BTreeSet<&String> = d.roles.values().collect();
    out.push(format!(
        "{} roles on {} user(s); shared users are serialised",
        d.roles.len(),
        users.len()
    ));
    if users.len() < d.roles.len() {
        out.push("  fewer users than roles: a [pool] of them lets the run spread the cases over them (README: Scheduling over a pool of users)".into());
    }
    let vars = d.distinct_password_vars();
    out.push(match vars.as_slice() {
        [one] => format!("passwords: export {one} (every agent) and {LOGIN_CODE_PASSWORD_VAR} (Sample 3's switch password)"),
        many => format!(
            "passwords: export {} .. {} (one per user) and {LOGIN_CODE_PASSWORD_VAR} (Sample 3's switch password)",
            many.first().copied().unwrap_or_default(),
            many.last().copied().unwrap_or_default()
        ),
    });
    if !d.facts.says_reference && !d.lab_cases.is_empty() {
        let waiting: std::collections::BTreeSet<&String> = d.lab_cases.values().flatten().collect();
        out.push(format!(
            "{} case(s) wait for lab content until [vars] sets {} (each is described in the profile)",
            waiting.len(),
            d.lab_cases.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    out.push(skipped_line(skipped));
    let file = output.map_or("PROFILE".to_string(), |o| o.display().to_string());
    if let Some(o) = output {
        out.push(format!("wrote {}", o.display()));
    }
    out.push(format!(
        "next: gws-conform doctor --profile {file}, then gws-conform run --profile {file}"
    ));
    out
}

/// How many cases a disabled capability will skip, per capability.
fn skipped_line(skipped: &[(String, Vec<String>)]) -> String {
    if skipped.is_empty() {
        return "no case will be skipped for a missing capability".into();
    }
    let mut by_cap: BTreeMap<&str, usize> = BTreeMap::new();
    for c in skipped.iter().flat_map(|(_, caps)| caps) {
        *by_cap.entry(c.as_str()).or_default() += 1;
    }
    let list: Vec<String> = by_cap.iter().map(|(c, n)| format!("{c} ({n})")).collect();
    format!(
        "{} case(s) will be skipped until these capabilities are enabled: {}",
        skipped.len(),
        list.join(", ")
    )
}

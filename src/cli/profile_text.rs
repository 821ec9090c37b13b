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
    pub decisions: BTreeMap<&'static str, Decision>,
    pub facts: &'a TargetFacts,
    pub counts: &'a Counts,
    /// The case variables' defaults (`cases/variables.toml`): the reference lab's values.
    pub defaults: &'a BTreeMap<String, String>,
    /// What `cases/variables.toml` says of each variable (its paragraph's number and comment).
    pub meanings: &'a BTreeMap<String, (usize, String)>,
}

impl Draft<'_> {
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
        "# Target profile written by `gws-conform init --target {} --username {} --agents {}`.",
        quoted(&d.target),
        quoted(&d.username),
        d.agents
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
    let _ = writeln!(t, "# Passwords come from the environment only: every agent's from ${PASSWORD_VAR}, and Sample 3's switch");
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
    let _ = writeln!(t, "\n# Case variables naming the lab's content. Their defaults (cases/variables.toml) are the reference");
    let _ = writeln!(
        t,
        "# lab's: the published samples' values and the reference directory's places and numbers."
    );
    let _ = writeln!(t, "[vars]");
    if d.facts.says_reference {
        let _ = writeln!(t, "# The target says it is the reference server: the defaults name its lab, nothing to set.");
        return;
    }
    let _ = writeln!(t, "# Set each one to your lab's content (a case using a value the lab lacks fails or is refused):");
    // In the file's order, a paragraph's comment once above its variables.
    let mut lab: Vec<(&String, &String)> = d
        .defaults
        .iter()
        .filter(|(n, _)| catalogue::is_lab_variable(n))
        .collect();
    lab.sort_by_key(|(n, _)| d.meanings.get(*n).map_or(usize::MAX, |(p, _)| *p));
    let mut said = None;
    for (name, value) in lab {
        let meaning = d.meanings.get(name).map(|(_, m)| m);
        if meaning.is_some() && meaning != said {
            let _ = writeln!(
                t,
                "#\n# {}",
                meaning.map(String::as_str).unwrap_or_default()
            );
            said = meaning;
        }
        let used = catalogue::capability_of_variable(name)
            .map_or(String::new(), |c| format!(" (for `{}`)", c.name));
        let _ = writeln!(
            t,
            "# {name} = {}   # the reference lab's value{used}",
            quoted(value)
        );
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
        let _ = writeln!(
            t,
            "# Users shared by several roles (fewer agents than roles):"
        );
        for (user, roles) in &shared {
            let _ = writeln!(t, "#   {user}: {}", roles.join(", "));
        }
        let _ = writeln!(t, "# Safe: the planner serialises the cases of one user name (their serial group is `agent:<user>`),");
        let _ = writeln!(t, "# so no two cases of a shared user run at once; a notification role's agent is therefore used by no");
        let _ = writeln!(t, "# other case while its CometD windows are open. The run takes longer, not differently.");
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
        let _ = writeln!(t, "password = \"${{env:{PASSWORD_VAR}}}\"");
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
    if f.preflight.record.probes.len() == 1 {
        out.push(format!(
            "warning: {PASSWORD_VAR} is not set: no credentials were probed, so csrf, cometd and user_resource stay off; export it and run init again"
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
    out.push(format!("passwords: export {PASSWORD_VAR} (every agent) and {LOGIN_CODE_PASSWORD_VAR} (Sample 3's switch password)"));
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

//! The one description of every agent role and capability a profile names: what each role is for,
//! what each capability means, how (or whether) a probe can find it, and what a lab needs for it.
//!
//! `gws-conform init` writes its profile comments from this table, `gws-conform doctor` its advice,
//! and the README's "Roles and capabilities" table is generated from it (`tests/catalogue.rs` fails
//! when the README is out of date, or when a case uses a role or a capability described nowhere).

use std::collections::BTreeMap;

use crate::model::CaseOutline;

/// An agent role of the cases (`agent = "..."` in a case file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleInfo {
    pub name: &'static str,
    /// Its user in the reference lab is `agent{slot}` (as `profiles/reference.toml` maps it), and
    /// `init --agents N` gives it user number `(slot - 1) % N + 1`.
    pub slot: usize,
    pub purpose: &'static str,
    /// What its user must be in a lab, beyond a working login (None: any agent).
    pub lab_user: Option<&'static str>,
}

impl RoleInfo {
    /// A notification role: its CometD windows must hear no other case's state changes, so its user
    /// must not be used by a case running at the same time.
    pub fn is_notify(&self) -> bool {
        is_notify_role(self.name)
    }
}

/// Whether a role name is a notification role (`notify`, `notify2`, ...).
pub fn is_notify_role(name: &str) -> bool {
    name.starts_with("notify")
}

/// How a capability can be known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discovery {
    /// The API shows it, and `init`/`doctor` probe it without side effects (the text says how).
    Probed(&'static str),
    /// An API operation that exists on GWS 8.5.2, but probing it would change an agent's state.
    NotProbed(&'static str),
    /// Lab content (a place, a number, an agent's configuration): the API cannot reveal it; the text
    /// says what the lab needs.
    Lab(&'static str),
}

/// A capability a profile may declare (`capabilities = [...]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapabilityInfo {
    pub name: &'static str,
    pub meaning: &'static str,
    pub discovery: Discovery,
    /// The case variables (`[vars]`) that must name the lab's content for it.
    pub vars: &'static [&'static str],
}

pub const ROLES: &[RoleInfo] = &[
    RoleInfo {
        name: "default",
        slot: 1,
        purpose: "Sample 1 and the user resource: a plain voice login at the agent's own default place",
        lab_user: None,
    },
    RoleInfo {
        name: "sample2",
        slot: 2,
        purpose: "Sample 2: a login at ${place} with ${login_code} and ${queue}",
        lab_user: None,
    },
    RoleInfo {
        name: "sample3",
        slot: 3,
        purpose: "Sample 3: a login code that needs agentLoginPassword (${env:GWS_AGENT_LOGIN_PASSWORD})",
        lab_user: None,
    },
    RoleInfo {
        name: "sample4",
        slot: 4,
        purpose: "Sample 4: voice and chat with the multimedia channel out of service (partial success, all channels failed)",
        lab_user: Some("an agent whose multimedia channel (Interaction Server) is out of service: agent4 in the reference lab"),
    },
    RoleInfo {
        name: "sample5",
        slot: 5,
        purpose: "Sample 5: workmode ManualIn/AutoIn and invalid workmodes",
        lab_user: None,
    },
    RoleInfo {
        name: "sample6",
        slot: 6,
        purpose: "Sample 6: a login with a new dynamicPhoneNumber, and its events on the DN of this user's default place (${sample6_default_place_number}); one user, since both use the same number",
        lab_user: None,
    },
    RoleInfo {
        name: "devices",
        slot: 7,
        purpose: "places with several devices, devicePath, an unknown place",
        lab_user: None,
    },
    RoleInfo {
        name: "params",
        slot: 8,
        purpose: "parameter validation: channels and operationName missing or malformed, malformed bodies, values the table allows that no sample sends",
        lab_user: Some("the agent whose default place is ${single_device_place}, or one no concurrently running case logs in there"),
    },
    // The parameter-validation cases of the matrix files, spread over users of their own so that they
    // run beside each other (one role held 92 of the 132 cases, and the suite waited on it).
    RoleInfo {
        name: "params2",
        slot: 17,
        purpose: "parameter validation: values that name nothing (an unknown queue, login code, place, device or workmode)",
        lab_user: None,
    },
    RoleInfo {
        name: "params3",
        slot: 18,
        purpose: "parameter validation: 64 KiB and non-ASCII strings in each parameter",
        lab_user: None,
    },
    RoleInfo {
        name: "params4",
        slot: 19,
        purpose: "parameter validation: the empty string and JSON null in each parameter (a server may read them as absent)",
        lab_user: None,
    },
    RoleInfo {
        name: "params5",
        slot: 20,
        purpose: "parameter validation: a JSON number or boolean in each parameter",
        lab_user: None,
    },
    RoleInfo {
        name: "params6",
        slot: 21,
        purpose: "parameter validation: a JSON array, object or string where each parameter's type is another",
        lab_user: None,
    },
    RoleInfo {
        name: "lifecycle",
        slot: 9,
        purpose: "EndContactCenterSession and the session cookie",
        lab_user: None,
    },
    RoleInfo {
        name: "notify",
        slot: 10,
        purpose: "notifications: the login DeviceStateChangeMessage and the end of session; the default device assignment after End",
        lab_user: None,
    },
    RoleInfo {
        name: "multimedia",
        slot: 11,
        purpose: "Sample 4 with both channels in service",
        lab_user: Some("an agent whose multimedia channel is in service"),
    },
    RoleInfo {
        name: "auth",
        slot: 12,
        purpose: "authentication: no credentials, a wrong password, CSRF, diagnostics without credentials",
        lab_user: Some("any agent; it receives deliberately wrong passwords, so not one a lockout policy protects"),
    },
    RoleInfo {
        name: "notify2",
        slot: 13,
        purpose: "notifications: a second Start while logged in publishes nothing; agentLoginPassword without loginCode still logs in",
        lab_user: None,
    },
    RoleInfo {
        name: "notify3",
        slot: 14,
        purpose: "notifications: the workmode's state after login",
        lab_user: None,
    },
    RoleInfo {
        name: "notify4",
        slot: 15,
        purpose: "notifications: the multimedia channel's state change",
        lab_user: Some("an agent whose multimedia channel is in service"),
    },
    RoleInfo {
        name: "notify5",
        slot: 16,
        purpose: "notifications: the device message's schema, the login sequence, and which device a login at a place with several lands on",
        lab_user: None,
    },
];

pub const CAPABILITIES: &[CapabilityInfo] = &[
    CapabilityInfo {
        name: "csrf",
        meaning: "CSRF protection is on: a POST without the session's X-CSRF-TOKEN is refused",
        discovery: Discovery::Probed("an authenticated GET /api/v2/me answers X-CSRF-TOKEN"),
        vars: &[],
    },
    CapabilityInfo {
        name: "cometd",
        meaning: "CometD (Bayeux) at /api/v2/notifications publishes the notifications of gws-notes §5",
        discovery: Discovery::Probed("an authenticated Bayeux handshake at /api/v2/notifications succeeds (then /meta/disconnect)"),
        vars: &[],
    },
    CapabilityInfo {
        name: "diagnostics",
        meaning: "GET /api/v2/diagnostics/version answers without credentials (D5)",
        discovery: Discovery::Probed("GET /api/v2/diagnostics/version without credentials answers 200 with a version"),
        vars: &[],
    },
    CapabilityInfo {
        name: "user_resource",
        meaning: "GET /api/v2/me answers the user resource (Read user, D5), and statusCode 20 without credentials",
        discovery: Discovery::Probed("GET /api/v2/me with credentials answers a `user` object (the answer without credentials is left to the cases)"),
        vars: &[],
    },
    CapabilityInfo {
        name: "end_session",
        meaning: "EndContactCenterSession is supported (D2)",
        discovery: Discovery::NotProbed("a probe would log the agent out of every channel and end its HTTP session"),
        vars: &[],
    },
    CapabilityInfo {
        name: "agent_state",
        meaning: "Ready/NotReady on POST /api/v2/me/channels/voice (D14)",
        discovery: Discovery::NotProbed("a probe would change the agent's state (and needs a voice login first)"),
        vars: &[],
    },
    CapabilityInfo {
        name: "multi_acd_place",
        meaning: "a place with several ACD positions",
        discovery: Discovery::Lab("a place with two or more ACD positions; set ${multi_acd_place} and ${multi_acd_device_path} (one of its devices)"),
        vars: &["multi_acd_place", "multi_acd_device_path"],
    },
    CapabilityInfo {
        name: "multi_ext_place",
        meaning: "a place with several extensions and no ACD position",
        discovery: Discovery::Lab("a place with two or more extensions and no ACD position; set ${multi_ext_place} and ${multi_ext_device_path}"),
        vars: &["multi_ext_place", "multi_ext_device_path"],
    },
    CapabilityInfo {
        name: "ext_and_acd_place",
        meaning: "a place with one extension and one ACD position",
        discovery: Discovery::Lab("a place with exactly one extension and one ACD position; set ${ext_and_acd_place}"),
        vars: &["ext_and_acd_place"],
    },
    CapabilityInfo {
        name: "multimedia_down_agent",
        meaning: "an agent whose multimedia channel (Interaction Server) is out of service",
        discovery: Discovery::Lab("the `sample4` role's user must have its Interaction Server connection out of service; ${multimedia_channel} names a multimedia channel"),
        vars: &["multimedia_channel"],
    },
    CapabilityInfo {
        name: "multimedia_agent",
        meaning: "an agent whose multimedia channel is in service",
        discovery: Discovery::Lab("the `multimedia` and `notify4` roles' users must have a multimedia channel in service, named by ${multimedia_channel}"),
        vars: &["multimedia_channel"],
    },
    CapabilityInfo {
        name: "password_login_code",
        meaning: "a login code that needs agentLoginPassword",
        discovery: Discovery::Lab("a login code whose switch password is in GWS_AGENT_LOGIN_PASSWORD; set ${password_login_code}"),
        vars: &["password_login_code"],
    },
    CapabilityInfo {
        name: "existing_phone_number",
        meaning: "${existing_phone_number} exists in Configuration Server",
        discovery: Discovery::Lab("a phone number Configuration Server knows (a DN will do); set ${existing_phone_number}"),
        vars: &["existing_phone_number"],
    },
    CapabilityInfo {
        name: "dynamic_phone_number",
        meaning: "SIP Server accepts ${dynamic_phone_number}",
        discovery: Discovery::Lab("SIP Server configured for dynamic phone numbers and a free number; set ${dynamic_phone_number}"),
        vars: &["dynamic_phone_number"],
    },
];

/// The capability whose cases use a variable, if one does.
pub fn capability_of_variable(name: &str) -> Option<&'static CapabilityInfo> {
    CAPABILITIES.iter().find(|c| c.vars.contains(&name))
}

/// The description of a role, if the catalogue has one.
pub fn role(name: &str) -> Option<&'static RoleInfo> {
    ROLES.iter().find(|r| r.name == name)
}

/// The description of a capability, if the catalogue has one.
pub fn capability(name: &str) -> Option<&'static CapabilityInfo> {
    CAPABILITIES.iter().find(|c| c.name == name)
}

/// How many of `cases` use each role and require each capability.
pub fn counts(cases: &[CaseOutline]) -> Counts {
    let mut counts = Counts::default();
    for c in cases {
        *counts.roles.entry(c.agent_role.to_string()).or_default() += 1;
        for r in c.requires.iter() {
            *counts.capabilities.entry(r.clone()).or_default() += 1;
            counts
                .unlocks
                .entry(r.clone())
                .or_default()
                .push(c.id.to_string());
        }
    }
    counts
}

/// Cases per role and per capability (see [`counts`]).
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub roles: BTreeMap<String, usize>,
    pub capabilities: BTreeMap<String, usize>,
    /// The ids of the cases that require each capability, in case order.
    pub unlocks: BTreeMap<String, Vec<String>>,
}

impl Counts {
    pub fn role(&self, name: &str) -> usize {
        self.roles.get(name).copied().unwrap_or(0)
    }
    pub fn capability(&self, name: &str) -> usize {
        self.capabilities.get(name).copied().unwrap_or(0)
    }
    /// The cases a capability unlocks, named: the first `max` ids, then how many more.
    pub fn unlocked(&self, name: &str, max: usize) -> String {
        let ids = self
            .unlocks
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut shown = ids.iter().take(max).cloned().collect::<Vec<_>>().join(", ");
        if ids.len() > max {
            shown.push_str(&format!(", +{} more", ids.len() - max));
        }
        shown
    }
}

/// Escapes `|` so that a text stays in its Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The README's "Roles and capabilities" tables, generated from [`ROLES`] and [`CAPABILITIES`],
/// with the number of cases of each.
pub fn reference_table(counts: &Counts) -> String {
    let cases_of_role = |r: &str| counts.role(r);
    let cases_of_capability = |c: &str| counts.capability(c);
    let mut out = String::from(
        "| role | reference user | cases | what it is for | what its lab user must be |\n|---|---|---|---|---|\n",
    );
    for r in ROLES {
        out.push_str(&format!(
            "| `{}` | agent{} | {} | {} | {} |\n",
            r.name,
            r.slot,
            cases_of_role(r.name),
            cell(r.purpose),
            cell(r.lab_user.unwrap_or("any agent"))
        ));
    }
    out.push_str(
        "\n| capability | cases | meaning | how `init` and `doctor` know it |\n|---|---|---|---|\n",
    );
    for c in CAPABILITIES {
        let how = match c.discovery {
            Discovery::Probed(how) => format!("probed: {how}"),
            Discovery::NotProbed(why) => format!("not probed: {why}"),
            Discovery::Lab(needs) => format!("lab content: {needs}"),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            c.name,
            cases_of_capability(c.name),
            cell(c.meaning),
            cell(&how)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_slots_are_unique_and_capabilities_are_the_documented_ones() {
        let mut slots: Vec<usize> = ROLES.iter().map(|r| r.slot).collect();
        slots.sort_unstable();
        assert_eq!(slots, (1..=ROLES.len()).collect::<Vec<_>>());
        let mut caps: Vec<&str> = CAPABILITIES.iter().map(|c| c.name).collect();
        caps.sort_unstable();
        let mut documented = super::super::names::DOCUMENTED_CAPABILITIES.to_vec();
        documented.sort_unstable();
        assert_eq!(caps, documented);
    }
}

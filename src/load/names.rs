//! The names a suite knows, in one place: spec elements and capabilities, and how the profile's agent
//! roles meet the cases' (`cases/README.md`).
//!
//! Unknown spec elements and capabilities are load errors (a misspelt `multi_acd_places` would
//! otherwise skip every case that needs `multi_acd_place`, silently). Roles are free names: a role no
//! case uses, or a case's role the profile leaves undefined (it falls back to `default`), is a
//! warning that `lint` and `list` print.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::diagnostic::{did_you_mean, Diagnostic};
use super::locate::offset_of;
use super::profile::Profile;
use super::CaseOutline;

/// The spec elements of `cases/README.md` (id, kind, label), in the order an auditor reads them: the
/// page's samples, the rows of its parameter table, and the surrounding rules of `gws-notes.md`.
/// A case naming any other is refused; the HTML report's traceability matrix lists these.
pub const SPEC_ELEMENTS: &[(&str, &str, &str)] = &[
    (
        "S1",
        "sample",
        "Sample 1: start a session on the voice channel",
    ),
    ("S2", "sample", "Sample 2: place, loginCode and queue"),
    (
        "S3",
        "sample",
        "Sample 3: loginCode with agentLoginPassword",
    ),
    (
        "S4",
        "sample",
        "Sample 4: voice and chat, one channel out of service (partial success)",
    ),
    ("S5", "sample", "Sample 5: workmode"),
    ("S6", "sample", "Sample 6: dynamicPhoneNumber"),
    ("param.channels", "parameter", "channels"),
    ("param.place", "parameter", "place"),
    ("param.loginCode", "parameter", "loginCode"),
    (
        "param.agentLoginPassword",
        "parameter",
        "agentLoginPassword",
    ),
    ("param.queue", "parameter", "queue"),
    ("param.devicePath", "parameter", "devicePath"),
    ("param.workmode", "parameter", "workmode"),
    (
        "param.dynamicPhoneNumber",
        "parameter",
        "dynamicPhoneNumber",
    ),
    ("param.operationName", "parameter", "operationName"),
    ("auth", "rule", "authentication (gws-notes.md)"),
    ("csrf", "rule", "CSRF protection (gws-notes.md)"),
    ("lifecycle.end", "rule", "ending the session (gws-notes.md)"),
    ("http", "rule", "HTTP behaviour (gws-notes.md)"),
];

/// Capabilities documented for profiles (`profiles/reference.toml`); the cases' `requires` add theirs.
pub const DOCUMENTED_CAPABILITIES: &[&str] = &[
    "multi_acd_place",
    "multi_ext_place",
    "ext_and_acd_place",
    "multimedia_down_agent",
    "multimedia_agent",
    "password_login_code",
    "existing_phone_number",
    "dynamic_phone_number",
    "end_session",
    "csrf",
    "cometd",
    "user_resource",
    "diagnostics",
    "agent_state",
];

/// The role every case without `agent` uses, and the one an undefined role falls back to.
pub const DEFAULT_ROLE: &str = "default";

/// Every spec element a case may name.
pub fn spec_elements() -> Vec<String> {
    SPEC_ELEMENTS
        .iter()
        .map(|(id, _, _)| id.to_string())
        .collect()
}

/// An unknown name, with the closest known one when it looks like a typo.
fn unknown(what: &str, name: &str, known: &[String]) -> String {
    let hint = did_you_mean(name, known.iter().map(String::as_str))
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_else(|| format!(" (known: {})", known.join(", ")));
    format!("unknown {what} `{name}`{hint}")
}

/// A diagnostic at `field` of `file`, which is read again to find the line.
fn at(file: &Path, field: &str, message: String) -> Diagnostic {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    Diagnostic::new(file, &text, offset_of(&text, field), field, message)
}

/// A case's spec element outside the known set is an error at its place in `spec`.
pub fn check_spec(cases: &[CaseOutline]) -> Vec<Diagnostic> {
    let known = spec_elements();
    let mut errors = Vec::new();
    for case in cases {
        for (i, s) in case.spec.iter().enumerate() {
            if !known.contains(s) {
                let message = unknown("spec element", s, &known);
                errors.push(at(&case.file.path(), &format!("spec[{i}]"), message));
            }
        }
    }
    errors
}

/// A case's required capability that looks like a typo is a warning at its place in `requires`: one
/// no profile documents and this profile does not declare, within two edits of one that is (so
/// `user_resources`, not `user_devices`). As written, the case is skipped on every target whose
/// profile does not declare it, and a skip says why but is easily missed. A warning, not an error:
/// a suite may name capabilities of its own, and close names can be meant.
pub fn requires_warnings(profile: &Profile, cases: &[CaseOutline]) -> Vec<Diagnostic> {
    let known: BTreeSet<&str> = DOCUMENTED_CAPABILITIES
        .iter()
        .copied()
        .chain(profile.capabilities.iter().map(String::as_str))
        .collect();
    // A matrix file's rows share its `requires`: one warning per place in a file.
    let mut seen = BTreeSet::new();
    let mut warnings = Vec::new();
    for case in cases {
        for (i, r) in case.requires.iter().enumerate() {
            if known.contains(r.as_str()) {
                continue;
            }
            let near = known
                .iter()
                .map(|k| (strsim::levenshtein(r, k), *k))
                .filter(|(d, _)| *d <= 2)
                .min();
            let (Some((_, near)), true) = (near, seen.insert((case.file.path(), i))) else {
                continue;
            };
            let message = format!(
                "capability `{r}` is documented by no profile and not declared by this one; did you mean `{near}`? As written, the case is skipped on every target whose profile does not declare `{r}`"
            );
            warnings.push(at(&case.file.path(), &format!("requires[{i}]"), message));
        }
    }
    warnings
}

/// A profile capability no case requires and no profile documents is an error at its place in
/// `capabilities`.
pub fn check_capabilities(profile: &Profile, cases: &[CaseOutline]) -> Vec<Diagnostic> {
    let Some(file) = &profile.file else {
        return Vec::new();
    };
    let mut known: BTreeSet<String> = DOCUMENTED_CAPABILITIES
        .iter()
        .map(|c| c.to_string())
        .collect();
    known.extend(cases.iter().flat_map(|c| c.requires.iter().cloned()));
    let known: Vec<String> = known.into_iter().collect();
    let text = std::fs::read_to_string(file).unwrap_or_default();
    // The profile keeps a set; the file's order gives each its index.
    let written: Vec<String> = text
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("capabilities").cloned())
        .and_then(|v| v.try_into::<Vec<String>>().ok())
        .unwrap_or_default();
    let mut errors = Vec::new();
    for cap in profile.capabilities.iter().filter(|c| !known.contains(c)) {
        let i = written.iter().position(|w| w == cap).unwrap_or(0);
        let field = format!("capabilities[{i}]");
        let message = unknown("capability", cap, &known);
        errors.push(Diagnostic::new(
            file,
            &text,
            offset_of(&text, &field),
            &field,
            message,
        ));
    }
    errors
}

/// Warnings about roles: one the profile defines that no case uses, and one a case names that the
/// profile leaves undefined (said once per role, at its first case, with a did-you-mean).
pub fn role_warnings(profile: &Profile, cases: &[CaseOutline]) -> Vec<Diagnostic> {
    // Without a profile file every case uses the environment's credentials, by design.
    let Some(file) = &profile.file else {
        return Vec::new();
    };
    let mut by_role: BTreeMap<&str, Vec<&CaseOutline>> = BTreeMap::new();
    for c in cases {
        by_role.entry(&*c.agent_role).or_default().push(c);
    }
    let mut out = Vec::new();
    for role in profile.agents.keys() {
        if role != DEFAULT_ROLE && !by_role.contains_key(role.as_str()) {
            let message = format!("role `{role}` is defined, but no case uses it");
            out.push(at(file, &format!("agents.{role}"), message));
        }
    }
    let defined: Vec<&str> = profile.agents.keys().map(String::as_str).collect();
    for (role, users) in &by_role {
        if defined.contains(role) || *role == DEFAULT_ROLE {
            continue;
        }
        let hint = did_you_mean(role, defined.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        let others = match users.len() {
            1 => String::new(),
            n => format!(" (and {} other case(s))", n - 1),
        };
        let message = format!(
            "role `{role}` is not defined in {}: this case{others} falls back to `{DEFAULT_ROLE}`{hint}",
            file.display()
        );
        out.push(at(&users[0].file.path(), "agent", message));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_spec_elements_are_the_documented_ones() {
        let all = spec_elements();
        assert_eq!(all.len(), 6 + 9 + 4);
        assert!(all.contains(&"param.agentLoginPassword".to_string()));
        assert_eq!(
            unknown("spec element", "S7", &all),
            format!("unknown spec element `S7` (known: {})", all.join(", "))
        );
        assert_eq!(
            unknown("spec element", "param.workmod", &all),
            "unknown spec element `param.workmod`; did you mean `param.workmode`?"
        );
    }
}

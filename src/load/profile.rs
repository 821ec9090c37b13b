//! Target profiles: where the server is, who to log in as, what it can demonstrate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::diagnostic::Diagnostic;
use super::duration::WrittenDuration;
use super::vars::{Env, Variables};
use super::{parse_toml, Transport};
use crate::secret::{Redactor, Secret};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Option<String>,
    target: Option<String>,
    #[serde(default)]
    csrf: bool,
    timeout_ms: Option<u64>,
    max_body_bytes: Option<usize>,
    #[serde(default)]
    capabilities: Vec<String>,
    #[serde(default)]
    vars: BTreeMap<String, String>,
    #[serde(default)]
    agents: BTreeMap<String, RawAgent>,
    pool: Option<RawPool>,
    transport: Option<Transport>,
    ca_file: Option<String>,
    #[serde(default)]
    strict: bool,
    deadline: Option<String>,
    notification_window_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    username: String,
    password: String,
}

/// `[pool]`: users any case may run as, one password for all (read from the environment).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPool {
    users: Vec<String>,
    password: String,
}

/// Credentials of one agent role.
#[derive(Debug, Clone)]
pub struct Agent {
    pub username: String,
    pub password: Secret,
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub file: Option<PathBuf>,
    pub target: Option<String>,
    pub csrf: bool,
    pub timeout: Duration,
    pub max_body_bytes: usize,
    pub capabilities: BTreeSet<String>,
    pub vars: BTreeMap<String, String>,
    pub agents: BTreeMap<String, Agent>,
    /// `[pool]`: users the run schedules cases over (see `crate::plan::pool`); empty without one.
    pub pool: Vec<Agent>,
    pub transport: Transport,
    /// `ca_file`: PEM certificates trusted besides the system's, for a target whose HTTPS
    /// certificate comes from a private CA (a staging GWS, say). Relative to the profile's folder.
    pub ca_file: Option<PathBuf>,
    /// The certificates read from `ca_file` (DER), checked when the profile loads.
    pub ca_certificates: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// SHA-256 of the `ca_file` bytes those certificates were read from (for the report's inputs).
    pub ca_file_sha256: Option<String>,
    /// Warnings (inferred expectations not met) fail the run, as with `run --strict`.
    pub strict: bool,
    /// What loads but deserves a word (a password too short to mask in free text).
    pub warnings: Vec<Diagnostic>,
    /// `deadline`: the whole run ends when it passes, as Ctrl-C ends it ([`DEFAULT_DEADLINE`]).
    pub deadline: WrittenDuration,
    /// `notification_window_ms`: how long a message that must come is waited for. The cases' windows
    /// are written for [`DEFAULT_NOTIFICATION_WINDOW`] and scale with it (a slow lab needs more).
    pub notification_window: Duration,
}

/// Said at load about a password shorter than [`crate::secret::MIN_FREE_TEXT`].
pub const WEAK_PASSWORD: &str = "this password is shorter than 4 characters: reports mask it where a whole value equals it (and in Authorization headers and password members), but not inside free text such as a server's message";

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// The window the cases' `within_ms` are written for; `notification_window_ms` scales them.
pub const DEFAULT_NOTIFICATION_WINDOW: Duration = Duration::from_millis(4000);
/// The longest `notification_window_ms`: ten times the default.
const MAX_NOTIFICATION_WINDOW_MS: u64 = 40_000;
/// A run of the whole suite against a healthy target takes seconds to a few minutes; half an hour
/// means something is wrong, and a CI job should hear about it rather than wait for its own limit.
pub const DEFAULT_DEADLINE: &str = "30m";

/// The default deadline, parsed.
pub fn default_deadline() -> WrittenDuration {
    WrittenDuration {
        text: DEFAULT_DEADLINE.to_string(),
        duration: Duration::from_secs(30 * 60),
    }
}

impl Profile {
    /// Whether the profile file names a `target`, read before the suite loads: the embedded server's
    /// generated secrets may stand in for unset `${env:...}` values only when the run will go to the
    /// embedded server. An unreadable or malformed file says no; loading it reports why.
    pub fn names_target(path: &Path) -> bool {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.parse::<toml::Table>().ok())
            .is_some_and(|t| t.get("target").is_some_and(toml::Value::is_str))
    }

    /// The profile used with `--target` and no `--profile`: credentials from `GWS_USERNAME` and
    /// `GWS_PASSWORD`, no capabilities, so every case that needs one is skipped with its reason.
    pub fn from_environment(env: &Env, redactor: &Redactor) -> Result<Profile, Vec<Diagnostic>> {
        let mut agents = BTreeMap::new();
        let mut warnings = Vec::new();
        if let (Some(u), Some(p)) = (env.get("GWS_USERNAME"), env.get("GWS_PASSWORD")) {
            redactor.add(p);
            if crate::secret::is_weak(p) {
                warnings.push(Diagnostic::file(Path::new("GWS_PASSWORD"), WEAK_PASSWORD));
            }
            agents.insert(
                "default".to_string(),
                Agent {
                    username: u.to_string(),
                    password: Secret::new(p),
                },
            );
        }
        Ok(Profile {
            name: "environment".to_string(),
            file: None,
            target: None,
            csrf: false,
            timeout: DEFAULT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY,
            capabilities: BTreeSet::new(),
            vars: BTreeMap::new(),
            agents,
            pool: Vec::new(),
            transport: Transport::Auto,
            strict: false,
            ca_file: None,
            ca_certificates: Vec::new(),
            ca_file_sha256: None,
            warnings,
            deadline: default_deadline(),
            notification_window: DEFAULT_NOTIFICATION_WINDOW,
        })
    }

    pub fn load(path: &Path, env: &Env, redactor: &Redactor) -> Result<Profile, Vec<Diagnostic>> {
        let bytes = std::fs::read(path)
            .map_err(|e| vec![Diagnostic::file(path, format!("cannot read profile: {e}"))])?;
        let text = super::diagnostic::utf8_text(path, bytes).map_err(|d| vec![d])?;
        Self::parse(path, &text, env, redactor)
    }

    pub fn parse(
        path: &Path,
        text: &str,
        env: &Env,
        redactor: &Redactor,
    ) -> Result<Profile, Vec<Diagnostic>> {
        let raw: RawProfile = parse_toml(path, text).map_err(|d| vec![d])?;
        let vars = Variables::new(env);
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut weak_seen: Vec<String> = Vec::new();
        let mut agents = BTreeMap::new();
        let mut unset_seen: Vec<String> = Vec::new();
        let raw_passwords: Vec<String> = raw
            .agents
            .values()
            .map(|a| a.password.trim().to_string())
            .collect();
        for (role, agent) in raw.agents {
            let field = format!("agents.{role}.password");
            let p = agent.password.trim().to_string();
            if !(p.starts_with("${env:") && p.ends_with('}') && p.matches("${").count() == 1) {
                errors.push(diag(
                    path,
                    text,
                    &field,
                    "a password is only ever read from the environment: write `${env:NAME}`",
                ));
                continue;
            }
            match vars.interpolate(&p) {
                Ok(done) => {
                    redactor.add(&done.text);
                    // Once per variable, at the first role that reads it (roles share one).
                    if crate::secret::is_weak(&done.text) && !weak_seen.contains(&p) {
                        weak_seen.push(p);
                        warnings.push(diag(path, text, &field, WEAK_PASSWORD));
                    }
                    agents.insert(
                        role,
                        Agent {
                            username: agent.username,
                            password: Secret::new(done.text),
                        },
                    );
                }
                // Once per variable: sixteen roles reading one unset variable are one mistake.
                Err(e @ super::vars::VarError::EnvUnset(..)) => {
                    if !unset_seen.contains(&p) {
                        let readers = raw_passwords.iter().filter(|q| **q == p).count();
                        let also = if readers > 1 {
                            format!(" ({readers} roles read their password from it)")
                        } else {
                            String::new()
                        };
                        errors.push(diag(path, text, &field, format!("{e}{also}")));
                        unset_seen.push(p);
                    }
                }
                Err(e) => errors.push(diag(path, text, &field, e.to_string())),
            }
        }
        let pool = match &raw.pool {
            Some(p) => {
                let pool = read_pool(p, &vars, redactor, path, text, &mut warnings);
                // An unset variable the agents read too is one mistake, said once.
                pool.unwrap_or_else(|(field, e)| {
                    if !unset_seen.contains(&p.password.trim().to_string()) {
                        errors.push(diag(path, text, field, e));
                    }
                    Vec::new()
                })
            }
            None => Vec::new(),
        };
        for name in super::vars::nested_references(&raw.vars) {
            errors.push(diag(
                path,
                text,
                &format!("vars.{name}"),
                super::vars::NESTED_VARIABLE,
            ));
        }
        if let Some(t) = &raw.target {
            if let Some(problem) = target_problem(t) {
                errors.push(diag(path, text, "target", problem));
            }
        }
        let ca_file = raw.ca_file.as_ref().map(|f| {
            let f = Path::new(f);
            match path.parent() {
                Some(dir) if f.is_relative() => dir.join(f),
                _ => f.to_path_buf(),
            }
        });
        let mut ca_certificates = Vec::new();
        let mut ca_file_sha256 = None;
        if let Some(f) = &ca_file {
            match read_ca_file(f) {
                Ok((certs, sha256)) => {
                    ca_certificates = certs;
                    ca_file_sha256 = Some(sha256);
                }
                Err(e) => errors.push(diag(path, text, "ca_file", e)),
            }
        }
        let deadline = match raw.deadline.as_deref().map(str::parse::<WrittenDuration>) {
            None => default_deadline(),
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                errors.push(diag(path, text, "deadline", e));
                default_deadline()
            }
        };
        let notification_window = match raw.notification_window_ms {
            None => DEFAULT_NOTIFICATION_WINDOW,
            Some(ms @ 1..=MAX_NOTIFICATION_WINDOW_MS) => Duration::from_millis(ms),
            Some(ms) => {
                let why =
                    format!("{ms} is outside 1..={MAX_NOTIFICATION_WINDOW_MS} (milliseconds)");
                errors.push(diag(path, text, "notification_window_ms", why));
                DEFAULT_NOTIFICATION_WINDOW
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Profile {
            name: raw.name.unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            }),
            file: Some(path.to_path_buf()),
            target: raw.target,
            csrf: raw.csrf,
            timeout: raw
                .timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(DEFAULT_TIMEOUT),
            max_body_bytes: raw.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY),
            capabilities: raw.capabilities.into_iter().collect(),
            vars: raw.vars,
            agents,
            pool,
            transport: raw.transport.unwrap_or(Transport::Auto),
            strict: raw.strict,
            ca_file,
            ca_certificates,
            ca_file_sha256,
            warnings,
            deadline,
            notification_window,
        })
    }

    /// The credentials for a role: the role's own, else the default role's.
    pub fn agent(&self, role: &str) -> Option<(&str, &Agent)> {
        self.agents
            .get_key_value(role)
            .or_else(|| self.agents.get_key_value("default"))
            .map(|(k, v)| (k.as_str(), v))
    }

    /// The profile as it may appear in a report: no secret in it. Its values (name, target, user
    /// names, variables) are outside data and masked like a server's answer; its keys, role and
    /// capability names and file paths are shown as written (see `crate::secret`).
    pub fn redacted_summary(&self) -> serde_json::Value {
        let own = Redactor::new();
        for a in self.agents.values() {
            own.add(a.password.expose());
        }
        for a in &self.pool {
            own.add(a.password.expose());
        }
        let value = |v: &str| own.redact(v);
        let mut summary = serde_json::json!({
            "name": value(&self.name),
            "file": self.file.as_ref().map(|f| f.display().to_string()),
            "csrf": self.csrf,
            "strict": self.strict,
            "timeout_ms": self.timeout.as_millis() as u64,
            "notification_window_ms": self.notification_window.as_millis() as u64,
            "max_body_bytes": self.max_body_bytes,
            "capabilities": self.capabilities,
            "ca_file": self.ca_file.as_ref().map(|f| f.display().to_string()),
            "vars": self.vars.iter().map(|(k, v)| (k.clone(), value(v).into())).collect::<serde_json::Map<_, _>>(),
            "agents": self.agents.iter().map(|(role, a)| (role.clone(), serde_json::json!({"username": value(&a.username), "password": a.password}))).collect::<serde_json::Map<_, _>>(),
        });
        if !self.pool.is_empty() {
            summary["pool"] = self.pool.iter().map(|a| value(&a.username)).collect();
        }
        summary
    }
}

/// The users of `[pool]`, each with the pool's password: at least one, none twice, the password
/// read from the environment as an agent's is. An error is its field and the message.
fn read_pool(
    raw: &RawPool,
    vars: &Variables,
    redactor: &Redactor,
    path: &Path,
    text: &str,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Vec<Agent>, (&'static str, String)> {
    let p = raw.password.trim();
    if !(p.starts_with("${env:") && p.ends_with('}') && p.matches("${").count() == 1) {
        let msg = "a password is only ever read from the environment: write `${env:NAME}`";
        return Err(("pool.password", msg.to_string()));
    }
    if raw.users.is_empty() {
        return Err(("pool.users", "a pool needs at least one user".to_string()));
    }
    let mut seen = BTreeSet::new();
    for u in &raw.users {
        if u.trim().is_empty() {
            return Err(("pool.users", "an empty user name".to_string()));
        }
        if !seen.insert(u.as_str()) {
            return Err(("pool.users", format!("`{u}` is listed twice")));
        }
    }
    let password = vars
        .interpolate(p)
        .map_err(|e| ("pool.password", e.to_string()))?
        .text;
    redactor.add(&password);
    if crate::secret::is_weak(&password) {
        warnings.push(diag(path, text, "pool.password", WEAK_PASSWORD));
    }
    Ok(raw
        .users
        .iter()
        .map(|u| Agent {
            username: u.clone(),
            password: Secret::new(password.clone()),
        })
        .collect())
}

/// The certificates of a `ca_file` and the SHA-256 of the bytes they were read from. Each is parsed
/// as a trust anchor now (as the verifier will), so that a broken one is reported against the
/// profile's line, not when the first request fails.
fn read_ca_file(
    file: &Path,
) -> Result<(Vec<rustls::pki_types::CertificateDer<'static>>, String), String> {
    use rustls::pki_types::pem::PemObject;
    let shown = file.display();
    let pem = std::fs::read(file).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{shown} is not a PEM certificate bundle: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{shown} holds no PEM certificate"));
    }
    let mut anchors = rustls::RootCertStore::empty();
    for (i, c) in certs.iter().enumerate() {
        anchors.add(c.clone()).map_err(|e| {
            format!(
                "{shown} is not a PEM certificate bundle: certificate {} is not usable as a CA: {e}",
                i + 1
            )
        })?;
    }
    Ok((certs, super::sha256_hex(&pem)))
}

/// What is wrong with a target URL, if anything: it must be http(s) with a host. `127.0.0.1:18555`
/// (no scheme) would otherwise fail deep in the HTTP client as "relative URL without a base", and
/// `localhost:8080` would parse as the scheme `localhost:`; both get "did you mean http://...?".
/// The same words for `--target` and a profile's `target`.
pub fn target_problem(t: &str) -> Option<String> {
    match url::Url::parse(t) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => None,
        _ if !t.contains("://") => Some(format!(
            "`{t}` is not a URL with a scheme; did you mean http://{t}?"
        )),
        Ok(u) => Some(format!(
            "`{t}`: the scheme must be http or https, not `{}`",
            u.scheme()
        )),
        Err(e) => Some(format!("`{t}` is not a URL: {e}")),
    }
}

fn diag(path: &Path, text: &str, field: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(
        path,
        text,
        super::locate::offset_of(text, field),
        field,
        message,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_must_hold_pem_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::empty();
        let r = Redactor::new();
        let p = dir.path().join("p.toml");
        std::fs::write(dir.path().join("not-pem.txt"), "hello").unwrap();
        let e =
            Profile::parse(&p, "name = \"x\"\nca_file = \"not-pem.txt\"\n", &env, &r).unwrap_err();
        let shown = e[0].to_string();
        assert!(
            shown.contains("p.toml:2:1: ca_file: ")
                && shown.contains("not-pem.txt holds no PEM certificate"),
            "{shown}"
        );
        std::fs::write(
            dir.path().join("broken.pem"),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = Profile::parse(&p, "ca_file = \"broken.pem\"\n", &env, &r).unwrap_err();
        assert!(e[0].to_string().contains("ca_file: ") && e[0].to_string().contains("broken.pem is not a PEM certificate bundle: certificate 1 is not usable as a CA"), "{}", e[0]);
        let e = Profile::parse(&p, "ca_file = \"missing.pem\"\n", &env, &r).unwrap_err();
        assert!(
            e[0].to_string().contains("ca_file: cannot read "),
            "{}",
            e[0]
        );
    }

    #[test]
    fn one_unset_variable_read_by_many_roles_is_one_error() {
        let r = Redactor::new();
        let text = "name = \"x\"\n[agents.a]\nusername = \"u1\"\npassword = \"${env:GWS_NOT_SET_X}\"\n[agents.b]\nusername = \"u2\"\npassword = \"${env:GWS_NOT_SET_X}\"\n[agents.c]\nusername = \"u3\"\npassword = \"${env:GWS_NOT_SET_Y}\"\n";
        let e = Profile::parse(Path::new("p.toml"), text, &Env::empty(), &r).unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].to_string().contains("`GWS_NOT_SET_X` is not set")
                && e[0]
                    .to_string()
                    .ends_with("(2 roles read their password from it)"),
            "{}",
            e[0]
        );
        assert!(
            e[1].to_string().ends_with("`${env:GWS_NOT_SET_Y}`)"),
            "{}",
            e[1]
        );
    }

    #[test]
    fn a_pool_lists_users_once_with_one_password_from_the_environment() {
        let env = Env::empty().with("PW", "pool-secret");
        let r = Redactor::new();
        let ok = "[pool]\nusers = [\"a1\", \"a2\"]\npassword = \"${env:PW}\"\n";
        let p = Profile::parse(Path::new("p.toml"), ok, &env, &r).unwrap();
        assert_eq!(p.pool.len(), 2);
        assert_eq!(p.pool[1].password.expose(), "pool-secret");
        assert_eq!(p.redacted_summary()["pool"][0], "a1");
        assert_eq!(r.redact("x pool-secret"), "x ***");
        let twice = "[pool]\nusers = [\"a1\", \"a1\"]\npassword = \"${env:PW}\"\n";
        let e = Profile::parse(Path::new("p.toml"), twice, &env, &r).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "p.toml:2:1: pool.users: `a1` is listed twice"
        );
        let plain = "[pool]\nusers = [\"a1\"]\npassword = \"pw\"\n";
        let e = Profile::parse(Path::new("p.toml"), plain, &env, &r).unwrap_err();
        assert!(
            e[0].to_string()
                .contains("pool.password: a password is only ever read from the environment"),
            "{}",
            e[0]
        );
        // One unset variable read by the agents and the pool: one error.
        let unset = "[pool]\nusers = [\"a1\"]\npassword = \"${env:NOPE_X}\"\n[agents.auth]\nusername = \"a9\"\npassword = \"${env:NOPE_X}\"\n";
        let e = Profile::parse(Path::new("p.toml"), unset, &env, &r).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
    }

    #[test]
    fn a_target_without_a_scheme_gets_the_command_lines_did_you_mean() {
        let r = Redactor::new();
        let text = "name = \"x\"\ntarget = \"127.0.0.1:41489\"\n";
        let e = Profile::parse(Path::new("p.toml"), text, &Env::empty(), &r).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "p.toml:2:1: target: `127.0.0.1:41489` is not a URL with a scheme; did you mean http://127.0.0.1:41489?"
        );
    }

    #[test]
    fn a_deadline_is_a_duration_with_a_default() {
        let env = Env::empty();
        let r = Redactor::new();
        let p = Profile::parse(Path::new("p.toml"), "name = \"x\"\n", &env, &r).unwrap();
        assert_eq!(p.deadline.duration, Duration::from_secs(1800));
        let p = Profile::parse(Path::new("p.toml"), "deadline = \"90s\"\n", &env, &r).unwrap();
        assert_eq!(p.deadline.duration, Duration::from_secs(90));
        let e = Profile::parse(
            Path::new("p.toml"),
            "name = \"x\"\ndeadline = \"soon\"\n",
            &env,
            &r,
        )
        .unwrap_err();
        assert!(
            e[0].to_string()
                .starts_with("p.toml:2:1: deadline: `soon` is not a duration"),
            "{}",
            e[0]
        );
    }

    #[test]
    fn password_must_come_from_env() {
        let env = Env::empty().with("PW", "sentinel-pw");
        let r = Redactor::new();
        let text = "[agents.default]\nusername = \"a\"\npassword = \"plain\"\n";
        let e = Profile::parse(Path::new("p.toml"), text, &env, &r).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "p.toml:3:1: agents.default.password: a password is only ever read from the environment: write `${env:NAME}`"
        );
        let ok = "[agents.default]\nusername = \"a\"\npassword = \"${env:PW}\"\n";
        let p = Profile::parse(Path::new("p.toml"), ok, &env, &r).unwrap();
        assert_eq!(p.agent("other").unwrap().1.password.expose(), "sentinel-pw");
        assert!(!p.redacted_summary().to_string().contains("sentinel-pw"));
        assert_eq!(r.redact("x sentinel-pw"), "x ***");
    }

    #[test]
    fn profile_values_are_masked_and_its_names_kept() {
        let env = Env::empty().with("PW", "agent").with("ONE", "1");
        let r = Redactor::new();
        let text = "name = \"agent-lab\"\ncapabilities = [\"multimedia_agent\"]\n[vars]\nplace = \"agent\"\n[agents.agents]\nusername = \"agent\"\npassword = \"${env:PW}\"\n[agents.user1]\nusername = \"u1\"\npassword = \"${env:ONE}\"\n";
        let p = Profile::parse(Path::new("p.toml"), text, &env, &r).unwrap();
        let s = p.redacted_summary();
        assert_eq!(s["name"], "***-lab");
        assert_eq!(s["capabilities"][0], "multimedia_agent");
        assert_eq!(s["vars"]["place"], "***");
        assert_eq!(s["agents"]["agents"]["username"], "***");
        assert_eq!(s["agents"]["user1"]["username"], "u1");
        assert_eq!(s["agents"]["user1"]["password"], "***");
        // "1" is too short to mask inside text: said once, at its line.
        assert_eq!(p.warnings.len(), 1);
        assert!(
            p.warnings[0]
                .to_string()
                .starts_with("p.toml:10:1: agents.user1.password: this password is shorter than 4"),
            "{}",
            p.warnings[0]
        );
    }

    #[test]
    fn the_notification_window_defaults_to_4000_is_bounded_and_reported() {
        let env = Env::empty();
        let r = Redactor::new();
        let p = Profile::parse(Path::new("p.toml"), "", &env, &r).unwrap();
        assert_eq!(p.notification_window, DEFAULT_NOTIFICATION_WINDOW);
        let slow = "notification_window_ms = 10000\n";
        let p = Profile::parse(Path::new("p.toml"), slow, &env, &r).unwrap();
        assert_eq!(p.notification_window, Duration::from_millis(10_000));
        assert_eq!(p.redacted_summary()["notification_window_ms"], 10_000);
        let e = Profile::parse(
            Path::new("p.toml"),
            "notification_window_ms = 0\n",
            &env,
            &r,
        )
        .unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "p.toml:1:1: notification_window_ms: 0 is outside 1..=40000 (milliseconds)"
        );
    }
}

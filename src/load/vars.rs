//! `${name}` and `${env:NAME}` substitution.
//!
//! An undefined variable is an error, never an empty string: a silently empty place name would turn
//! a test of one rule into a test of another.

use std::collections::BTreeMap;

/// The environment the run sees: the process environment plus values the binary adds (the embedded
/// server's generated passwords). A snapshot, so tests can build one without touching the process.
#[derive(Debug, Clone, Default)]
pub struct Env {
    values: BTreeMap<String, String>,
    /// A case file that names an unset variable is skipped (with the reason) rather than refused.
    unset_skips_case: bool,
}

impl Env {
    pub fn from_process() -> Self {
        Env {
            values: std::env::vars().collect(),
            unset_skips_case: false,
        }
    }

    /// This environment, where a case file that names an unset `${env:NAME}` loads with the
    /// reference left as written and is skipped with the reason, instead of stopping the whole run:
    /// a real target's operator may have no use for, say, Sample 3's switch password. Profiles still
    /// refuse unset variables.
    pub fn unset_skips_case(mut self) -> Self {
        self.unset_skips_case = true;
        self
    }

    pub fn skips_cases_with_unset(&self) -> bool {
        self.unset_skips_case
    }

    pub fn empty() -> Self {
        Env::default()
    }

    /// A set variable whose name is one or two edits from `name` (a typo, or a letter swapped): only
    /// names are compared and said, never values. Stricter than the suite's other did-you-means,
    /// since environments hold many names that share a prefix (`GWS_USERNAME`, `GWS_PASSWORD`).
    ///
    /// A numbered sibling (`GWS_PASSWORD_2` for `GWS_PASSWORD_3`) is never offered: it is another
    /// user's password, not a typo of this one (see [`Env::numbered_siblings`]).
    pub fn near_name(&self, name: &str) -> Option<&str> {
        if name.len() < 4 {
            return None;
        }
        self.values
            .keys()
            .filter(|k| !is_numbered_sibling(name, k))
            .map(|k| (strsim::damerau_levenshtein(name, k), k.as_str()))
            .filter(|(d, _)| *d <= 2)
            .min_by_key(|(d, _)| *d)
            .map(|(_, k)| k)
    }

    /// Set variables that differ from `name` only in their digits (`GWS_PASSWORD_1` beside an unset
    /// `GWS_PASSWORD_3`): a password per user, each with a variable of its own.
    pub fn numbered_siblings(&self, name: &str) -> Vec<&str> {
        self.values
            .keys()
            .filter(|k| is_numbered_sibling(name, k))
            .map(String::as_str)
            .collect()
    }

    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.values.insert(name.to_string(), value.to_string());
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// Two different names that are the same once their digits (and the `_` or `-` left trailing) are
/// left out, one of them holding some: `GWS_PASSWORD_2` beside `GWS_PASSWORD_3` or `GWS_PASSWORD`.
fn is_numbered_sibling(a: &str, b: &str) -> bool {
    let stem = |s: &str| {
        let letters: String = s.chars().filter(|c| !c.is_ascii_digit()).collect();
        letters.trim_end_matches(['_', '-']).to_string()
    };
    let numbered = |s: &str| s.chars().any(|c| c.is_ascii_digit());
    a != b && (numbered(a) || numbered(b)) && stem(a) == stem(b)
}

/// The hint for an unset environment variable: a near name that is set (a typo), else, when
/// numbered siblings are set, that this one is another user's and needs its own value.
fn unset_env_hint(env: &Env, name: &str) -> String {
    if let Some(n) = env.near_name(name) {
        return format!("; did you mean `${{env:{n}}}`, which is set?");
    }
    let siblings = env.numbered_siblings(name);
    if siblings.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = siblings.iter().take(3).copied().collect();
    let more = if siblings.len() > 3 { ", ..." } else { "" };
    format!(
        "; {}{more} {} set, but each holds another user's password: export {name} too",
        shown.join(", "),
        if siblings.len() == 1 { "is" } else { "are" }
    )
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    #[error("undefined variable `${{{0}}}`{1}")]
    Undefined(String, String),
    #[error("environment variable `{0}` is not set (referenced as `${{env:{0}}}`){1}")]
    EnvUnset(String, String),
    #[error("unclosed `${{` in `{0}`")]
    Unclosed(String),
}

/// Why a `[vars]` value may not hold `${`: values are not expanded again, so `${env:NAME}` there would
/// be sent as written, and a secret would have to be written in a file to take its place.
pub const NESTED_VARIABLE: &str =
    "a variable's value cannot hold `${...}`: values are not expanded; write the value itself (secrets go straight into requests as `${env:NAME}`)";

/// The names of the `[vars]` entries whose values hold `${`, in name order.
pub fn nested_references(values: &BTreeMap<String, String>) -> Vec<&str> {
    values
        .iter()
        .filter(|(_, v)| v.contains("${"))
        .map(|(k, _)| k.as_str())
        .collect()
}

/// Variable values in scope for one case: borrowed layers (sample defaults, the case's own, the
/// profile's), not copies, since every case of a large suite builds one.
#[derive(Debug, Clone)]
pub struct Variables<'e> {
    layers: Vec<&'e BTreeMap<String, String>>,
    own: BTreeMap<String, String>,
    env: &'e Env,
    /// With [`Variables::defer_unset_env`]: the unset environment variables met so far.
    unset_env: Option<std::cell::RefCell<std::collections::BTreeSet<String>>>,
    /// With [`Variables::defer_lab`]: the lab variables, and those met that no layer sets.
    lab: Option<&'e BTreeMap<String, String>>,
    unset_lab: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

/// What one substitution produced: the text, and the values that came from the environment (secrets).
pub struct Interpolated {
    pub text: String,
    pub secrets: Vec<String>,
}

impl<'e> Variables<'e> {
    pub fn new(env: &'e Env) -> Self {
        Variables {
            layers: Vec::new(),
            own: BTreeMap::new(),
            env,
            unset_env: None,
            lab: None,
            unset_lab: Default::default(),
        }
    }

    /// A lab variable (a name of `lab`) that no layer sets is then left as written and remembered
    /// (see [`Variables::unset_lab`]): its case is skipped naming it, never run with a guess.
    pub fn defer_lab(&mut self, lab: &'e BTreeMap<String, String>) {
        self.lab = Some(lab);
    }

    /// The unset lab variables met since [`Variables::defer_lab`], in name order.
    pub fn unset_lab(&self) -> Vec<String> {
        self.unset_lab.borrow().iter().cloned().collect()
    }

    /// An unset `${env:NAME}` is then left as written and remembered (see [`Variables::unset_env`])
    /// instead of being an error.
    pub fn defer_unset_env(&mut self) {
        self.unset_env = Some(Default::default());
    }

    /// The unset environment variables met since [`Variables::defer_unset_env`], in name order.
    pub fn unset_env(&self) -> Vec<String> {
        self.unset_env
            .as_ref()
            .map(|u| u.borrow().iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Later layers win; values given with [`Variables::set`] win over every layer.
    pub fn layer(&mut self, values: &'e BTreeMap<String, String>) {
        self.layers.push(values);
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.own.insert(name.to_string(), value.to_string());
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.own
            .get(name)
            .or_else(|| self.layers.iter().rev().find_map(|l| l.get(name)))
            .map(String::as_str)
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.own
            .keys()
            .chain(self.layers.iter().flat_map(|l| l.keys()))
            .map(String::as_str)
    }

    pub fn interpolate(&self, text: &str) -> Result<Interpolated, VarError> {
        let mut out = String::with_capacity(text.len());
        let mut secrets = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| VarError::Unclosed(text.to_string()))?;
            let name = after[..end].trim();
            if let Some(env_name) = name.strip_prefix("env:") {
                match (self.env.get(env_name), &self.unset_env) {
                    (Some(value), _) => {
                        secrets.push(value.to_string());
                        out.push_str(value);
                    }
                    (None, Some(unset)) => {
                        unset.borrow_mut().insert(env_name.to_string());
                        out.push_str(&rest[start..start + 2 + end + 1]);
                    }
                    (None, None) => {
                        let hint = unset_env_hint(self.env, env_name);
                        return Err(VarError::EnvUnset(env_name.to_string(), hint));
                    }
                }
            } else if self.get(name).is_none() && self.lab.is_some_and(|l| l.contains_key(name)) {
                self.unset_lab.borrow_mut().insert(name.to_string());
                out.push_str(&rest[start..start + 2 + end + 1]);
            } else {
                let value = self.get(name).ok_or_else(|| {
                    let hint = super::diagnostic::did_you_mean(name, self.names())
                        .map(|s| format!("; did you mean `${{{s}}}`?"))
                        .unwrap_or_default();
                    VarError::Undefined(name.to_string(), hint)
                })?;
                out.push_str(value);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Interpolated { text: out, secrets })
    }

    /// Substitutes every string inside a JSON value (keys are left alone). An error carries the
    /// sub-path of the string that failed (`.place`, `.channels[1]`), so it can be pointed at.
    pub fn interpolate_json(
        &self,
        value: &mut serde_json::Value,
        secrets: &mut Vec<String>,
    ) -> Result<(), (String, VarError)> {
        match value {
            serde_json::Value::String(s) if s.contains("${") => {
                let done = self.interpolate(s).map_err(|e| (String::new(), e))?;
                secrets.extend(done.secrets);
                *s = done.text;
            }
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter_mut().enumerate() {
                    self.interpolate_json(v, secrets)
                        .map_err(|(p, e)| (format!("[{i}]{p}"), e))?;
                }
            }
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    self.interpolate_json(v, secrets)
                        .map_err(|(p, e)| (format!(".{k}{p}"), e))?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The comment of each `name = value` line's paragraph (lines between blank lines) in a variables
/// file, its `#` lines joined, with the paragraph's number (to list them in the file's order): a
/// file that explains its values a paragraph at a time (`# Sample 2` above `place`, `login_code`
/// and `queue`) explains each of them.
pub fn paragraph_comments(text: &str) -> BTreeMap<String, (usize, String)> {
    let mut out = BTreeMap::new();
    for (n, paragraph) in text.split("\n\n").enumerate() {
        let comment: Vec<&str> = paragraph
            .lines()
            .filter_map(|l| l.trim().strip_prefix('#'))
            .map(str::trim)
            .collect();
        if comment.is_empty() {
            continue;
        }
        let comment = comment.join(" ");
        for line in paragraph.lines().map(str::trim) {
            if let Some((name, _)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
                out.insert(name.trim().to_string(), (n, comment.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(env: &Env) -> Variables<'_> {
        let mut v = Variables::new(env);
        v.set("place", "SIP_5000");
        v
    }

    #[test]
    fn an_unset_env_variable_is_an_error_unless_deferred() {
        let env = Env::empty();
        let mut v = vars(&env);
        assert_eq!(
            v.interpolate("pw=${env:NOPE}").err(),
            Some(VarError::EnvUnset("NOPE".into(), String::new()))
        );
        v.defer_unset_env();
        let done = v.interpolate("${place}/${env:NOPE}/${env:ALSO}").unwrap();
        assert_eq!(done.text, "SIP_5000/${env:NOPE}/${env:ALSO}");
        assert!(done.secrets.is_empty());
        assert_eq!(v.unset_env(), ["ALSO", "NOPE"]);
    }

    #[test]
    fn each_variable_gets_its_paragraphs_comment() {
        let text = "# Header\n# more\n\n# Sample 2\nplace = \"P\"\nqueue = \"Q\"\n\nbare = \"x\"\n";
        let m = paragraph_comments(text);
        assert_eq!(m["place"], (1, "Sample 2".to_string()));
        assert_eq!(m["queue"], (1, "Sample 2".to_string()));
        assert!(!m.contains_key("bare"));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn an_unset_lab_variable_is_deferred_and_named() {
        let env = Env::empty();
        let lab = BTreeMap::from([("queue".to_string(), "an ACD queue".to_string())]);
        let mut v = vars(&env);
        assert!(v.interpolate("${queue}").is_err());
        v.defer_lab(&lab);
        let done = v.interpolate("${place}/${queue}").unwrap();
        assert_eq!(done.text, "SIP_5000/${queue}");
        assert_eq!(v.unset_lab(), ["queue"]);
        // Not a lab variable: still an error.
        assert!(v.interpolate("${nope}").is_err());
    }

    #[test]
    fn substitutes_names_and_env() {
        let env = Env::empty().with("PW", "pa55word");
        let v = vars(&env);
        let r = v.interpolate("p=${place} pw=${env:PW}").unwrap();
        assert_eq!(r.text, "p=SIP_5000 pw=pa55word");
        assert_eq!(r.secrets, vec!["pa55word".to_string()]);
    }

    #[test]
    fn undefined_is_an_error_with_a_hint() {
        let env = Env::empty();
        let v = vars(&env);
        let e = v.interpolate("${plac}").err().unwrap();
        assert_eq!(
            e.to_string(),
            "undefined variable `${plac}`; did you mean `${place}`?"
        );
        let e = v.interpolate("${env:NOPE_X}").err().unwrap();
        assert_eq!(
            e.to_string(),
            "environment variable `NOPE_X` is not set (referenced as `${env:NOPE_X}`)"
        );
        let env = Env::empty()
            .with("GWS_PASSWORD", "s3cret-value")
            .with("GWS_USERNAME", "agent1");
        let v = vars(&env);
        let e = v.interpolate("${env:GWS_PASSWROD}").err().unwrap();
        assert_eq!(
            e.to_string(),
            "environment variable `GWS_PASSWROD` is not set (referenced as `${env:GWS_PASSWROD}`); did you mean `${env:GWS_PASSWORD}`, which is set?"
        );
        // Another user's numbered variable is no did-you-mean: it says this one needs its own.
        let env = Env::empty()
            .with("GWS_PASSWORD_1", "s3cret-one")
            .with("GWS_PASSWORD_2", "s3cret-two");
        let e = Variables::new(&env)
            .interpolate("${env:GWS_PASSWORD_3}")
            .err()
            .unwrap()
            .to_string();
        assert!(!e.contains("did you mean"), "{e}");
        assert!(
            e.ends_with("; GWS_PASSWORD_1, GWS_PASSWORD_2 are set, but each holds another user's password: export GWS_PASSWORD_3 too"),
            "{e}"
        );
        let e = Variables::new(&env)
            .interpolate("${env:GWS_PASWORD_2}")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("did you mean `${env:GWS_PASSWORD_2}`"), "{e}");
        // One variable for all, where each user has one: no user's password is offered for it.
        let e = Variables::new(&env)
            .interpolate("${env:GWS_PASSWORD}")
            .err()
            .unwrap()
            .to_string();
        assert!(!e.contains("did you mean"), "{e}");
        assert!(e.contains("each holds another user's password"), "{e}");
        let env = Env::empty()
            .with("GWS_PASSWORD", "s3cret-value")
            .with("GWS_USERNAME", "agent1");
        let v = vars(&env);
        // Names sharing a prefix are not near: no hint.
        let e = v.interpolate("${env:GWS_TOKEN}").err().unwrap();
        assert!(!e.to_string().contains("did you mean"), "{e}");
        let e = v.interpolate("a ${place").err().unwrap();
        assert_eq!(e.to_string(), "unclosed `${` in `a ${place`");
    }

    #[test]
    fn later_layers_win_and_set_wins_over_all() {
        let env = Env::empty();
        let defaults = BTreeMap::from([("place".to_string(), "SIP_5000".to_string())]);
        let profile = BTreeMap::from([("place".to_string(), "P2".to_string())]);
        let mut v = Variables::new(&env);
        v.layer(&defaults);
        assert_eq!(v.interpolate("${place}").unwrap().text, "SIP_5000");
        v.layer(&profile);
        assert_eq!(v.interpolate("${place}").unwrap().text, "P2");
        v.set("place", "P3");
        assert_eq!(v.interpolate("${place}").unwrap().text, "P3");
    }
}

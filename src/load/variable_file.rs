//! `cases/variables.toml`: the case variables, split into **lab content** (things that exist in one
//! lab: a meaning, no value) and **synthetic values** (names chosen so that they exist nowhere: the
//! suite's defaults). A profile sets the lab's content in `[vars]`; a case that needs a lab variable
//! the profile leaves unset is skipped naming it, never run with another lab's value.

use std::collections::BTreeMap;
use std::path::Path;

use super::diagnostic::Diagnostic;
use super::{diagnostic, locate, vars};

/// What `cases/variables.toml` declares.
#[derive(Debug, Clone, Default)]
pub struct VariableFile {
    /// Synthetic values: the defaults every run starts from.
    pub synthetic: BTreeMap<String, String>,
    /// Lab variables and their one-line meanings (no value: the profile gives it).
    pub lab: BTreeMap<String, String>,
    /// Every variable's meaning with its place in the file (to list them in the file's order): a lab
    /// variable's own line, a synthetic value's paragraph comment.
    pub meanings: BTreeMap<String, (usize, String)>,
}

impl VariableFile {
    /// Whether the suite declares this variable (lab or synthetic).
    pub fn declares(&self, name: &str) -> bool {
        self.lab.contains_key(name) || self.synthetic.contains_key(name)
    }

    /// Each `[vars]` key of the profile that `cases/variables.toml` does not declare: a load error at
    /// its line, with a did-you-mean, as an unknown capability is. A misspelt key would otherwise leave
    /// the variable unset and its cases skipped for a reason the operator thinks they fixed.
    pub fn unknown_profile_vars(
        &self,
        path: &Path,
        bytes: &[u8],
        profile: &super::Profile,
        case_vars: &std::collections::BTreeSet<String>,
    ) -> Vec<Diagnostic> {
        let text = String::from_utf8_lossy(bytes);
        profile
        .vars
        .keys()
        .filter(|k| !self.declares(k) && !case_vars.contains(*k))
        .map(|k| {
            let known = self.names().chain(case_vars.iter().map(String::as_str));
            let hint = diagnostic::did_you_mean(k, known)
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            let field = format!("vars.{k}");
            Diagnostic::new(
                path,
                &text,
                locate::offset_of(&text, &field),
                &field,
                format!("unknown case variable `{k}`{hint} (a profile may set the variables cases/variables.toml declares, and those a case file declares in its [vars])"),
            )
        })
        .collect()
    }

    /// Every declared name, lab variables first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.lab
            .keys()
            .chain(self.synthetic.keys())
            .map(String::as_str)
    }
}

const TABLES: &str = "`cases/variables.toml` holds two tables: [lab] (name = \"meaning\", no value) and [synthetic] (name = \"value\")";

/// Parses the file; every problem is a diagnostic with its line, and the rest still loads.
pub fn parse(path: &Path, bytes: Vec<u8>) -> (VariableFile, Vec<Diagnostic>) {
    let text = match diagnostic::utf8_text(path, bytes) {
        Ok(t) => t,
        Err(d) => return (VariableFile::default(), vec![d]),
    };
    let table: toml::Table = match super::parse_toml(path, &text) {
        Ok(t) => t,
        Err(d) => return (VariableFile::default(), vec![d]),
    };
    let at = |field: &str, message: String| {
        Diagnostic::new(path, &text, locate::offset_of(&text, field), field, message)
    };
    let mut file = VariableFile::default();
    let mut errors = Vec::new();
    for (key, value) in &table {
        let target = match key.as_str() {
            "lab" => &mut file.lab,
            "synthetic" => &mut file.synthetic,
            _ => {
                errors.push(at(key, format!("unknown key: {TABLES}")));
                continue;
            }
        };
        let Some(entries) = value.as_table() else {
            errors.push(at(key, format!("must be a table: {TABLES}")));
            continue;
        };
        for (name, v) in entries {
            let field = format!("{key}.{name}");
            match v.as_str() {
                Some(s) if !s.trim().is_empty() => {
                    target.insert(name.clone(), s.to_string());
                }
                _ => errors.push(at(
                    &field,
                    "must be a non-empty string (a lab variable's meaning, a synthetic value)"
                        .into(),
                )),
            }
        }
    }
    for name in file.lab.keys().filter(|n| file.synthetic.contains_key(*n)) {
        errors.push(at(
            &format!("synthetic.{name}"),
            format!("`{name}` is declared in [lab] too: a variable is lab content or synthetic, not both"),
        ));
    }
    for name in vars::nested_references(&file.synthetic) {
        errors.push(at(
            &format!("synthetic.{name}"),
            vars::NESTED_VARIABLE.into(),
        ));
    }
    let comments = vars::paragraph_comments(&text);
    let lab_order = table.get("lab").and_then(toml::Value::as_table);
    for (i, (name, meaning)) in lab_order.into_iter().flatten().enumerate() {
        if let Some(m) = meaning.as_str() {
            file.meanings.insert(name.clone(), (i, m.to_string()));
        }
    }
    let base = file.lab.len();
    for name in file.synthetic.keys() {
        if let Some((n, c)) = comments.get(name) {
            file.meanings.insert(name.clone(), (base + n, c.clone()));
        }
    }
    (file, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_variables_have_meanings_and_no_value() {
        let text = "[lab]\nplace = \"a place\"\nqueue = \"a queue\"\n\n[synthetic]\n# nowhere\nunknown_place = \"NOPE\"\n";
        let (f, e) = parse(Path::new("v.toml"), text.as_bytes().to_vec());
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(f.lab["place"], "a place");
        assert!(!f.synthetic.contains_key("place"));
        assert_eq!(f.synthetic["unknown_place"], "NOPE");
        assert_eq!(f.meanings["queue"], (1, "a queue".to_string()));
        assert_eq!(f.meanings["unknown_place"].1, "nowhere");
        assert!(f.declares("queue") && f.declares("unknown_place") && !f.declares("x"));
    }

    #[test]
    fn a_malformed_file_names_line_and_field() {
        let text =
            "[lab]\nqueue = \"\"\nplace = \"a place\"\n[synthetic]\nplace = \"P\"\n[other]\n";
        let (_, e) = parse(Path::new("v.toml"), text.as_bytes().to_vec());
        let shown: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("v.toml:6:") && s.contains("other: unknown key")),
            "{shown:?}"
        );
        assert!(
            shown.iter().any(|s| s.starts_with("v.toml:2:")
                && s.contains("lab.queue: must be a non-empty string")),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.contains("synthetic.place: `place` is declared in [lab] too")),
            "{shown:?}"
        );
    }
}

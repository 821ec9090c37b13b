//! The JSON Schemas in `schemas/`: each checked against the 2020-12 meta-schema, registered under
//! its `$id` so that the schemas can `$ref` one another, and compiled once for the whole run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::diagnostic::Diagnostic;
use super::source::Dir;

/// Compiled schemas by name (`success` for `schemas/success.schema.json`).
pub struct SchemaSet {
    validators: BTreeMap<String, jsonschema::Validator>,
    /// Each schema's document, for what reads a schema rather than validates with it (the matrix's
    /// generators, `load::matrix`).
    documents: BTreeMap<String, serde_json::Value>,
    /// Name, file and SHA-256 of every schema, for reports.
    pub files: Vec<SchemaFile>,
}

#[derive(Debug, Clone)]
pub struct SchemaFile {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
}

impl std::fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.validators.keys()).finish()
    }
}

/// One way a JSON value breaks a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer into the instance, e.g. `/failed/0/statusCode`.
    pub instance_path: String,
    pub message: String,
}

impl SchemaSet {
    /// The schemas of a folder on disk.
    pub fn load(dir: &Path) -> Result<SchemaSet, Vec<Diagnostic>> {
        Self::load_from(&Dir::Folder(dir.to_path_buf()))
    }

    /// The schemas of a folder on disk or of the embedded suite.
    pub fn load_from(source: &Dir) -> Result<SchemaSet, Vec<Diagnostic>> {
        let dir = &source.path();
        let mut errors = Vec::new();
        let mut documents = Vec::new();
        let paths: Vec<PathBuf> = match source.files(".json") {
            Ok(p) => p,
            Err(e) => {
                return Err(vec![Diagnostic::file(
                    dir,
                    format!("cannot read schema folder: {e}"),
                )])
            }
        };
        for path in paths {
            let bytes = match source.read(&path) {
                Ok(b) => b,
                Err(e) => {
                    errors.push(Diagnostic::file(&path, format!("cannot read: {e}")));
                    continue;
                }
            };
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let value: serde_json::Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    errors.push(Diagnostic {
                        file: path.clone(),
                        line: e.line(),
                        column: e.column(),
                        field: String::new(),
                        message: format!("not valid JSON: {e}"),
                    });
                    continue;
                }
            };
            if let Err(e) = jsonschema::draft202012::meta::validate(&value) {
                errors.push(Diagnostic::file(
                    &path,
                    format!(
                        "not a valid JSON Schema 2020-12 document: {} (at `{}`)",
                        e,
                        e.instance_path()
                    ),
                ));
                continue;
            }
            let name = schema_name(&path);
            let id = value
                .get("$id")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            documents.push((name, path, crate::load::sha256_hex(&bytes), id, value));
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        let mut builder = jsonschema::Registry::new();
        for (_, path, _, id, value) in &documents {
            let uri = id
                .clone()
                .unwrap_or_else(|| format!("urn:gws-conform:schema:{}", schema_name(path)));
            builder = match builder.add(&uri, value.clone()) {
                Ok(b) => b,
                Err(e) => {
                    return Err(vec![Diagnostic::file(
                        path,
                        format!("cannot register `$id` {uri}: {e}"),
                    )])
                }
            };
        }
        let registry = match builder.prepare() {
            Ok(r) => r,
            Err(e) => {
                return Err(vec![Diagnostic::file(
                    dir,
                    format!("schemas do not resolve: {e}"),
                )])
            }
        };

        let mut validators = BTreeMap::new();
        let mut files = Vec::new();
        let mut docs = BTreeMap::new();
        for (name, path, sha256, _, value) in documents {
            match jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .with_registry(&registry)
                .build(&value)
            {
                Ok(v) => {
                    validators.insert(name.clone(), v);
                }
                Err(e) => errors.push(Diagnostic::file(
                    &path,
                    format!("schema does not compile: {e}"),
                )),
            }
            docs.insert(name.clone(), value);
            files.push(SchemaFile { name, path, sha256 });
        }
        if errors.is_empty() {
            Ok(SchemaSet {
                validators,
                documents: docs,
                files,
            })
        } else {
            Err(errors)
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.validators.contains_key(name)
    }

    /// The document of schema `name`, as its file holds it.
    pub fn document(&self, name: &str) -> Option<&serde_json::Value> {
        self.documents.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.validators.keys().map(String::as_str)
    }

    /// What a case file is told when it names `name` and there is no such schema: the nearest
    /// name, when one is near.
    pub fn not_found(&self, name: &str) -> String {
        let hint = super::diagnostic::did_you_mean(name, self.names())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        format!("no schema `{name}` in schemas/{hint}")
    }

    /// Every way `instance` breaks schema `name` (empty when it conforms). Panics never: an unknown
    /// name is reported as a violation, though the loader refuses such cases first.
    pub fn violations(&self, name: &str, instance: &serde_json::Value) -> Vec<SchemaViolation> {
        let Some(v) = self.validators.get(name) else {
            return vec![SchemaViolation {
                instance_path: String::new(),
                message: format!("no schema named `{name}`"),
            }];
        };
        v.iter_errors(instance)
            .map(|e| SchemaViolation {
                instance_path: e.instance_path().to_string(),
                message: super::schema_words::sentence(&e),
            })
            .collect()
    }
}

/// `success.schema.json` and `success.json` are both named `success`.
fn schema_name(path: &Path) -> String {
    let stem = path
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    stem.trim_end_matches(".json")
        .trim_end_matches(".schema")
        .to_string()
}

//! Parametrised case files: a `[[matrix]]` list expands one file into several cases, `base[row]`
//! (cases/README.md, "Matrix"). A row is a small declarative table (its name, the fields it changes,
//! a `json` override merged into the body of every decided step); two generator keys make rows from a
//! schema, so that a property added to `schemas/request.schema.json` gets its cases without new files:
//!
//! - `wrong_types_of = "request"`: one row `<property>.<type>` per property and per JSON type the
//!   property's schema does not allow (`types` narrows the list);
//! - `strings_of = "request"` with `row`, `value` (and `repeat`): one row `<property>.<row>` per
//!   property that holds strings, the property set to `value` (repeated `repeat` times); an array of
//!   strings gets `[value]`.
//!
//! Expansion is pure (the file's text and the schemas decide it), so a case rebuilt from its file when
//! it runs (`Suite::case`) is the same case.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::names::SPEC_ELEMENTS;
use super::schemas::SchemaSet;

/// The JSON types a wrong-type row may send, in the order rows are made.
pub const JSON_TYPES: [&str; 6] = ["number", "boolean", "null", "array", "object", "string"];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRow {
    row: Option<String>,
    wrong_types_of: Option<String>,
    strings_of: Option<String>,
    types: Option<Vec<String>>,
    value: Option<String>,
    repeat: Option<usize>,
    #[serde(default)]
    exclude: Vec<String>,
    title: Option<String>,
    spec: Option<toml::Value>,
    source: Option<String>,
    provenance: Option<String>,
    rationale: Option<String>,
    agent: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    vars: BTreeMap<String, String>,
    json: Option<toml::Value>,
    deliberately_invalid: Option<bool>,
    #[serde(default)]
    alternatives: Vec<toml::Value>,
}

/// One expanded row: what it changes in the case.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The row key: the case's id is `base[name]`.
    pub name: String,
    /// The `[[matrix]]` entry it came from (for error positions).
    pub entry: usize,
    title: Option<String>,
    spec: Option<toml::Value>,
    source: Option<String>,
    provenance: Option<String>,
    rationale: Option<String>,
    /// The agent role its case runs as, instead of the template's (spreads a large file's cases
    /// over several users, so they run in parallel).
    agent: Option<String>,
    tags: Vec<String>,
    requires: Vec<String>,
    vars: BTreeMap<String, String>,
    alternatives: Vec<toml::Value>,
    /// Merged (key by key) into the JSON body of every decided step.
    pub json: Map<String, Json>,
    pub deliberately_invalid: Option<bool>,
}

/// A row name: the characters of an id.
pub fn valid_row_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// Expands the `[[matrix]]` entries into rows. Problems come back as (field, message) pairs.
pub(super) fn rows(
    entries: &[RawRow],
    schemas: &SchemaSet,
) -> Result<Vec<Row>, Vec<(String, String)>> {
    let mut out: Vec<Row> = Vec::new();
    let mut problems = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let at = |k: &str| at(i, k);
        let base = Row {
            entry: i,
            title: e.title.clone(),
            spec: e.spec.clone(),
            source: e.source.clone(),
            provenance: e.provenance.clone(),
            rationale: e.rationale.clone(),
            agent: e.agent.clone(),
            tags: e.tags.clone(),
            requires: e.requires.clone(),
            vars: e.vars.clone(),
            alternatives: e.alternatives.clone(),
            deliberately_invalid: e.deliberately_invalid,
            ..Row::default()
        };
        let json = match &e.json {
            None => Map::new(),
            Some(toml::Value::Table(_)) => {
                match super::toml_json::toml_to_json(e.json.as_ref().unwrap()) {
                    Json::Object(m) => m,
                    _ => Map::new(),
                }
            }
            Some(_) => {
                problems.push((at("json"), "`json` is a table merged into the request body, e.g. { queue = \"${unknown_queue}\" }".to_string()));
                Map::new()
            }
        };
        let generated = match (&e.wrong_types_of, &e.strings_of) {
            (Some(_), Some(_)) => {
                problems.push((
                    at("strings_of"),
                    "give either `wrong_types_of` or `strings_of`, not both".to_string(),
                ));
                continue;
            }
            (Some(schema), None) => {
                let Some(generated) = wrong_type_rows(e, schema, i, schemas, &mut problems) else {
                    continue;
                };
                generated
            }
            (None, Some(schema)) => {
                let Some(generated) = string_rows(e, schema, i, schemas, &mut problems) else {
                    continue;
                };
                generated
            }
            (None, None) => {
                let Some(name) = &e.row else {
                    problems.push((format!("matrix[{i}]"), "a row needs `row`, its name (the case's id becomes `base[name]`), or a generator: `wrong_types_of` or `strings_of`".to_string()));
                    continue;
                };
                if e.types.is_some()
                    || e.value.is_some()
                    || e.repeat.is_some()
                    || !e.exclude.is_empty()
                {
                    problems.push((at("row"), "`types`, `value`, `repeat` and `exclude` belong to generator entries (`wrong_types_of`, `strings_of`)".to_string()));
                }
                if !valid_row_name(name) {
                    problems.push((at("row"), format!("`{name}` is not a valid row name: use letters, digits, `.`, `_` and `-`")));
                }
                let mut row = base;
                row.name = name.clone();
                row.json = json;
                out.push(row);
                continue;
            }
        };
        for (property, suffix, value) in generated {
            let mut row = base.clone();
            row.name = format!("{property}.{suffix}");
            let spec = format!("param.{property}");
            if row.spec.is_none() && SPEC_ELEMENTS.iter().any(|(id, _, _)| *id == spec) {
                row.spec = Some(toml::Value::String(spec));
            }
            row.vars.insert("property".into(), property.clone());
            row.vars.insert("variation".into(), suffix.clone());
            row.title = Some(match &e.title {
                Some(t) => t
                    .replace("{property}", &property)
                    .replace("{variation}", &suffix),
                None => format!("{property}: {suffix}"),
            });
            row.json = json.clone();
            row.json.insert(property, value);
            if e.wrong_types_of.is_some() {
                row.deliberately_invalid = Some(true);
            }
            out.push(row);
        }
    }
    let mut seen = BTreeMap::new();
    for r in &out {
        if let Some(first) = seen.insert(r.name.clone(), r.entry) {
            problems.push((
                format!("matrix[{}]", r.entry),
                format!("row `{}` is made twice (first by matrix[{first}])", r.name),
            ));
        }
    }
    if out.is_empty() && problems.is_empty() {
        problems.push(("matrix".into(), "the matrix makes no row".into()));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

type Generated = Vec<(String, String, Json)>;

fn at(i: usize, k: &str) -> String {
    format!("matrix[{i}].{k}")
}

/// A generator's schema properties, less the entry's `exclude`; a schema that cannot give rows is a
/// problem at the generator's field.
fn included(
    e: &RawRow,
    schema: &str,
    field: &str,
    i: usize,
    schemas: &SchemaSet,
    problems: &mut Vec<(String, String)>,
) -> Option<Vec<(String, Vec<String>)>> {
    match properties(schemas, schema) {
        Ok(props) => Some(
            props
                .into_iter()
                .filter(|(p, _)| !e.exclude.contains(p))
                .collect(),
        ),
        Err(m) => {
            problems.push((at(i, field), m));
            None
        }
    }
}

/// `wrong_types_of`: a row `<property>.<type>` per property and per JSON type it does not allow.
fn wrong_type_rows(
    e: &RawRow,
    schema: &str,
    i: usize,
    schemas: &SchemaSet,
    problems: &mut Vec<(String, String)>,
) -> Option<Generated> {
    if e.row.is_some() || e.value.is_some() || e.repeat.is_some() {
        problems.push((at(i, "wrong_types_of"), "a `wrong_types_of` entry names its rows `<property>.<type>` and sends a value of each type: leave out `row`, `value` and `repeat`".to_string()));
    }
    let types = match &e.types {
        None => JSON_TYPES.to_vec(),
        Some(t) => {
            for x in t {
                if !JSON_TYPES.contains(&x.as_str()) {
                    problems.push((
                        at(i, "types"),
                        format!("`{x}` is not a JSON type; use {}", JSON_TYPES.join(", ")),
                    ));
                }
            }
            JSON_TYPES
                .iter()
                .copied()
                .filter(|j| t.iter().any(|x| x == j))
                .collect()
        }
    };
    let props = included(e, schema, "wrong_types_of", i, schemas, problems)?;
    Some(
        props
            .into_iter()
            .flat_map(|(p, allowed)| {
                types
                    .iter()
                    .filter(|t| !allows(&allowed, t))
                    .map(|t| (p.clone(), t.to_string(), sample_of(t)))
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>(),
    )
}

/// `strings_of`: a row `<property>.<row>` per string (or string-list) property, sending `value`.
fn string_rows(
    e: &RawRow,
    schema: &str,
    i: usize,
    schemas: &SchemaSet,
    problems: &mut Vec<(String, String)>,
) -> Option<Generated> {
    let (Some(row), Some(value)) = (&e.row, &e.value) else {
        problems.push((
            at(i, "strings_of"),
            "a `strings_of` entry needs `row` (the suffix of its row names) and `value`"
                .to_string(),
        ));
        return None;
    };
    if !valid_row_name(row) {
        problems.push((
            at(i, "row"),
            format!("`{row}` is not a valid row name: use letters, digits, `.`, `_` and `-`"),
        ));
        return None;
    }
    let value = value.repeat(e.repeat.unwrap_or(1));
    let props = included(e, schema, "strings_of", i, schemas, problems)?;
    Some(
        props
            .into_iter()
            .filter_map(|(p, allowed)| {
                if allowed.iter().any(|t| t == "string") {
                    Some((p, row.clone(), Json::String(value.clone())))
                } else if allowed.iter().any(|t| t == "array[string]") {
                    Some((p, row.clone(), json!([value.clone()])))
                } else {
                    None
                }
            })
            .collect(),
    )
}

/// A property allows a JSON type when its schema lists it (`integer` counts as `number`).
fn allows(allowed: &[String], t: &str) -> bool {
    allowed.iter().any(|a| {
        a == t || (t == "number" && a == "integer") || (t == "array" && a == "array[string]")
    })
}

/// The value a wrong-type row sends.
fn sample_of(t: &str) -> Json {
    match t {
        "number" => json!(5000),
        "boolean" => json!(true),
        "null" => Json::Null,
        "array" => json!(["5000"]),
        "object" => json!({ "value": "5000" }),
        _ => json!("5000"),
    }
}

/// Every property of schema `name` with the JSON types it allows (from `type`, else from the values
/// of `enum`/`const`); `array[string]` for an array whose items are strings. A property whose schema
/// names no type allows every type and makes no row.
pub fn properties(schemas: &SchemaSet, name: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let Some(doc) = schemas.document(name) else {
        return Err(schemas.not_found(name));
    };
    let Some(props) = doc.get("properties").and_then(Json::as_object) else {
        return Err(format!(
            "schema `{name}` has no `properties` to make rows from"
        ));
    };
    let type_of = |v: &Json| -> &'static str {
        match v {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    };
    let mut out = Vec::new();
    for (p, s) in props {
        let mut allowed: Vec<String> = match s.get("type") {
            Some(Json::String(t)) => vec![t.clone()],
            Some(Json::Array(ts)) => ts
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect(),
            _ => {
                let values: Vec<&Json> = match (s.get("enum"), s.get("const")) {
                    (Some(Json::Array(v)), _) => v.iter().collect(),
                    (_, Some(c)) => vec![c],
                    _ => Vec::new(),
                };
                let mut t: Vec<String> = values.iter().map(|v| type_of(v).to_string()).collect();
                t.dedup();
                t
            }
        };
        if allowed.is_empty() {
            continue;
        }
        let items_string = s
            .get("items")
            .and_then(|i| i.get("type"))
            .and_then(Json::as_str)
            == Some("string");
        if allowed.iter().any(|t| t == "array") && items_string {
            allowed.push("array[string]".into());
        }
        out.push((p.clone(), allowed));
    }
    Ok(out)
}

/// The case table of one row: the file's table without `matrix`, with the row's changes. The id
/// becomes `base[row]`; `agent` replaces the template's; `tags` and `requires` are added to the case's; `vars` merged over the case's;
/// `alternatives` added to every decided step's expectation.
pub(super) fn apply(base: &toml::Table, row: &Row) -> toml::Table {
    use toml::Value as T;
    let mut t = base.clone();
    t.remove("matrix");
    let id = t
        .get("id")
        .and_then(T::as_str)
        .unwrap_or_default()
        .to_string();
    t.insert("id".into(), T::String(format!("{id}[{}]", row.name)));
    let title = t
        .get("title")
        .and_then(T::as_str)
        .unwrap_or_default()
        .to_string();
    let title = match &row.title {
        Some(x) => x.clone(),
        None => format!("{title} [{}]", row.name),
    };
    t.insert("title".into(), T::String(title));
    let mut set = |k: &str, v: &Option<T>| {
        if let Some(v) = v {
            t.insert(k.into(), v.clone());
        }
    };
    set("spec", &row.spec);
    set("source", &row.source.clone().map(T::String));
    set("provenance", &row.provenance.clone().map(T::String));
    set("rationale", &row.rationale.clone().map(T::String));
    set("agent", &row.agent.clone().map(T::String));
    for (key, extra) in [("tags", &row.tags), ("requires", &row.requires)] {
        if extra.is_empty() {
            continue;
        }
        let list = t.entry(key).or_insert_with(|| T::Array(Vec::new()));
        if let T::Array(a) = list {
            for x in extra {
                if !a.iter().any(|v| v.as_str() == Some(x)) {
                    a.push(T::String(x.clone()));
                }
            }
        }
    }
    if !row.vars.is_empty() {
        let vars = t
            .entry("vars")
            .or_insert_with(|| T::Table(toml::Table::new()));
        if let T::Table(v) = vars {
            for (k, x) in &row.vars {
                v.insert(k.clone(), T::String(x.clone()));
            }
        }
    }
    if !row.alternatives.is_empty() {
        if let Some(T::Array(steps)) = t.get_mut("steps") {
            for step in steps.iter_mut().filter_map(T::as_table_mut) {
                if step.get("always").and_then(T::as_bool) == Some(true) {
                    continue;
                }
                let expect = step
                    .entry("expect")
                    .or_insert_with(|| T::Table(toml::Table::new()));
                if let T::Table(e) = expect {
                    let alts = e
                        .entry("alternatives")
                        .or_insert_with(|| T::Array(Vec::new()));
                    if let T::Array(a) = alts {
                        a.extend(row.alternatives.iter().cloned());
                    }
                }
            }
        }
    }
    t
}

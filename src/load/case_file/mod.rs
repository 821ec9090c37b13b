//! One case file: its TOML shape ([`raw`]), and its conversion into a resolved [`Case`]: the case's
//! identity here, each step in [`step`], each expectation in [`expectation`] (its notifications in
//! [`notification`], an expected body in [`expected_body`]).

use std::path::Path;

use super::diagnostic::Diagnostic;
use super::locate::offset_of;
use super::vars::Variables;
use super::LoadContext;
use crate::model::*;

mod expectation;
mod expected_body;
mod notification;
mod raw;
mod step;

/// The checks' tests build expected bodies as a case file states them.
#[cfg(test)]
pub(crate) use expected_body::parse_expected;
pub use raw::MAX_WINDOW_MS;
use raw::*;
use step::build_step;

/// Collects diagnostics for one file, each pointed at its field.
struct Problems<'a> {
    file: &'a Path,
    text: &'a str,
    list: Vec<Diagnostic>,
}

impl Problems<'_> {
    /// A `schema` field (of an expectation or a notification) must name a schema in schemas/.
    fn known_schema(&mut self, field: &str, schema: &str, ctx: &LoadContext) {
        if !ctx.schemas.contains(schema) {
            self.add(field, ctx.schemas.not_found(schema));
        }
    }

    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.list.push(Diagnostic::new(
            self.file,
            self.text,
            offset_of(self.text, field),
            field,
            message,
        ));
    }
}

/// The cases of one file: one, or one per row of its `[[matrix]]` (`load::matrix`).
pub(super) fn build_cases(
    file: &Path,
    text: &str,
    sha256: Sha256,
    ctx: &LoadContext,
) -> Result<Vec<Case>, Vec<Diagnostic>> {
    // The cases of one file share its path, and the files of one folder its folder.
    let file_at = CaseFile::new(file, |dir| ctx.interner.str(dir));
    let origin = FileOrigin {
        file,
        at: &file_at,
        sha256,
    };
    // Most files have no matrix: parse them once, straight into their shape.
    if !text.contains("matrix") {
        let raw: RawCase = super::parse_toml(file, text).map_err(|d| vec![d])?;
        return build_case(&origin, text, ctx, raw, None).map(|c| vec![c]);
    }
    let mut table: toml::Table = super::parse_toml(file, text).map_err(|d| vec![d])?;
    let Some(entries) = table.remove("matrix") else {
        let raw: RawCase = super::parse_toml(file, text).map_err(|d| vec![d])?;
        return build_case(&origin, text, ctx, raw, None).map(|c| vec![c]);
    };
    let at = |field: &str, message: String| {
        Diagnostic::new(file, text, offset_of(text, field), field, message)
    };
    let toml::Value::Array(items) = entries else {
        return Err(vec![at(
            "matrix",
            "`matrix` is a list of rows: write each as a `[[matrix]]` table".to_string(),
        )]);
    };
    let mut errors = Vec::new();
    let mut raw_rows = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match serde_path_to_error::deserialize::<_, super::matrix::RawRow>(item) {
            Ok(r) => raw_rows.push(r),
            Err(e) => {
                let path = e.path().to_string();
                let field = if path == "." {
                    format!("matrix[{i}]")
                } else {
                    format!("matrix[{i}].{path}")
                };
                errors.push(at(&field, super::friendly_message(e.inner().message())));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let rows = super::matrix::rows(&raw_rows, ctx.schemas)
        .map_err(|ps| ps.into_iter().map(|(f, m)| at(&f, m)).collect::<Vec<_>>())?;
    let mut cases = Vec::with_capacity(rows.len());
    for row in &rows {
        // A field the template lacks (a missing `steps`, say) has no line of its own: the row's does.
        let in_row = |mut d: Diagnostic| {
            d.message = format!("row `{}` (matrix[{}]): {}", row.name, row.entry, d.message);
            if d.line == 0 {
                let offset = offset_of(text, &format!("matrix[{}]", row.entry));
                d = Diagnostic::new(file, text, offset, &d.field, d.message);
            }
            d
        };
        let case_table = super::matrix::apply(&table, row);
        let raw: RawCase = match serde_path_to_error::deserialize(toml::Value::Table(case_table)) {
            Ok(r) => r,
            Err(e) => {
                let path = e.path().to_string();
                errors.push(in_row(at(
                    &path,
                    super::friendly_message(e.inner().message()),
                )));
                continue;
            }
        };
        match build_case(&origin, text, ctx, raw, Some(row)) {
            Ok(c) => cases.push(c),
            Err(ds) => errors.extend(ds.into_iter().map(in_row)),
        }
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

/// The file a case comes from, as its header keeps it.
struct FileOrigin<'a> {
    file: &'a Path,
    at: &'a CaseFile,
    sha256: Sha256,
}

fn build_case(
    origin: &FileOrigin,
    text: &str,
    ctx: &LoadContext,
    raw: RawCase,
    row: Option<&super::matrix::Row>,
) -> Result<Case, Vec<Diagnostic>> {
    let file: &Path = origin.file;
    let mut p = Problems {
        file,
        text,
        list: Vec::new(),
    };

    let spec = check_identity(&mut p, &raw, row);
    for name in super::vars::nested_references(&raw.vars) {
        p.add(&format!("vars.{name}"), super::vars::NESTED_VARIABLE);
    }
    let mut vars = Variables::new(ctx.env);
    if ctx.env.skips_cases_with_unset() {
        vars.defer_unset_env();
    }
    if let Ok(mut names) = ctx.case_vars.lock() {
        names.extend(raw.vars.keys().cloned());
    }
    vars.defer_lab(ctx.lab);
    vars.layer(ctx.defaults);
    vars.layer(&raw.vars);
    vars.layer(&ctx.profile.vars);
    vars.set("case_id", &raw.id);

    let mut secrets = Vec::new();
    let steps: Vec<Step> = raw
        .steps
        .iter()
        .enumerate()
        .map(|(i, rs)| build_step(i, rs, row, &mut p, &vars, &mut secrets, ctx))
        .collect();
    for (i, rs) in raw.steps.iter().enumerate() {
        check_purpose(i, rs, &raw.requires, &mut p);
    }
    if !p.list.is_empty() {
        return Err(p.list);
    }
    for s in secrets {
        ctx.redactor.add(&s);
    }
    let agent_role = ctx.interner.str(raw.agent.as_deref().unwrap_or("default"));
    let group = match &raw.group {
        Some(g) => ctx.interner.str(g),
        None => ctx.interner.str(&match ctx.profile.agent(&agent_role) {
            Some((_, a)) => format!("agent:{}", a.username),
            None => format!("role:{agent_role}"),
        }),
    };
    Ok(Case {
        header: CaseHeader {
            id: raw.id.as_str().into(),
            title: raw.title.into_boxed_str(),
            shape: ctx.interner.shape(CaseShape {
                spec: ctx.interner.list(&spec),
                provenance: raw.provenance,
                tags: ctx.interner.list(&raw.tags),
                agent_role,
                group,
                requires: ctx.interner.list(&raw.requires),
                costs: steps.iter().map(StepCost::of).collect(),
                names_lab_resource: !lab_resources(&steps, raw.provenance).is_empty(),
                needs_credentials: sends_credentials(&steps),
                listens: listens(&steps),
            }),
            file: origin.at.clone(),
            sha256: origin.sha256,
            notes: CaseNotes {
                source: raw.source,
                rationale: raw.rationale,
                needs_env: vars.unset_env(),
                needs_lab: vars
                    .unset_lab()
                    .into_iter()
                    .map(|v| crate::model::LabNeed {
                        meaning: ctx.lab.get(&v).cloned().unwrap_or_default(),
                        variable: v,
                    })
                    .collect(),
            }
            .boxed(),
        },
        steps: steps.into(),
    })
}

/// The checks of what identifies a case (id, spec, provenance and its rationale, steps); returns the
/// spec elements.
fn check_identity(
    p: &mut Problems,
    raw: &RawCase,
    row: Option<&super::matrix::Row>,
) -> Vec<String> {
    // A matrix row's id is `base[row]`: the base is checked here, the row's name by the matrix.
    let base_id = match row {
        Some(r) => raw
            .id
            .strip_suffix(&format!("[{}]", r.name))
            .unwrap_or(&raw.id),
        None => &raw.id,
    };
    if base_id.is_empty()
        || !base_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        p.add(
            "id",
            format!(
                "`{}` is not a valid id: use letters, digits, `.`, `_` and `-`",
                raw.id
            ),
        );
    }
    let spec = match &raw.spec {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Array(items) if !items.is_empty() && items.iter().all(|i| i.is_str()) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => {
            p.add("spec", "must be a string or a non-empty list of strings, e.g. `S4` or [\"S5\", \"param.workmode\"]");
            Vec::new()
        }
    };
    if raw.provenance != Provenance::Documented
        && raw.rationale.as_deref().is_none_or(|r| r.trim().is_empty())
    {
        p.add(
            "provenance",
            format!(
                "a case marked `{}` needs a one-line `rationale`",
                raw.provenance.as_str()
            ),
        );
    }
    if raw.steps.is_empty() {
        p.add("steps", "a case needs at least one step");
    }

    spec
}

/// A setup step's `capability` must be one the case requires: the error's fix names it as declared.
fn check_purpose(i: usize, rs: &RawStep, requires: &[String], p: &mut Problems) {
    let Some(cap) = &rs.capability else {
        return;
    };
    let field = format!("steps[{i}].capability");
    if rs.purpose != crate::model::StepPurpose::Setup {
        p.add(
            &field,
            "`capability` belongs to a setup step: add `purpose = \"setup\"`",
        );
    } else if !requires.contains(cap) {
        p.add(
            &field,
            format!("`{cap}` is not in the case's `requires`; a setup step relies on a capability the case requires"),
        );
    }
}

//! One case file: its TOML shape, and its conversion into a resolved [`Case`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::diagnostic::{did_you_mean, Diagnostic};
use super::locate::offset_of;
use super::toml_json::toml_to_json;
use super::vars::Variables;
use super::LoadContext;
use crate::model::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    id: String,
    title: String,
    spec: toml::Value,
    source: Option<String>,
    provenance: Provenance,
    rationale: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    agent: Option<String>,
    group: Option<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    vars: BTreeMap<String, String>,
    steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: Option<String>,
    #[serde(default)]
    always: bool,
    /// `check` (default) or `setup` (see cases/README.md, "Setup steps").
    #[serde(default)]
    purpose: crate::model::StepPurpose,
    /// The capability a setup step relies on.
    capability: Option<String>,
    request: RawRequest,
    #[serde(default)]
    expect: RawExpect,
    /// CometD expectations (see cases/README.md, "Notifications").
    #[serde(default)]
    notifications: Vec<RawNotification>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotification {
    channel: String,
    within_ms: Option<i64>,
    schema: Option<String>,
    body: Option<toml::Value>,
    count: Option<i64>,
    #[serde(default)]
    absent: bool,
    sequence: Option<Vec<toml::Value>>,
    #[serde(default)]
    exclusive: bool,
    provenance: Option<Provenance>,
    settle_ms: Option<i64>,
}

/// The longest notification window a case may ask for.
pub const MAX_WINDOW_MS: i64 = 60_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    method: Option<String>,
    path: Option<String>,
    auth: Option<AuthMode>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    json: Option<toml::Value>,
    raw: Option<String>,
    content_type: Option<String>,
    #[serde(default)]
    deliberately_invalid: bool,
    csrf: Option<bool>,
    #[serde(default)]
    follow_redirects: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    status: Option<toml::Value>,
    content_type: Option<String>,
    schema: Option<String>,
    #[serde(rename = "match")]
    match_mode: Option<MatchMode>,
    #[serde(default)]
    ignore: Vec<String>,
    body: Option<toml::Value>,
    text: Option<String>,
    #[serde(default)]
    alternatives: Vec<RawExpect>,
    reason: Option<String>,
    provenance: Option<Provenance>,
    /// Only on alternatives: what then arrives over CometD (the main answer's are the step's).
    #[serde(default)]
    notifications: Vec<RawNotification>,
}

/// Collects diagnostics for one file, each pointed at its field.
struct Problems<'a> {
    file: &'a Path,
    text: &'a str,
    list: Vec<Diagnostic>,
}

impl Problems<'_> {
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
                names_lab_resource: !lab_resources(&steps).is_empty(),
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

/// One `[[steps]]` table, its values substituted (secrets collected); problems are added to `p`.
/// The members of a JSON body whose value is `${env:NAME}` and nothing else, as (member, NAME).
fn env_members(body: &serde_json::Value) -> Vec<(String, String)> {
    let Some(members) = body.as_object() else {
        return Vec::new();
    };
    members
        .iter()
        .filter_map(|(k, v)| {
            let name = v.as_str()?.strip_prefix("${env:")?.strip_suffix('}')?;
            let plain = !name.is_empty() && !name.contains(['$', '{', '}']);
            plain.then(|| (k.clone(), name.to_string()))
        })
        .collect()
}

fn build_step(
    i: usize,
    rs: &RawStep,
    row: Option<&super::matrix::Row>,
    p: &mut Problems,
    vars: &Variables,
    secrets: &mut Vec<String>,
    ctx: &LoadContext,
) -> Step {
    let sub = |p: &mut Problems, secrets: &mut Vec<String>, field: &str, s: &str| -> String {
        match vars.interpolate(s) {
            Ok(done) => {
                secrets.extend(done.secrets);
                done.text
            }
            Err(e) => {
                p.add(field, e.to_string());
                String::new()
            }
        }
    };

    let at = |f: &str| format!("steps[{i}].{f}");
    let mut notifications = Vec::new();
    for (j, rn) in rs.notifications.iter().enumerate() {
        let field = at(&format!("notifications[{j}]"));
        if let Some(n) = build_notification(p, &field, rn, vars, secrets, ctx) {
            notifications.push(n);
        }
    }
    let r = &rs.request;
    let method = r
        .method
        .clone()
        .unwrap_or_else(|| "POST".to_string())
        .to_ascii_uppercase();
    if !method.chars().all(|c| c.is_ascii_uppercase()) || method.is_empty() {
        p.add(
            &at("request.method"),
            format!("`{method}` is not an HTTP method"),
        );
    }
    let path = sub(
        p,
        secrets,
        &at("request.path"),
        r.path.as_deref().unwrap_or("/api/v2/me"),
    );
    if !path.starts_with('/') {
        p.add(
            &at("request.path"),
            format!("`{path}` must start with `/`: requests only ever go to the target's origin"),
        );
    }
    let mut headers = Vec::new();
    for (k, v) in &r.headers {
        let v = sub(p, secrets, &at(&format!("request.headers.{k}")), v);
        headers.push((k.clone(), v));
    }
    let mut sent_from_env = Vec::new();
    let body = match (&r.json, &r.raw) {
        (Some(_), Some(_)) => {
            p.add(&at("request.raw"), "give either `json` or `raw`, not both");
            None
        }
        (Some(j), None) => {
            let mut value = toml_to_json(j);
            sent_from_env = env_members(&value);
            if let (Some(row), false, serde_json::Value::Object(body)) =
                (row, rs.always, &mut value)
            {
                for (k, v) in &row.json {
                    body.insert(k.clone(), v.clone());
                }
            }
            let deliberately_invalid = r.deliberately_invalid
                || (!rs.always && row.and_then(|r| r.deliberately_invalid) == Some(true));
            let mut s = Vec::new();
            if let Err((path, e)) = vars.interpolate_json(&mut value, &mut s) {
                p.add(&format!("{}{path}", at("request.json")), e.to_string());
            }
            // A schema's message may quote a value that came from ${env:...}: outside data.
            let masked = crate::secret::Redactor::new();
            s.iter().for_each(|x| masked.add(x));
            secrets.extend(s);
            if !deliberately_invalid && ctx.schemas.contains("request") {
                if let Some(v) = ctx.schemas.violations("request", &value).first() {
                    p.add(
                        &at("request.json"),
                        format!(
                            "the body breaks schemas/request.schema.json at `{}`: {}; if that is the point of the case, set `deliberately_invalid = true`",
                            v.instance_path, masked.redact(&v.message)
                        ),
                    );
                }
            }
            Some(Body::Json(value))
        }
        (None, Some(raw_text)) => Some(Body::Raw {
            text: sub(p, secrets, &at("request.raw"), raw_text),
            content_type: r.content_type.clone(),
        }),
        (None, None) => None,
    };
    if r.content_type.is_some() && r.raw.is_none() {
        p.add(&at("request.content_type"), "`content_type` applies to `raw` bodies only; json bodies are always sent as application/json");
    }

    let expect = build_expectation(&rs.expect, &at("expect"), true, p, vars, secrets, ctx);
    Step {
        name: rs.name.clone().unwrap_or_else(|| format!("step {}", i + 1)),
        always: rs.always,
        purpose: rs.purpose,
        capability: rs.capability.clone(),
        request: Request {
            method,
            path,
            auth: r.auth.unwrap_or(AuthMode::Basic),
            headers,
            body,
            csrf: r.csrf.unwrap_or(true),
            follow_redirects: r.follow_redirects,
        },
        expect,
        notifications,
        sent_from_env,
    }
}

/// One `[[steps.notifications]]` table. Problems are added to `p`; `None` when there were any.
fn build_notification(
    p: &mut Problems,
    field: &str,
    rn: &RawNotification,
    vars: &Variables,
    secrets: &mut Vec<String>,
    ctx: &LoadContext,
) -> Option<NotificationExpectation> {
    let before = p.list.len();
    let f = |k: &str| format!("{field}.{k}");
    let channel = rn.channel.trim().to_string();
    if !channel.starts_with('/') || channel.len() < 2 || channel.contains(char::is_whitespace) {
        p.add(
            &f("channel"),
            format!("`{channel}` is not a Bayeux channel; write e.g. \"/v2/me/devices\""),
        );
    } else if channel.starts_with("/meta/") {
        p.add(
            &f("channel"),
            "`/meta/` channels carry the protocol itself; name a channel the server publishes on",
        );
    } else if channel.contains('*') {
        p.add(
            &f("channel"),
            "wildcard channels are not supported in expectations; name the channel, e.g. \"/v2/me/devices\"",
        );
    }
    let within = match rn.within_ms {
        None => {
            p.add(
                field,
                format!("`within_ms` is required: the window (1..={MAX_WINDOW_MS} ms) after the request is sent"),
            );
            std::time::Duration::ZERO
        }
        Some(ms) if !(1..=MAX_WINDOW_MS).contains(&ms) => {
            p.add(
                &f("within_ms"),
                format!("{ms} is outside 1..={MAX_WINDOW_MS} ms"),
            );
            std::time::Duration::ZERO
        }
        Some(ms) => std::time::Duration::from_millis(ms as u64),
    };
    if let Some(schema) = &rn.schema {
        if !ctx.schemas.contains(schema) {
            let hint = did_you_mean(schema, ctx.schemas.names())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            p.add(
                &f("schema"),
                format!("no schema `{schema}` in schemas/{hint}"),
            );
        }
    }
    let mut expected = |p: &mut Problems, at: &str, v: &toml::Value| -> Option<Expected> {
        let mut value = toml_to_json(v);
        let mut s = Vec::new();
        if let Err((path, err)) = vars.interpolate_json(&mut value, &mut s) {
            p.add(&format!("{at}{path}"), err.to_string());
            return None;
        }
        secrets.extend(s);
        if !value.is_object() {
            p.add(at, "an expected message is a table, matched as a subset of the whole Bayeux message ({ channel = ..., data = { ... } })");
            return None;
        }
        match parse_expected(&value, false) {
            Ok(x) => Some(x),
            Err((path, msg)) => {
                p.add(&format!("{at}{path}"), msg);
                None
            }
        }
    };
    let body = rn.body.as_ref().and_then(|b| expected(p, &f("body"), b));
    let conflict = |p: &mut Problems, a: &str, b: &str, why: &str| {
        p.add(&f(a), format!("`{a}` cannot be combined with `{b}`: {why}"));
    };
    let kind = if let Some(seq) = &rn.sequence {
        if rn.body.is_some() {
            conflict(p, "sequence", "body", "a sequence lists its bodies itself");
        }
        if rn.absent {
            conflict(p, "sequence", "absent", "an absence has no order");
        }
        if rn.count.is_some() {
            conflict(p, "count", "sequence", "a sequence is met once, in order");
        }
        if seq.is_empty() {
            p.add(&f("sequence"), "an empty sequence expects nothing");
        }
        let items: Vec<Expected> = seq
            .iter()
            .enumerate()
            .filter_map(|(k, v)| expected(p, &f(&format!("sequence[{k}]")), v))
            .collect();
        NotificationKind::Sequence(items)
    } else if rn.absent {
        if rn.count.is_some() {
            conflict(p, "count", "absent", "an absence counts nothing");
        }
        if rn.exclusive {
            conflict(
                p,
                "exclusive",
                "absent",
                "to forbid every message on the channel, leave `body` out",
            );
        }
        if rn.schema.is_some() {
            conflict(
                p,
                "schema",
                "absent",
                "an absence matches no message to validate",
            );
        }
        NotificationKind::Absent { body }
    } else {
        let count = match rn.count {
            None => 1,
            Some(n) if n >= 1 => n as usize,
            Some(n) => {
                p.add(
                    &f("count"),
                    format!("{n} is not a count: at least 1; for none, write `absent = true`"),
                );
                1
            }
        };
        NotificationKind::AtLeast { body, count }
    };
    let settle = match rn.settle_ms {
        None => None,
        Some(_) if rn.absent => {
            conflict(
                p,
                "settle_ms",
                "absent",
                "an absence waits its whole window anyway",
            );
            None
        }
        Some(ms) if ms < 1 || ms as u128 > within.as_millis() => {
            p.add(
                &f("settle_ms"),
                format!("{ms} is outside 1..=within_ms ({} ms)", within.as_millis()),
            );
            None
        }
        Some(ms) => Some(std::time::Duration::from_millis(ms as u64)),
    };
    (p.list.len() == before).then_some(NotificationExpectation {
        channel,
        within,
        schema: rn.schema.clone(),
        kind,
        exclusive: rn.exclusive,
        provenance: rn.provenance,
        settle,
    })
}

/// One `[steps.expect]` table (or one of its `alternatives`), checked and resolved.
fn build_expectation(
    e: &RawExpect,
    field: &str,
    top: bool,
    p: &mut Problems,
    vars: &Variables,
    secrets: &mut Vec<String>,
    ctx: &LoadContext,
) -> Expectation {
    let at = |f: &str| format!("{field}.{f}");
    let status = match &e.status {
        None => Vec::new(),
        Some(v) => parse_status(v).unwrap_or_else(|msg| {
            p.add(&at("status"), msg);
            Vec::new()
        }),
    };
    if let Some(schema) = &e.schema {
        if !ctx.schemas.contains(schema) {
            let hint = did_you_mean(schema, ctx.schemas.names())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            p.add(
                &at("schema"),
                format!("no schema `{schema}` in schemas/{hint}"),
            );
        }
    }
    let mut ignore = Vec::new();
    for (j, path) in e.ignore.iter().enumerate() {
        match JsonPath::parse(path) {
            Ok(jp) => ignore.push(jp),
            Err(msg) => p.add(&at(&format!("ignore[{j}]")), msg),
        }
    }
    let body = e.body.as_ref().and_then(|b| {
        let mut value = toml_to_json(b);
        if let Err((path, err)) = vars.interpolate_json(&mut value, secrets) {
            p.add(&format!("{}{path}", at("body")), err.to_string());
        }
        match parse_expected(&value, false) {
            Ok(x) => Some(x),
            Err((path, msg)) => {
                p.add(&format!("{}{}", at("body"), path), msg);
                None
            }
        }
    });
    if e.text.is_some() && (e.body.is_some() || e.schema.is_some()) {
        p.add(
            &at("text"),
            "`text` expects a body that is not JSON; it cannot go with `body` or `schema`",
        );
    }
    if !top && !e.alternatives.is_empty() {
        p.add(&at("alternatives"), "alternatives cannot be nested");
    }
    if top && !e.notifications.is_empty() {
        p.add(
            &at("notifications"),
            "the main answer's notifications are the step's own `[[steps.notifications]]`; `notifications` here is for alternatives",
        );
    }
    if !top && e.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        p.add(
            field,
            "an alternative needs a one-line `reason`: why a conforming server may answer so",
        );
    }
    let mut notifications = Vec::new();
    for (j, rn) in e.notifications.iter().enumerate() {
        let f = at(&format!("notifications[{j}]"));
        if let Some(n) = build_notification(p, &f, rn, vars, secrets, ctx) {
            notifications.push(n);
        }
    }
    let alternatives = e
        .alternatives
        .iter()
        .enumerate()
        .map(|(k, alt)| {
            build_expectation(
                alt,
                &at(&format!("alternatives[{k}]")),
                false,
                p,
                vars,
                secrets,
                ctx,
            )
        })
        .collect();
    Expectation {
        status,
        content_type: e.content_type.clone(),
        schema: e.schema.clone(),
        match_mode: e.match_mode.unwrap_or_default(),
        ignore,
        body,
        text: e.text.clone(),
        alternatives,
        reason: e.reason.clone(),
        provenance: e.provenance,
        notifications,
    }
}

fn parse_status(v: &toml::Value) -> Result<Vec<StatusPattern>, String> {
    fn one(v: &toml::Value) -> Result<StatusPattern, String> {
        match v {
            toml::Value::Integer(i) if (100..=599).contains(i) => {
                Ok(StatusPattern::Exact(*i as u16))
            }
            toml::Value::String(s) => {
                let b = s.as_bytes();
                if b.len() == 3
                    && (b'1'..=b'5').contains(&b[0])
                    && s[1..].eq_ignore_ascii_case("xx")
                {
                    Ok(StatusPattern::Class(b[0] - b'0'))
                } else {
                    Err(format!("`{s}` is not a status class; write e.g. \"4xx\""))
                }
            }
            other => Err(format!(
                "`{other}` is not an HTTP status (100-599) or a class like \"4xx\""
            )),
        }
    }
    match v {
        toml::Value::Array(items) if !items.is_empty() => items.iter().map(one).collect(),
        toml::Value::Array(_) => {
            Err("an empty list accepts nothing; leave `status` out to accept any".to_string())
        }
        other => one(other).map(|s| vec![s]),
    }
}

const MATCHERS: &[&str] = &[
    "$any",
    "$type",
    "$regex",
    "$one_of",
    "$not",
    "$absent",
    "$unordered",
    "$contains",
];

/// Turns an expected body into matchers. Errors carry the JSON sub-path (`.failed[0].channel`).
pub(crate) fn parse_expected(
    v: &serde_json::Value,
    member: bool,
) -> Result<Expected, (String, String)> {
    use serde_json::Value as J;
    match v {
        J::Object(map)
            if map.len() == 1 && map.keys().next().is_some_and(|k| k.starts_with('$')) =>
        {
            let (k, arg) = map.iter().next().expect("one entry");
            let bad = |msg: String| Err((format!(".{k}"), msg));
            match k.as_str() {
                "$any" => Ok(Expected::Any),
                "$absent" if member => Ok(Expected::Absent),
                "$absent" => bad("`$absent` only makes sense as an object member".into()),
                "$type" => match arg.as_str().and_then(JsonType::parse) {
                    Some(t) => Ok(Expected::Type(t)),
                    None => bad(format!(
                        "`$type` takes one of {}",
                        JsonType::NAMES.join(", ")
                    )),
                },
                "$regex" => match arg.as_str().map(regex::Regex::new) {
                    Some(Ok(r)) => Ok(Expected::Regex(r)),
                    Some(Err(e)) => bad(format!("bad regular expression: {e}")),
                    None => bad("`$regex` takes a string".into()),
                },
                "$one_of" | "$unordered" | "$contains" => match arg.as_array() {
                    Some(items) if !items.is_empty() => {
                        let parsed = items
                            .iter()
                            .enumerate()
                            .map(|(i, x)| {
                                parse_expected(x, false)
                                    .map_err(|(p, m)| (format!(".{k}[{i}]{p}"), m))
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok(match k.as_str() {
                            "$one_of" => Expected::OneOf(parsed),
                            "$unordered" => Expected::Unordered(parsed),
                            _ => Expected::Contains(parsed),
                        })
                    }
                    _ => bad(format!("`{k}` takes a non-empty list")),
                },
                "$not" => Ok(Expected::Not(Box::new(
                    parse_expected(arg, false).map_err(|(p, m)| (format!(".$not{p}"), m))?,
                ))),
                other => {
                    let hint = did_you_mean(other, MATCHERS.iter().copied())
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    bad(format!(
                        "unknown matcher `{other}`{hint} (matchers: {})",
                        MATCHERS.join(", ")
                    ))
                }
            }
        }
        J::Object(map) => {
            // Keys starting with `$` are matchers. Beside other keys they would be read as members
            // named `$type`, ... and fail every real body: refuse them, naming them.
            let mut dollars = map.keys().filter(|k| k.starts_with('$'));
            if let Some(first) = dollars.next() {
                let others: Vec<&String> = map.keys().filter(|k| *k != first).collect();
                return Err((
                    String::new(),
                    format!(
                        "a matcher table holds exactly one matcher: `{first}` is beside {}; nest them \
                         (e.g. `{{ \"$not\" = {{ \"$one_of\" = [0, 7] }} }}`) or keep one",
                        others
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            let mut members = Vec::new();
            for (k, x) in map {
                members.push((
                    k.clone(),
                    parse_expected(x, true).map_err(|(p, m)| (format!(".{k}{p}"), m))?,
                ));
            }
            Ok(Expected::Object(members))
        }
        J::Array(items) => Ok(Expected::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| parse_expected(x, false).map_err(|(p, m)| (format!("[{i}]{p}"), m)))
                .collect::<Result<_, _>>()?,
        )),
        scalar => Ok(Expected::Literal(scalar.clone())),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_member_that_is_an_environment_variable_as_it_is_counts_as_sent_from_it() {
        let body = serde_json::json!({
            "agentLoginPassword": "${env:LC}",
            "wrong": "${env:LC}-wrong",
            "place": "${place}",
            "nested": {"password": "${env:PW}"},
            "n": 1,
        });
        assert_eq!(
            super::env_members(&body),
            vec![("agentLoginPassword".to_string(), "LC".to_string())]
        );
        assert!(super::env_members(&serde_json::json!(["${env:LC}"])).is_empty());
    }
}

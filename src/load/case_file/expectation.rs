//! One `[steps.expect]` table (or one of its `alternatives`): the status, the headers, the schema and
//! the expected body as matchers.

use super::expected_body::parse_expected;
use super::notification::build_notification;
use super::raw::*;
use super::Problems;
use crate::load::toml_json::toml_to_json;
use crate::load::vars::Variables;
use crate::load::LoadContext;
use crate::model::*;

/// One `[steps.expect]` table (or one of its `alternatives`), checked and resolved.
pub(super) fn build_expectation(
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
        p.known_schema(&at("schema"), schema, ctx);
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

pub(super) fn parse_status(v: &toml::Value) -> Result<Vec<StatusPattern>, String> {
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

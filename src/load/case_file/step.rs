//! One `[[steps]]` table and its `[[steps.notifications]]`, resolved.

use super::expectation::build_expectation;
use super::notification::build_notification;
use super::raw::*;
use super::Problems;
use crate::load::toml_json::toml_to_json;
use crate::load::vars::Variables;
use crate::load::LoadContext;
use crate::model::*;

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

/// One `[[steps]]` table, its values substituted (secrets collected); problems are added to `p`.
pub(super) fn build_step(
    i: usize,
    rs: &RawStep,
    row: Option<&crate::load::matrix::Row>,
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
    let mut step = Step {
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
        retry: None,
    };
    step.retry = rs
        .retry
        .as_ref()
        .and_then(|r| build_retry(r, &step, &at("retry"), p));
    step
}

/// `[steps.retry]`, checked: a bounded poll of a request that changes nothing, on a step that does
/// not listen (a notification window is opened once, when the request goes out).
fn build_retry(r: &RawRetry, step: &Step, at: &str, p: &mut Problems) -> Option<Retry> {
    let method = step.request.method.as_str();
    let mut ok = true;
    if !(1..=MAX_WINDOW_MS).contains(&r.within_ms) {
        p.add(
            &format!("{at}.within_ms"),
            format!("{} is outside 1..={MAX_WINDOW_MS} ms", r.within_ms),
        );
        ok = false;
    }
    let every = r.every_ms.unwrap_or(DEFAULT_RETRY_EVERY_MS);
    if every < MIN_RETRY_EVERY_MS || (ok && every > r.within_ms) {
        p.add(
            &format!("{at}.every_ms"),
            format!(
                "{every} is outside {MIN_RETRY_EVERY_MS}..={} ms (at least {MIN_RETRY_EVERY_MS}, at most `within_ms`)",
                r.within_ms.max(MIN_RETRY_EVERY_MS)
            ),
        );
        ok = false;
    }
    if !matches!(method, "GET" | "HEAD") {
        p.add(
            at,
            format!("a retried step is sent again while its checks fail: only a GET or HEAD, which changes nothing, may be retried, not a {method}"),
        );
        ok = false;
    }
    if crate::model::listens(std::slice::from_ref(step)) {
        p.add(
            at,
            "a retried step cannot listen for notifications (a window opens once, when the request goes out): give the listening a step of its own before it",
        );
        ok = false;
    }
    let while_status = match r
        .while_status
        .as_ref()
        .map(super::expectation::parse_status)
    {
        None => Vec::new(),
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            p.add(&format!("{at}.while_status"), e);
            ok = false;
            Vec::new()
        }
    };
    let ms = |v: i64| std::time::Duration::from_millis(u64::try_from(v).unwrap_or(0));
    ok.then(|| Retry {
        within: ms(r.within_ms),
        every: ms(every),
        while_status,
    })
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

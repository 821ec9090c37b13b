//! Stage 4, **check**: judge one exchange against a step's expectations.
//!
//! Every check is made and reported, not only the first that fails: an implementer fixing a server
//! wants the whole list at once.

pub mod body;
mod expectation_words;
pub mod notifications;
pub mod setup;
pub mod step;

use crate::execute::ResponseRecord;
use crate::load::SchemaSet;
use crate::model::{Expectation, StatusPattern};
pub use crate::record::Mismatch;
pub use body::compare_body;

pub use crate::record::Check;

/// Whether a media type is JSON (`application/json`, `application/problem+json`, ...).
fn is_json_media(media: &str) -> bool {
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The checks of one expectation, alternatives aside (the runner weighs the alternatives, since an
/// answer may also depend on what arrives over CometD). What they quote from the response is
/// masked where the step becomes a record (`crate::runner::record`), not here.
pub fn check_answer(
    expect: &Expectation,
    response: &ResponseRecord,
    schemas: &SchemaSet,
) -> Vec<Check> {
    let wants_json = expect.schema.is_some() || expect.body.is_some();
    let mut checks: Vec<Check> = [
        status_check(expect, response),
        content_type_check(expect, response, wants_json),
        text_check(expect, response),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !wants_json {
        return checks;
    }
    let json = match json_of(response) {
        Ok(v) => v,
        Err(c) => {
            checks.push(*c);
            return checks;
        }
    };
    if let Some(name) = &expect.schema {
        checks.push(schema_check(name, &json, schemas));
    }
    if let Some(expected) = &expect.body {
        checks.push(body_check(expect, expected, &json));
    }
    checks
}

fn status_check(expect: &Expectation, response: &ResponseRecord) -> Option<Check> {
    if expect.status.is_empty() {
        return None;
    }
    let ok = expect.status.iter().any(|p| p.matches(response.status));
    let want = StatusPattern::list(&expect.status);
    Some(Check::new("status", ok, want, response.status.to_string()))
}

fn content_type_check(
    expect: &Expectation,
    response: &ResponseRecord,
    wants_json: bool,
) -> Option<Check> {
    let actual_ct = response.content_type.clone().unwrap_or_default();
    match expect.content_type.as_deref() {
        Some("*") => None,
        Some(want) => {
            let ok = media_type(&actual_ct) == media_type(want);
            Some(Check::new(
                "content-type",
                ok,
                media_type(want),
                describe_ct(&actual_ct),
            ))
        }
        // A JSON expectation implies a JSON answer: real clients reject any other type [gws-notes §3.3].
        None if wants_json => {
            let ok = is_json_media(&media_type(&actual_ct));
            Some(Check::new(
                "content-type",
                ok,
                "application/json",
                describe_ct(&actual_ct),
            ))
        }
        None => None,
    }
}

fn text_check(expect: &Expectation, response: &ResponseRecord) -> Option<Check> {
    let want = expect.text.as_ref()?;
    let got = response.body_text.as_deref().map(str::trim_end);
    let ok = got == Some(want.trim_end());
    Some(Check::new(
        "text",
        ok,
        format!("{:?}", want.trim_end()),
        got.map_or("a body that is not valid UTF-8".to_string(), |g| {
            format!("{:?}", g.chars().take(200).collect::<String>())
        }),
    ))
}

/// The body as JSON, or the failed `json` check that says why it is not.
fn json_of(response: &ResponseRecord) -> Result<serde_json::Value, Box<Check>> {
    let Some(text) = &response.body_text else {
        return Err(Box::new(Check::new(
            "json",
            false,
            "a JSON body",
            "a body that is not valid UTF-8",
        )));
    };
    serde_json::from_str::<serde_json::Value>(text).map_err(|e| {
        let preview: String = text.chars().take(120).collect();
        Box::new(Check::new(
            "json",
            false,
            "a JSON body",
            format!("not JSON ({e}): {preview:?}"),
        ))
    })
}

fn schema_check(name: &str, json: &serde_json::Value, schemas: &SchemaSet) -> Check {
    let violations = schemas.violations(name, json);
    let mut c = Check::new(
        format!("schema:{name}"),
        violations.is_empty(),
        format!("conforms to schemas/{name}.schema.json"),
        if violations.is_empty() {
            "conforms".to_string()
        } else {
            format!("{} violation(s)", violations.len())
        },
    );
    c.mismatches = violations
        .into_iter()
        .map(|v| Mismatch {
            path: pointer_to_path(&v.instance_path),
            message: v.message,
        })
        .collect();
    c
}

fn body_check(
    expect: &Expectation,
    expected: &crate::model::Expected,
    json: &serde_json::Value,
) -> Check {
    let cmp = body::compare_body_shown(expected, json, expect.match_mode, &expect.ignore);
    let ok = cmp.mismatches.is_empty();
    // In words, for a reader who has not seen the case file; the diff shows the members.
    let expected = if expect.match_mode == crate::model::MatchMode::Exact {
        "exactly the body in the diff"
    } else {
        "the members in the diff (others allowed)"
    };
    let mut c = Check::new(
        "body",
        ok,
        expected,
        if ok {
            "matches".to_string()
        } else {
            format!("{} difference(s)", cmp.mismatches.len())
        },
    );
    c.mismatches = cmp.mismatches;
    if !ok {
        c.diff = Some(cmp.diff);
    }
    c
}

fn describe_ct(ct: &str) -> String {
    if ct.is_empty() {
        "no Content-Type".to_string()
    } else {
        ct.to_string()
    }
}

/// `/failed/0/statusCode` -> `$.failed[0].statusCode`, the path style used everywhere else.
fn pointer_to_path(pointer: &str) -> String {
    let mut s = String::from("$");
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()) {
            s.push_str(&format!("[{part}]"));
        } else {
            s.push('.');
            s.push_str(&part);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_paths() {
        assert_eq!(pointer_to_path(""), "$");
        assert_eq!(
            pointer_to_path("/failed/0/statusCode"),
            "$.failed[0].statusCode"
        );
    }

    #[test]
    fn media_types() {
        assert_eq!(
            media_type("application/json;charset=UTF-8"),
            "application/json"
        );
        assert!(is_json_media("application/problem+json"));
        assert!(!is_json_media("text/plain"));
    }
}

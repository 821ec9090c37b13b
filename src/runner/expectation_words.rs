//! An expectation in words, for a reviewer who reads that no answer held: "HTTP 4xx or 5xx, an
//! error body (schemas/error.schema.json) with `statusCode` ≠ 0 and a `statusMessage`" rather than
//! "main". Used where a step lists the answers it tried and the case gave no reason of its own.

use crate::model::{Expectation, Expected};

/// The answer an expectation asks for.
pub(super) fn expectation(e: &Expectation) -> String {
    let mut parts = Vec::new();
    if !e.status.is_empty() {
        let codes: Vec<String> = e.status.iter().map(ToString::to_string).collect();
        parts.push(format!("HTTP {}", codes.join(" or ")));
    }
    let members = e.body.as_ref().map(members).unwrap_or_default();
    let body = match (&e.schema, members.is_empty()) {
        (Some(s), _) => Some(format!("{} body (schemas/{s}.schema.json)", article(s))),
        (None, false) => Some("a JSON body".to_string()),
        (None, true) => None,
    };
    match (body, members.is_empty()) {
        (Some(b), false) => parts.push(format!("{b} with {}", join_and(&members))),
        (Some(b), true) => parts.push(b),
        (None, _) => {}
    }
    if let Some(t) = &e.text {
        parts.push(format!("the body `{}`", t.trim_end()));
    }
    if parts.is_empty() {
        "any answer".to_string()
    } else {
        parts.join(", ")
    }
}

/// The top-level members an expected body names, each in words (at most five).
fn members(body: &Expected) -> Vec<String> {
    let Expected::Object(fields) = body else {
        return Vec::new();
    };
    let mut out: Vec<String> = fields
        .iter()
        .take(5)
        .map(|(name, want)| match want {
            Expected::Literal(v) => format!("`{name}` = {v}"),
            Expected::Not(inner) => match inner.as_ref() {
                Expected::Literal(v) => format!("`{name}` ≠ {v}"),
                _ => format!("`{name}` of another kind"),
            },
            Expected::Absent => format!("no `{name}`"),
            Expected::Type(t) => format!("`{name}` {}", article(t.name())),
            _ => format!("a `{name}`"),
        })
        .collect();
    if fields.len() > 5 {
        out.push(format!("{} more member(s)", fields.len() - 5));
    }
    out
}

fn article(word: &str) -> String {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {word}"),
        _ => format!("a {word}"),
    }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{JsonType, StatusPattern};

    #[test]
    fn an_error_body_in_words() {
        let e = Expectation {
            status: vec![StatusPattern::Class(4), StatusPattern::Class(5)],
            schema: Some("error".into()),
            body: Some(Expected::Object(vec![
                (
                    "statusCode".into(),
                    Expected::Not(Box::new(Expected::Literal(0.into()))),
                ),
                ("statusMessage".into(), Expected::Type(JsonType::String)),
            ])),
            ..Expectation::default()
        };
        assert_eq!(
            expectation(&e),
            "HTTP 4xx or 5xx, an error body (schemas/error.schema.json) with `statusCode` ≠ 0 and `statusMessage` a string"
        );
    }
}

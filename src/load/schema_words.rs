//! A schema validator's findings as sentences about the document: "`statusCode` must be exactly 0;
//! it is the string "0"", never "{"const":0} is not allowed for 0" or "False schema does not
//! allow". Every schema check (answers, notifications, `verify`'s check of report.json) words its
//! findings here, so every report says the same thing.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::ValidationError;
use serde_json::Value;

/// One finding, as a sentence naming the member it is about.
pub fn sentence(e: &ValidationError) -> String {
    let pointer = e.instance_path().to_string();
    let what = member(&pointer);
    let it = shown(e.instance());
    match e.kind() {
        ValidationErrorKind::Type { kind } => {
            format!("{what} must be {}; it is {it}", type_words(kind))
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!(
                "{what} must be exactly {}; it is {it}",
                shown(expected_value)
            )
        }
        ValidationErrorKind::Not { schema } => match schema.get("const") {
            Some(v) if schema.as_object().is_some_and(|o| o.len() == 1) => {
                format!("{what} must not be {} here; it is {it}", shown(v))
            }
            _ => format!("{what} must not match {}; it does ({it})", compact(schema)),
        },
        ValidationErrorKind::FalseSchema => {
            format!("{what} is not allowed here at all; it is {it}")
        }
        ValidationErrorKind::Required { property } => {
            format!(
                "{what} lacks the member `{}`, which it must have",
                property.as_str().unwrap_or_default()
            )
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => format!(
            "{what} has member(s) it may not have: {}",
            unexpected
                .iter()
                .map(|u| format!("`{u}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ValidationErrorKind::Enum { options } => {
            format!(
                "{what} must be one of {}; it is {it}",
                options_words(options)
            )
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!("{what} must match the pattern `{pattern}`; it is {it}")
        }
        ValidationErrorKind::Format { format } => {
            format!("{what} must be a valid {format}; it is {it}")
        }
        ValidationErrorKind::Minimum { limit } => {
            format!("{what} must be at least {limit}; it is {it}")
        }
        ValidationErrorKind::Maximum { limit } => {
            format!("{what} must be at most {limit}; it is {it}")
        }
        ValidationErrorKind::MinLength { limit } => {
            format!("{what} must be at least {limit} character(s) long; it is {it}")
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("{what} must be at most {limit} character(s) long; it is {it}")
        }
        ValidationErrorKind::MinItems { limit } => {
            format!(
                "{what} must hold at least {limit} item(s); it holds {}",
                len(e.instance())
            )
        }
        ValidationErrorKind::MaxItems { limit } => {
            format!(
                "{what} must hold at most {limit} item(s); it holds {}",
                len(e.instance())
            )
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            let closest = context
                .iter()
                .filter(|branch| !branch.is_empty())
                .min_by_key(|branch| branch.len())
                .and_then(|branch| branch.first())
                .map(|first| format!(" (the closest: {})", sentence(first)))
                .unwrap_or_default();
            format!(
                "{what} matches none of the {} shapes allowed here{closest}",
                context.len()
            )
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            format!("{what} matches more than one of the shapes allowed here, and must match one")
        }
        ValidationErrorKind::UniqueItems => format!("{what} must not repeat an item"),
        _ => format!("{what}: {e}"),
    }
}

/// `` `statusCode` `` from `/failed/0/statusCode`; the document itself for the root.
fn member(pointer: &str) -> String {
    match pointer.rsplit_once('/') {
        None | Some((_, "")) => "the document".to_string(),
        Some((_, last)) if last.parse::<usize>().is_ok() => format!("item {last}"),
        Some((_, last)) => format!("`{}`", last.replace("~1", "/").replace("~0", "~")),
    }
}

/// A value as a sentence quotes it, naming its kind where the text alone would mislead ("0" sent as
/// a string is not the number 0).
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {}", compact(&Value::String(s.clone()))),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!("an array of {} item(s)", a.len()),
        Value::Object(_) => format!("an object {}", compact(v)),
    }
}

/// JSON text cut to a readable length.
fn compact(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(77).collect::<String>())
    } else {
        text
    }
}

fn type_words(kind: &TypeKind) -> String {
    let article = |t: &str| match t {
        "array" | "integer" | "object" => format!("an {t}"),
        "null" => "null".to_string(),
        _ => format!("a {t}"),
    };
    match kind {
        TypeKind::Single(t) => article(t.as_str()),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| article(t.as_str()))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn options_words(options: &Value) -> String {
    match options.as_array() {
        Some(list) => list.iter().map(compact).collect::<Vec<_>>().join(", "),
        None => compact(options),
    }
}

fn len(v: &Value) -> usize {
    v.as_array().map(Vec::len).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn words(schema: Value, instance: Value) -> Vec<String> {
        let v = jsonschema::draft202012::new(&schema).unwrap();
        v.iter_errors(&instance).map(|e| sentence(&e)).collect()
    }

    #[test]
    fn no_validator_jargon() {
        let s = json!({"properties": {"statusCode": {"not": {"const": 0}}, "code": {"const": 0}},
                       "additionalProperties": false});
        let got = words(s, json!({"statusCode": 0, "code": "0", "extra": 1}));
        let all = got.join("\n");
        assert!(
            all.contains("`statusCode` must not be 0 here; it is 0"),
            "{all}"
        );
        assert!(
            all.contains("`code` must be exactly 0; it is the string \"0\""),
            "{all}"
        );
        assert!(all.contains("may not have: `extra`"), "{all}");
        for jargon in ["False schema", "is not allowed for", "{\"const\""] {
            assert!(!all.contains(jargon), "{jargon} in {all}");
        }
        let s = json!({"properties": {"failed": {"items": false}}});
        let all = words(s, json!({"failed": ["Cannot resolve"]})).join("\n");
        assert_eq!(
            all,
            "item 0 is not allowed here at all; it is the string \"Cannot resolve\""
        );
        let all = words(json!({"required": ["id"], "type": "object"}), json!({})).join("\n");
        assert_eq!(
            all,
            "the document lacks the member `id`, which it must have"
        );
    }
}

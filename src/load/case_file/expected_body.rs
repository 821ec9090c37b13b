//! An expected body, as a case file states it, turned into matchers.

use crate::load::diagnostic::did_you_mean;
use crate::model::*;

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

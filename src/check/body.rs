//! Expected-body matching and the readable diff shown when it fails.
//!
//! One walk does both: it lists the JSON paths that differ, and it builds a *projection* of the
//! expectation onto the actual body (where a matcher is satisfied, the actual value stands in for
//! it; in subset mode, keys the case does not mention are copied from the actual body). Diffing the
//! projection against the actual body then shows only what really differs, never a matcher that
//! matched or a key the case did not ask about.

use serde_json::{Map, Value};

use crate::model::{Expected, JsonPath, MatchMode, PathSegment};

pub use crate::record::Mismatch;

/// What comparing a body found.
#[derive(Debug, Clone)]
pub struct BodyComparison {
    pub mismatches: Vec<Mismatch>,
    /// Unified diff of expected (projected) against actual, keys sorted; empty when they agree.
    pub diff: String,
}

pub fn compare_body(
    expected: &Expected,
    actual: &Value,
    mode: MatchMode,
    ignore: &[JsonPath],
) -> BodyComparison {
    compare(expected, actual, mode, ignore, false)
}

/// [`compare_body`] for a report: the same verdict, but the secret members (`password`) the messages
/// and the diff quote, from the answer and from the expectation, are masked whole. The secret values
/// elsewhere are masked where the check becomes a record (`Redactor::redact_shown`).
pub fn compare_body_shown(
    expected: &Expected,
    actual: &Value,
    mode: MatchMode,
    ignore: &[JsonPath],
) -> BodyComparison {
    compare(expected, actual, mode, ignore, true)
}

fn compare(
    expected: &Expected,
    actual: &Value,
    mode: MatchMode,
    ignore: &[JsonPath],
    shown: bool,
) -> BodyComparison {
    let mut actual = actual.clone();
    for p in ignore {
        remove_path(&mut actual, &p.segments);
    }
    let mut walk = Walk {
        mode,
        ignore,
        mismatches: Vec::new(),
        shown,
    };
    let projected = walk.visit(expected, Some(&actual), &mut Vec::new());
    let diff = if walk.mismatches.is_empty() {
        String::new()
    } else {
        unified_diff(&projected.unwrap_or(Value::Null), &walk.show(&[], &actual))
    };
    BodyComparison {
        mismatches: walk.mismatches,
        diff,
    }
}

/// Pretty JSON with keys sorted at every depth, so key order never shows up as a difference.
pub fn canonical_pretty(v: &Value) -> String {
    serde_json::to_string_pretty(&sorted(v)).unwrap_or_default()
}

pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

pub fn unified_diff(expected: &Value, actual: &Value) -> String {
    let e = canonical_pretty(expected) + "\n";
    let a = canonical_pretty(actual) + "\n";
    similar::TextDiff::from_lines(&e, &a)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn render_path(path: &[Seg]) -> String {
    let mut s = String::from("$");
    for seg in path {
        match seg {
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

struct Walk<'a> {
    mode: MatchMode,
    ignore: &'a [JsonPath],
    mismatches: Vec<Mismatch>,
    /// Masks the secret members in what is shown (messages, the projection), never in what is
    /// compared.
    shown: bool,
}

impl Walk<'_> {
    /// An actual value (from outside) at `path` as shown: under a secret member (`password`), masked
    /// whole, as [`crate::secret::mask_secret_fields`] masks it inside its object.
    fn show(&self, path: &[Seg], v: &Value) -> Value {
        if !self.shown {
            return v.clone();
        }
        if matches!(path.last(), Some(Seg::Key(k)) if crate::secret::is_secret_field(k)) {
            return Value::String(crate::secret::REDACTED.to_string());
        }
        let mut v = v.clone();
        crate::secret::mask_secret_fields(&mut v);
        v
    }

    /// The expected side where a matcher was not satisfied, as shown: its variables were filled in,
    /// so it may carry a secret (see `crate::secret`).
    fn placeholder(&self, e: &Expected) -> Value {
        let mut v = placeholder(e);
        if self.shown {
            crate::secret::mask_secret_fields(&mut v);
        }
        v
    }

    fn describe(&self, e: &Expected) -> String {
        match e {
            Expected::Literal(_) => self.placeholder(e).to_string(),
            // A matcher's values were filled in too ($one_of of a variable): masked at the record.
            other => describe(other),
        }
    }

    fn short(&self, path: &[Seg], v: &Value) -> String {
        short(&self.show(path, v))
    }

    fn fail(&mut self, path: &[Seg], message: String) {
        self.mismatches.push(Mismatch {
            path: render_path(path),
            message,
        });
    }

    fn ignored(&self, path: &[Seg]) -> bool {
        self.ignore.iter().any(|p| {
            p.segments.len() == path.len()
                && p.segments.iter().zip(path).all(|(a, b)| match (a, b) {
                    (PathSegment::Key(x), Seg::Key(y)) => x == y,
                    (PathSegment::Index(x), Seg::Index(y)) => x == y,
                    (PathSegment::AnyIndex, Seg::Index(_)) => true,
                    _ => false,
                })
        })
    }

    /// Returns the projection of `expected` onto `actual` (None: the key should be absent).
    fn visit(
        &mut self,
        expected: &Expected,
        actual: Option<&Value>,
        path: &mut Vec<Seg>,
    ) -> Option<Value> {
        if self.ignored(path) {
            return actual.map(|a| self.show(path, a));
        }
        let Some(actual) = actual else {
            return match expected {
                Expected::Absent => None,
                other => {
                    self.fail(path, format!("missing; expected {}", self.describe(other)));
                    Some(self.placeholder(other))
                }
            };
        };
        match expected {
            Expected::Absent => {
                self.fail(
                    path,
                    format!("should be absent, found {}", self.short(path, actual)),
                );
                None
            }
            Expected::Object(members) => {
                let Some(obj) = actual.as_object() else {
                    self.fail(
                        path,
                        format!("expected an object, found {}", self.short(path, actual)),
                    );
                    return Some(self.placeholder(expected));
                };
                let mut out = Map::new();
                if self.mode == MatchMode::Subset {
                    for (k, v) in obj {
                        path.push(Seg::Key(k.clone()));
                        out.insert(k.clone(), self.show(path, v));
                        path.pop();
                    }
                }
                for (k, e) in members {
                    path.push(Seg::Key(k.clone()));
                    match self.visit(e, obj.get(k), path) {
                        Some(v) => {
                            out.insert(k.clone(), v);
                        }
                        None => {
                            out.remove(k);
                        }
                    }
                    path.pop();
                }
                if self.mode == MatchMode::Exact {
                    for k in obj.keys() {
                        if !members.iter().any(|(m, _)| m == k) {
                            path.push(Seg::Key(k.clone()));
                            if !self.ignored(path) {
                                self.fail(
                                    path,
                                    format!(
                                        "unexpected key (match = \"exact\"), value {}",
                                        self.short(path, &obj[k])
                                    ),
                                );
                            }
                            path.pop();
                        }
                    }
                }
                Some(Value::Object(out))
            }
            Expected::Array(items) => {
                let Some(arr) = actual.as_array() else {
                    self.fail(
                        path,
                        format!("expected an array, found {}", self.short(path, actual)),
                    );
                    return Some(self.placeholder(expected));
                };
                if arr.len() != items.len() {
                    self.fail(
                        path,
                        format!("expected {} element(s), found {}", items.len(), arr.len()),
                    );
                }
                let mut out = Vec::new();
                for (i, e) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    if let Some(v) = self.visit(e, arr.get(i), path) {
                        out.push(v);
                    }
                    path.pop();
                }
                Some(Value::Array(out))
            }
            leaf => {
                if matches_leaf(leaf, actual) {
                    Some(self.show(path, actual))
                } else {
                    let message = format!(
                        "expected {}, found {}",
                        self.describe(leaf),
                        self.short(path, actual)
                    );
                    self.fail(path, message);
                    Some(self.placeholder(leaf))
                }
            }
        }
    }
}

/// Whether a value satisfies an expectation, in subset mode (used inside `$one_of`, `$not`,
/// `$unordered`, where no diff is wanted).
pub fn matches(expected: &Expected, actual: &Value) -> bool {
    let mut w = Walk {
        mode: MatchMode::Subset,
        ignore: &[],
        mismatches: Vec::new(),
        shown: false,
    };
    w.visit(expected, Some(actual), &mut Vec::new());
    w.mismatches.is_empty()
}

fn matches_leaf(expected: &Expected, actual: &Value) -> bool {
    match expected {
        Expected::Literal(v) => literal_eq(v, actual),
        Expected::Any => true,
        Expected::Type(t) => t.accepts(actual),
        Expected::Regex(r) => actual.as_str().is_some_and(|s| r.is_match(s)),
        Expected::OneOf(options) => options.iter().any(|o| matches(o, actual)),
        Expected::Not(inner) => !matches(inner, actual),
        Expected::Unordered(items) => actual.as_array().is_some_and(|arr| {
            if arr.len() != items.len() {
                return false;
            }
            // Greedy assignment is wrong for overlapping matchers; try every pairing (arrays here are tiny).
            let mut used = vec![false; arr.len()];
            assign(items, arr, &mut used)
        }),
        // Each item on an element of its own; other elements are allowed.
        Expected::Contains(items) => actual.as_array().is_some_and(|arr| {
            let mut used = vec![false; arr.len()];
            assign(items, arr, &mut used)
        }),
        Expected::Object(_) | Expected::Array(_) | Expected::Absent => matches(expected, actual),
    }
}

fn assign(items: &[Expected], arr: &[Value], used: &mut [bool]) -> bool {
    let Some((first, rest)) = items.split_first() else {
        return true;
    };
    for i in 0..arr.len() {
        if !used[i] && matches(first, &arr[i]) {
            used[i] = true;
            if assign(rest, arr, used) {
                return true;
            }
            used[i] = false;
        }
    }
    false
}

/// 0 and 0.0 are the same JSON number; "0" and 0 are not.
fn literal_eq(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => {
            a == b || a.as_f64().zip(b.as_f64()).is_some_and(|(x, y)| x == y)
        }
        _ => expected == actual,
    }
}

fn describe(e: &Expected) -> String {
    match e {
        Expected::Literal(v) => v.to_string(),
        Expected::Object(_) => "an object".to_string(),
        Expected::Array(items) => format!("an array of {}", items.len()),
        Expected::Any => "any value".to_string(),
        Expected::Type(t) => format!("any {}", t.name()),
        Expected::Regex(r) => format!("a string matching /{}/", r.as_str()),
        Expected::OneOf(o) => format!(
            "one of [{}]",
            o.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
        Expected::Not(x) => format!("anything but {}", describe(x)),
        Expected::Absent => "no value".to_string(),
        Expected::Unordered(items) => format!(
            "in any order [{}]",
            items.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
        Expected::Contains(items) => format!(
            "an array containing [{}]",
            items.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// What the expected side of the diff shows where a matcher was not satisfied.
fn placeholder(e: &Expected) -> Value {
    match e {
        Expected::Literal(v) => v.clone(),
        Expected::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), placeholder(v))).collect())
        }
        Expected::Array(items) => Value::Array(items.iter().map(placeholder).collect()),
        other => Value::String(format!("<{}>", describe(other))),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(77).collect::<String>())
    } else {
        s
    }
}

fn remove_path(v: &mut Value, segments: &[PathSegment]) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    match (first, v) {
        (PathSegment::Key(k), Value::Object(m)) => {
            if rest.is_empty() {
                m.shift_remove(k);
            } else if let Some(child) = m.get_mut(k) {
                remove_path(child, rest);
            }
        }
        (PathSegment::Index(i), Value::Array(a)) => {
            if rest.is_empty() {
                if *i < a.len() {
                    a.remove(*i);
                }
            } else if let Some(child) = a.get_mut(*i) {
                remove_path(child, rest);
            }
        }
        (PathSegment::AnyIndex, Value::Array(a)) => {
            if rest.is_empty() {
                a.clear();
            } else {
                for child in a.iter_mut() {
                    remove_path(child, rest);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::case_file::parse_expected;
    use serde_json::json;

    fn exp(v: Value) -> Expected {
        parse_expected(&v, false).unwrap()
    }

    fn paths(c: &BodyComparison) -> Vec<String> {
        c.mismatches.iter().map(|m| m.path.clone()).collect()
    }

    #[test]
    fn a_shown_comparison_masks_values_not_the_verdict() {
        let r = crate::secret::Redactor::new();
        r.add("password");
        // As a case with `"not-${env:GWS_PASSWORD}"` would have it, once its variables are filled in.
        let expected = exp(json!({"statusMessage": "not-password", "code": "password", "n": 1}));
        let actual = json!({"statusMessage": "Wrong password", "code": "password", "n": 2});
        let plain = compare_body(&expected, &actual, MatchMode::Subset, &[]);
        let mut shown = compare_body_shown(&expected, &actual, MatchMode::Subset, &[]);
        // The same verdict, differently shown.
        assert_eq!(paths(&plain), paths(&shown));
        // Secret values are masked where the check becomes a record.
        for m in &mut shown.mismatches {
            m.message = r.redact_shown(&m.message);
        }
        shown.diff = r.redact_shown(&shown.diff);
        assert_eq!(paths(&shown), ["$.statusMessage", "$.n"]);
        assert_eq!(
            shown.mismatches[0].message,
            r#"expected "not-***", found "Wrong ***""#
        );
        assert!(
            shown.diff.contains(r#"-  "statusMessage": "not-***""#),
            "{}",
            shown.diff
        );
        assert!(
            shown.diff.contains(r#"+  "statusMessage": "Wrong ***""#),
            "{}",
            shown.diff
        );
        assert!(!shown.diff.contains("password"), "{}", shown.diff);
        assert!(plain.diff.contains("not-password"), "{}", plain.diff);
    }

    #[test]
    fn subset_allows_extra_keys_exact_does_not() {
        let e = exp(json!({"statusCode": 0}));
        let a = json!({"statusCode": 0, "extra": 1});
        assert!(compare_body(&e, &a, MatchMode::Subset, &[])
            .mismatches
            .is_empty());
        let c = compare_body(&e, &a, MatchMode::Exact, &[]);
        assert_eq!(paths(&c), vec!["$.extra"]);
        assert!(c.diff.contains("+  \"extra\": 1"), "{}", c.diff);
    }

    #[test]
    fn key_order_never_matters() {
        let e = exp(json!({"a": 1, "b": 2}));
        let a: Value = serde_json::from_str(r#"{"b": 2, "a": 1}"#).unwrap();
        assert!(compare_body(&e, &a, MatchMode::Exact, &[])
            .mismatches
            .is_empty());
    }

    #[test]
    fn string_is_not_a_number() {
        let e = exp(json!({"statusCode": 0}));
        let c = compare_body(&e, &json!({"statusCode": "0"}), MatchMode::Exact, &[]);
        assert_eq!(c.mismatches[0].message, "expected 0, found \"0\"");
        assert!(c.diff.contains("-  \"statusCode\": 0"));
        assert!(c.diff.contains("+  \"statusCode\": \"0\""));
    }

    #[test]
    fn matchers() {
        let e = exp(json!({
            "channel": {"$one_of": ["multimedia", "chat"]},
            "code": {"$not": 0},
            "msg": {"$type": "string"},
            "re": {"$regex": "^Device '.*'$"},
            "any": {"$any": true},
            "gone": {"$absent": true},
            "set": {"$unordered": [1, {"$type": "string"}]}
        }));
        let good = json!({"channel": "chat", "code": 4, "msg": "x", "re": "Device '5001'", "any": null, "set": ["a", 1]});
        assert!(compare_body(&e, &good, MatchMode::Exact, &[])
            .mismatches
            .is_empty());
        let bad =
            json!({"channel": "fax", "code": 0, "msg": 1, "re": "nope", "gone": 1, "set": [1, 2]});
        let c = compare_body(&e, &bad, MatchMode::Exact, &[]);
        assert_eq!(
            paths(&c),
            vec![
                "$.channel",
                "$.code",
                "$.msg",
                "$.re",
                "$.any",
                "$.gone",
                "$.set"
            ]
        );
        assert_eq!(
            c.mismatches[0].message,
            "expected one of [\"multimedia\", \"chat\"], found \"fax\""
        );
        assert_eq!(c.mismatches[4].message, "missing; expected any value");
    }

    #[test]
    fn arrays_compare_by_position_and_length() {
        let e = exp(json!({"failed": [{"channel": "multimedia"}]}));
        let c = compare_body(&e, &json!({"failed": []}), MatchMode::Subset, &[]);
        assert_eq!(paths(&c), vec!["$.failed", "$.failed[0]"]);
    }

    #[test]
    fn ignore_paths_drop_fields_on_both_sides() {
        let e = exp(json!({"a": 1, "m": 5}));
        let ig = vec![
            JsonPath::parse("$.m").unwrap(),
            JsonPath::parse("$.x[*].t").unwrap(),
        ];
        let a = json!({"a": 1, "m": 6, "x": [{"t": 1}]});
        let c = compare_body(&e, &a, MatchMode::Exact, &ig);
        assert_eq!(paths(&c), vec!["$.x"]);
    }

    #[test]
    fn diff_shows_only_real_differences() {
        let e = exp(
            json!({"statusCode": 7, "failed": [{"channel": {"$one_of": ["multimedia", "chat"]}, "statusMessage": {"$type": "string"}}]}),
        );
        let a = json!({"statusCode": 0, "failed": [{"channel": "chat", "statusMessage": "down"}]});
        let c = compare_body(&e, &a, MatchMode::Subset, &[]);
        assert_eq!(paths(&c), vec!["$.statusCode"]);
        let changed: Vec<&str> = c
            .diff
            .lines()
            .filter(|l| {
                (l.starts_with('-') || l.starts_with('+'))
                    && !l.starts_with("---")
                    && !l.starts_with("+++")
            })
            .collect();
        assert_eq!(
            changed,
            vec!["-  \"statusCode\": 7", "+  \"statusCode\": 0"]
        );
    }

    #[test]
    fn unknown_matcher_is_reported_with_a_hint() {
        let err = parse_expected(&json!({"a": {"$regx": "x"}}), false).unwrap_err();
        assert_eq!(err.0, ".a.$regx");
        assert!(
            err.1
                .starts_with("unknown matcher `$regx`; did you mean `$regex`?"),
            "{}",
            err.1
        );
    }

    #[test]
    fn a_matcher_beside_other_keys_is_refused() {
        // Read as members named `$type` and `$not`, this table would fail every integer.
        let err = parse_expected(
            &json!({"statusCode": {"$type": "integer", "$not": {"$one_of": [0, 7]}}}),
            false,
        )
        .unwrap_err();
        assert_eq!(err.0, ".statusCode");
        assert!(
            err.1.contains("`$not` is beside `$type`")
                || err.1.contains("`$type` is beside `$not`"),
            "{}",
            err.1
        );
        let err = parse_expected(&json!({"a": {"$any": true, "b": 1}}), false).unwrap_err();
        assert!(err.1.contains("`$any` is beside `b`"), "{}", err.1);
        assert!(parse_expected(&json!({"a": {"$not": {"$one_of": [0, 7]}}}), false).is_ok());
    }
}

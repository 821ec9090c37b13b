//! Secrets that cannot be printed by accident.
//!
//! A [`Secret`] has no `Display`, and its `Debug` prints `***`; the only way to the value is
//! [`Secret::expose`], which is greppable. Every secret value also goes into a [`Redactor`], which
//! scrubs any text the harness writes (console, reports, error messages, diffs) as a second line of
//! defence.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, RwLock};

/// The text that replaces a secret wherever one would have been written.
pub const REDACTED: &str = "***";

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that needs it: building a request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

/// Every secret value known to this run; scrubs them out of any text.
#[derive(Clone, Default)]
pub struct Redactor {
    values: Arc<RwLock<BTreeSet<String>>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor")
    }
}

/// Header names whose values are always secret, whatever they hold.
pub const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-csrf-token",
];

/// JSON member names whose values are always secret.
pub const SECRET_FIELDS: &[&str] = &["agentLoginPassword", "password"];

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a value to scrub. Very short values are ignored: scrubbing "1" would shred every
    /// report, and a one-character password is not a secret worth the name.
    pub fn add(&self, value: &str) {
        if value.len() >= 3 {
            self.values
                .write()
                .expect("redactor lock")
                .insert(value.to_string());
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let values = self.values.read().expect("redactor lock");
        let mut out = text.to_string();
        // Longest first, so a secret that contains another is removed whole.
        let mut sorted: Vec<&String> = values.iter().collect();
        sorted.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for v in sorted {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), REDACTED);
            }
        }
        out
    }

    /// Redacts a JSON value in place: known secret members, and any string holding a secret.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if SECRET_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(k)) {
                        *v = serde_json::Value::String(REDACTED.to_string());
                    } else {
                        self.redact_json(v);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            serde_json::Value::String(s) => {
                let r = self.redact(s);
                if r != *s {
                    *s = r;
                }
            }
            _ => {}
        }
    }

    /// The value to show for a header: secret headers are replaced whole.
    pub fn header_value(&self, name: &str, value: &str) -> String {
        if SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) {
            REDACTED.to_string()
        } else {
            self.redact(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2-sentinel");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
    }

    #[test]
    fn redactor_scrubs_text_json_and_headers() {
        let r = Redactor::new();
        r.add("s3cr3t-value");
        assert_eq!(r.redact("pw=s3cr3t-value;"), "pw=***;");
        let mut v = serde_json::json!({"agentLoginPassword": "x", "note": "has s3cr3t-value in it", "n": [1]});
        r.redact_json(&mut v);
        assert_eq!(v["agentLoginPassword"], "***");
        assert_eq!(v["note"], "has *** in it");
        assert_eq!(r.header_value("Set-Cookie", "JSESSIONID=abc"), "***");
        assert_eq!(
            r.header_value("Content-Type", "application/json"),
            "application/json"
        );
    }
}

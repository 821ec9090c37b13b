//! Secrets that cannot be printed by accident.
//!
//! A [`Secret`] has no `Display`, and its `Debug` prints `***`; the only way to the value is
//! [`Secret::expose`], which is greppable. Every secret value also goes into a [`Redactor`], which
//! masks it in what came from outside the project, where it is recorded.
//!
//! # What is masked, and where
//!
//! Secrets are masked only in **outside data**: requests sent, responses and notifications received,
//! transport errors, what a server answered (a version, a message), and the profile's *values*. What
//! the project wrote is never touched: case ids, titles, file paths, spec text, check names and
//! expectations, profile keys, role and capability names. So a password such as `password` or `agent`
//! cannot turn `cases/auth-wrong-password.toml` into `cases/auth-wrong-***.toml`, and `verify`, `merge`
//! and `--baseline` see the ids and paths the suite has.
//!
//! In outside data:
//! - secret-bearing headers ([`SECRET_HEADERS`]) and JSON members ([`SECRET_FIELDS`]) are masked whole,
//!   whatever they hold;
//! - a JSON string (or a header, or a whole text) equal to a secret is masked;
//! - inside free text (bodies, header values, and the harness's sentences that quote outside data
//!   whole: a transport error, a CometD note, a JSON Schema message about an answer), every
//!   occurrence of a secret of at least [`MIN_FREE_TEXT`] bytes is masked, framing words included
//!   (such a sentence is not split into its parts). A shorter one (`1`, `pw`) is masked only where a whole
//!   value equals it: masking every `1` in a response would garble it, and would not hide a secret
//!   that short anyway. Loading a profile warns about such a password ([`is_weak`]);
//! - each of these rules holds for a secret's escaped forms too (`escaped`): a password holding `"`,
//!   `\`, `&`, `<`, `'`, a space, `/`, `+`, `%` or `é` reaches outside data as JSON (`\"`, `\u00e9`),
//!   HTML and XML (`&quot;`, `&#39;`) or URLs and forms (`%22`, `+`) write it. The forms are worked
//!   out once per value (compiled the first time a text could hold one); a value of letters,
//!   digits and `-_.~` has none, so masking it is as it was.
//!
//! An expected body is shown (in a diff, a mismatch) after its variables were filled in, and
//! `${env:...}` can put a secret inside one of its strings (`"not-${env:GWS_PASSWORD}"`): so the
//! values of an expected body are masked like outside data. The rest of a case (id, title, file,
//! names, paths, the text of its checks) never is.

mod escaped;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use escaped::Escaped;

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

/// Every secret value known to this run; masks them in outside data (see the module comment).
///
/// A run registers one session cookie per case, so the set grows with the suite: `redact` must not
/// cost a scan per known value, or a 10,000-case run turns quadratic. Values are indexed by their first
/// three bytes; one pass over the text finds the few that occur in it, and only those are replaced.
#[derive(Clone, Default)]
pub struct Redactor {
    values: Arc<RwLock<Values>>,
    /// The run's redactor, for a scoped one (see [`Redactor::scoped`]).
    parent: Option<Arc<Redactor>>,
}

/// Secrets shorter than this many bytes are masked only where a whole value equals them, never inside
/// free text (see the module comment).
pub const MIN_FREE_TEXT: usize = 4;

/// Whether a password is too short to be masked inside free text: loading a profile warns about it.
pub fn is_weak(password: &str) -> bool {
    password.len() < MIN_FREE_TEXT
}

#[derive(Default)]
struct Values {
    /// Values shorter than [`MIN_FREE_TEXT`]: masked only where a whole value equals one.
    short: Vec<Arc<str>>,
    /// Every value by its first three bytes (values are at least three bytes long).
    by_prefix: HashMap<[u8; 3], Vec<Arc<str>>>,
    /// Values holding `*`: a replacement could complete them, so they are always tried.
    starred: Vec<Arc<str>>,
    /// One bit per hashed three-byte prefix: most windows of a text miss here, without a hash-map
    /// lookup (this scan runs over every string the reports write).
    filter: Vec<u64>,
    /// Every value, in the order added: while there are only a few, a substring search for each
    /// beats the byte-by-byte prefix scan.
    all: Vec<Arc<str>>,
    /// The escaped forms of the values that have any (see `escaped`), short ones included: few
    /// values do, so each is always tried.
    escaped: Vec<(Arc<str>, Escaped)>,
}

/// Up to this many values, [`Values::candidates`] searches for each one directly.
const FEW: usize = 8;

const FILTER_BITS: u32 = 16;

fn prefix_bit(b: &[u8]) -> usize {
    let key = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
    (key.wrapping_mul(0x9E37_79B1) >> (32 - FILTER_BITS)) as usize
}

impl Values {
    /// Keeps `value`'s escaped forms, when it has any.
    fn add_escaped(&mut self, value: Arc<str>) {
        if let Some(e) = Escaped::of(&value, MIN_FREE_TEXT - 1) {
            self.escaped.push((value, e));
        }
    }

    /// The values that can matter for `text`, longest first (ties in set order, as before the index),
    /// each with its escaped forms when one of those occurs (they include the literal).
    fn candidates(&self, text: &str) -> Vec<(Arc<str>, Option<Escaped>)> {
        let mut found: Vec<(Arc<str>, Option<Escaped>)> = self
            .escaped
            .iter()
            .filter(|(v, e)| {
                v.len() >= MIN_FREE_TEXT && e.within(text).is_some_and(|f| f.find.is_match(text))
            })
            .map(|(v, e)| (v.clone(), Some(e.clone())))
            .collect();
        for v in self.literals(text) {
            if !found.iter().any(|(f, _)| *f == v) {
                found.push((v, None));
            }
        }
        found.sort_by(|(a, _), (b, _)| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        found
    }

    /// The values whose literal may occur in `text` (and every starred one).
    fn literals(&self, text: &str) -> Vec<Arc<str>> {
        let bytes = text.as_bytes();
        let mut found: Vec<Arc<str>> = self.starred.clone();
        if self.all.len() <= FEW {
            for v in &self.all {
                if text.contains(&**v) && !found.contains(v) {
                    found.push(v.clone());
                }
            }
        } else if !self.by_prefix.is_empty() {
            for i in 0..bytes.len().saturating_sub(2) {
                let bit = prefix_bit(&bytes[i..]);
                if self.filter[bit / 64] & (1 << (bit % 64)) == 0 {
                    continue;
                }
                let key = [bytes[i], bytes[i + 1], bytes[i + 2]];
                if let Some(vs) = self.by_prefix.get(&key) {
                    for v in vs {
                        if bytes[i..].starts_with(v.as_bytes()) && !found.contains(v) {
                            found.push(v.clone());
                        }
                    }
                }
            }
        }
        found
    }
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

/// Whether a JSON member of this name holds a secret whatever its value.
pub fn is_secret_field(name: &str) -> bool {
    SECRET_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Masks the secret members ([`SECRET_FIELDS`]) of a JSON value whole, whatever they hold. It needs no
/// secret values, so a check may apply it to what it quotes; the values themselves are masked where
/// the check becomes a record ([`Redactor::redact_shown`]).
pub fn mask_secret_fields(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_field(k) {
                    *v = serde_json::Value::String(REDACTED.to_string());
                } else {
                    mask_secret_fields(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_secret_fields),
        _ => {}
    }
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a value to mask, with its escaped forms (`escaped`: computed here, once). One
    /// shorter than [`MIN_FREE_TEXT`] is masked only where a whole value equals it, in any form (see
    /// the module comment).
    pub fn add(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut values = self.values.write().expect("redactor lock");
        if value.len() < MIN_FREE_TEXT {
            if !values.short.iter().any(|v| &**v == value) {
                let shared: Arc<str> = Arc::from(value);
                values.short.push(shared.clone());
                values.add_escaped(shared);
            }
            return;
        }
        let b = value.as_bytes();
        let bucket = values.by_prefix.entry([b[0], b[1], b[2]]).or_default();
        if bucket.iter().any(|v| &**v == value) {
            return;
        }
        let shared: Arc<str> = Arc::from(value);
        bucket.push(shared.clone());
        values.all.push(shared.clone());
        if values.filter.is_empty() {
            values.filter = vec![0; 1 << (FILTER_BITS - 6)];
        }
        let bit = prefix_bit(b);
        values.filter[bit / 64] |= 1 << (bit % 64);
        if value.contains('*') {
            values.starred.push(shared.clone());
        }
        values.add_escaped(shared);
    }

    /// A redactor for one agent session: it scrubs everything this one does, plus the values added
    /// to it (session cookies, CSRF tokens), which stay out of the run-wide set. A session's values
    /// only occur in that session's exchanges, and a run-wide set that grew by a cookie per case would
    /// make every scrub of a large run slower.
    pub fn scoped(&self) -> Redactor {
        Redactor {
            values: Arc::default(),
            parent: Some(Arc::new(self.clone())),
        }
    }

    /// Whether `value` is, whole, one of the secrets or an escaped form of one (of this redactor or
    /// its parent).
    pub fn is_secret(&self, value: &str) -> bool {
        let values = self.values.read().expect("redactor lock");
        let own = match value.as_bytes() {
            [a, b, c, ..] if value.len() >= MIN_FREE_TEXT => values
                .by_prefix
                .get(&[*a, *b, *c])
                .is_some_and(|vs| vs.iter().any(|v| &**v == value)),
            _ => values.short.iter().any(|v| &**v == value),
        };
        let escaped = || {
            let forms = values.escaped.iter().filter_map(|(_, e)| e.within(value));
            forms.into_iter().any(|f| f.whole.is_match(value))
        };
        own || escaped() || self.parent.as_ref().is_some_and(|p| p.is_secret(value))
    }

    /// Masks secrets in free text that came from outside (a body, a header value, a server's
    /// message): every occurrence of a secret of [`MIN_FREE_TEXT`] bytes or more, and the whole text
    /// when it equals a shorter one. Never for text the project wrote (see the module comment).
    pub fn redact(&self, text: &str) -> String {
        if !text.is_empty() && self.is_secret(text) {
            return REDACTED.to_string();
        }
        let text = match &self.parent {
            Some(p) => std::borrow::Cow::Owned(p.redact(text)),
            None => std::borrow::Cow::Borrowed(text),
        };
        let candidates = self.values.read().expect("redactor lock").candidates(&text);
        let mut out = text.into_owned();
        // Longest first, so a secret that contains another is removed whole.
        for (v, forms) in candidates {
            match forms {
                Some(e) => {
                    let Some(forms) = e.forms() else { continue };
                    if let std::borrow::Cow::Owned(o) =
                        forms.find.replace_all(&out, regex::NoExpand(REDACTED))
                    {
                        out = o;
                    }
                }
                None if out.contains(&*v) => out = out.replace(&*v, REDACTED),
                None => {}
            }
        }
        out
    }

    /// Masks a JSON value from outside in place (a body, a notification): known secret members
    /// whole, and secrets inside any string as [`Redactor::redact`] does. The one path for exchanges
    /// and notifications alike.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if is_secret_field(k) {
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

    /// Masks a body recorded as text (a response, a raw request): as free text, and, when it is JSON
    /// holding a secret member (`password`), as JSON too, so that member is masked whole as in a body
    /// sent. Only then is the text re-serialized; any other body keeps its bytes.
    pub fn redact_body_text(&self, text: &str) -> String {
        fn has_secret_member(v: &serde_json::Value) -> bool {
            match v {
                serde_json::Value::Object(m) => m
                    .iter()
                    .any(|(k, v)| is_secret_field(k) || has_secret_member(v)),
                serde_json::Value::Array(a) => a.iter().any(has_secret_member),
                _ => false,
            }
        }
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(mut v) if has_secret_member(&v) => {
                self.redact_json(&mut v);
                serde_json::to_string(&v).unwrap_or_default()
            }
            _ => self.redact(text),
        }
    }

    /// Masks a sentence the harness wrote that quotes outside data (a check's expected or actual
    /// text, a mismatch, a diff): as [`Redactor::redact`], plus a short secret where it stands as a
    /// whole JSON string (`"pw"`, or escaped, `"p\"w"`, as a diff or a quoted message shows a value
    /// equal to it), and a secret cut short by a clipped quote (`...sec…`), in any of its forms.
    pub fn redact_shown(&self, text: &str) -> String {
        let mut out = self.redact(text);
        for v in self.every_value(|vs| vs.short.clone()) {
            let quoted = format!("\"{v}\"");
            if out.contains(&quoted) {
                out = out.replace(&quoted, &format!("\"{REDACTED}\""));
            }
        }
        let short_forms = self.every_value(|vs| {
            let short = vs.escaped.iter().filter(|(v, _)| v.len() < MIN_FREE_TEXT);
            short
                .filter_map(|(_, e)| Some(e.within(&out)?.quoted.clone()))
                .collect()
        });
        let masked = format!("\"{REDACTED}\"");
        for quoted in short_forms {
            if let std::borrow::Cow::Owned(o) = quoted.replace_all(&out, regex::NoExpand(&masked)) {
                out = o;
            }
        }
        if let Some(head) = out.strip_suffix('…') {
            if let Some(start) = self.clipped_at(head) {
                out = format!("{}{REDACTED}…", &head[..start]);
            }
        }
        out
    }

    /// Where `head` ends in a secret clipped short (at least `MIN_FREE_TEXT - 1` bytes of its
    /// literal, or characters of an escaped form): the earliest such start.
    fn clipped_at(&self, head: &str) -> Option<usize> {
        let literal = self
            .every_value(|vs| vs.all.clone())
            .iter()
            .filter_map(|v| {
                (MIN_FREE_TEXT - 1..v.len())
                    .rev()
                    .filter(|&n| v.is_char_boundary(n))
                    .find(|&n| head.ends_with(&v[..n]))
            })
            .max()
            .map(|n| head.len() - n);
        let escaped = self
            .every_value(|vs| {
                let forms = vs
                    .escaped
                    .iter()
                    .filter_map(|(_, e)| e.forms()?.clipped.clone());
                forms.collect()
            })
            .iter()
            .filter_map(|clip| clip.find(head).map(|m| m.start()))
            .min();
        literal.into_iter().chain(escaped).min()
    }

    /// What `pick` takes from this redactor's values and its parent's.
    fn every_value<T>(&self, pick: impl Fn(&Values) -> Vec<T> + Copy) -> Vec<T> {
        let mut found = pick(&self.values.read().expect("redactor lock"));
        if let Some(p) = &self.parent {
            found.extend(p.every_value(pick));
        }
        found
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
    fn a_scoped_redactor_scrubs_its_own_values_and_the_runs() {
        let run = Redactor::new();
        run.add("run-wide-secret");
        let session = run.scoped();
        session.add("session-cookie-value");
        assert_eq!(
            session.redact("run-wide-secret session-cookie-value"),
            "*** ***"
        );
        // The session's values stay out of the run-wide set.
        assert_eq!(run.redact("session-cookie-value"), "session-cookie-value");
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

    #[test]
    fn redactor_prefers_the_longest_secret_and_scales() {
        let r = Redactor::new();
        r.add("abcd");
        r.add("abcdef");
        r.add("a*b*c");
        assert_eq!(r.redact("xabcdefx abcdx"), "x***x ***x");
        assert_eq!(r.redact("a*b*c"), "***");
        assert_eq!(r.redact("ab"), "ab");
        for i in 0..20_000 {
            r.add(&format!("SESSION{i:08X}"));
        }
        r.add("abcd");
        assert_eq!(r.redact("id=SESSION00004E1F; abcd"), "id=***; ***");
    }

    #[test]
    fn a_body_text_with_a_password_member_masks_it_whole() {
        let r = Redactor::new();
        r.add("known-secret");
        let echoed = r#"{"user": {"password": "unknown-to-us", "note": "known-secret"}}"#;
        assert_eq!(
            r.redact_body_text(echoed),
            r#"{"user":{"password":"***","note":"***"}}"#
        );
        // Any other body keeps its bytes (bar the secrets in it).
        let plain = "{ \"statusCode\" : 0, \"note\": \"known-secret\" }";
        assert_eq!(
            r.redact_body_text(plain),
            "{ \"statusCode\" : 0, \"note\": \"***\" }"
        );
        assert_eq!(r.redact_body_text("{\"password\": "), "{\"password\": ");
    }

    #[test]
    fn a_short_secret_is_masked_only_where_a_whole_value_equals_it() {
        let r = Redactor::new();
        r.add("1");
        r.add("pw");
        assert_eq!(r.redact("agent1 SIP_1000"), "agent1 SIP_1000");
        assert_eq!(r.redact("1"), "***");
        assert_eq!(r.scoped().redact("pw"), "***");
        let mut v = serde_json::json!({"a": "1", "b": "agent1", "c": ["pw", "pwd"]});
        r.redact_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": "***", "b": "agent1", "c": ["***", "pwd"]})
        );
        assert!(is_weak("pw") && !is_weak("agent"));
    }

    /// A password as JSON, HTML, XML and URLs escape it, in a body, a header or a diff.
    const ESCAPED: &str = "pa\"ss\\wo&rd<é>";

    #[test]
    fn escaped_forms_of_a_secret_are_masked_where_its_literal_would_be() {
        let r = Redactor::new();
        r.add(ESCAPED);
        let text = concat!(
            r#"{"m":"pa\"ss\\wo&rd<\u00e9>", "go":"pa\"ss\\wo\u0026rd\u003c\u00e9\u003e"} "#,
            "<p>pa&quot;ss\\wo&amp;rd&lt;é&gt;</p> ?p=pa%22ss%5Cwo%26rd%3C%C3%A9%3E&q=1",
        );
        assert_eq!(
            r.redact(text),
            r#"{"m":"***", "go":"***"} <p>***</p> ?p=***&q=1"#
        );
        assert_eq!(
            r.header_value("Location", "/x?pw=pa%22ss%5Cwo%26rd%3C%C3%A9%3E"),
            "/x?pw=***"
        );
        let mut v = serde_json::json!({"note": "pa&quot;ss\\wo&amp;rd&lt;é&gt;"});
        r.redact_json(&mut v);
        assert_eq!(v["note"], "***");
        // A diff quotes the value as JSON; a clipped quote cuts it inside an escape.
        assert_eq!(r.redact_shown(r#"- "pa\"ss\\wo&rd<é>""#), r#"- "***""#);
        assert_eq!(r.redact_shown(r#"got "pa\"ss\\wo&…"#), r#"got "***…"#);
        assert_eq!(r.redact_shown(r#"got "pa\"ss\…"#), r#"got "***…"#);
    }

    #[test]
    fn masking_escaped_forms_leaves_every_other_text_as_it_was() {
        let r = Redactor::new();
        r.add(ESCAPED);
        r.add("Ordinary-Pw-1234");
        for text in [
            "&amp; &quot; %22 %C3%A9 \\\" \\u00e9 pa ss wo rd é < >",
            "pa\"ss wo&rd<é>",
            r#"{"m":"pa\"ss\\wo&rd<\u00e8>"}"#,
            "pass%5Cword",
            "clipped pa…",
        ] {
            assert_eq!(r.redact(text), text);
            assert_eq!(r.redact_shown(text), text);
        }
    }

    #[test]
    fn a_short_secret_is_masked_in_its_escaped_forms_only_where_a_whole_value_equals_it() {
        let r = Redactor::new();
        r.add("p\"w");
        for whole in ["p\"w", "p\\\"w", "p&quot;w", "p%22w"] {
            assert_eq!(r.redact(whole), "***", "{whole}");
        }
        assert_eq!(r.redact("x p&quot;w p%22w"), "x p&quot;w p%22w");
        assert_eq!(
            r.redact_shown(r#"expected "p\"w", got "q""#),
            r#"expected "***", got "q""#
        );
        let mut v = serde_json::json!({"a": "p&quot;w", "b": "p&quot;wx"});
        r.redact_json(&mut v);
        assert_eq!(v, serde_json::json!({"a": "***", "b": "p&quot;wx"}));
    }
}

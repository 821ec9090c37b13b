//! The forms a secret takes in outside data that escapes it: a JSON string (`\"`, `\\`, `\/`,
//! `\u00e9` and `\u003c` as serde, Python, Jackson and Go write them, nested strings too), HTML and
//! XML (`&quot;`, `&amp;`, `&#39;`, `&#x27;`, `&apos;`, escaped again as `&amp;quot;`), and URLs
//! and forms (`%22`, `%C3%A9` in either case, `+` for a space).
//!
//! One pattern per secret, compiled when the secret is registered, matches every mix of these
//! forms character by character. Characters no escaping changes (ASCII letters, digits, `-_.~`)
//! match only themselves, so a secret made of them has no pattern: its literal is its only form, and
//! text without it is never touched.

use std::sync::{Arc, OnceLock};

use regex::Regex;

/// The escaped forms of one secret. Cheap to make and to clone: the patterns are compiled the first
/// time a text could hold a form, so the session cookies a long run registers cost nothing until
/// one of them is quoted somewhere.
#[derive(Clone)]
pub(super) struct Escaped(Arc<Inner>);

struct Inner {
    /// The value's longest run of characters no escaping changes: every form holds it verbatim.
    anchor: String,
    chars: Vec<String>,
    min: usize,
    compiled: OnceLock<Option<Forms>>,
}

/// The compiled forms of one secret.
pub(super) struct Forms {
    /// Any form, anywhere in a text.
    pub find: Regex,
    /// A whole text that is one form.
    pub whole: Regex,
    /// One form quoted as a JSON string is shown (`"pa\"ss"`).
    pub quoted: Regex,
    /// Text that ends in a clipped form: at least `min` characters of the secret and not all of them,
    /// perhaps cut inside an escape. `None` for a secret too short to be clipped that way.
    pub clipped: Option<Regex>,
}

/// Whether no JSON, HTML, XML or URL escaping changes `c`.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')
}

/// What may follow a clipped form: the start of an escape cut short.
const PARTIAL_ESCAPE: &str =
    r"(?:\\+(?:u[0-9a-fA-F]{0,3})?|&[#a-zA-Z0-9]{0,7}|%(?:25)*[0-9a-fA-F]?)?";

impl Escaped {
    /// The forms of `value`; `None` when it has no character that escaping changes (its literal is
    /// its only form). `min` is the fewest characters of a clipped form that are masked.
    pub fn of(value: &str, min: usize) -> Option<Escaped> {
        if value.chars().all(is_plain) {
            return None;
        }
        let anchor = value
            .split(|c| !is_plain(c))
            .max_by_key(|run| run.len())
            .unwrap_or_default();
        Some(Escaped(Arc::new(Inner {
            anchor: anchor.to_string(),
            chars: value.chars().map(char_pattern).collect(),
            min,
            compiled: OnceLock::new(),
        })))
    }

    /// The compiled forms when `text` may hold one; `None` when it cannot, or the patterns are too
    /// large to compile (then only the literal is masked).
    pub fn within(&self, text: &str) -> Option<&Forms> {
        if !text.contains(&self.0.anchor) {
            return None;
        }
        self.forms()
    }

    /// The compiled forms, compiling them on first use.
    pub fn forms(&self) -> Option<&Forms> {
        let inner = &self.0;
        let compiled = inner.compiled.get_or_init(|| {
            let any = inner.chars.concat();
            // The clipped form nests a group per character: the default nesting limit (250) would
            // refuse it for a secret of about 80 characters or more, silently.
            let nest = (4 * inner.chars.len() + 64).min(u32::MAX as usize) as u32;
            let compile = |p: &str| regex::RegexBuilder::new(p).nest_limit(nest).build().ok();
            Some(Forms {
                find: compile(&any)?,
                whole: compile(&format!(r"\A(?:{any})\z"))?,
                quoted: compile(&format!("\"(?:{any})\""))?,
                clipped: clipped_pattern(&inner.chars, inner.min).and_then(|p| compile(&p)),
            })
        });
        compiled.as_ref()
    }
}

/// A text's end holding the first `min..len` characters of the secret, in any form, then perhaps
/// the start of an escape cut short: `P1 P2 P3 (?:P4 (?:P5)?)? ... \z`.
fn clipped_pattern(chars: &[String], min: usize) -> Option<String> {
    if chars.len() <= min {
        return None;
    }
    let mut tail = String::new();
    for p in chars[min..chars.len() - 1].iter().rev() {
        tail = format!("(?:{p}{tail})?");
    }
    Some(format!(
        "{}{tail}{PARTIAL_ESCAPE}\\z",
        chars[..min].concat()
    ))
}

/// The alternatives one character may be written as.
fn char_pattern(c: char) -> String {
    let raw = regex::escape(c.encode_utf8(&mut [0; 4]));
    if is_plain(c) {
        return raw;
    }
    let refs = html_refs(c);
    let mut alts = vec![raw.clone(), refs.clone()];
    // JSON: `\uXXXX` (UTF-16, either case), after one backslash or more (a string inside a string).
    let units: String = c
        .encode_utf16(&mut [0; 2])
        .iter()
        .map(|u| format!(r"\\+u(?i:{u:04x})"))
        .collect();
    alts.push(units);
    match json_short_escape(c) {
        // `\"`, and HTML of it, `\&quot;`.
        Some(e) if e.starts_with(c) => alts.push(format!(r"\\+(?:{raw}|{refs})")),
        Some(e) => alts.push(format!(r"\\+{}", regex::escape(e))),
        None => {}
    }
    // URLs and forms: the UTF-8 bytes percent-encoded (either case, perhaps encoded again).
    let bytes: String = c
        .encode_utf8(&mut [0; 4])
        .bytes()
        .map(|b| format!("%(?:25)*(?i:{b:02x})"))
        .collect();
    alts.push(bytes);
    if c == ' ' {
        alts.push(r"\+".to_string());
    }
    format!("(?:{})", alts.join("|"))
}

/// HTML and XML: a named or numeric reference to `c`, its `&` perhaps escaped again.
fn html_refs(c: char) -> String {
    let n = u32::from(c);
    let mut refs = vec![format!("#0*{n}"), format!("#[xX]0*(?i:{n:x})")];
    if let Some(name) = html_name(c) {
        refs.push(name.to_string());
    }
    format!("&(?:amp;)*(?:{});", refs.join("|"))
}

/// The letter after a backslash that JSON (or JavaScript, for `'`) writes for `c`.
fn json_short_escape(c: char) -> Option<&'static str> {
    Some(match c {
        '"' => "\"",
        '\\' => "\\",
        '/' => "/",
        '\'' => "'",
        '\n' => "n",
        '\r' => "r",
        '\t' => "t",
        '\u{8}' => "b",
        '\u{c}' => "f",
        _ => return None,
    })
}

/// The named reference HTML or XML writes for `c`.
fn html_name(c: char) -> Option<&'static str> {
    Some(match c {
        '"' => "quot",
        '&' => "amp",
        '<' => "lt",
        '>' => "gt",
        '\'' => "apos",
        '\u{a0}' => "nbsp",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "pa\"ss\\wo&rd<é>";

    #[test]
    fn a_plain_secret_has_no_pattern() {
        assert!(Escaped::of("Ordinary-Pw_1.2~3", 3).is_none());
        assert!(Escaped::of("pa ss", 3).is_some());
    }

    #[test]
    fn nothing_is_compiled_for_a_text_without_the_longest_plain_run() {
        let e = Escaped::of("aGVsbG8gd29y+/bGQ=", 3).unwrap();
        assert!(e
            .within("a text of other things, aGVsbG8 and bGQ")
            .is_none());
        assert!(e.0.compiled.get().is_none(), "not compiled");
        let quoted = "x=aGVsbG8gd29y%2B%2FbGQ%3D";
        assert!(e.within(quoted).unwrap().find.is_match(quoted));
    }

    #[test]
    fn every_form_and_mix_of_forms_is_found() {
        let e = Escaped::of(PW, 3).unwrap();
        let e = e.forms().unwrap();
        for form in [
            PW,
            r#"pa\"ss\\wo&rd<é>"#,
            r#"pa\"ss\\wo&rd<\u00e9>"#,
            r#"pa\"ss\\wo\u0026rd\u003C\u00E9\u003e"#,
            r#"pa\\\"ss\\\\wo&rd<é>"#,
            "pa&quot;ss\\wo&amp;rd&lt;&#233;&gt;",
            "pa&#34;ss\\wo&#x26;rd&lt;é&GT;"
                .replace("&GT;", "&#x3E;")
                .as_str(),
            "pa&amp;quot;ss\\wo&amp;amp;rd&amp;lt;é&amp;gt;",
            "pa\\&quot;ss\\\\wo&amp;rd&lt;é&gt;",
            "pa%22ss%5Cwo%26rd%3C%C3%A9%3E",
            "pa%22ss%5cwo%26rd%3c%c3%a9%3e",
            "pa%2522ss%5Cwo%26rd%3C%C3%A9%3E",
        ] {
            let text = format!("x {form} y");
            let m = e.find.find(&text).unwrap_or_else(|| panic!("{form}"));
            assert_eq!(m.as_str(), form);
            assert!(e.whole.is_match(form), "{form}");
        }
        let spaced = Escaped::of("a b/c+d", 3).unwrap();
        let spaced = spaced.forms().unwrap();
        assert!(spaced.find.is_match("p=a+b%2Fc%2Bd&q"));
        assert!(spaced.find.is_match(r#"{"p":"a b\/c+d"}"#));
    }

    #[test]
    fn text_that_does_not_spell_the_secret_is_not_found() {
        let e = Escaped::of(PW, 3).unwrap();
        let e = e.forms().unwrap();
        for text in [
            "pa\"ss wo&rd<é>",
            "pa&quot;ss\\wo&amp;rd&lt;e&gt;",
            "pa%22ss%5Cwo%26rd%3C%C3%A8%3E",
            "pass\\word",
            "&amp; %22 \\\"x\\\" pa ss wo rd é",
        ] {
            assert!(!e.find.is_match(text), "{text}");
        }
        assert!(!e.whole.is_match(&format!("{PW}x")));
    }

    #[test]
    fn a_clipped_form_is_found_at_the_end_only() {
        let e = Escaped::of(PW, 3).unwrap();
        let e = e.forms().unwrap();
        let clip = e.clipped.as_ref().unwrap();
        for text in [
            "… pa\\\"s",
            "… pa\\\"ss\\",
            "… pa&quot;ss\\wo&am",
            "… pa%22ss%5",
        ] {
            assert!(clip.is_match(text), "{text}");
        }
        assert!(!clip.is_match("… pa"), "fewer than 3 characters");
        assert!(!clip.is_match("… pa\\\"ss and more"));
        // A long secret (a token with `/`) clipped inside its JSON form.
        let long = format!("{}/{}", "x".repeat(80), "y".repeat(80));
        let e = Escaped::of(&long, 3).unwrap();
        let clip = e.forms().unwrap().clipped.as_ref().expect("compiles");
        let shown = format!("got \"{}\\/{}", "x".repeat(80), "y".repeat(5));
        assert!(clip.is_match(&shown));
        assert!(Escaped::of("a\"b", 3)
            .unwrap()
            .forms()
            .unwrap()
            .clipped
            .is_none());
    }
}

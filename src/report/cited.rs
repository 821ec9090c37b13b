//! The sections of the spec notes a case cites, quoted in the HTML report: the report must stay one
//! self-contained file (no link leads out of it), so each cited section's text goes inline in a
//! `<details>`, closed until the reader opens it.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::load::citations::{citations, resolve, PAGE_FILE};
use crate::load::source::embedded_file;

use super::markup::esc;

/// One `<details>` per section the source cites (each once, in citation order); empty when it cites
/// none. A citation that resolves to nothing is left out: `lint` refuses such a case, and a report of
/// an older suite may still hold one.
pub fn sections_html(source: &str) -> String {
    let mut seen = BTreeSet::new();
    let mut h = String::new();
    for row in parameter_rows(source) {
        let _ = write!(
            h,
            "<details class=\"cited\"><summary>Parameter table: <code>{}</code> <code>{PAGE_FILE}</code></summary><p class=\"cited-text\">{}</p></details>",
            esc(&row.0),
            prose(&row.1)
        );
    }
    for c in citations(source) {
        let Some(s) = resolve(&c) else { continue };
        if !seen.insert((s.file, s.key.as_str())) {
            continue;
        }
        let _ = write!(
            h,
            "<details class=\"cited\"><summary>{} <code>{}</code></summary><div class=\"cited-text\">{}</div></details>",
            prose(&s.heading),
            s.file,
            paragraphs(&s.text)
        );
    }
    h
}

/// The rows of the page's parameter table a source cites (`parameter table, workmode`), each with
/// its text as the notes give it.
fn parameter_rows(source: &str) -> Vec<(String, String)> {
    static CITED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"parameter table, ([A-Za-z]+)").expect("a valid pattern")
    });
    let page = embedded_file(PAGE_FILE).map(String::from_utf8_lossy);
    let page = page.as_deref().unwrap_or_default();
    let table = page
        .split("\n## ")
        .find(|s| s.starts_with("Parameter table"))
        .unwrap_or_default();
    let mut out: Vec<(String, String)> = Vec::new();
    for m in CITED.captures_iter(source) {
        let name = &m[1];
        if out.iter().any(|(n, _)| n == name) {
            continue;
        }
        let head = format!("- **{name}**");
        let Some(start) = table.find(&head) else {
            continue;
        };
        let rest = &table[start + 2..];
        let end = rest.find("\n- ").unwrap_or(rest.len());
        out.push((name.to_string(), rest[..end].trim().to_string()));
    }
    out
}

/// Markdown of the notes as text: escaped, code spans as `<code>`, links as their text, emphasis
/// marks dropped. Never raw Markdown in the page.
fn prose(md: &str) -> String {
    static LINK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\[([^\]]*)\]\([^)]*\)").expect("a valid pattern")
    });
    let text = LINK.replace_all(md, "$1");
    let mut out = String::new();
    for (k, piece) in text.split('`').enumerate() {
        if k % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", esc(piece));
        } else {
            out.push_str(&esc(&piece.replace("**", "").replace('*', "")));
        }
    }
    out
}

/// A section's Markdown as paragraphs and list items of text (tables kept as preformatted rows).
fn paragraphs(md: &str) -> String {
    let mut out = String::new();
    for block in md.split("\n\n") {
        let block = block.trim();
        if block.is_empty() {
            continue;
        }
        if block.starts_with('|') {
            let _ = write!(out, "<pre>{}</pre>", esc(block));
        } else if block.starts_with("- ") {
            out.push_str("<ul>");
            for item in block.split("\n- ") {
                let _ = write!(out, "<li>{}</li>", prose(item.trim_start_matches("- ")));
            }
            out.push_str("</ul>");
        } else {
            let _ = write!(out, "<p>{}</p>", prose(block));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cited_section_is_quoted_once_inline() {
        let h = sections_html("gws-notes.md §3.3, §4.1, §3.3; StartContactCenterSession.txt: Sample 4; gws-notes.md §99");
        assert_eq!(h.matches("<details class=\"cited\">").count(), 3, "{h}");
        assert!(
            h.contains("§3.3 HTTP status codes") && h.contains("spec/notes.md"),
            "{h}"
        );
        assert!(h.contains("Sample 4") && h.contains("spec/page.md"), "{h}");
        // The section's own text, escaped, not a link out of the file.
        assert!(
            h.contains("Missing or invalid Csrf token") && !h.contains("href"),
            "{h}"
        );
        assert!(sections_html("no citation here").is_empty());
    }

    #[test]
    fn parameter_rows_are_quoted_and_markdown_is_rendered_as_text() {
        let h = sections_html("StartContactCenterSession.txt: parameter table, workmode; Sample 5");
        assert!(h.contains("Parameter table: <code>workmode</code>"), "{h}");
        assert!(h.contains("Valid values are ManualIn and AutoIn."), "{h}");
        assert!(!h.contains("**"), "{h}");
        assert_eq!(
            prose("see [`notes.md`](notes.md) and **this**"),
            "see <code>notes.md</code> and this"
        );
    }
}

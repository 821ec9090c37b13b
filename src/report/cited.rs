//! The sections of the spec notes a case cites, quoted in the HTML report: the report must stay one
//! self-contained file (no link leads out of it), so each cited section's text goes inline in a
//! `<details>`, closed until the reader opens it.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::load::citations::{citations, resolve};

use super::markup::esc;

/// One `<details>` per section the source cites (each once, in citation order); empty when it cites
/// none. A citation that resolves to nothing is left out: `lint` refuses such a case, and a report of
/// an older suite may still hold one.
pub fn sections_html(source: &str) -> String {
    let mut seen = BTreeSet::new();
    let mut h = String::new();
    for c in citations(source) {
        let Some(s) = resolve(&c) else { continue };
        if !seen.insert((s.file, s.key.as_str())) {
            continue;
        }
        let _ = write!(
            h,
            "<details class=\"cited\"><summary>{} <code>{}</code></summary><pre class=\"cited-text\">{}</pre></details>",
            esc(&s.heading),
            s.file,
            esc(&s.text)
        );
    }
    h
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
}

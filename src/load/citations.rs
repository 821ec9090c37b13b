//! A case's `source` cites the spec: `gws-notes.md §3.3`, `StartContactCenterSession.txt: Sample 4`.
//! Each citation must resolve to a heading of the project's notes in `spec/` (`### §3.3 ...` in
//! `spec/notes.md`, `## Sample 4` in `spec/page.md`), so that an auditor can read what a case rests
//! on, and a typo (`§3.4`) is caught by `lint` instead of sending a reader nowhere. The notes are
//! those built into the binary (`spec/` is embedded with the suite), so the check and the HTML
//! report's quoted sections work in any directory.

use std::path::Path;
use std::sync::OnceLock;

use super::diagnostic::{did_you_mean, Diagnostic};
use super::locate;
use super::source::embedded_file;

/// The notes on `gws-notes.md`, and on the published page.
pub const NOTES_FILE: &str = "spec/notes.md";
pub const PAGE_FILE: &str = "spec/page.md";

/// One section of the notes: what a citation names, the heading, and the text under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// `spec/notes.md` or `spec/page.md`.
    pub file: &'static str,
    /// `§3.3` or `Sample 4`.
    pub key: String,
    pub heading: String,
    /// The text up to the next heading.
    pub text: String,
}

/// A citation in a `source` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// Byte offset in the source string.
    pub at: usize,
    /// The notes file it must resolve in.
    pub file: &'static str,
    /// `§3.3` or `Sample 4`.
    pub key: String,
}

/// Every section of the embedded notes, parsed once.
pub fn sections() -> &'static [Section] {
    static SECTIONS: OnceLock<Vec<Section>> = OnceLock::new();
    SECTIONS.get_or_init(|| {
        let mut out = Vec::new();
        for file in [NOTES_FILE, PAGE_FILE] {
            let text = embedded_file(file).map(String::from_utf8_lossy);
            out.extend(parse(file, text.as_deref().unwrap_or_default()));
        }
        out
    })
}

/// The sections of one Markdown file: each heading whose title starts with `§N` or `Sample N`.
fn parse(file: &'static str, text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        if line.starts_with('#') {
            let title = line.trim_start_matches('#').trim();
            let key = title
                .split_whitespace()
                .take(if title.starts_with('§') { 1 } else { 2 })
                .collect::<Vec<_>>()
                .join(" ");
            open = key.starts_with('§') || (key.starts_with("Sample ") && key.len() > 7);
            if open {
                out.push(Section {
                    file,
                    key,
                    heading: title.to_string(),
                    text: String::new(),
                });
            }
        } else if let (true, Some(s)) = (open, out.last_mut()) {
            s.text.push_str(line);
            s.text.push('\n');
        }
    }
    for s in &mut out {
        s.text = s.text.trim().to_string();
    }
    out
}

/// The citations in `source`, in order. A `§N` counts after a mention of `gws-notes`, a `Sample N`
/// after a mention of `StartContactCenterSession.txt`; each mention holds until the next one, across
/// `;` and `,` (`...txt: parameter table, workmode; Sample 5`).
pub fn citations(source: &str) -> Vec<Citation> {
    // Compiled once per process: compiling it per case was a third of loading a large suite.
    static PATTERN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"gws-notes(?:\.md)?|StartContactCenterSession\.txt|§(\d+(?:\.\d+)*)|Sample (\d+)",
        )
        .expect("a valid pattern")
    });
    if source.is_empty() {
        return Vec::new();
    }
    let pattern = &*PATTERN;
    let mut current: Option<&'static str> = None;
    let mut out = Vec::new();
    for m in pattern.captures_iter(source) {
        let whole = m.get(0).expect("a match");
        match (m.get(1), m.get(2)) {
            (Some(n), _) if current == Some(NOTES_FILE) => out.push(Citation {
                at: whole.start(),
                file: NOTES_FILE,
                key: format!("§{}", n.as_str()),
            }),
            (_, Some(n)) if current == Some(PAGE_FILE) => out.push(Citation {
                at: whole.start(),
                file: PAGE_FILE,
                key: format!("Sample {}", n.as_str()),
            }),
            (None, None) if whole.as_str().starts_with("gws-notes") => current = Some(NOTES_FILE),
            (None, None) => current = Some(PAGE_FILE),
            _ => {}
        }
    }
    out
}

/// The section a citation names, if the notes have it.
pub fn resolve(c: &Citation) -> Option<&'static Section> {
    sections()
        .iter()
        .find(|s| s.file == c.file && s.key == c.key)
}

/// A diagnostic for each citation in the case's `source` that names no section, at the citation
/// (`file:line:col: source: ...`), with the nearest section as a did-you-mean.
pub fn check(path: &Path, text: &str, source: &str) -> Vec<Diagnostic> {
    let unresolved: Vec<Citation> = citations(source)
        .into_iter()
        .filter(|c| resolve(c).is_none())
        .collect();
    if unresolved.is_empty() {
        return Vec::new();
    }
    let value_at = locate::offset_of(text, "source");
    // The value's opening quote, then the string as written (sources hold no escapes before a
    // citation in practice; the column is then exact).
    let quote = value_at.and_then(|at| text[at..].find('"').map(|q| at + q + 1));
    unresolved
        .into_iter()
        .map(|c| {
            let keys = sections()
                .iter()
                .filter(|s| s.file == c.file)
                .map(|s| s.key.as_str());
            let hint = match did_you_mean(&c.key, keys) {
                Some(k) => format!("; did you mean `{k}`?"),
                None => String::new(),
            };
            let message = format!("cites `{}`, which is no heading of {}{hint}", c.key, c.file);
            let at = quote.map(|q| q + c.at).filter(|&o| o <= text.len());
            Diagnostic::new(path, text, at.or(value_at), "source", message)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_follow_the_document_last_named() {
        let found: Vec<(usize, &str, String)> = citations(
            "StartContactCenterSession.txt: parameter table, workmode; Sample 5; gws-notes.md §1.3, §10 question 5",
        )
        .into_iter()
        .map(|c| (c.at, c.file, c.key))
        .collect();
        assert_eq!(
            found,
            vec![
                (58, PAGE_FILE, "Sample 5".to_string()),
                (81, NOTES_FILE, "§1.3".to_string()),
                (88, NOTES_FILE, "§10".to_string()),
            ]
        );
        // "Samples 1, 2" in the notes' context is no page citation.
        assert!(citations("gws-notes.md Samples 1 and Sample 2").is_empty());
    }

    #[test]
    fn every_shipped_section_cited_resolves_and_a_typo_gets_a_did_you_mean() {
        assert!(sections()
            .iter()
            .any(|s| s.key == "§3.3" && s.text.contains("403")));
        assert!(sections().iter().any(|s| s.key == "Sample 6"));
        let text = "id = \"x\"\nsource = \"gws-notes.md §3.3, §3.4; StartContactCenterSession.txt: Sample 7\"\n";
        let d = check(
            Path::new("c.toml"),
            text,
            "gws-notes.md §3.3, §3.4; StartContactCenterSession.txt: Sample 7",
        );
        let shown: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(
            shown[0].starts_with("c.toml:2:") && shown[0].contains(": source: cites `§3.4`, which is no heading of spec/notes.md; did you mean `§3.3`?"),
            "{}",
            shown[0]
        );
        assert!(
            shown[1].contains("`Sample 7`") && shown[1].contains("did you mean `Sample 6`?"),
            "{}",
            shown[1]
        );
        // The column points at the citation.
        assert_eq!(d[0].column, 10 + "gws-notes.md §3.3, ".chars().count() + 1);
    }
}

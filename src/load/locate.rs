//! Finds where a field sits in a TOML file, so an error found after parsing (an undefined variable,
//! a missing schema) can still name its line and column.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Byte offset of the value at `field` (`steps[1].request.json.place`), or of the deepest part of it
/// that exists.
pub fn offset_of(text: &str, field: &str) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let mut best = None;
    let mut here: Option<&DeValue> = None;
    for segment in split(field) {
        let next: Option<&Spanned<DeValue>> = match (&segment, here) {
            (Segment::Key(k), None) => find_key(root.get_ref(), k, &mut best),
            (Segment::Key(k), Some(DeValue::Table(t))) => find_key(t, k, &mut best),
            (Segment::Index(i), Some(DeValue::Array(items))) => {
                items.get(*i).inspect(|v| best = Some(v.span().start))
            }
            _ => None,
        };
        let Some(next) = next else { break };
        here = Some(next.get_ref());
    }
    best
}

fn find_key<'t, 'i>(
    table: &'t DeTable<'i>,
    key: &str,
    best: &mut Option<usize>,
) -> Option<&'t Spanned<DeValue<'i>>> {
    let (k, v) = table.iter().find(|(k, _)| k.get_ref() == key)?;
    *best = Some(k.span().start);
    Some(v)
}

enum Segment {
    Key(String),
    Index(usize),
}

fn split(field: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for part in field.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            if open > 0 {
                out.push(Segment::Key(rest[..open].to_string()));
            }
            rest = &rest[open..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let close = stripped.find(']').unwrap_or(stripped.len());
                if let Ok(i) = stripped[..close].parse() {
                    out.push(Segment::Index(i));
                }
                rest = stripped.get(close + 1..).unwrap_or("");
            }
        } else if !rest.is_empty() {
            out.push(Segment::Key(rest.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::diagnostic::line_col;

    const TEXT: &str = "id = \"x\"\n\n[[steps]]\nname = \"a\"\n\n[[steps]]\n[steps.request]\npath = \"/p\"\njson = { place = \"${nope}\" }\n";

    #[test]
    fn finds_nested_fields() {
        let at = |f| line_col(TEXT, offset_of(TEXT, f).unwrap());
        assert_eq!(at("id"), (1, 1));
        assert_eq!(at("steps[1].request.path"), (8, 1));
        assert_eq!(at("steps[1].request.json.place"), (9, 10));
        // A field that does not exist points at its deepest existing parent.
        assert_eq!(at("steps[1].request.nothing").0, 7);
    }
}

//! `list`: the planned cases as a table a newcomer can read: id, provenance, agent role, spec
//! elements, tags, and the title or why the case would be skipped. It fits 100 columns (long cells
//! are cut with `…`); `--wide` prints every cell in full.

use gws_conform::plan::Plan;

/// The narrow table's width, and the widest each column may grow before it is cut.
const WIDTH: usize = 100;
const MAX_ID: usize = 40;
const MAX_ROLE: usize = 8;
const MAX_SPEC: usize = 14;
const MAX_TAGS: usize = 10;

pub fn print(plan: &Plan, wide: bool) {
    let rows: Vec<[String; 6]> = plan
        .cases
        .iter()
        .map(|c| {
            let last = match &c.skip {
                Some(why) => format!("(skipped: {why})"),
                None => c.case.title.to_string(),
            };
            [
                c.case.id.to_string(),
                if wide {
                    c.case.provenance.as_str().to_string()
                } else {
                    // doc / obs / inf: the narrow table keeps its room for the title.
                    c.case.provenance.as_str()[..3].to_string()
                },
                c.case.agent_role.to_string(),
                c.case.spec.join(","),
                c.case.tags.join(","),
                last,
            ]
        })
        .collect();
    let prov = if wide { "PROVENANCE" } else { "PROV" };
    let header = ["ID", prov, "ROLE", "SPEC", "TAGS", "TITLE"].map(String::from);
    let caps = if wide {
        [usize::MAX; 5]
    } else {
        [MAX_ID, 4, MAX_ROLE, MAX_SPEC, MAX_TAGS]
    };
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for k in 0..5 {
            widths[k] = widths[k].max(row[k].chars().count()).min(caps[k]);
        }
    }
    let used: usize = widths.iter().sum::<usize>() + 2 * 5;
    let last_width = if wide {
        usize::MAX
    } else {
        WIDTH.saturating_sub(used).max(12)
    };
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for k in 0..5 {
            line.push_str(&pad(&cut(&row[k], widths[k]), widths[k]));
            line.push_str("  ");
        }
        line.push_str(&cut(&row[5], last_width));
        outln!("{}", line.trim_end());
    }
    let skipped = plan.cases.iter().filter(|c| c.skip.is_some()).count();
    outln!(
        "{} cases ({skipped} would be skipped){}",
        plan.cases.len(),
        if wide {
            ""
        } else {
            "; --wide shows every cell in full"
        }
    );
}

/// `text` cut to `width` characters, the last one `…` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_cut_to_their_width() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
        assert_eq!(pad("ab", 4), "ab  ");
    }
}

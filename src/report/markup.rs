//! HTML escaping, shared by the page (`html.rs`) and the quoted spec sections (`cited.rs`).

/// Text made safe for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    // Runs of plain text are copied whole: the page is mostly escaped exchanges.
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        out.push_str(entity);
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
    out
}

/// Text made safe for HTML, with its code spans (text between paired backticks, as the checks' and
/// the notes' sentences write member names) shown as `<code>`.
pub fn esc_code(s: &str) -> String {
    let pieces: Vec<&str> = s.split('`').collect();
    if pieces.len() < 3 || pieces.len().is_multiple_of(2) {
        return esc(s);
    }
    pieces
        .iter()
        .enumerate()
        .map(|(k, p)| {
            if k % 2 == 1 {
                format!("<code>{}</code>", esc(p))
            } else {
                esc(p)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_become_code() {
        assert_eq!(
            esc_code("`statusCode` must be <0>"),
            "<code>statusCode</code> must be &lt;0&gt;"
        );
        assert_eq!(esc_code("one ` tick"), "one ` tick");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<script>\"x\" & 'y'"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;"
        );
        assert_eq!(esc("é<ü>€"), "é&lt;ü&gt;€");
        assert_eq!(esc("plain"), "plain");
        assert_eq!(esc(""), "");
    }
}

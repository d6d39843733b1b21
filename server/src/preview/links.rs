//! Finding the link a message should be previewed by: the first `http(s)`
//! URL in its text, outside code, with trailing punctuation left out (as the
//! client's linkifier does).

/// The first previewable link in a message, if any.
pub fn first_link(text: &str) -> Option<String> {
    let mut in_code = false;
    let mut prose = String::with_capacity(text.len());
    // Code spans and blocks are not links: blank them out.
    for c in text.chars() {
        if c == '`' {
            in_code = !in_code;
            prose.push(' ');
        } else {
            prose.push(if in_code { ' ' } else { c });
        }
    }
    let lower = prose.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = find_scheme(&lower[from..]) {
        let start = from + found;
        let boundary = prose[..start]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "([<\"'".contains(c));
        let rest = &prose[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || "<>\"'`".contains(c))
            .unwrap_or(rest.len());
        let candidate = trim_link(&rest[..end]);
        if boundary && candidate.len() > "https://".len() {
            return Some(candidate.to_owned());
        }
        from = start + 1;
    }
    None
}

fn find_scheme(text: &str) -> Option<usize> {
    match (text.find("http://"), text.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Drops trailing punctuation, and a closing bracket the link did not open.
fn trim_link(mut link: &str) -> &str {
    loop {
        let trimmed = link.trim_end_matches(['.', ',', ';', ':', '!', '?', '*', '_', '~']);
        let trimmed = match trimmed.chars().last() {
            Some(close @ (')' | ']')) => {
                let open = if close == ')' { '(' } else { '[' };
                if trimmed.matches(open).count() < trimmed.matches(close).count() {
                    &trimmed[..trimmed.len() - 1]
                } else {
                    trimmed
                }
            }
            _ => trimmed,
        };
        if trimmed.len() == link.len() {
            return link;
        }
        link = trimmed;
    }
}

#[cfg(test)]
mod tests {
    use super::first_link;

    #[test]
    fn finds_the_first_link_outside_code() {
        assert_eq!(
            first_link("see https://example.com/a?b=1."),
            Some("https://example.com/a?b=1".into())
        );
        assert_eq!(
            first_link("(https://en.wikipedia.org/wiki/Rust_(programming_language))"),
            Some("https://en.wikipedia.org/wiki/Rust_(programming_language)".into())
        );
        assert_eq!(
            first_link("[docs](https://docs.rs/yew) and http://b.example"),
            Some("https://docs.rs/yew".into())
        );
        assert_eq!(first_link("`https://in.code` then"), None);
        assert_eq!(first_link("xhttps://glued.example"), None);
        assert_eq!(first_link("javascript:alert(1) ftp://x.example"), None);
        assert_eq!(
            first_link("HTTPS://UPPER.example/"),
            Some("HTTPS://UPPER.example/".into())
        );
        assert_eq!(first_link("https://"), None);
    }
}

//! What a web page says about itself: OpenGraph (`og:*`) and Twitter card
//! tags, falling back to `<title>` and `<meta name="description">`. A small
//! tolerant scanner over the first part of the page; it never executes or
//! keeps markup, only attribute and title text, entity-decoded and trimmed.

use url::Url;

const MAX_TITLE_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 300;
const MAX_SITE_CHARS: usize = 80;

/// The preview-worthy facts of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageMeta {
    pub title: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    /// Absolute http(s) URL of the page's image.
    pub image: Option<String>,
}

/// Reads the meta tags of `html`, resolving the image against `base`.
pub fn parse(html: &str, base: &Url) -> PageMeta {
    let mut og = PageMeta::default();
    let mut twitter = PageMeta::default();
    let mut plain = PageMeta::default();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        match name.as_str() {
            "meta" => {
                let (attributes, after) = tag_attributes(&rest[name_end..]);
                rest = after;
                let key = attribute(&attributes, "property")
                    .or_else(|| attribute(&attributes, "name"))
                    .map(|k| k.to_ascii_lowercase());
                let Some(content) = attribute(&attributes, "content") else {
                    continue;
                };
                match key.as_deref() {
                    Some("og:title") => set(&mut og.title, content),
                    Some("og:description") => set(&mut og.description, content),
                    Some("og:site_name") => set(&mut og.site_name, content),
                    Some("og:image" | "og:image:url" | "og:image:secure_url") => {
                        set(&mut og.image, content)
                    }
                    Some("twitter:title") => set(&mut twitter.title, content),
                    Some("twitter:description") => set(&mut twitter.description, content),
                    Some("twitter:image" | "twitter:image:src") => set(&mut twitter.image, content),
                    Some("description") => set(&mut plain.description, content),
                    _ => {}
                }
            }
            "title" => {
                let Some(start) = rest.find('>') else { break };
                let body = &rest[start + 1..];
                let end = find_ignore_case(body, "</title").unwrap_or(body.len());
                set(&mut plain.title, decode_entities(&body[..end]));
                rest = &body[end..];
            }
            // Nothing previewable lives in scripts and styles; skip them whole.
            "script" | "style" => {
                let closing = format!("</{name}");
                match find_ignore_case(rest, &closing) {
                    Some(end) => rest = &rest[end + closing.len()..],
                    None => break,
                }
            }
            "body" => break,
            _ => {}
        }
    }
    let pick = |a: Option<String>, b: Option<String>, c: Option<String>| a.or(b).or(c);
    PageMeta {
        title: pick(og.title, twitter.title, plain.title).map(|t| clip(&t, MAX_TITLE_CHARS)),
        description: pick(og.description, twitter.description, plain.description)
            .map(|d| clip(&d, MAX_DESCRIPTION_CHARS)),
        site_name: og.site_name.map(|s| clip(&s, MAX_SITE_CHARS)),
        image: og
            .image
            .or(twitter.image)
            .and_then(|image| base.join(&image).ok())
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .map(String::from),
    }
}

fn set(slot: &mut Option<String>, value: String) {
    let value: String = value
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect();
    let value = collapse_whitespace(&value);
    if slot.is_none() && !value.is_empty() {
        *slot = Some(value);
    }
}

/// The attributes of a tag starting right after its name, and the text after the tag.
fn tag_attributes(text: &str) -> (Vec<(String, String)>, &str) {
    let mut attributes = Vec::new();
    let mut chars = text.char_indices().peekable();
    loop {
        while chars
            .next_if(|(_, c)| c.is_whitespace() || *c == '/')
            .is_some()
        {}
        let Some(&(start, c)) = chars.peek() else {
            return (attributes, "");
        };
        if c == '>' {
            return (attributes, &text[start + 1..]);
        }
        let mut name_end = start;
        while let Some((i, c)) =
            chars.next_if(|(_, c)| !c.is_whitespace() && *c != '=' && *c != '>')
        {
            name_end = i + c.len_utf8();
        }
        let name = text[start..name_end].to_ascii_lowercase();
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '=').is_some() {
            while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
            match chars.peek().map(|&(_, c)| c) {
                Some(quote @ ('"' | '\'')) => {
                    chars.next();
                    for (_, c) in chars.by_ref() {
                        if c == quote {
                            break;
                        }
                        value.push(c);
                    }
                }
                _ => {
                    while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace() && *c != '>')
                    {
                        value.push(c);
                    }
                }
            }
        }
        if !name.is_empty() {
            attributes.push((name, decode_entities(&value)));
        }
    }
}

fn attribute(attributes: &[(String, String)], name: &str) -> Option<String> {
    attributes
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Decodes the character references that appear in titles and descriptions.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest.find(';').filter(|&end| end <= 10);
        let decoded = end.and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut clipped: String = text.chars().take(max - 1).collect();
        clipped.push('…');
        clipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opengraph_wins_then_twitter_then_plain_tags() {
        let base = Url::parse("https://news.example/story/1").unwrap();
        let html = r#"<!doctype html><html><head>
            <title>Plain   title</title>
            <meta name="description" content="plain description">
            <meta name="twitter:title" content="Twitter title">
            <META property='og:title' content="Rust &amp; WebAssembly &#x1F980;">
            <meta property="og:site_name" content=News>
            <meta property="og:image" content="/img/cover.png">
            <script>var x = "<meta property='og:description' content='from a script'>";</script>
            </head><body><meta property="og:description" content="in the body"></body>"#;
        let meta = parse(html, &base);
        assert_eq!(meta.title.as_deref(), Some("Rust & WebAssembly 🦀"));
        assert_eq!(meta.description.as_deref(), Some("plain description"));
        assert_eq!(meta.site_name.as_deref(), Some("News"));
        assert_eq!(
            meta.image.as_deref(),
            Some("https://news.example/img/cover.png")
        );
    }

    #[test]
    fn markup_in_tags_stays_text_and_bad_image_schemes_are_dropped() {
        let base = Url::parse("http://a.example/").unwrap();
        let html = r#"<meta property="og:title" content="&lt;img src=x onerror=alert(1)&gt;">
                      <meta property="og:image" content="javascript:alert(1)">"#;
        let meta = parse(html, &base);
        assert_eq!(meta.title.as_deref(), Some("<img src=x onerror=alert(1)>"));
        assert_eq!(meta.image, None);
        assert_eq!(parse("<title>", &base), PageMeta::default());
        assert_eq!(
            decode_entities("a &bogus; b &#0; c &"),
            "a &bogus; b \0 c &"
        );
    }
}

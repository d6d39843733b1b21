//! What a web page says about itself: OpenGraph (`og:*`) and Twitter card
//! tags, falling back to `<title>` and `<meta name="description">`. The page
//! is read by html5gum's HTML tokenizer (WHATWG rules, entities decoded), in
//! time linear in its size and within a token count and a deadline; it never
//! executes or keeps markup, only attribute and title text, trimmed.
//! Pages are untrusted input: call [`parse`] on a blocking thread.

use std::time::Instant;

use html5gum::{DefaultEmitter, Token, Tokenizer};
use url::Url;

/// Tokens read before giving up on finding the head's tags.
const MAX_TOKENS: usize = 200_000;
/// How often (in tokens) the deadline is checked.
const DEADLINE_CHECK_EVERY: usize = 1_024;
/// Title text gathered at most, in bytes (a title is clipped far below it).
const MAX_TITLE_BYTES: usize = 4_096;
/// Characters of an attribute value looked at (values are clipped far below it).
const MAX_VALUE_CHARS: usize = 4_096;
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
///
/// Linear in the page's size: html5gum's tokenizer reads each byte once
/// (scripts and styles as raw text), and this loop looks at each token once.
/// It stops at `<body>`, after [`MAX_TOKENS`] tokens, or at `deadline`.
pub fn parse(html: &[u8], base: &Url, deadline: Instant) -> PageMeta {
    let mut og = PageMeta::default();
    let mut twitter = PageMeta::default();
    let mut plain = PageMeta::default();
    let mut emitter = DefaultEmitter::default();
    // Raw text inside <script>, <style> and <title>, as a browser reads it.
    emitter.naively_switch_states(true);
    let mut title: Option<Vec<u8>> = None;
    for (count, token) in Tokenizer::new_with_emitter(html, emitter).enumerate() {
        if count >= MAX_TOKENS || (count % DEADLINE_CHECK_EVERY == 0 && Instant::now() >= deadline)
        {
            break;
        }
        let Ok(token) = token;
        match token {
            Token::StartTag(tag) => match tag.name.as_slice() {
                b"meta" => {
                    let value = |name: &[u8]| {
                        tag.attributes
                            .get(name)
                            .map(|v| String::from_utf8_lossy(&v.value).into_owned())
                    };
                    let key = value(b"property")
                        .or_else(|| value(b"name"))
                        .map(|k| k.to_ascii_lowercase());
                    let Some(content) = value(b"content") else {
                        continue;
                    };
                    match key.as_deref() {
                        Some("og:title") => set(&mut og.title, &content),
                        Some("og:description") => set(&mut og.description, &content),
                        Some("og:site_name") => set(&mut og.site_name, &content),
                        Some("og:image" | "og:image:url" | "og:image:secure_url") => {
                            set(&mut og.image, &content)
                        }
                        Some("twitter:title") => set(&mut twitter.title, &content),
                        Some("twitter:description") => set(&mut twitter.description, &content),
                        Some("twitter:image" | "twitter:image:src") => {
                            set(&mut twitter.image, &content)
                        }
                        Some("description") => set(&mut plain.description, &content),
                        _ => {}
                    }
                }
                b"title" if plain.title.is_none() => title = Some(Vec::new()),
                b"body" => break,
                _ => {}
            },
            Token::String(text) => {
                if let Some(title) = title.as_mut()
                    && title.len() < MAX_TITLE_BYTES
                {
                    title.extend_from_slice(&text.value);
                }
            }
            Token::EndTag(tag) if tag.name.as_slice() == b"title" => {
                if let Some(text) = title.take() {
                    set(&mut plain.title, &String::from_utf8_lossy(&text));
                }
            }
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

/// Keeps the first non-empty value, without control characters, with its
/// whitespace collapsed and at most a few kilobytes long.
fn set(slot: &mut Option<String>, value: &str) {
    if slot.is_some() {
        return;
    }
    let value: String = value
        .chars()
        .take(MAX_VALUE_CHARS)
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect();
    let value = collapse_whitespace(&value);
    if !value.is_empty() {
        *slot = Some(value);
    }
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
    use std::time::Duration;

    use super::*;

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

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
        let meta = parse(html.as_bytes(), &base, soon());
        assert_eq!(meta.title.as_deref(), Some("Rust & WebAssembly 🦀"));
        assert_eq!(meta.description.as_deref(), Some("plain description"));
        assert_eq!(meta.site_name.as_deref(), Some("News"));
        assert_eq!(
            meta.image.as_deref(),
            Some("https://news.example/img/cover.png")
        );
    }

    #[test]
    fn the_title_is_raw_text_and_entities_are_decoded() {
        let base = Url::parse("http://a.example/").unwrap();
        let html = "<title>A &lt;b&gt; &amp; <meta property=og:title content=no></title>";
        let meta = parse(html.as_bytes(), &base, soon());
        assert_eq!(
            meta.title.as_deref(),
            Some("A <b> & <meta property=og:title content=no>")
        );
    }

    #[test]
    fn markup_in_tags_stays_text_and_bad_image_schemes_are_dropped() {
        let base = Url::parse("http://a.example/").unwrap();
        let html = r#"<meta property="og:title" content="&lt;img src=x onerror=alert(1)&gt;">
                      <meta property="og:image" content="javascript:alert(1)">"#;
        let meta = parse(html.as_bytes(), &base, soon());
        assert_eq!(meta.title.as_deref(), Some("<img src=x onerror=alert(1)>"));
        assert_eq!(meta.image, None);
        assert_eq!(parse(b"<title>", &base, soon()), PageMeta::default());
    }

    /// Pages built to make a naive scanner quadratic: every `<` or `&`
    /// followed by a long tail without the end it looks for.
    pub(crate) fn hostile_pages(size: usize) -> Vec<Vec<u8>> {
        let repeat = |unit: &str| unit.repeat(size / unit.len()).into_bytes();
        vec![
            repeat("<"),
            repeat("&"),
            repeat("<a "),
            repeat("<title>&"),
            repeat("<meta content='"),
            repeat("<script>"),
            [
                b"<meta property=og:title content=\"".as_slice(),
                &repeat("&#x"),
            ]
            .concat(),
        ]
    }

    #[test]
    fn hostile_pages_take_linear_time() {
        let base = Url::parse("http://a.example/").unwrap();
        for page in hostile_pages(1024 * 1024) {
            let started = Instant::now();
            parse(&page, &base, Instant::now() + Duration::from_secs(60));
            // The old scanner took minutes on 1 MiB; a linear one takes milliseconds.
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{:?} took {:?}",
                String::from_utf8_lossy(&page[..16]),
                started.elapsed()
            );
        }
    }

    #[test]
    fn the_deadline_stops_the_scan() {
        let base = Url::parse("http://a.example/").unwrap();
        let page = "<p>".repeat(100_000) + "<title>too late</title>";
        let meta = parse(page.as_bytes(), &base, Instant::now());
        assert_eq!(meta.title, None);
    }
}

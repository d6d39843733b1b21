//! Message formatting: a small, safe markdown. Text is parsed with
//! pulldown-cmark into a tree of a few allowed elements; raw HTML in a message
//! stays text, links are kept only for http(s), bare URLs become links and
//! `@names` are highlighted. The tree is rendered into Yew nodes, so nothing a
//! user types is ever interpreted as HTML.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use yew::prelude::*;

/// The elements a message may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Paragraph,
    Strong,
    Emphasis,
    Strike,
    Code,
    CodeBlock,
    Quote,
    BulletList,
    NumberedList(u64),
    Item,
    Link,
    Mention,
    LineBreak,
    Rule,
}

/// A formatted message: text, or an allowed element with children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Text(String),
    Element {
        kind: Kind,
        /// The target of a link (always http or https).
        href: Option<String>,
        children: Vec<Node>,
    },
}

/// Parses a message into its formatted tree.
pub fn parse(text: &str) -> Vec<Node> {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut stack: Vec<(Option<Kind>, Option<String>, Vec<Node>)> = vec![(None, None, Vec::new())];
    let mut in_code_block = false;
    let mut link_depth = 0usize;
    for event in Parser::new_ext(text, options) {
        match event {
            Event::Start(tag) => {
                let (kind, href) = match tag {
                    Tag::Paragraph => (Some(Kind::Paragraph), None),
                    // Headings in chat are just bold lines.
                    Tag::Heading { .. } => (Some(Kind::Strong), None),
                    Tag::BlockQuote(_) => (Some(Kind::Quote), None),
                    Tag::CodeBlock(kind) => {
                        in_code_block = true;
                        let _ = matches!(kind, CodeBlockKind::Fenced(_));
                        (Some(Kind::CodeBlock), None)
                    }
                    Tag::List(Some(start)) => (Some(Kind::NumberedList(start)), None),
                    Tag::List(None) => (Some(Kind::BulletList), None),
                    Tag::Item => (Some(Kind::Item), None),
                    Tag::Emphasis => (Some(Kind::Emphasis), None),
                    Tag::Strong => (Some(Kind::Strong), None),
                    Tag::Strikethrough => (Some(Kind::Strike), None),
                    Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                        link_depth += 1;
                        if is_safe_url(&dest_url) {
                            (Some(Kind::Link), Some(dest_url.to_string()))
                        } else {
                            // Unsafe targets keep their words, without a link.
                            (None, None)
                        }
                    }
                    _ => (None, None),
                };
                stack.push((kind, href, Vec::new()));
            }
            Event::End(end) => {
                if matches!(end, TagEnd::CodeBlock) {
                    in_code_block = false;
                }
                if matches!(end, TagEnd::Link | TagEnd::Image) {
                    link_depth = link_depth.saturating_sub(1);
                }
                let Some((kind, href, children)) = stack.pop() else {
                    continue;
                };
                let parent = &mut stack.last_mut().expect("the root stays on the stack").2;
                match kind {
                    Some(kind) => parent.push(Node::Element {
                        kind,
                        href,
                        children,
                    }),
                    None => parent.extend(children),
                }
            }
            Event::Text(text) => {
                let parent = &mut stack.last_mut().expect("the root stays on the stack").2;
                if in_code_block || link_depth > 0 {
                    push_text(parent, &text);
                } else {
                    for node in linkify(&text) {
                        match node {
                            Node::Text(text) => push_text(parent, &text),
                            element => parent.push(element),
                        }
                    }
                }
            }
            Event::Code(code) => {
                let parent = &mut stack.last_mut().expect("the root stays on the stack").2;
                parent.push(Node::Element {
                    kind: Kind::Code,
                    href: None,
                    children: vec![Node::Text(code.to_string())],
                });
            }
            // Raw HTML is shown as the text it is.
            Event::Html(html) | Event::InlineHtml(html) => {
                let parent = &mut stack.last_mut().expect("the root stays on the stack").2;
                push_text(parent, &html);
            }
            Event::SoftBreak => {
                let parent = &mut stack.last_mut().expect("the root stays on the stack").2;
                push_text(parent, "\n");
            }
            Event::HardBreak => {
                let parent = &mut stack.last_mut().expect("the root stays on the stack").2;
                parent.push(Node::Element {
                    kind: Kind::LineBreak,
                    href: None,
                    children: Vec::new(),
                });
            }
            Event::Rule => {
                let parent = &mut stack.last_mut().expect("the root stays on the stack").2;
                parent.push(Node::Element {
                    kind: Kind::Rule,
                    href: None,
                    children: Vec::new(),
                });
            }
            _ => {}
        }
    }
    // Unbalanced input cannot leave nodes behind: fold anything still open.
    while stack.len() > 1 {
        let (_, _, children) = stack.pop().expect("checked length");
        stack.last_mut().expect("checked length").2.extend(children);
    }
    let mut root = stack
        .pop()
        .map(|(_, _, children)| children)
        .unwrap_or_default();
    // A one-paragraph message renders inline.
    if let [
        Node::Element {
            kind: Kind::Paragraph,
            ..
        },
    ] = root.as_slice()
        && let Some(Node::Element { children, .. }) = root.pop()
    {
        return children;
    }
    root
}

fn push_text(nodes: &mut Vec<Node>, text: &str) {
    if let Some(Node::Text(last)) = nodes.last_mut() {
        last.push_str(text);
    } else {
        nodes.push(Node::Text(text.to_owned()));
    }
}

/// Only http and https links are followed.
pub fn is_safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && !lower.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Splits plain text into text, links (bare http/https URLs) and @mentions.
pub fn linkify(text: &str) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let at_word_start = plain.is_empty() && nodes.is_empty()
            || plain.ends_with(|c: char| c.is_whitespace() || "([{\"'".contains(c));
        let lower = rest.get(..8).unwrap_or(rest).to_ascii_lowercase();
        if at_word_start && (lower.starts_with("http://") || lower.starts_with("https://")) {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let mut url = &rest[..end];
            // Trailing punctuation belongs to the sentence, not the link.
            while let Some(last) = url.chars().last() {
                if ".,!?;:)]}'\"".contains(last) {
                    url = &url[..url.len() - last.len_utf8()];
                } else {
                    break;
                }
            }
            if url.len() > "https://".len() && is_safe_url(url) {
                if !plain.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut plain)));
                }
                nodes.push(Node::Element {
                    kind: Kind::Link,
                    href: Some(url.to_owned()),
                    children: vec![Node::Text(url.to_owned())],
                });
                rest = &rest[url.len()..];
                continue;
            }
        }
        if at_word_start && rest.starts_with('@') {
            let name_len = rest[1..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.'))
                .unwrap_or(rest.len() - 1);
            let name = rest[1..1 + name_len].trim_end_matches('.');
            if !name.is_empty() {
                if !plain.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut plain)));
                }
                nodes.push(Node::Element {
                    kind: Kind::Mention,
                    href: None,
                    children: vec![Node::Text(format!("@{name}"))],
                });
                rest = &rest[1 + name.len()..];
                continue;
            }
        }
        let next = rest.chars().next().expect("rest is not empty");
        plain.push(next);
        rest = &rest[next.len_utf8()..];
    }
    if !plain.is_empty() {
        nodes.push(Node::Text(plain));
    }
    nodes
}

/// Renders the tree; `me` is the reader's name (their mentions stand out more).
pub fn render(nodes: &[Node], me: &str) -> Html {
    nodes
        .iter()
        .map(|node| render_node(node, me))
        .collect::<Html>()
}

fn render_node(node: &Node, me: &str) -> Html {
    let Node::Element {
        kind,
        href,
        children,
    } = node
    else {
        let Node::Text(text) = node else {
            unreachable!()
        };
        return html! { { text.clone() } };
    };
    let inner = render(children, me);
    match kind {
        Kind::Paragraph => html! { <p>{ inner }</p> },
        Kind::Strong => html! { <strong>{ inner }</strong> },
        Kind::Emphasis => html! { <em>{ inner }</em> },
        Kind::Strike => html! { <del>{ inner }</del> },
        Kind::Code => html! { <code>{ inner }</code> },
        Kind::CodeBlock => html! { <pre><code>{ inner }</code></pre> },
        Kind::Quote => html! { <blockquote>{ inner }</blockquote> },
        Kind::BulletList => html! { <ul>{ inner }</ul> },
        Kind::NumberedList(start) => html! { <ol start={start.to_string()}>{ inner }</ol> },
        Kind::Item => html! { <li>{ inner }</li> },
        Kind::Link => html! {
            <a href={href.clone().unwrap_or_default()} target="_blank" rel="noopener noreferrer nofollow">{ inner }</a>
        },
        Kind::Mention => {
            let text: String = children
                .iter()
                .map(|c| match c {
                    Node::Text(t) => t.as_str(),
                    Node::Element { .. } => "",
                })
                .collect();
            let mine = text[1..].eq_ignore_ascii_case(me);
            html! { <span class={classes!("mention", mine.then_some("me"))}>{ inner }</span> }
        }
        Kind::LineBreak => html! { <br /> },
        Kind::Rule => html! { <hr /> },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Node {
        Node::Text(t.into())
    }

    fn el(kind: Kind, children: Vec<Node>) -> Node {
        Node::Element {
            kind,
            href: None,
            children,
        }
    }

    fn link(url: &str, children: Vec<Node>) -> Node {
        Node::Element {
            kind: Kind::Link,
            href: Some(url.into()),
            children,
        }
    }

    /// Every element kind and href anywhere in the tree.
    fn walk(nodes: &[Node], out: &mut Vec<(Kind, Option<String>)>) {
        for node in nodes {
            if let Node::Element {
                kind,
                href,
                children,
            } = node
            {
                out.push((*kind, href.clone()));
                walk(children, out);
            }
        }
    }

    #[test]
    fn plain_text_stays_plain() {
        assert_eq!(parse("Hello World!"), [text("Hello World!")]);
        assert_eq!(parse("line one\nline two"), [text("line one\nline two")]);
    }

    #[test]
    fn basic_formatting() {
        assert_eq!(
            parse("**bold** *it* ~~gone~~ `code`"),
            [
                el(Kind::Strong, vec![text("bold")]),
                text(" "),
                el(Kind::Emphasis, vec![text("it")]),
                text(" "),
                el(Kind::Strike, vec![text("gone")]),
                text(" "),
                el(Kind::Code, vec![text("code")]),
            ]
        );
        let block = parse("```\nlet x = \"<b>\";\n```");
        assert_eq!(
            block,
            [el(Kind::CodeBlock, vec![text("let x = \"<b>\";\n")])]
        );
        let list = parse("- a\n- b");
        assert!(matches!(
            &list[..],
            [Node::Element {
                kind: Kind::BulletList,
                ..
            }]
        ));
        let quote = parse("> wise words");
        assert!(matches!(
            &quote[..],
            [Node::Element {
                kind: Kind::Quote,
                ..
            }]
        ));
    }

    #[test]
    fn raw_html_and_scripts_stay_text() {
        for payload in [
            "<b>hi</b>",
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<iframe src=\"javascript:alert(1)\"></iframe>",
            "<a href=\"javascript:alert(1)\">x</a>",
        ] {
            let tree = parse(payload);
            let mut elements = Vec::new();
            walk(&tree, &mut elements);
            assert!(
                elements.iter().all(|(kind, _)| *kind == Kind::Paragraph),
                "{payload}: {tree:?}"
            );
            let flat: String = tree
                .iter()
                .map(|n| match n {
                    Node::Text(t) => t.clone(),
                    Node::Element { .. } => String::new(),
                })
                .collect();
            assert!(flat.contains('<'), "{payload} shown literally: {tree:?}");
        }
    }

    #[test]
    fn only_http_links_become_links() {
        assert_eq!(
            parse("[site](https://example.org/a)"),
            [link("https://example.org/a", vec![text("site")])]
        );
        for unsafe_link in [
            "[x](javascript:alert(1))",
            "[x](JAVASCRIPT:alert(1))",
            "[x](data:text/html,<script>alert(1)</script>)",
            "[x](vbscript:msgbox)",
            "[x](//evil.example/path)",
            "![img](javascript:alert(1))",
        ] {
            let mut elements = Vec::new();
            walk(&parse(unsafe_link), &mut elements);
            assert!(
                elements.iter().all(|(kind, _)| *kind != Kind::Link),
                "{unsafe_link}"
            );
        }
    }

    #[test]
    fn bare_urls_and_mentions_are_recognised() {
        assert_eq!(
            parse("see https://example.org/x?y=1, then ask @alice."),
            [
                text("see "),
                link(
                    "https://example.org/x?y=1",
                    vec![text("https://example.org/x?y=1")]
                ),
                text(", then ask "),
                el(Kind::Mention, vec![text("@alice")]),
                text("."),
            ]
        );
        // Not a URL start, and not a scheme we follow.
        assert_eq!(parse("javascript:alert(1)"), [text("javascript:alert(1)")]);
        assert_eq!(parse("mail me@example.org"), [text("mail me@example.org")]);
        assert_eq!(
            parse("(https://a.example)"),
            [
                text("("),
                link("https://a.example", vec![text("https://a.example")]),
                text(")"),
            ]
        );
    }

    #[test]
    fn url_safety() {
        assert!(is_safe_url("https://example.org"));
        assert!(is_safe_url("HTTP://EXAMPLE.ORG"));
        assert!(!is_safe_url("javascript:alert(1)"));
        assert!(!is_safe_url("https://exa mple.org"));
        assert!(!is_safe_url("ftp://example.org"));
    }
}

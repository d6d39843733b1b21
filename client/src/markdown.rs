//! Message formatting: a small, safe markdown. Text is parsed with
//! pulldown-cmark into a tree of a few allowed elements; raw HTML in a message
//! stays text, links are kept only for http(s), bare URLs become links and
//! `@names` are highlighted. The tree is rendered into Yew nodes, so nothing a
//! user types is ever interpreted as HTML.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use shared::limits::MAX_MARKDOWN_DEPTH;
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
    /// Words a search matched.
    Highlight,
    /// A `:name:` that may be a custom emoji (its one child is the text).
    CustomEmoji,
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
///
/// The tree is at most [`MAX_MARKDOWN_DEPTH`] elements deep, whatever the
/// input: an element that would open deeper is not created and its content
/// goes into the nearest element above it, so hostile nesting (a thousand
/// `>` or list markers) renders flattened, with every word kept, and the
/// recursive renderer stays shallow.
pub fn parse(text: &str) -> Vec<Node> {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut tree = Builder::default();
    let mut in_code_block = false;
    let mut link_depth = 0usize;
    for event in Parser::new_ext(text, options) {
        match event {
            Event::Start(tag) => {
                let block = is_block(&tag);
                let (kind, href) = match tag {
                    Tag::Paragraph => (Some(Kind::Paragraph), None),
                    // Headings in chat are just bold lines.
                    Tag::Heading { .. } => (Some(Kind::Strong), None),
                    Tag::BlockQuote(_) => (Some(Kind::Quote), None),
                    Tag::CodeBlock(_) => {
                        in_code_block = true;
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
                tree.open(kind, href, block);
            }
            Event::End(end) => {
                if matches!(end, TagEnd::CodeBlock) {
                    in_code_block = false;
                }
                if matches!(end, TagEnd::Link | TagEnd::Image) {
                    link_depth = link_depth.saturating_sub(1);
                }
                tree.close();
            }
            Event::Text(text) => {
                if in_code_block || link_depth > 0 {
                    tree.text(&text);
                } else {
                    for node in linkify(&text) {
                        tree.leaf(node);
                    }
                }
            }
            Event::Code(code) => tree.leaf(Node::Element {
                kind: Kind::Code,
                href: None,
                children: vec![Node::Text(code.to_string())],
            }),
            // Raw HTML is shown as the text it is.
            Event::Html(html) | Event::InlineHtml(html) => tree.text(&html),
            Event::SoftBreak => tree.text("\n"),
            Event::HardBreak => tree.leaf(Node::Element {
                kind: Kind::LineBreak,
                href: None,
                children: Vec::new(),
            }),
            Event::Rule => tree.leaf(Node::Element {
                kind: Kind::Rule,
                href: None,
                children: Vec::new(),
            }),
            _ => {}
        }
    }
    let mut root = tree.finish();
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

/// One open tag while parsing: the element it makes (`None`: its content
/// goes to the parent), a link's target, and the content so far.
struct Open {
    kind: Option<Kind>,
    href: Option<String>,
    /// A block (paragraph, quote, list, item, heading, code block): shown
    /// on its own line even when it makes no element.
    block: bool,
    children: Vec<Node>,
}

/// Whether a tag starts a block of its own (rather than running inline).
fn is_block(tag: &Tag) -> bool {
    !matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Link { .. }
            | Tag::Image { .. }
            | Tag::Superscript
            | Tag::Subscript
    )
}

/// Builds the tree from start/end events, never deeper than
/// [`MAX_MARKDOWN_DEPTH`] elements.
struct Builder {
    /// The root's content first; every open tag after it.
    stack: Vec<Open>,
    /// How many of the open tags make an element (the depth of new content).
    depth: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            stack: vec![Open {
                kind: None,
                href: None,
                block: true,
                children: Vec::new(),
            }],
            depth: 0,
        }
    }
}

impl Builder {
    /// The content of the innermost open tag.
    fn content(&mut self) -> &mut Vec<Node> {
        &mut self
            .stack
            .last_mut()
            .expect("the root stays on the stack")
            .children
    }

    /// Opens a tag; past the depth limit it makes no element.
    fn open(&mut self, kind: Option<Kind>, href: Option<String>, block: bool) {
        let kind = kind.filter(|_| self.depth < MAX_MARKDOWN_DEPTH);
        if kind.is_some() {
            self.depth += 1;
        }
        self.stack.push(Open {
            kind,
            href,
            block,
            children: Vec::new(),
        });
    }

    /// Closes the innermost tag: its element (or just its content) goes to the parent.
    fn close(&mut self) {
        if self.stack.len() <= 1 {
            return;
        }
        let Some(open) = self.stack.pop() else {
            return;
        };
        match open.kind {
            Some(kind) => {
                self.depth -= 1;
                self.content().push(Node::Element {
                    kind,
                    href: open.href,
                    children: open.children,
                });
            }
            None => {
                // A flattened block still starts on a line of its own.
                let content = self.content();
                let after_text = match content.last() {
                    Some(Node::Text(text)) => !text.ends_with('\n'),
                    Some(Node::Element { kind, .. }) => !matches!(kind, Kind::LineBreak),
                    None => false,
                };
                if open.block && after_text && !open.children.is_empty() {
                    push_text(content, "\n");
                }
                for node in open.children {
                    match node {
                        Node::Text(text) => self.text(&text),
                        element => self.content().push(element),
                    }
                }
            }
        }
    }

    fn text(&mut self, text: &str) {
        push_text(self.content(), text);
    }

    /// Adds a childless element, or one holding only text (code, a link, a
    /// mention, a line break, a rule); at the depth limit only its words.
    fn leaf(&mut self, node: Node) {
        if self.depth < MAX_MARKDOWN_DEPTH {
            match node {
                Node::Text(text) => self.text(&text),
                element => self.content().push(element),
            }
            return;
        }
        match node {
            Node::Text(text) => self.text(&text),
            Node::Element {
                kind: Kind::LineBreak,
                ..
            } => self.text("\n"),
            Node::Element { children, .. } => {
                for child in children {
                    if let Node::Text(text) = child {
                        self.text(&text);
                    }
                }
            }
        }
    }

    /// The root's content; anything left open (unbalanced input) is folded in.
    fn finish(mut self) -> Vec<Node> {
        while self.stack.len() > 1 {
            self.close();
        }
        self.stack
            .pop()
            .map(|open| open.children)
            .unwrap_or_default()
    }
}

/// How many elements deep a tree is (text alone: 0).
pub fn depth(nodes: &[Node]) -> usize {
    // Walks with its own stack: the tree may come from anywhere.
    let mut deepest = 0;
    let mut todo: Vec<(&Node, usize)> = nodes.iter().map(|n| (n, 1)).collect();
    while let Some((node, level)) = todo.pop() {
        if let Node::Element { children, .. } = node {
            deepest = deepest.max(level);
            todo.extend(children.iter().map(|c| (c, level + 1)));
        }
    }
    deepest
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

/// The custom emoji shortcode `:name:` that `text` starts with, if any.
fn shortcode_at(text: &str) -> Option<&str> {
    let inner = text.strip_prefix(':')?;
    let end = inner.find(|c: char| !shared::validate::is_emoji_name_char(c))?;
    ((2..=shared::limits::MAX_EMOJI_NAME_CHARS).contains(&end) && inner[end..].starts_with(':'))
        .then(|| &text[..end + 2])
}

/// Splits plain text into text, links (bare http/https URLs), @mentions
/// and `:name:`s that may be custom emoji.
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
        if let Some(code) = shortcode_at(rest) {
            if !plain.is_empty() {
                nodes.push(Node::Text(std::mem::take(&mut plain)));
            }
            nodes.push(Node::Element {
                kind: Kind::CustomEmoji,
                href: None,
                children: vec![Node::Text(code.to_owned())],
            });
            rest = &rest[code.len()..];
            continue;
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

/// The tree with the words `marks` finds in its text wrapped in
/// highlights (text only: links keep their targets, code its words).
pub fn mark(nodes: Vec<Node>, marks: &shared::search::Highlighter) -> Vec<Node> {
    let mut marked = Vec::with_capacity(nodes.len());
    for node in nodes {
        match node {
            Node::Text(text) => {
                let mut at = 0;
                for range in marks.ranges(&text) {
                    if range.start > at {
                        marked.push(Node::Text(text[at..range.start].to_owned()));
                    }
                    marked.push(Node::Element {
                        kind: Kind::Highlight,
                        href: None,
                        children: vec![Node::Text(text[range.clone()].to_owned())],
                    });
                    at = range.end;
                }
                if at < text.len() {
                    marked.push(Node::Text(text[at..].to_owned()));
                }
            }
            Node::Element {
                kind,
                href,
                children,
            } => marked.push(Node::Element {
                kind,
                href,
                children: mark(children, marks),
            }),
        }
    }
    marked
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
        Kind::Highlight => html! { <mark>{ inner }</mark> },
        Kind::CustomEmoji => match children.as_slice() {
            [Node::Text(code)] => crate::custom_emoji::glyph(code),
            _ => inner,
        },
        Kind::LineBreak => html! { <br /> },
        Kind::Rule => html! { <hr /> },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(code: &str) -> Node {
        Node::Element {
            kind: Kind::CustomEmoji,
            href: None,
            children: vec![text(code)],
        }
    }

    #[test]
    fn shortcodes_become_custom_emoji_outside_code_only() {
        assert_eq!(
            parse("Ship it :ship_it: :party+1:!"),
            vec![
                text("Ship it "),
                custom(":ship_it:"),
                text(" "),
                custom(":party+1:"),
                text("!"),
            ]
        );
        // Not names: too short, spaces, capitals; code keeps its text.
        for plain in ["a :x: b", "a : b : c", ":Nope:", "`:ship_it:`", "12:3"] {
            let nodes = parse(plain);
            assert!(
                !format!("{nodes:?}").contains("CustomEmoji"),
                "{plain}: {nodes:?}"
            );
        }
    }

    #[test]
    fn marks_wrap_matched_words_and_leave_markup_inert() {
        let marks = shared::search::Highlighter {
            words: vec!["fox".into()],
            prefix: Some("jum".into()),
        };
        let marked = mark(parse("The **fox** <b>fox</b> jumps"), &marks);
        let highlight = |word: &str| Node::Element {
            kind: Kind::Highlight,
            href: None,
            children: vec![text(word)],
        };
        let children = &marked;
        assert!(children.contains(&Node::Element {
            kind: Kind::Strong,
            href: None,
            children: vec![highlight("fox")],
        }));
        assert!(children.contains(&highlight("jumps")));
        // The raw tag stays text around the marked word.
        assert!(
            children
                .iter()
                .any(|node| matches!(node, Node::Text(t) if t.contains("<b>"))),
            "{children:?}"
        );
    }

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

    /// Every word of the text nodes, in order.
    fn words(nodes: &[Node]) -> Vec<String> {
        let mut out = String::new();
        let mut todo: Vec<&Node> = nodes.iter().rev().collect();
        while let Some(node) = todo.pop() {
            match node {
                Node::Text(text) => {
                    out.push_str(text);
                    out.push(' ');
                }
                Node::Element { children, .. } => todo.extend(children.iter().rev()),
            }
        }
        out.split_whitespace().map(str::to_owned).collect()
    }

    fn assert_bounded(input: &str, expected_words: &[&str]) {
        let tree = parse(input);
        assert!(
            depth(&tree) <= MAX_MARKDOWN_DEPTH,
            "depth {} for {:?}…",
            depth(&tree),
            &input[..input.len().min(40)]
        );
        let found = words(&tree);
        for word in expected_words {
            assert!(
                found.iter().any(|w| w.contains(word)),
                "{word:?} lost from {:?}…: {found:?}",
                &input[..input.len().min(40)]
            );
        }
        // Rendering walks the tree recursively: it must stay shallow.
        let _ = render(&tree, "me");
    }

    #[test]
    fn a_thousand_nested_quotes_are_flattened_with_their_text() {
        let input = format!("{}deep", ">".repeat(1000));
        assert_bounded(&input, &["deep"]);
        let tree = parse(&input);
        assert_eq!(depth(&tree), MAX_MARKDOWN_DEPTH);
        // Up to the limit the quotes are still quotes.
        let mut kinds = Vec::new();
        walk(&tree, &mut kinds);
        let quotes = kinds.iter().filter(|(k, _)| *k == Kind::Quote).count();
        assert_eq!(
            quotes, MAX_MARKDOWN_DEPTH,
            "the paragraph inside did not fit"
        );
        // With spaces and words at every level.
        let spaced: String = (0..1000).map(|i| format!("> w{i}\n")).collect();
        assert_bounded(&spaced, &["w0", "w500", "w999"]);
        let staircase: String = (1..=1000)
            .map(|i| format!("{} q{i}\n", ">".repeat(i)))
            .collect();
        assert_bounded(&staircase[..staircase.len().min(4000)], &["q1", "q40"]);
    }

    #[test]
    fn a_thousand_nested_list_items_are_flattened_with_their_text() {
        assert_bounded(&format!("{}deep", "- ".repeat(1000)), &["deep"]);
        assert_bounded(&format!("{}deep", "1. ".repeat(1000)), &["deep"]);
        assert_bounded(&format!("{}deep", "* ".repeat(1000)), &["deep"]);
        // Indented, one word per level (as far as 4,000 characters go).
        let mut indented = String::new();
        let mut level = 0;
        while indented.len() < 4_000 {
            indented.push_str(&format!("{}- item{level}\n", "  ".repeat(level)));
            level += 1;
        }
        assert_bounded(&indented, &["item0", "item10", "item30"]);
        let found = words(&parse(&indented));
        assert_eq!(found.len(), level, "every item keeps its word: {found:?}");
    }

    #[test]
    fn mixed_quotes_lists_and_formatting_stay_within_the_limit() {
        let mixed = format!(
            "{}**`code` [link](https://example.org) @bob ~~gone~~**",
            "> - 1. ".repeat(300)
        );
        assert_bounded(&mixed, &["code", "link", "@bob", "gone"]);
        let tree = parse(&mixed);
        let mut kinds = Vec::new();
        walk(&tree, &mut kinds);
        // Past the limit a code span, link or mention keeps only its words.
        assert!(!kinds.iter().any(|(k, _)| *k == Kind::Link));
        let inline = format!("{}x https://example.org/deep\nend", "> ".repeat(5));
        let tree = parse(&inline);
        let mut kinds = Vec::new();
        walk(&tree, &mut kinds);
        assert!(
            kinds.iter().any(|(k, _)| *k == Kind::Link),
            "shallow links stay links"
        );
        assert!(kinds.iter().filter(|(k, _)| *k == Kind::Quote).count() == 5);
    }

    #[test]
    fn deeply_nested_emphasis_is_flattened_with_its_text() {
        let stars = format!("{}deep{}", "*".repeat(1000), "*".repeat(1000));
        assert_bounded(&stars, &["deep"]);
        let mixed = format!("{}deep{}", "*_~~".repeat(300), "~~_*".repeat(300));
        assert_bounded(&mixed, &["deep"]);
        let links = format!(
            "{}deep{}",
            "[".repeat(500),
            "](https://a.example)".repeat(100)
        );
        assert_bounded(&links, &["deep"]);
        // Ordinary nesting is untouched.
        assert_eq!(
            parse("*a **b** c*"),
            [el(
                Kind::Emphasis,
                vec![text("a "), el(Kind::Strong, vec![text("b")]), text(" c")]
            )]
        );
    }

    #[test]
    fn depth_counts_elements() {
        assert_eq!(depth(&[text("x")]), 0);
        assert_eq!(depth(&parse("**x**")), 1);
        assert_eq!(depth(&parse("> - **x**")), 4);
    }
}

/// Arbitrary input never panics and never nests deeper than the limit.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Text made of markdown's structural characters, to provoke nesting.
    fn markdownish() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just(">".to_owned()),
                Just("> ".to_owned()),
                Just("- ".to_owned()),
                Just("1. ".to_owned()),
                Just("  ".to_owned()),
                Just("\n".to_owned()),
                Just("*".to_owned()),
                Just("_".to_owned()),
                Just("~~".to_owned()),
                Just("`".to_owned()),
                Just("[".to_owned()),
                Just("](https://a.example)".to_owned()),
                Just("<b>".to_owned()),
                Just("```\n".to_owned()),
                Just("@bob ".to_owned()),
                Just("https://x.example ".to_owned()),
                "[a-z]{1,6}",
            ],
            0..800,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_text_parses_within_the_depth_limit(input in any::<String>()) {
            let tree = parse(&input);
            prop_assert!(depth(&tree) <= MAX_MARKDOWN_DEPTH);
        }

        #[test]
        fn markdown_soup_parses_within_the_depth_limit(input in markdownish()) {
            let tree = parse(&input);
            prop_assert!(depth(&tree) <= MAX_MARKDOWN_DEPTH);
            let _ = render(&tree, "bob");
        }
    }
}

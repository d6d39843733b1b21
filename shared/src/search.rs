//! What a search query means, the same on both sides: the words, quoted
//! phrases and filters (`in:#channel`, `from:@name`, `has:file`,
//! `has:link`, `before:2026-12-01`, `after:2026-12-01`) a person types, and
//! which words of a found message to highlight. The server turns a
//! [`SearchQuery`] into its database's full-text query; the client shows
//! the matches with [`Highlighter`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Most words and phrases in one query (filters not counted).
pub const MAX_QUERY_TERMS: usize = 8;
/// Shortest word matched as a prefix (the last one, while typing): shorter
/// prefixes match too much of the index to be worth the work.
pub const MIN_PREFIX_CHARS: usize = 2;
/// Results per page.
pub const SEARCH_PAGE: u32 = 20;

/// A parsed query. Words and phrases are lowercase; every one must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// What the text must contain: single words and quoted phrases, each a
    /// list of lowercase words that must follow each other.
    pub terms: Vec<Vec<String>>,
    /// The last word typed, matched as the start of a word (the query did
    /// not end with a space, so the person may still be typing it).
    pub prefix: Option<String>,
    /// `in:#name`: only this channel (by its name, lowercase).
    pub channel: Option<String>,
    /// `from:@name`: only messages by this person (lowercase name).
    pub from: Option<String>,
    pub has_file: bool,
    pub has_link: bool,
    /// `before:`: sent before the start of that day (UTC), ms since the epoch.
    pub before: Option<i64>,
    /// `after:`: sent after the end of that day (UTC), ms since the epoch.
    pub after: Option<i64>,
}

/// Why a query was refused; `Display` is the sentence shown to the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    TooLong,
    TooManyTerms,
    /// Nothing to search for: no words and no filters.
    Empty,
    UnknownFilter(String),
    BadDate(String),
    BadHas(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong => write!(f, "A search can be at most {MAX_QUERY_CHARS} characters."),
            Self::TooManyTerms => write!(
                f,
                "A search can have at most {MAX_QUERY_TERMS} words and phrases."
            ),
            Self::Empty => f.write_str("Type a word to search for."),
            Self::UnknownFilter(name) => write!(
                f,
                "Unknown filter {name:?}: use in:, from:, has:, before: or after:."
            ),
            Self::BadDate(date) => write!(f, "{date:?} is not a date like 2026-12-01."),
            Self::BadHas(what) => write!(f, "has:{what} is not known: use has:file or has:link."),
        }
    }
}

impl std::error::Error for QueryError {}

impl SearchQuery {
    /// Parses what a person typed.
    pub fn parse(raw: &str) -> Result<Self, QueryError> {
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let mut query = SearchQuery::default();
        let tokens = tokens(raw);
        let still_typing = !raw.ends_with(char::is_whitespace) && !raw.ends_with('"');
        let last = tokens.len().saturating_sub(1);
        for (index, token) in tokens.into_iter().enumerate() {
            match token {
                Token::Phrase(text) => query.add_term(words(&text)),
                Token::Filter(name, value) => query.add_filter(&name, &value)?,
                Token::Word(text) => {
                    let mut found = words(&text);
                    if index == last && still_typing && found.len() == 1 {
                        let word = found.pop().unwrap_or_default();
                        if word.chars().count() >= MIN_PREFIX_CHARS {
                            query.prefix = Some(word);
                        } else {
                            query.add_term(vec![word]);
                        }
                    } else {
                        query.add_term(found);
                    }
                }
            }
        }
        if query.terms.len() + usize::from(query.prefix.is_some()) > MAX_QUERY_TERMS {
            return Err(QueryError::TooManyTerms);
        }
        if query.is_empty() {
            return Err(QueryError::Empty);
        }
        Ok(query)
    }

    fn add_term(&mut self, words: Vec<String>) {
        if !words.is_empty() && !self.terms.contains(&words) {
            self.terms.push(words);
        }
    }

    fn add_filter(&mut self, name: &str, value: &str) -> Result<(), QueryError> {
        match name {
            "in" => self.channel = Some(value.trim_start_matches('#').to_lowercase()),
            "from" => self.from = Some(value.trim_start_matches('@').to_lowercase()),
            "has" => match value.to_lowercase().as_str() {
                "file" | "files" | "attachment" => self.has_file = true,
                "link" | "links" => self.has_link = true,
                other => return Err(QueryError::BadHas(other.to_owned())),
            },
            "before" => self.before = Some(day_start(value)?),
            "after" => self.after = Some(day_start(value)? + DAY_MS),
            other => return Err(QueryError::UnknownFilter(format!("{other}:"))),
        }
        Ok(())
    }

    /// Whether there is nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
            && self.prefix.is_none()
            && self.channel.is_none()
            && self.from.is_none()
            && !self.has_file
            && !self.has_link
            && self.before.is_none()
            && self.after.is_none()
    }

    /// Whether the query has words to match (not only filters).
    pub fn has_text(&self) -> bool {
        !self.terms.is_empty() || self.prefix.is_some()
    }

    /// The words to highlight in results.
    pub fn highlighter(&self) -> Highlighter {
        Highlighter {
            words: self.terms.iter().flatten().cloned().collect(),
            prefix: self.prefix.clone(),
        }
    }
}

const DAY_MS: i64 = 86_400_000;

/// Milliseconds since the epoch at the start (UTC) of `YYYY-MM-DD`.
fn day_start(raw: &str) -> Result<i64, QueryError> {
    let bad = || QueryError::BadDate(raw.chars().take(32).collect());
    let mut parts = raw.splitn(3, '-');
    let mut next = |digits: usize| -> Result<i64, QueryError> {
        let part = parts.next().ok_or_else(bad)?;
        if part.len() != digits || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    let (year, month, day) = (next(4)?, next(2)?, next(2)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if !(1..=days_in_month).contains(&day) {
        return Err(bad());
    }
    Ok(days_from_civil(year, month, day) * DAY_MS)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

enum Token {
    Word(String),
    Phrase(String),
    Filter(String, String),
}

/// Splits a query at whitespace, keeping `"quoted phrases"` and
/// `filter:value` (the value may be quoted: `from:"Ann Lee"`) together.
fn tokens(raw: &str) -> Vec<Token> {
    let mut found = Vec::new();
    let mut chars = raw.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '"' {
            chars.next();
            found.push(Token::Phrase(
                chars.by_ref().take_while(|&c| c != '"').collect(),
            ));
            continue;
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == ':' && is_filter_name(&word) {
                let value: String = if chars.peek() == Some(&'"') {
                    chars.next();
                    chars.by_ref().take_while(|&c| c != '"').collect()
                } else {
                    let mut value = String::new();
                    while let Some(&c) = chars.peek() {
                        if c.is_whitespace() {
                            break;
                        }
                        value.push(c);
                        chars.next();
                    }
                    value
                };
                found.push(Token::Filter(word.to_lowercase(), value));
                word.clear();
                break;
            }
            word.push(c);
        }
        if !word.is_empty() {
            found.push(Token::Word(word));
        }
    }
    found
}

/// Whether `word` before a `:` names a filter (known or not): a short run
/// of ASCII letters, so `12:30` or `http://` stay words.
fn is_filter_name(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "in" | "from" | "has" | "before" | "after" | "on" | "is" | "during" | "to" | "with"
    )
}

/// The lowercase words of `text`: runs of letters and digits, as the
/// search index splits them.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether a message's text holds a link (what `has:link` finds).
pub fn has_link(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("http://") || lower.contains("https://")
}

/// Which words of a found message to mark: the query's words, and words
/// starting with its prefix. Sent with the results, so the client marks
/// what the server matched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Highlighter {
    pub words: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

impl Highlighter {
    /// Byte ranges of `text` to mark, in order and not overlapping.
    pub fn ranges(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        let mut found = Vec::new();
        let mut start = None;
        for (index, c) in text
            .char_indices()
            .chain(std::iter::once((text.len(), ' ')))
        {
            match (c.is_alphanumeric(), start) {
                (true, None) => start = Some(index),
                (false, Some(from)) => {
                    if self.marks(&text[from..index]) {
                        found.push(from..index);
                    }
                    start = None;
                }
                _ => {}
            }
        }
        found
    }

    fn marks(&self, word: &str) -> bool {
        let word = word.to_lowercase();
        self.words.contains(&word)
            || self
                .prefix
                .as_ref()
                .is_some_and(|prefix| word.starts_with(prefix.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_phrases_filters_and_the_prefix_being_typed() {
        let query = SearchQuery::parse(r#"Deploy "release notes" in:#Ops from:@Ann has:file roll"#)
            .unwrap();
        assert_eq!(
            query.terms,
            vec![
                vec!["deploy".to_owned()],
                vec!["release".into(), "notes".into()]
            ]
        );
        assert_eq!(query.prefix.as_deref(), Some("roll"));
        assert_eq!(query.channel.as_deref(), Some("ops"));
        assert_eq!(query.from.as_deref(), Some("ann"));
        assert!(query.has_file && !query.has_link);
        let done = SearchQuery::parse("roll ").unwrap();
        assert_eq!(done.prefix, None);
        assert_eq!(done.terms, vec![vec!["roll".to_owned()]]);
        let short = SearchQuery::parse("a").unwrap();
        assert_eq!(short.prefix, None, "one letter is a word, not a prefix");
        let named = SearchQuery::parse(r#"from:"Ann Lee" 12:30 "#).unwrap();
        assert_eq!(named.from.as_deref(), Some("ann lee"));
        assert_eq!(named.terms, vec![vec!["12".to_owned(), "30".into()]]);
    }

    #[test]
    fn dates_are_utc_days() {
        let query = SearchQuery::parse("before:2026-12-01 after:1970-01-01").unwrap();
        assert_eq!(query.before, Some(1_796_083_200_000));
        assert_eq!(query.after, Some(DAY_MS));
        assert!(SearchQuery::parse("before:2026-02-29").is_err());
        assert!(SearchQuery::parse("before:2028-02-29").is_ok());
        assert!(SearchQuery::parse("after:yesterday").is_err());
        assert!(SearchQuery::parse("before:2026-1-01").is_err());
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(SearchQuery::parse("   "), Err(QueryError::Empty));
        assert_eq!(SearchQuery::parse("!!!"), Err(QueryError::Empty));
        assert_eq!(
            SearchQuery::parse("on:monday x"),
            Err(QueryError::UnknownFilter("on:".into()))
        );
        assert_eq!(
            SearchQuery::parse("has:cake"),
            Err(QueryError::BadHas("cake".into()))
        );
        assert_eq!(
            SearchQuery::parse(&"a ".repeat(200)),
            Err(QueryError::TooLong)
        );
        assert_eq!(
            SearchQuery::parse("a b c d e f g h i"),
            Err(QueryError::TooManyTerms)
        );
    }

    #[test]
    fn highlighting_marks_whole_words_and_the_prefix() {
        let marks = SearchQuery::parse("deploy ro").unwrap().highlighter();
        let text = "Deploying? No: DEPLOY the robot, brother";
        let marked: Vec<&str> = marks.ranges(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(marked, ["DEPLOY", "robot"]);
        assert!(marks.ranges("").is_empty());
    }
}

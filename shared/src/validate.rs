//! Domain types that can only be built from valid input. The server uses them
//! to refuse bad input; the client uses the same rules to explain it early.

use std::fmt;

use crate::limits::{
    MAX_CHANNEL_NAME_CHARS, MAX_EMOJI_NAME_CHARS, MAX_PASSWORD_CHARS, MAX_TEXT_CHARS,
    MAX_TOPIC_CHARS, MAX_USERNAME_CHARS, MIN_PASSWORD_CHARS,
};

/// A display name: trimmed, 1–32 characters of letters, digits, spaces, `_`, `-`, `.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

/// Why a username was refused; `Display` is the sentence shown to the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernameError {
    Empty,
    TooLong,
    InvalidCharacter(char),
}

impl fmt::Display for UsernameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Please choose a username."),
            Self::TooLong => write!(
                f,
                "A username can be at most {MAX_USERNAME_CHARS} characters long."
            ),
            Self::InvalidCharacter(c) => write!(
                f,
                "A username may only contain letters, digits, spaces, '_', '-' and '.' (not {c:?})."
            ),
        }
    }
}

impl std::error::Error for UsernameError {}

impl Username {
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(UsernameError::Empty);
        }
        if name.chars().count() > MAX_USERNAME_CHARS {
            return Err(UsernameError::TooLong);
        }
        if let Some(bad) = name
            .chars()
            .find(|&c| !(c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.')))
        {
            return Err(UsernameError::InvalidCharacter(bad));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key under which names are unique: names that differ only in
    /// letter case, in compatibility forms (fullwidth `ａ`, math-bold `𝐚`)
    /// or by look-alike letters from other scripts (Cyrillic `а`) are the
    /// same name. NFKC, then lowercase, then the UTS #39 confusable skeleton.
    pub fn uniqueness_key(&self) -> String {
        use unicode_normalization::UnicodeNormalization;
        let folded: String = self.0.nfkc().collect::<String>().to_lowercase();
        unicode_security::skeleton(&folded).collect()
    }

    /// The key `@mentions` of this name are matched by (lowercase).
    pub fn mention_key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password: 8 to 256 characters, not only spaces. Kept as typed (not trimmed).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordError {
    TooShort,
    TooLong,
}

impl fmt::Display for PasswordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort => write!(
                f,
                "A password needs at least {MIN_PASSWORD_CHARS} characters."
            ),
            Self::TooLong => write!(
                f,
                "A password can be at most {MAX_PASSWORD_CHARS} characters long."
            ),
        }
    }
}

impl std::error::Error for PasswordError {}

impl Password {
    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS || raw.trim().is_empty() {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// A channel name: 1–40 of lowercase letters, digits, `-`, `_` (input is trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelName(String);

/// Why a channel name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelNameError {
    Empty,
    TooLong,
    InvalidCharacter(char),
}

impl fmt::Display for ChannelNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Please give the channel a name."),
            Self::TooLong => write!(
                f,
                "A channel name can be at most {MAX_CHANNEL_NAME_CHARS} characters long."
            ),
            Self::InvalidCharacter(c) => write!(
                f,
                "A channel name may only contain lowercase letters, digits, '-' and '_' (not {c:?})."
            ),
        }
    }
}

impl std::error::Error for ChannelNameError {}

impl ChannelName {
    pub fn parse(raw: &str) -> Result<Self, ChannelNameError> {
        let name = raw.trim().trim_start_matches('#');
        if name.is_empty() {
            return Err(ChannelNameError::Empty);
        }
        if name.chars().count() > MAX_CHANNEL_NAME_CHARS {
            return Err(ChannelNameError::TooLong);
        }
        if let Some(bad) = name
            .chars()
            .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'))
        {
            return Err(ChannelNameError::InvalidCharacter(bad));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A custom emoji's name, as typed between colons: 2–32 of lowercase
/// letters, digits, `-`, `_` and `+` (input is trimmed, surrounding colons
/// dropped, letters lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmojiName(String);

/// Why a custom emoji name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmojiNameError {
    TooShort,
    TooLong,
    InvalidCharacter(char),
}

impl fmt::Display for EmojiNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort => f.write_str("An emoji name has at least 2 characters."),
            Self::TooLong => write!(
                f,
                "An emoji name can be at most {MAX_EMOJI_NAME_CHARS} characters long."
            ),
            Self::InvalidCharacter(c) => write!(
                f,
                "An emoji name may only contain letters, digits, '-', '_' and '+' (not {c:?})."
            ),
        }
    }
}

impl std::error::Error for EmojiNameError {}

impl EmojiName {
    pub fn parse(raw: &str) -> Result<Self, EmojiNameError> {
        let name = raw.trim().trim_matches(':').to_ascii_lowercase();
        if let Some(bad) = name.chars().find(|&c| !is_emoji_name_char(c)) {
            return Err(EmojiNameError::InvalidCharacter(bad));
        }
        match name.len() {
            0..2 => Err(EmojiNameError::TooShort),
            n if n > MAX_EMOJI_NAME_CHARS => Err(EmojiNameError::TooLong),
            _ => Ok(Self(name)),
        }
    }

    /// The name of a reaction or shortcode `:name:`, if it is shaped like one.
    pub fn from_shortcode(code: &str) -> Option<Self> {
        let inner = code.strip_prefix(':')?.strip_suffix(':')?;
        Self::parse(inner).ok().filter(|name| name.0 == inner)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `:name:`, as it is written in text and stored as a reaction.
    pub fn shortcode(&self) -> String {
        format!(":{}:", self.0)
    }
}

/// Whether `c` may be part of a custom emoji name.
pub fn is_emoji_name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '+')
}

/// A channel topic: trimmed, one line, at most 250 characters (may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic(String);

/// Why a topic was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicTooLong;

impl fmt::Display for TopicTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "A topic can be at most {MAX_TOPIC_CHARS} characters long."
        )
    }
}

impl std::error::Error for TopicTooLong {}

impl Topic {
    pub fn parse(raw: &str) -> Result<Self, TopicTooLong> {
        let topic: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if topic.chars().count() > MAX_TOPIC_CHARS {
            return Err(TopicTooLong);
        }
        Ok(Self(topic))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a chat message: trimmed, not empty, at most 4,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

/// Why a message text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageTextError {
    Empty,
    TooLong { chars: usize },
}

impl fmt::Display for MessageTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("A message cannot be empty."),
            Self::TooLong { chars } => write!(
                f,
                "A message can be at most {MAX_TEXT_CHARS} characters long (this one has {chars})."
            ),
        }
    }
}

impl std::error::Error for MessageTextError {}

impl MessageText {
    pub fn parse(raw: &str) -> Result<Self, MessageTextError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(MessageTextError::Empty);
        }
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(MessageTextError::TooLong { chars });
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod emoji_name_tests {
    use super::*;

    #[test]
    fn emoji_names_are_lowercased_bounded_and_plain() {
        assert_eq!(
            EmojiName::parse(" :PartyParrot: ").unwrap().as_str(),
            "partyparrot"
        );
        assert_eq!(EmojiName::parse("a"), Err(EmojiNameError::TooShort));
        assert_eq!(
            EmojiName::parse(&"a".repeat(33)),
            Err(EmojiNameError::TooLong)
        );
        assert_eq!(
            EmojiName::parse("bad name"),
            Err(EmojiNameError::InvalidCharacter(' '))
        );
        assert_eq!(
            EmojiName::parse("é-mojï"),
            Err(EmojiNameError::InvalidCharacter('é'))
        );
        assert_eq!(
            EmojiName::from_shortcode(":ship_it:").unwrap().shortcode(),
            ":ship_it:"
        );
        assert!(EmojiName::from_shortcode("ship_it").is_none());
        assert!(
            EmojiName::from_shortcode(":Ship_it:").is_none(),
            "stored forms only"
        );
    }
}

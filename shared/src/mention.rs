//! Mentions of many people at once: `@channel` (or `@everyone`) names
//! everyone in the conversation, `@here` everyone in it who is online. The
//! server decides from it whom a message notifies; the client marks such a
//! message for its reader. An address like `ops@here.example` is not one.

/// Whom a message calls on besides the people it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Everyone {
    /// Everyone in the conversation (`@channel`, `@everyone`).
    Channel,
    /// Everyone in it who is online (`@here`).
    Here,
}

/// `@` signs looked at per message (the same bound as for names).
const MAX_SIGNS: usize = 20;

/// Whom `text` calls on; `@channel` wins over `@here` when it has both.
pub fn everyone_in(text: &str) -> Option<Everyone> {
    let mut found = None;
    for (at, _) in text.match_indices('@').take(MAX_SIGNS) {
        let glued = text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if glued {
            continue;
        }
        let word: String = text[at + 1..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .take(9)
            .collect::<String>()
            .to_lowercase();
        match word.as_str() {
            "channel" | "everyone" => return Some(Everyone::Channel),
            "here" => found = Some(Everyone::Here),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_and_here_are_whole_words_after_a_free_at_sign() {
        assert_eq!(everyone_in("@channel deploy now"), Some(Everyone::Channel));
        assert_eq!(everyone_in("hey @Everyone!"), Some(Everyone::Channel));
        assert_eq!(everyone_in("anyone @here?"), Some(Everyone::Here));
        assert_eq!(everyone_in("@here and @channel"), Some(Everyone::Channel));
        assert_eq!(everyone_in("@channels are fun"), None);
        assert_eq!(everyone_in("@hereby"), None);
        assert_eq!(everyone_in("mail ops@here.example"), None);
        assert_eq!(everyone_in("no one"), None);
        let late = format!("{} @channel", "@x ".repeat(40));
        assert_eq!(everyone_in(&late), None, "only the first signs count");
    }
}

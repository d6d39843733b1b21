//! Messages that call on the reader: by `@name`, or by `@channel`/`@here`
//! in a conversation small enough for those to notify; and what the
//! mentions view shows (the newest such messages, newest first, kept up to
//! date as they are edited or deleted while it is open).

use std::rc::Rc;

use shared::ChatMessage;
use shared::mention::everyone_in;

/// Whether `text` calls on the reader named `reader`; `everyone_notifies`:
/// the conversation is small enough for `@channel` and `@here`.
pub fn calls_on(text: &str, reader: &str, everyone_notifies: bool) -> bool {
    text.to_lowercase()
        .contains(&format!("@{}", reader.to_lowercase()))
        || (everyone_notifies && everyone_in(text).is_some())
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MentionsState {
    pub open: bool,
    pub messages: Vec<Rc<ChatMessage>>,
    /// Asked, not answered yet.
    pub loading: bool,
}

impl MentionsState {
    /// The view opens and its list was asked for.
    pub fn ask(&mut self) {
        *self = Self {
            open: true,
            messages: Vec::new(),
            loading: true,
        };
    }

    pub fn answer(&mut self, messages: Vec<ChatMessage>) {
        if self.open {
            self.messages = messages.into_iter().map(Rc::new).collect();
            self.loading = false;
        }
    }

    /// A listed message changed: shown anew, or gone when deleted.
    pub fn update(&mut self, message: &ChatMessage) {
        let listed = self
            .messages
            .iter()
            .position(|m| m.channel == message.channel && m.seq == message.seq);
        match listed {
            Some(at) if message.deleted => {
                self.messages.remove(at);
            }
            Some(at) => self.messages[at] = Rc::new(message.clone()),
            None => {}
        }
    }

    pub fn close(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_calls_on_its_reader_and_everyone_only_where_it_notifies() {
        assert!(calls_on("hi @Bob!", "bob", false));
        assert!(!calls_on("hi @Bo", "bob", true));
        assert!(calls_on("@channel standup", "bob", true));
        assert!(calls_on("anyone @here?", "bob", true));
        assert!(
            !calls_on("@channel standup", "bob", false),
            "too big a conversation"
        );
        assert!(!calls_on("ops@here.example", "bob", true));
    }
}

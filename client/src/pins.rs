//! What the pinned-messages panel shows: the conversation it is for and its
//! pinned messages, most recently pinned first, kept up to date as
//! messages are pinned, unpinned, edited or deleted while it is open.

use std::rc::Rc;

use shared::{ChannelId, ChatMessage};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PinsState {
    /// The conversation whose pins are shown; `None` when the panel is closed.
    pub channel: Option<ChannelId>,
    pub messages: Vec<Rc<ChatMessage>>,
    /// Asked, not answered yet.
    pub loading: bool,
}

impl PinsState {
    /// The panel opens for `channel` and its list was asked for.
    pub fn ask(&mut self, channel: ChannelId) {
        *self = Self {
            channel: Some(channel),
            messages: Vec::new(),
            loading: true,
        };
    }

    /// The list arrived (ignored if the panel moved on to another conversation).
    pub fn answer(&mut self, channel: &ChannelId, messages: Vec<ChatMessage>) {
        if self.channel.as_ref() == Some(channel) {
            self.messages = messages.into_iter().map(Rc::new).collect();
            self.loading = false;
        }
    }

    /// A message's new state: pinned ones join the top of the list (or are
    /// replaced in place), unpinned and deleted ones leave it.
    pub fn update(&mut self, message: &ChatMessage) {
        if self.channel.as_ref() != Some(&message.channel) {
            return;
        }
        let at = self.messages.iter().position(|m| m.seq == message.seq);
        match (at, message.pinned.is_some() && !message.deleted) {
            (Some(at), true) => self.messages[at] = Rc::new(message.clone()),
            (Some(at), false) => {
                self.messages.remove(at);
            }
            (None, true) => self.messages.insert(0, Rc::new(message.clone())),
            (None, false) => {}
        }
    }

    pub fn close(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{ChangeNo, ClientMsgId, Pinned, UserId, UserInfo};

    fn message(channel: &str, seq: i64, pinned: bool) -> ChatMessage {
        let ann = UserInfo {
            id: UserId("u1".into()),
            name: "Ann".into(),
        };
        ChatMessage {
            channel: ChannelId(channel.into()),
            seq,
            client_id: ClientMsgId::parse(&format!("m{seq}")).unwrap(),
            author: ann.clone(),
            text: format!("message {seq}"),
            sent_at: seq,
            edited_at: None,
            deleted: false,
            removed: false,
            reactions: Vec::new(),
            attachments: Vec::new(),
            preview: None,
            pinned: pinned.then(|| Box::new(Pinned { by: ann, at: seq })),
            thread: None,
            replies: None,
            change: ChangeNo(seq),
        }
    }

    fn seqs(pins: &PinsState) -> Vec<i64> {
        pins.messages.iter().map(|m| m.seq).collect()
    }

    #[test]
    fn the_list_follows_pins_edits_and_deletes_of_its_conversation_only() {
        let mut pins = PinsState::default();
        pins.ask(ChannelId("c".into()));
        assert!(pins.loading);
        pins.answer(&ChannelId("other".into()), vec![message("other", 1, true)]);
        assert!(
            pins.loading,
            "an answer for another conversation is ignored"
        );
        pins.answer(
            &ChannelId("c".into()),
            vec![message("c", 5, true), message("c", 2, true)],
        );
        assert_eq!(seqs(&pins), [5, 2]);
        pins.update(&message("c", 9, true));
        assert_eq!(seqs(&pins), [9, 5, 2], "newly pinned goes first");
        let mut edited = message("c", 5, true);
        edited.text = "edited".into();
        pins.update(&edited);
        assert_eq!(pins.messages[1].text, "edited", "an edit keeps the pin");
        pins.update(&message("c", 2, false));
        assert_eq!(seqs(&pins), [9, 5], "unpinned leaves");
        let mut deleted = message("c", 9, true);
        deleted.deleted = true;
        pins.update(&deleted);
        assert_eq!(seqs(&pins), [5], "deleted leaves");
        pins.update(&message("other", 3, true));
        assert_eq!(seqs(&pins), [5], "other conversations are not listed");
        pins.close();
        assert_eq!(pins, PinsState::default());
    }
}

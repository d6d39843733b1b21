//! What the search panel shows: the query being answered, its results so
//! far (newest first, a page at a time), the words to mark in them, and a
//! refusal's reason. Answers to an older query (the person kept typing)
//! are ignored.

use std::rc::Rc;

use shared::ChatMessage;
use shared::search::Highlighter;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchState {
    pub open: bool,
    pub query: String,
    pub results: Vec<Rc<ChatMessage>>,
    pub highlight: Rc<Highlighter>,
    /// Where the next page starts, when there is one.
    pub next: Option<i64>,
    pub loading: bool,
    /// The query has been answered at least once.
    pub answered: bool,
    pub error: Option<String>,
}

impl SearchState {
    /// A new query was sent.
    pub fn ask(&mut self, query: String) {
        *self = Self {
            open: true,
            query,
            loading: true,
            ..Self::default()
        };
    }

    /// The next page of the same query was asked for.
    pub fn ask_more(&mut self) {
        self.loading = true;
    }

    /// A page of results: the first (`before` none) or the next.
    pub fn answer(
        &mut self,
        query: &str,
        before: Option<i64>,
        results: Vec<ChatMessage>,
        highlight: Highlighter,
        next: Option<i64>,
    ) {
        if query != self.query {
            return;
        }
        if before.is_none() {
            self.results.clear();
        }
        self.results.extend(results.into_iter().map(Rc::new));
        self.highlight = Rc::new(highlight);
        self.next = next;
        self.loading = false;
        self.answered = true;
        self.error = None;
    }

    /// The query was refused (the message says why).
    pub fn refuse(&mut self, message: String) {
        self.loading = false;
        self.answered = true;
        self.results.clear();
        self.next = None;
        self.error = Some(message);
    }

    pub fn close(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{ChannelId, ClientMsgId, UserId, UserInfo};

    fn message(seq: i64) -> ChatMessage {
        ChatMessage {
            channel: ChannelId("c".into()),
            seq,
            client_id: ClientMsgId::parse("x").unwrap(),
            author: UserInfo {
                id: UserId("u".into()),
                name: "Ann".into(),
            },
            text: format!("m{seq}"),
            sent_at: 0,
            edited_at: None,
            deleted: false,
            removed: false,
            reactions: vec![],
            attachments: vec![],
            preview: None,
            pinned: None,
            thread: None,
            replies: None,
            change: shared::ChangeNo(0),
        }
    }

    #[test]
    fn pages_add_up_and_stale_answers_are_ignored() {
        let mut search = SearchState::default();
        search.ask("fo".into());
        search.ask("fox".into());
        search.answer("fo", None, vec![message(9)], Highlighter::default(), None);
        assert!(search.results.is_empty() && search.loading);
        search.answer(
            "fox",
            None,
            vec![message(5), message(4)],
            Highlighter::default(),
            Some(4),
        );
        search.ask_more();
        search.answer(
            "fox",
            Some(4),
            vec![message(2)],
            Highlighter::default(),
            None,
        );
        let seqs: Vec<i64> = search.results.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, [5, 4, 2]);
        assert!(search.answered && !search.loading && search.next.is_none());
        search.refuse("bad".into());
        assert!(search.results.is_empty());
        assert_eq!(search.error.as_deref(), Some("bad"));
    }
}

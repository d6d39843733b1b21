//! Everything the chat page shows, and how server frames and user actions
//! change it. A pure reducer: unit-tested without a browser.

use std::rc::Rc;

use shared::protocol::ChannelInfo;
use shared::{ChatMessage, ClientMsgId, ErrorCode, Seq, UserInfo};
use yew::Reducible;

/// Most entries kept in memory; older ones are dropped (and reloaded by scrolling up).
pub const MAX_TIMELINE: usize = 600;

/// The socket's state, shown by the connection indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Connected,
    /// Waiting to reconnect; `attempt` counts failures in a row.
    Reconnecting {
        attempt: u32,
    },
}

impl Connection {
    /// The `data-state` value of the indicator.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting { .. } => "reconnecting",
        }
    }
}

/// One line in the message list.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Message(ChatMessage),
    /// A join/leave line, local to this browser (not stored).
    Notice {
        id: u64,
        text: String,
        at: i64,
    },
}

/// A message typed here that the server has not acknowledged yet.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    pub client_id: ClientMsgId,
    pub text: String,
    pub created_at: i64,
    /// Why the server refused it for good, if it did.
    #[serde(default)]
    pub failed: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatState {
    pub me: UserInfo,
    pub connection: Connection,
    pub channel: Option<ChannelInfo>,
    pub timeline: Vec<Entry>,
    pub pending: Vec<Pending>,
    pub online: Vec<UserInfo>,
    /// Older messages exist on the server before the first one shown.
    pub has_older: bool,
    pub loading_older: bool,
    /// A problem to show above the composer.
    pub notice_error: Option<String>,
    next_notice_id: u64,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// The socket is opening (first time or again).
    Connecting,
    /// The socket closed; a reconnect is scheduled.
    Disconnected {
        attempt: u32,
    },
    Welcome {
        me: UserInfo,
        channels: Vec<ChannelInfo>,
        online: Vec<UserInfo>,
    },
    /// Catch-up or first page. `fresh` is true when it answered `after_seq: None`.
    Synced {
        messages: Vec<ChatMessage>,
        has_older: bool,
        fresh: bool,
    },
    History {
        messages: Vec<ChatMessage>,
        has_older: bool,
    },
    Message(ChatMessage),
    Ack {
        client_id: ClientMsgId,
        seq: Seq,
        sent_at: i64,
    },
    UserJoined {
        user: UserInfo,
        at: i64,
    },
    UserLeft {
        user: UserInfo,
        at: i64,
    },
    ServerError {
        code: ErrorCode,
        message: String,
        client_id: Option<ClientMsgId>,
    },
    /// The user sent a message; it shows at once as pending.
    Queue(Pending),
    /// Pending messages restored from this browser's storage after a reload.
    Restore(Vec<Pending>),
    Discard(ClientMsgId),
    LoadingOlder,
    DismissError,
}

impl ChatState {
    pub fn new(me: UserInfo) -> Self {
        Self {
            me,
            connection: Connection::Connecting,
            channel: None,
            timeline: Vec::new(),
            pending: Vec::new(),
            online: Vec::new(),
            has_older: false,
            loading_older: false,
            notice_error: None,
            next_notice_id: 0,
        }
    }

    /// The highest sequence number held: where catch-up starts.
    pub fn last_seq(&self) -> Option<Seq> {
        self.timeline.iter().rev().find_map(|entry| match entry {
            Entry::Message(m) => Some(m.seq),
            Entry::Notice { .. } => None,
        })
    }

    /// The lowest sequence number held: where scroll-back continues.
    pub fn first_seq(&self) -> Option<Seq> {
        self.timeline.iter().find_map(|entry| match entry {
            Entry::Message(m) => Some(m.seq),
            Entry::Notice { .. } => None,
        })
    }

    /// Pending messages still worth sending (not refused for good).
    pub fn sendable(&self) -> impl Iterator<Item = &Pending> {
        self.pending.iter().filter(|p| p.failed.is_none())
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Connecting => {
                if !matches!(self.connection, Connection::Reconnecting { .. }) {
                    self.connection = Connection::Connecting;
                }
            }
            Action::Disconnected { attempt } => {
                self.connection = Connection::Reconnecting { attempt };
                self.loading_older = false;
            }
            Action::Welcome {
                me,
                channels,
                online,
            } => {
                self.me = me;
                self.connection = Connection::Connected;
                self.channel = channels
                    .iter()
                    .find(|c| c.name == "general")
                    .or(channels.first())
                    .cloned();
                self.online = online;
            }
            Action::Synced {
                messages,
                has_older,
                fresh,
            } => {
                if fresh {
                    self.has_older = has_older;
                }
                self.merge(messages);
            }
            Action::History {
                messages,
                has_older,
            } => {
                self.loading_older = false;
                self.has_older = has_older;
                self.merge(messages);
            }
            Action::Message(message) => self.merge(vec![message]),
            Action::Ack {
                client_id,
                seq,
                sent_at,
            } => {
                if let Some(index) = self.pending.iter().position(|p| p.client_id == client_id) {
                    let pending = self.pending.remove(index);
                    if let Some(channel) = &self.channel {
                        let message = ChatMessage {
                            channel: channel.id.clone(),
                            seq,
                            client_id,
                            author: self.me.clone(),
                            text: pending.text,
                            sent_at,
                        };
                        self.merge(vec![message]);
                    }
                }
            }
            Action::UserJoined { user, at } => {
                if !self.online.iter().any(|u| u.id == user.id) {
                    self.online.push(user.clone());
                    self.online.sort_by_key(|u| u.name.to_lowercase());
                }
                self.notice(format!("{} joined", user.name), at);
            }
            Action::UserLeft { user, at } => {
                self.online.retain(|u| u.id != user.id);
                self.notice(format!("{} left", user.name), at);
            }
            Action::ServerError {
                code,
                message,
                client_id,
            } => match client_id {
                Some(id) if !code.is_retryable() => {
                    if let Some(pending) = self.pending.iter_mut().find(|p| p.client_id == id) {
                        pending.failed = Some(message);
                    }
                }
                Some(_) => {}
                None => {
                    self.loading_older = false;
                    self.notice_error = Some(message);
                }
            },
            Action::Queue(pending) => self.pending.push(pending),
            Action::Restore(restored) => {
                for pending in restored {
                    if !self
                        .pending
                        .iter()
                        .any(|p| p.client_id == pending.client_id)
                    {
                        self.pending.push(pending);
                    }
                }
            }
            Action::Discard(client_id) => self.pending.retain(|p| p.client_id != client_id),
            Action::LoadingOlder => self.loading_older = true,
            Action::DismissError => self.notice_error = None,
        }
    }

    fn notice(&mut self, text: String, at: i64) {
        self.next_notice_id += 1;
        self.timeline.push(Entry::Notice {
            id: self.next_notice_id,
            text,
            at,
        });
        self.trim_front();
    }

    /// Inserts messages by sequence number, ignoring ones already held and
    /// ones for another channel.
    fn merge(&mut self, messages: Vec<ChatMessage>) {
        let Some(channel) = self.channel.as_ref().map(|c| c.id.clone()) else {
            return;
        };
        let mut prepended = false;
        for message in messages {
            if message.channel != channel {
                continue;
            }
            // A message that arrives from another tab of ours settles our pending copy too.
            self.pending.retain(|p| p.client_id != message.client_id);
            let position = self.insertion_point(message.seq);
            match position {
                Some(index) => {
                    if index == 0 && !self.timeline.is_empty() {
                        prepended = true;
                    }
                    self.timeline.insert(index, Entry::Message(message));
                }
                None => continue,
            }
        }
        if !prepended {
            self.trim_front();
        }
    }

    /// Where a message with `seq` goes, or `None` if it is already there.
    /// Searches from the end: new messages almost always go last.
    fn insertion_point(&self, seq: Seq) -> Option<usize> {
        match self.last_seq() {
            // Newer than everything: goes last, after any notices.
            Some(last) if seq > last => return Some(self.timeline.len()),
            None => return Some(self.timeline.len()),
            _ => {}
        }
        for (index, entry) in self.timeline.iter().enumerate().rev() {
            if let Entry::Message(existing) = entry {
                if existing.seq == seq {
                    return None;
                }
                if existing.seq < seq {
                    return Some(index + 1);
                }
            }
        }
        Some(0)
    }

    /// Keeps the newest `MAX_TIMELINE` entries; scrolling up reloads the rest.
    fn trim_front(&mut self) {
        if self.timeline.len() > MAX_TIMELINE {
            let excess = self.timeline.len() - MAX_TIMELINE;
            self.timeline.drain(..excess);
            self.has_older = true;
        }
    }
}

impl Reducible for ChatState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = Rc::unwrap_or_clone(self);
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use shared::{ChannelId, UserId};

    use super::*;

    fn user(name: &str) -> UserInfo {
        UserInfo {
            id: UserId(format!("id-{name}")),
            name: name.into(),
        }
    }

    fn general() -> ChannelInfo {
        ChannelInfo {
            id: ChannelId("general-id".into()),
            name: "general".into(),
            ..ChannelInfo::default()
        }
    }

    fn message(seq: Seq, author: &str, text: &str) -> ChatMessage {
        ChatMessage {
            channel: general().id,
            seq,
            client_id: ClientMsgId::parse(&format!("c{seq}")).unwrap(),
            author: user(author),
            text: text.into(),
            sent_at: 1_000 + seq,
        }
    }

    fn welcomed() -> ChatState {
        let mut state = ChatState::new(user("Alice"));
        state.apply(Action::Welcome {
            me: user("Alice"),
            channels: vec![general()],
            online: vec![user("Alice")],
        });
        state
    }

    fn seqs(state: &ChatState) -> Vec<Seq> {
        state
            .timeline
            .iter()
            .filter_map(|e| match e {
                Entry::Message(m) => Some(m.seq),
                Entry::Notice { .. } => None,
            })
            .collect()
    }

    #[test]
    fn welcome_connects_and_picks_general() {
        let state = welcomed();
        assert_eq!(state.connection, Connection::Connected);
        assert_eq!(state.channel, Some(general()));
        assert_eq!(state.connection.as_str(), "connected");
    }

    #[test]
    fn messages_are_ordered_by_seq_and_never_doubled() {
        let mut state = welcomed();
        state.apply(Action::Message(message(2, "Bob", "two")));
        state.apply(Action::Message(message(1, "Bob", "one")));
        state.apply(Action::Message(message(2, "Bob", "two again")));
        state.apply(Action::Synced {
            messages: vec![message(1, "Bob", "one"), message(3, "Bob", "three")],
            has_older: false,
            fresh: false,
        });
        assert_eq!(seqs(&state), [1, 2, 3]);
        assert_eq!(state.last_seq(), Some(3));
        assert_eq!(state.first_seq(), Some(1));
    }

    #[test]
    fn a_pending_message_becomes_confirmed_on_ack() {
        let mut state = welcomed();
        let id = ClientMsgId::parse("mine-1").unwrap();
        state.apply(Action::Queue(Pending {
            client_id: id.clone(),
            text: "Hello World!".into(),
            created_at: 5,
            failed: None,
        }));
        assert_eq!(state.pending.len(), 1);
        state.apply(Action::Ack {
            client_id: id.clone(),
            seq: 1,
            sent_at: 9,
        });
        assert!(state.pending.is_empty());
        match &state.timeline[..] {
            [Entry::Message(m)] => {
                assert_eq!(
                    (m.seq, m.text.as_str(), m.author.name.as_str()),
                    (1, "Hello World!", "Alice")
                );
            }
            other => panic!("{other:?}"),
        }
        // A second ack (after a resend) changes nothing.
        state.apply(Action::Ack {
            client_id: id,
            seq: 1,
            sent_at: 9,
        });
        assert_eq!(seqs(&state), [1]);
    }

    #[test]
    fn refused_messages_are_marked_and_retryable_ones_stay_pending() {
        let mut state = welcomed();
        for id in ["a", "b"] {
            state.apply(Action::Queue(Pending {
                client_id: ClientMsgId::parse(id).unwrap(),
                text: "x".into(),
                created_at: 0,
                failed: None,
            }));
        }
        state.apply(Action::ServerError {
            code: ErrorCode::TextTooLong,
            message: "too long".into(),
            client_id: Some(ClientMsgId::parse("a").unwrap()),
        });
        state.apply(Action::ServerError {
            code: ErrorCode::StoreUnavailable,
            message: "later".into(),
            client_id: Some(ClientMsgId::parse("b").unwrap()),
        });
        assert_eq!(state.pending[0].failed.as_deref(), Some("too long"));
        assert_eq!(state.pending[1].failed, None);
        assert_eq!(state.sendable().count(), 1);
        state.apply(Action::Discard(ClientMsgId::parse("a").unwrap()));
        assert_eq!(state.pending.len(), 1);
    }

    #[test]
    fn joins_and_leaves_show_notices_and_update_who_is_online() {
        let mut state = welcomed();
        state.apply(Action::Message(message(1, "Alice", "hi")));
        state.apply(Action::UserJoined {
            user: user("Bob"),
            at: 1,
        });
        state.apply(Action::Message(message(2, "Bob", "hello")));
        assert_eq!(state.online, [user("Alice"), user("Bob")]);
        state.apply(Action::UserLeft {
            user: user("Bob"),
            at: 2,
        });
        assert_eq!(state.online, [user("Alice")]);
        let lines: Vec<String> = state
            .timeline
            .iter()
            .map(|e| match e {
                Entry::Message(m) => format!("{}: {}", m.author.name, m.text),
                Entry::Notice { text, .. } => text.clone(),
            })
            .collect();
        assert_eq!(lines, ["Alice: hi", "Bob joined", "Bob: hello", "Bob left"]);
    }

    #[test]
    fn older_pages_are_prepended_and_the_window_is_bounded() {
        let mut state = welcomed();
        state.apply(Action::Synced {
            messages: (51..=100).map(|s| message(s, "Bob", "m")).collect(),
            has_older: true,
            fresh: true,
        });
        assert!(state.has_older);
        state.apply(Action::LoadingOlder);
        state.apply(Action::History {
            messages: (1..=50).map(|s| message(s, "Bob", "m")).collect(),
            has_older: false,
        });
        assert!(!state.loading_older);
        assert!(!state.has_older);
        assert_eq!(seqs(&state), (1..=100).collect::<Vec<_>>());

        for s in 101..=(MAX_TIMELINE as Seq + 200) {
            state.apply(Action::Message(message(s, "Bob", "m")));
        }
        assert_eq!(state.timeline.len(), MAX_TIMELINE);
        assert!(state.has_older, "dropped messages can be loaded again");
        assert_eq!(state.last_seq(), Some(MAX_TIMELINE as Seq + 200));
    }

    #[test]
    fn messages_for_other_channels_are_ignored() {
        let mut state = welcomed();
        let mut foreign = message(1, "Bob", "elsewhere");
        foreign.channel = ChannelId("other".into());
        state.apply(Action::Message(foreign));
        assert!(state.timeline.is_empty());
    }

    #[test]
    fn disconnect_shows_reconnecting() {
        let mut state = welcomed();
        state.apply(Action::Disconnected { attempt: 2 });
        assert_eq!(state.connection, Connection::Reconnecting { attempt: 2 });
        state.apply(Action::Connecting);
        assert_eq!(state.connection.as_str(), "reconnecting");
    }
}

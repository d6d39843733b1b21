//! One conversation's timeline: messages ordered by sequence number, local
//! notices where they happened, a bounded window, and what is unread. After
//! a jump (a search result, a link to a message) the window may sit far
//! back in history, with newer messages still on the server (`has_newer`):
//! live messages then wait there until scrolling down reaches them.

use std::rc::Rc;

use shared::protocol::{ChannelInfo, ChannelKind};
use shared::{ChangeNo, ChatMessage, Seq, UserInfo};

/// Most entries kept in memory per conversation; older ones are dropped (and
/// reloaded by scrolling up).
pub const MAX_TIMELINE: usize = 600;
/// One line in the message list. A message is shared (`Rc`): copying a
/// timeline to change one line copies pointers, and a row whose message is
/// the same allocation as before is known unchanged without comparing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Message(Rc<ChatMessage>),
    /// A join/leave/topic line, local to this browser (not stored).
    Notice {
        id: u64,
        parts: Vec<NoticePart>,
        at: i64,
    },
}

/// A piece of a notice: our own words, or something people chose (a name,
/// a conversation's title, a topic), shown isolated so that right-to-left
/// text in it cannot reorder the words around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticePart {
    Text(String),
    Name(String),
}

impl NoticePart {
    pub fn text(words: impl Into<String>) -> Self {
        Self::Text(words.into())
    }

    pub fn name(name: impl Into<String>) -> Self {
        Self::Name(name.into())
    }
}

impl Entry {
    /// A notice's line as plain text (`None` for a message).
    pub fn notice_text(&self) -> Option<String> {
        match self {
            Entry::Notice { parts, .. } => Some(
                parts
                    .iter()
                    .map(|part| match part {
                        NoticePart::Text(text) | NoticePart::Name(text) => text.as_str(),
                    })
                    .collect(),
            ),
            Entry::Message(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub info: ChannelInfo,
    pub timeline: Vec<Entry>,
    /// Older messages exist on the server before the first one shown.
    pub has_older: bool,
    pub loading_older: bool,
    /// History was requested since this conversation appeared here.
    pub requested: bool,
    /// The server has answered a catch-up here at least once. Until then the
    /// timeline holds only live messages, and the first catch-up asks for the
    /// latest page rather than for what follows them.
    pub synced: bool,
    /// The highest change number among held messages: where change catch-up starts.
    pub last_change: ChangeNo,
    /// Newer messages exist on the server after the last one shown (after a jump).
    pub has_newer: bool,
    pub loading_newer: bool,
    /// The message to jump to, not asked for yet.
    pub jump_to: Option<Seq>,
    /// The message jumped to: shown highlighted and scrolled to.
    pub focus: Option<Seq>,
    next_notice_id: u64,
}

impl Conversation {
    pub fn new(info: ChannelInfo) -> Self {
        Self {
            info,
            timeline: Vec::new(),
            has_older: false,
            loading_older: false,
            requested: false,
            synced: false,
            last_change: ChangeNo(0),
            has_newer: false,
            loading_newer: false,
            jump_to: None,
            focus: None,
            next_notice_id: 0,
        }
    }

    /// Shows `seq`: highlighted where it is when it is held and the window
    /// reaches the newest messages, otherwise asked for with its neighbours.
    pub fn jump(&mut self, seq: Seq) {
        self.focus = Some(seq);
        let held = self
            .timeline
            .iter()
            .any(|entry| matches!(entry, Entry::Message(m) if m.seq == seq));
        self.jump_to = (!held).then_some(seq);
    }

    /// The answer to a jump: the window around `seq` replaces what was held.
    pub fn show_around(
        &mut self,
        seq: Seq,
        messages: Vec<ChatMessage>,
        has_older: bool,
        has_newer: bool,
    ) {
        self.timeline.clear();
        self.has_newer = false;
        self.merge(messages);
        self.has_older = has_older;
        self.has_newer = has_newer || self.behind_latest();
        self.loading_older = false;
        self.loading_newer = false;
        self.requested = true;
        self.synced = true;
        self.focus = Some(seq);
    }

    /// A page after the last message shown (scrolling down after a jump).
    pub fn append_newer(&mut self, messages: Vec<ChatMessage>, has_newer: bool) {
        self.has_newer = false;
        self.loading_newer = false;
        self.merge(messages);
        // Messages that arrived live while the page was on its way were not
        // kept: ask again until the newest is held.
        self.has_newer = has_newer || self.behind_latest();
    }

    /// Drops a window far back in history: the conversation loads its
    /// latest page again (after sending, or reconnecting).
    pub fn back_to_latest(&mut self) {
        if self.has_newer {
            self.timeline.clear();
            self.has_newer = false;
            self.loading_newer = false;
            self.has_older = false;
            self.requested = false;
            self.synced = false;
            self.focus = None;
        }
    }

    /// Whether the channel has messages after the last one held.
    fn behind_latest(&self) -> bool {
        self.last_seq()
            .is_some_and(|last| self.info.last_seq > last)
    }

    pub fn is_direct(&self) -> bool {
        self.info.kind == ChannelKind::Direct
    }

    /// The route of this conversation: `/c/rust` or `/dm/Bob`.
    pub fn path(&self) -> String {
        if self.is_direct() {
            format!("/dm/{}", self.info.name)
        } else {
            format!("/c/{}", self.info.name)
        }
    }

    /// Where catch-up starts: after the newest message held, or (never
    /// caught up yet) the latest page.
    pub fn catch_up_from(&self) -> Option<Seq> {
        if self.synced { self.last_seq() } else { None }
    }

    /// The one other person of a direct conversation between two.
    pub fn other_person(&self) -> Option<&UserInfo> {
        match self.info.direct_with.as_slice() {
            [other] if self.is_direct() => Some(other),
            _ => None,
        }
    }

    /// The title: `#rust` or `Bob`.
    pub fn title(&self) -> String {
        if self.is_direct() {
            self.info.name.clone()
        } else {
            format!("#{}", self.info.name)
        }
    }

    /// Messages not yet read here (replies kept in threads are not).
    pub fn unread(&self) -> u32 {
        (self.info.last_seq - self.info.last_read_seq - i64::from(self.info.unread_hidden)).max(0)
            as u32
    }

    /// A reply kept in its thread was numbered `seq`: the conversation's
    /// numbers move on without an unread message. Returns 1 if it was new.
    pub fn count_thread_reply(&mut self, seq: Seq) -> usize {
        if seq <= self.info.last_seq {
            return 0;
        }
        self.info.last_seq = seq;
        if seq > self.info.last_read_seq {
            self.info.unread_hidden += 1;
        }
        1
    }

    /// Everything up to `seq` has been read (here or in another tab).
    pub fn read_up_to(&mut self, seq: Seq) {
        self.info.last_read_seq = self.info.last_read_seq.max(seq);
        let left = (self.info.last_seq - self.info.last_read_seq).max(0);
        self.info.unread_hidden = self.info.unread_hidden.min(left as u32);
        if self.info.last_read_seq >= self.info.last_seq {
            self.info.unread_mentions = 0;
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

    pub fn notice(&mut self, parts: Vec<NoticePart>, at: i64) {
        self.next_notice_id += 1;
        self.timeline.push(Entry::Notice {
            id: self.next_notice_id,
            parts,
            at,
        });
        self.trim_front();
    }

    /// Inserts messages by sequence number, ignoring ones already held.
    /// Returns how many were new.
    pub fn merge(&mut self, messages: Vec<ChatMessage>) -> usize {
        let mut added = 0;
        let mut prepended = false;
        for message in messages {
            if message.channel != self.info.id {
                continue;
            }
            if self.has_newer && self.last_seq().is_some_and(|last| message.seq > last) {
                // Past the window of a jump: loaded when scrolled to.
                self.info.last_seq = self.info.last_seq.max(message.seq);
                continue;
            }
            let Some(index) = self.insertion_point(message.seq) else {
                continue;
            };
            if index == 0 && !self.timeline.is_empty() {
                prepended = true;
            }
            self.info.last_seq = self.info.last_seq.max(message.seq);
            self.last_change = self.last_change.max(message.change);
            added += 1;
            self.timeline
                .insert(index, Entry::Message(Rc::new(message)));
        }
        if !prepended {
            self.trim_front();
        }
        added
    }

    /// Replaces a held message with a newer state of it (edit, delete,
    /// reactions); older states and messages not held are ignored.
    pub fn update(&mut self, message: ChatMessage) {
        self.last_change = self.last_change.max(message.change);
        for entry in &mut self.timeline {
            if let Entry::Message(held) = entry
                && held.seq == message.seq
            {
                if message.change >= held.change {
                    // A state sent to everyone does not say what this reader
                    // reacted with: keep what was known.
                    *held = Rc::new(message.keeping_marks_of(held));
                }
                return;
            }
        }
    }

    /// Where a message with `seq` goes, or `None` if it is already there.
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

    fn trim_front(&mut self) {
        if self.timeline.len() > MAX_TIMELINE {
            let excess = self.timeline.len() - MAX_TIMELINE;
            self.timeline.drain(..excess);
            self.has_older = true;
        }
    }
}

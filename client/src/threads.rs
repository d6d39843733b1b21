//! Threads in the web app: the open thread panel (its parent, replies and
//! where it was opened from), the threads this reader follows (from the
//! server's list, kept up to date from live replies by the server's rule:
//! the parent's author, repliers and people mentioned follow) with what is
//! unread in each, and the threads view that lists them.

use std::rc::Rc;

use shared::{ChannelId, ChatMessage, Seq, ThreadItem, UserId};

/// The thread shown beside the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadPanel {
    pub channel: ChannelId,
    pub root: Seq,
    /// The parent, once the server sent it.
    pub parent: Option<Rc<ChatMessage>>,
    /// Oldest first.
    pub replies: Vec<Rc<ChatMessage>>,
    pub has_older: bool,
    /// The first page was asked for and has not come yet.
    pub loading: bool,
    pub loading_older: bool,
    pub following: bool,
    /// The reply jumped to (a link, a search result): highlighted.
    pub focus: Option<Seq>,
}

impl ThreadPanel {
    fn new(channel: ChannelId, root: Seq, focus: Option<Seq>) -> Self {
        Self {
            channel,
            root,
            parent: None,
            replies: Vec::new(),
            has_older: false,
            loading: true,
            loading_older: false,
            following: false,
            focus,
        }
    }

    fn is(&self, channel: &ChannelId, root: Seq) -> bool {
        &self.channel == channel && self.root == root
    }

    /// The newest reply held.
    pub fn last_seq(&self) -> Option<Seq> {
        self.replies.last().map(|m| m.seq)
    }

    /// Adds replies by number, skipping ones already held.
    fn merge(&mut self, replies: Vec<ChatMessage>) {
        for reply in replies {
            match self.replies.binary_search_by_key(&reply.seq, |m| m.seq) {
                Ok(_) => {}
                Err(at) => self.replies.insert(at, Rc::new(reply)),
            }
        }
    }
}

/// A followed thread: its parent (when known) and the last reply read and
/// heard of.
#[derive(Debug, Clone, PartialEq)]
pub struct Followed {
    pub channel: ChannelId,
    pub root: Seq,
    pub parent: Option<Rc<ChatMessage>>,
    pub read_seq: Seq,
    pub last_seq: Seq,
}

impl Followed {
    pub fn unread(&self) -> bool {
        self.last_seq > self.read_seq
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThreadsState {
    pub panel: Option<ThreadPanel>,
    /// The threads view is open.
    pub view_open: bool,
    /// The followed threads, the most recently active first.
    pub followed: Vec<Followed>,
}

impl ThreadsState {
    /// A thread opens (and its page was asked for).
    pub fn open(&mut self, channel: ChannelId, root: Seq, focus: Option<Seq>) {
        self.panel = Some(ThreadPanel::new(channel, root, focus));
    }

    pub fn close(&mut self) {
        self.panel = None;
    }

    /// Scrolling up in the thread: older replies were asked for.
    pub fn loading_older(&mut self) {
        if let Some(panel) = &mut self.panel {
            panel.loading_older = true;
        }
    }

    /// A page of a thread came.
    pub fn page(
        &mut self,
        channel: &ChannelId,
        parent: ChatMessage,
        replies: Vec<ChatMessage>,
        has_older: bool,
        following: bool,
    ) {
        let root = parent.seq;
        let parent = Rc::new(parent);
        if let Some(followed) = self.find_mut(channel, root) {
            followed.parent = Some(parent.clone());
        }
        let Some(panel) = self.panel.as_mut().filter(|p| p.is(channel, root)) else {
            return;
        };
        // A first page (or one asked for again after reconnecting) replaces
        // what was there; an older page comes before it.
        if !panel.loading_older {
            panel.replies.clear();
        }
        panel.has_older = has_older;
        panel.merge(replies);
        panel.parent = Some(parent);
        panel.following = following;
        panel.loading = false;
        panel.loading_older = false;
    }

    /// The server's list of followed threads.
    pub fn list(&mut self, items: Vec<ThreadItem>) {
        self.followed = items
            .into_iter()
            .map(|item| Followed {
                channel: item.root.channel.clone(),
                root: item.root.seq,
                last_seq: item.root.replies.as_ref().map_or(0, |r| r.last_seq),
                read_seq: item.read_seq,
                parent: Some(Rc::new(item.root)),
            })
            .collect();
    }

    /// A reply came (live, or acknowledged as the reader's own). Whether
    /// the reader follows is decided as the server does: they wrote the
    /// parent or the reply, or the reply calls on them.
    pub fn reply(&mut self, reply: &ChatMessage, me: &UserId, calls_on_me: bool) {
        let Some(thread) = reply.thread.as_deref() else {
            return;
        };
        let (channel, root) = (&reply.channel, thread.root);
        if let Some(panel) = self.panel.as_mut().filter(|p| p.is(channel, root)) {
            panel.merge(vec![reply.clone()]);
        }
        let mine = &reply.author.id == me;
        let follows = self.find_mut(channel, root).is_some();
        if !(follows || mine || &thread.root_author == me || calls_on_me) {
            return;
        }
        let at = self
            .followed
            .iter()
            .position(|f| &f.channel == channel && f.root == root);
        let mut followed = match at {
            Some(at) => self.followed.remove(at),
            None => Followed {
                channel: channel.clone(),
                root,
                parent: None,
                read_seq: 0,
                last_seq: 0,
            },
        };
        followed.last_seq = followed.last_seq.max(reply.seq);
        // The open thread is marked read through the server
        // (`to_mark_read`), which tells every tab.
        if mine {
            followed.read_seq = followed.read_seq.max(reply.seq);
        }
        // The most recently active first.
        self.followed.insert(0, followed);
    }

    /// A message's new state: the open thread's parent or reply, or a
    /// followed thread's parent.
    pub fn update(&mut self, message: &ChatMessage) {
        if let Some(followed) = self.find_mut(&message.channel, message.seq) {
            followed.parent = Some(Rc::new(message.clone()));
        }
        let Some(panel) = self.panel.as_mut() else {
            return;
        };
        if panel.channel != message.channel {
            return;
        }
        if panel.root == message.seq {
            panel.parent = Some(Rc::new(message.clone()));
        } else if let Some(held) = panel.replies.iter_mut().find(|m| m.seq == message.seq)
            && message.change >= held.change
        {
            *held = Rc::new(message.clone().keeping_marks_of(held));
        }
    }

    /// The reader followed or unfollowed a thread, or read it (any tab).
    pub fn state(&mut self, channel: &ChannelId, root: Seq, following: bool, read_seq: Seq) {
        if let Some(panel) = self.panel.as_mut().filter(|p| p.is(channel, root)) {
            panel.following = following;
        }
        if !following {
            self.followed
                .retain(|f| !(&f.channel == channel && f.root == root));
            return;
        }
        match self.find_mut(channel, root) {
            Some(followed) => followed.read_seq = followed.read_seq.max(read_seq),
            None => {
                let (parent, last_seq) = match self.panel.as_ref().filter(|p| p.is(channel, root)) {
                    Some(panel) => (panel.parent.clone(), panel.last_seq().unwrap_or(0)),
                    None => (None, 0),
                };
                self.followed.push(Followed {
                    channel: channel.clone(),
                    root,
                    parent,
                    read_seq,
                    last_seq,
                });
            }
        }
    }

    /// What of the open thread is not marked read yet: `(channel, root,
    /// newest reply)` when the reader follows it and a newer reply came.
    pub fn to_mark_read(&self) -> Option<(ChannelId, Seq, Seq)> {
        let panel = self.panel.as_ref()?;
        let last = panel.last_seq()?;
        let followed = self
            .followed
            .iter()
            .find(|f| f.channel == panel.channel && f.root == panel.root)?;
        (followed.read_seq < last).then(|| (panel.channel.clone(), panel.root, last))
    }

    /// Followed threads with replies not read yet.
    pub fn unread(&self) -> usize {
        self.followed.iter().filter(|f| f.unread()).count()
    }

    /// A conversation the reader left: its threads go.
    pub fn forget(&mut self, channel: &ChannelId) {
        self.followed.retain(|f| &f.channel != channel);
        if self.panel.as_ref().is_some_and(|p| &p.channel == channel) {
            self.panel = None;
        }
    }

    fn find_mut(&mut self, channel: &ChannelId, root: Seq) -> Option<&mut Followed> {
        self.followed
            .iter_mut()
            .find(|f| &f.channel == channel && f.root == root)
    }
}

#[cfg(test)]
mod tests {
    use shared::{ChangeNo, ClientMsgId, InThread, UserInfo};

    use super::*;

    fn user(name: &str) -> UserInfo {
        UserInfo {
            id: UserId(name.into()),
            name: name.into(),
        }
    }

    fn message(seq: Seq, author: &str, thread: Option<(Seq, &str)>) -> ChatMessage {
        ChatMessage {
            channel: ChannelId("general".into()),
            seq,
            client_id: ClientMsgId::parse(&format!("m{seq}")).unwrap(),
            author: user(author),
            text: format!("text {seq}"),
            sent_at: seq,
            edited_at: None,
            deleted: false,
            removed: false,
            reactions: Vec::new(),
            attachments: Vec::new(),
            preview: None,
            pinned: None,
            thread: thread.map(|(root, root_author)| {
                Box::new(InThread {
                    root,
                    root_author: UserId(root_author.into()),
                    also_in_channel: false,
                })
            }),
            replies: None,
            change: ChangeNo(seq),
        }
    }

    fn general() -> ChannelId {
        ChannelId("general".into())
    }

    #[test]
    fn followers_are_decided_as_the_server_does_and_unread_until_read() {
        let me = UserId("ann".into());
        let mut threads = ThreadsState::default();
        // Someone else's thread, not calling on me: not followed.
        threads.reply(&message(2, "ben", Some((1, "ben"))), &me, false);
        assert!(threads.followed.is_empty());
        // My parent: followed, unread.
        threads.reply(&message(4, "ben", Some((3, "ann"))), &me, false);
        // Calling on me: followed.
        threads.reply(&message(6, "cat", Some((5, "ben"))), &me, true);
        assert_eq!(threads.unread(), 2);
        // My own reply is read by definition.
        threads.reply(&message(8, "ann", Some((7, "ben"))), &me, false);
        assert_eq!(threads.unread(), 2);
        assert_eq!(
            threads.followed.iter().map(|f| f.root).collect::<Vec<_>>(),
            [7, 5, 3],
            "the most recently active first"
        );
        // Reading one (in another tab) clears its mark; unfollowing drops it.
        threads.state(&general(), 3, true, 4);
        assert_eq!(threads.unread(), 1);
        threads.state(&general(), 5, false, 0);
        assert_eq!(threads.unread(), 0);
        assert_eq!(threads.followed.len(), 2);
    }

    #[test]
    fn the_open_thread_gathers_replies_and_asks_to_mark_them_read() {
        let me = UserId("ann".into());
        let mut threads = ThreadsState::default();
        threads.open(general(), 3, None);
        threads.page(
            &general(),
            message(3, "ann", None),
            vec![message(5, "ben", Some((3, "ann")))],
            true,
            true,
        );
        threads.state(&general(), 3, true, 0);
        assert_eq!(threads.to_mark_read(), Some((general(), 3, 5)));
        threads.state(&general(), 3, true, 5);
        assert_eq!(threads.to_mark_read(), None);
        // A live reply joins the open thread, to be marked read.
        threads.reply(&message(9, "cat", Some((3, "ann"))), &me, false);
        threads.reply(&message(9, "cat", Some((3, "ann"))), &me, false);
        assert_eq!(threads.to_mark_read(), Some((general(), 3, 9)));
        threads.state(&general(), 3, true, 9);
        let panel = threads.panel.as_ref().unwrap();
        assert_eq!(
            panel.replies.iter().map(|m| m.seq).collect::<Vec<_>>(),
            [5, 9]
        );
        assert!(panel.has_older && panel.following);
        assert_eq!(threads.unread(), 0);
        // An older page goes before.
        threads.loading_older();
        threads.page(
            &general(),
            message(3, "ann", None),
            vec![message(4, "dan", Some((3, "ann")))],
            false,
            true,
        );
        let panel = threads.panel.as_ref().unwrap();
        assert_eq!(
            panel.replies.iter().map(|m| m.seq).collect::<Vec<_>>(),
            [4, 5, 9]
        );
        assert!(!panel.has_older);
    }
}

//! Messages: the aggregate's operations ([`Messages`]) and what every
//! dialect reads and decides the same way. A message row reads back into a
//! `ChatMessage`; reaction rows become each message's reactions; and a
//! batch from the writer is decided message by message (resend, refused
//! attachments, not a member, blocked, or new with the channel's next
//! numbers) from what the dialect read under its lock.

use std::collections::{HashMap, HashSet};

use shared::limits::{MAX_PINS, MAX_REACTION_EMOJI, MAX_REACTIONS_PER_USER};
use shared::{
    ChangeNo, ChannelId, ChatMessage, ClientMsgId, InThread, LinkPreview, Pinned, Reaction,
    Replies, Seq, UserId, UserInfo,
};

use super::{
    ChangeOutcome, Channels, Inserted, MessageChange, NewMessage, Page, StoreError, Stored,
};

/// The messages aggregate: history pages, catch-up, changes and the
/// writer's batched inserts. Implemented by each dialect's store.
#[allow(async_fn_in_trait)]
pub trait Messages {
    /// The newest `limit` messages of a channel, as `reader` sees them;
    /// `None` when `reader` is not a member.
    async fn latest_messages(
        &self,
        channel: &ChannelId,
        limit: u32,
        reader: &UserId,
    ) -> Result<Option<Page>, StoreError> {
        self.messages_before(channel, Seq::MAX, limit, reader).await
    }

    /// Up to `limit` messages older than `before_seq`, oldest first, as
    /// `reader` sees them; `None` when `reader` is not a member.
    async fn messages_before(
        &self,
        channel: &ChannelId,
        before_seq: Seq,
        limit: u32,
        reader: &UserId,
    ) -> Result<Option<Page>, StoreError>;

    /// Up to `limit` messages newer than `after_seq`, oldest first, as
    /// `reader` sees them; `None` when `reader` is not a member.
    async fn messages_after(
        &self,
        channel: &ChannelId,
        after_seq: Seq,
        limit: u32,
        reader: &UserId,
    ) -> Result<Option<Vec<ChatMessage>>, StoreError>;

    /// Held messages (seq <= `up_to_seq`) changed after change number
    /// `after_change`, as `reader` sees them (or as everyone does).
    async fn messages_changed(
        &self,
        channel: &ChannelId,
        up_to_seq: Seq,
        after_change: ChangeNo,
        limit: u32,
        reader: Option<&UserId>,
    ) -> Result<Vec<ChatMessage>, StoreError>;

    /// The messages numbered after `after_seq` up to `up_to_seq` (at most
    /// `limit` of them, oldest first) as everyone sees them: what a node
    /// hands its connections when another node stored them.
    async fn messages_between(
        &self,
        channel: &ChannelId,
        after_seq: Seq,
        up_to_seq: Seq,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError>;

    /// [`Messages::messages_between`] for several channels at once (each
    /// range no longer than a page), in channel and sequence order: what a
    /// node reads when another node's batch touched many channels.
    async fn messages_in_ranges(
        &self,
        ranges: &[(ChannelId, Seq, Seq)],
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let mut messages = Vec::new();
        for (channel, after, up_to) in ranges {
            let limit = u32::try_from(up_to.saturating_sub(*after)).unwrap_or(u32::MAX);
            messages.extend(
                self.messages_between(channel, *after, *up_to, limit)
                    .await?,
            );
        }
        Ok(messages)
    }

    /// One message with its reactions and files, as everyone sees it, or
    /// with the reactions of `reader` marked.
    async fn message(
        &self,
        channel: &ChannelId,
        seq: Seq,
        reader: Option<&UserId>,
    ) -> Result<Option<ChatMessage>, StoreError>;

    /// Changes a message (edit, delete, reaction, pin) in one transaction that
    /// also takes the channel's next change number. A refused change
    /// (`NotAllowed`, `NoSuchMessage`, `Unchanged`, `TooManyReactions`,
    /// `TooManyPins`)
    /// writes nothing.
    async fn change_message(
        &self,
        channel: &ChannelId,
        seq: Seq,
        change: MessageChange<'_>,
    ) -> Result<ChangeOutcome, StoreError>;

    /// The pinned messages of `channel`, most recently pinned first, with
    /// the reactions of `reader` marked; `None` if `reader` is not a member.
    async fn pinned_messages(
        &self,
        channel: &ChannelId,
        reader: &UserId,
    ) -> Result<Option<Vec<ChatMessage>>, StoreError>;

    /// Sets a message's link preview as a change (new change number) and
    /// returns the message's new state; `None` if it is gone or deleted.
    async fn set_preview(
        &self,
        channel: &ChannelId,
        seq: Seq,
        preview: &LinkPreview,
    ) -> Result<Option<ChatMessage>, StoreError>;

    /// Stores a batch of messages in one transaction, in order: all of them
    /// are committed or none is. Resends are answered with what was stored
    /// first; each channel's counters are bumped once; new messages are
    /// numbered without gaps in the order given.
    async fn insert_messages(&self, batch: &[NewMessage]) -> Result<Inserted, StoreError>;
}

/// What a dialect reads beside a message's row (its reactions and files);
/// the steps of reading a page that every dialect shares are the provided
/// methods.
#[allow(async_fn_in_trait)]
pub(crate) trait Details: Channels {
    /// Fills in the reactions of these messages (all from `channel`): per
    /// emoji, in the order first used, how many reacted, the first
    /// `REACTION_NAMES_SHOWN` of them, and whether `reader` did.
    async fn attach_reactions(
        &self,
        channel: &ChannelId,
        messages: &mut [ChatMessage],
        reader: Option<&UserId>,
    ) -> Result<(), StoreError>;

    /// Fills in the attachments of these messages (all from `channel`);
    /// deleted messages keep none.
    async fn attach_files(
        &self,
        channel: &ChannelId,
        messages: &mut [ChatMessage],
    ) -> Result<(), StoreError>;

    /// The rows of a page whose query asked for membership too: they stand
    /// as they are, and only an empty page costs a second look, to tell "no
    /// messages" from "not a member" (`None`).
    async fn rows_for_member(
        &self,
        rows: Vec<MessageRow>,
        channel: &ChannelId,
        reader: &UserId,
    ) -> Result<Option<Vec<MessageRow>>, StoreError> {
        if rows.is_empty() && !self.is_member(reader, channel).await? {
            return Ok(None);
        }
        Ok(Some(rows))
    }

    /// Fills in the first repliers of these thread parents (all from `channel`).
    async fn attach_repliers(
        &self,
        channel: &ChannelId,
        messages: &mut [ChatMessage],
    ) -> Result<(), StoreError>;

    /// Messages from rows of `select_messages!`, with their reactions (the
    /// reactions of `reader` marked, when given), files and repliers.
    async fn with_details(
        &self,
        channel: &ChannelId,
        rows: &[MessageRow],
        reader: Option<&UserId>,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let mut messages: Vec<ChatMessage> = rows.iter().map(MessageRow::message).collect();
        if rows.iter().any(|row| row.has_reactions) {
            self.attach_reactions(channel, &mut messages, reader)
                .await?;
        }
        if rows.iter().any(|row| row.has_files) {
            self.attach_files(channel, &mut messages).await?;
        }
        if rows.iter().any(|row| row.reply_count > 0) {
            self.attach_repliers(channel, &mut messages).await?;
        }
        Ok(messages)
    }
}

/// A message query in any dialect: the columns of a [`MessageRow`], then
/// `$rest` (a WHERE clause and ordering). Every message query goes through
/// it. The two flags say whether the message has reactions or files, so a
/// page without any costs no further round trip.
macro_rules! select_messages {
    ($rest:literal) => {
        concat!(
            "SELECT m.channel_id, m.seq, m.client_id, m.body, m.sent_at, m.edited_at, m.deleted,
                    m.removed_by IS NOT NULL AS removed,
                    m.change_no, m.preview, u.id AS author_id, u.name AS author_name,
                    m.pinned_at, pu.id AS pinned_by_id, pu.name AS pinned_by_name,
                    m.thread_seq, m.in_channel, t.author_id AS thread_author,
                    m.reply_count, m.last_reply_seq, m.last_reply_at,
                    EXISTS (SELECT 1 FROM reactions r
                            WHERE r.channel_id = m.channel_id AND r.seq = m.seq) AS has_reactions,
                    EXISTS (SELECT 1 FROM files f
                            WHERE f.channel_id = m.channel_id AND f.seq = m.seq) AS has_files
             FROM messages m JOIN users u ON u.id = m.author_id
                  LEFT JOIN users pu ON pu.id = m.pinned_by
                  LEFT JOIN messages t ON t.channel_id = m.channel_id AND t.seq = m.thread_seq ",
            $rest
        )
    };
}
pub(crate) use select_messages;

/// A message row as [`select_messages`] reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    channel_id: String,
    seq: Seq,
    client_id: String,
    body: String,
    sent_at: i64,
    edited_at: Option<i64>,
    deleted: bool,
    removed: bool,
    change_no: i64,
    preview: Option<String>,
    author_id: String,
    author_name: String,
    pinned_at: Option<i64>,
    pinned_by_id: Option<String>,
    pinned_by_name: Option<String>,
    thread_seq: Option<Seq>,
    in_channel: bool,
    thread_author: Option<String>,
    pub reply_count: i64,
    last_reply_seq: Option<Seq>,
    last_reply_at: Option<i64>,
    pub has_reactions: bool,
    pub has_files: bool,
}

impl MessageRow {
    /// The channel the message is in.
    pub(crate) fn channel_id(&self) -> &str {
        &self.channel_id
    }

    /// The message, without its reactions and files yet.
    pub(crate) fn message(&self) -> ChatMessage {
        ChatMessage {
            channel: ChannelId(self.channel_id.clone()),
            seq: self.seq,
            // Only ids that passed `ClientMsgId::parse` are ever stored.
            client_id: ClientMsgId::parse(&self.client_id)
                .unwrap_or_else(|_| ClientMsgId::parse("invalid").expect("a literal valid id")),
            author: UserInfo {
                id: UserId(self.author_id.clone()),
                name: self.author_name.clone(),
            },
            text: self.body.clone(),
            sent_at: self.sent_at,
            edited_at: self.edited_at,
            deleted: self.deleted,
            removed: self.removed,
            reactions: Vec::new(),
            attachments: Vec::new(),
            preview: super::link_cache::from_json(self.preview.clone()).map(Box::new),
            pinned: self.pinned(),
            thread: self.thread(),
            replies: self.replies(),
            change: ChangeNo(self.change_no),
        }
    }
}

impl MessageRow {
    /// The thread a reply is in.
    fn thread(&self) -> Option<Box<InThread>> {
        Some(Box::new(InThread {
            root: self.thread_seq?,
            root_author: UserId(self.thread_author.clone()?),
            also_in_channel: self.in_channel,
        }))
    }

    /// A parent's thread summary (repliers filled in later).
    fn replies(&self) -> Option<Box<Replies>> {
        (self.reply_count > 0).then(|| {
            Box::new(Replies {
                count: u32::try_from(self.reply_count).unwrap_or(u32::MAX),
                last_seq: self.last_reply_seq.unwrap_or_default(),
                last_at: self.last_reply_at.unwrap_or_default(),
                repliers: Vec::new(),
            })
        })
    }

    /// Who pinned the message and when, if it is pinned.
    fn pinned(&self) -> Option<Box<Pinned>> {
        Some(Box::new(Pinned {
            by: UserInfo {
                id: UserId(self.pinned_by_id.clone()?),
                name: self.pinned_by_name.clone()?,
            },
            at: self.pinned_at?,
        }))
    }
}

/// The lowest and highest sequence number of some messages (held in order).
pub(crate) fn seq_range(messages: &[ChatMessage]) -> Option<(Seq, Seq)> {
    let (first, last) = (messages.first()?, messages.last()?);
    Some((first.seq.min(last.seq), first.seq.max(last.seq)))
}

/// A page read newest first with one row more than `limit`: the rows to
/// show (at most `limit`) and whether older ones are left.
pub(crate) fn newest_rows(mut rows: Vec<MessageRow>, limit: u32) -> (Vec<MessageRow>, bool) {
    let has_older = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    (rows, has_older)
}

/// A page from messages read newest first: shown oldest first.
pub(crate) fn oldest_first(mut messages: Vec<ChatMessage>, has_older: bool) -> Page {
    messages.reverse();
    Page {
        messages,
        has_older,
    }
}

/// One replier row: the parent's number and one person who replied (the
/// first few, in the order they first replied).
pub(crate) type ReplierRow = (Seq, String, String);

/// Adds replier rows to their thread parents.
pub(crate) fn add_repliers(messages: &mut [ChatMessage], rows: Vec<ReplierRow>) {
    for (seq, id, name) in rows {
        if let Some(replies) = messages
            .iter_mut()
            .find(|m| m.seq == seq)
            .and_then(|m| m.replies.as_mut())
        {
            replies.repliers.push(UserInfo {
                id: UserId(id),
                name,
            });
        }
    }
}

/// Whether a conversation may hold `pinned` pinned messages (counted with
/// the one just pinned).
pub(crate) fn pins_allowed(pinned: i64) -> bool {
    pinned <= MAX_PINS as i64
}

/// Whether one more reaction may go on a message that has `distinct`
/// different emoji, `mine` of them by this user, and already this emoji
/// (`present`) or not.
pub(crate) fn reaction_allowed(distinct: i64, mine: i64, present: bool) -> bool {
    (present || distinct < MAX_REACTION_EMOJI as i64) && mine < MAX_REACTIONS_PER_USER as i64
}

/// One reaction row: the message, the emoji, one person who reacted (the
/// first few by time), how many reacted with it, and whether the reader did
/// (`None` when nobody reads).
pub(crate) type ReactionRow = (Seq, String, String, String, i64, Option<bool>);

/// Adds reaction rows (in order: per message, emoji in the order first
/// used, people in the order they reacted) to their messages.
pub(crate) fn add_reactions(
    messages: &mut [ChatMessage],
    rows: Vec<ReactionRow>,
    reader: Option<&UserId>,
) {
    for (seq, emoji, id, name, total, mine) in rows {
        let user = UserInfo {
            id: UserId(id),
            name,
        };
        let Some(message) = messages.iter_mut().find(|m| m.seq == seq) else {
            continue;
        };
        match message.reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(reaction) => reaction.users.push(user),
            None => message.reactions.push(Reaction {
                emoji,
                users: vec![user],
                count: u32::try_from(total).unwrap_or(u32::MAX),
                mine: reader.map(|_| mine == Some(true)),
            }),
        }
    }
}

/// Whether an author may post in a channel now.
#[derive(Default)]
pub(crate) struct Right {
    pub member: bool,
    /// Someone in this direct conversation has blocked the author.
    pub blocked: bool,
    /// The author is muted until then (may be past).
    pub muted_until: Option<i64>,
    /// The channel is archived (read-only).
    pub archived: bool,
    /// The channel's slow mode (0: off), when the author last posted in
    /// it, and whether their role exempts them.
    pub slow_mode_seconds: i64,
    pub last_posted_at: Option<i64>,
    pub exempt: bool,
}

impl Right {
    /// Whether the author's posts here are paced by slow mode.
    pub fn paced(&self) -> bool {
        self.slow_mode_seconds > 0 && !self.exempt
    }
}

/// A thread parent as a batch's replies find it.
pub(crate) struct Root {
    pub author: UserId,
    /// Deleted, or a reply itself: no thread grows from it.
    pub closed: bool,
}

/// The parents the batch's replies name, by channel and number.
pub(crate) type Roots = HashMap<(ChannelId, Seq), Root>;

/// The distinct parents a batch's replies name.
pub(crate) fn roots_named(batch: &[NewMessage]) -> Vec<(&ChannelId, Seq)> {
    let mut named: Vec<(&ChannelId, Seq)> = batch
        .iter()
        .filter_map(|m| Some((&m.channel, m.thread?.root)))
        .collect();
    named.sort();
    named.dedup();
    named
}

/// A channel's counters while a batch is numbered.
pub(crate) struct Counter {
    pub last_seq: Seq,
    pub last_change: i64,
    pub direct: bool,
    pub touched: bool,
}

/// What a batch's messages were stored under before: `(author, client id)`.
pub(crate) type Earlier = HashMap<(UserId, String), ChatMessage>;

/// The change number a new reply gives its thread's parent (the one after
/// the reply's own).
pub(crate) fn root_change(reply: &ChatMessage) -> ChangeNo {
    ChangeNo(reply.change.0 + 1)
}

/// The key a message is found again by when it is sent again.
pub(crate) fn resend_key(message: &NewMessage) -> (UserId, String) {
    (
        message.author.id.clone(),
        message.client_id.as_str().to_owned(),
    )
}

/// Decides each message of a batch, in order, from what the dialect read
/// in the batch's transaction: `earlier` (messages stored under the same
/// keys), `rights`, the channels' `counters` (bumped here), whether each
/// message's attachments are distinct unposted uploads of its author in its
/// channel (`postable`, by position; only asked for new messages with
/// attachments), and the parents replies name (`roots`). New messages are
/// numbered in order and sent at `now`; a reply takes two change numbers,
/// its own and the next for its parent's new summary ([`root_change`]).
pub(crate) fn decide_batch(
    batch: &[NewMessage],
    earlier: &mut Earlier,
    rights: &HashMap<(ChannelId, UserId), Right>,
    counters: &mut HashMap<ChannelId, Counter>,
    postable: &[bool],
    roots: &Roots,
    now: i64,
) -> Vec<Stored> {
    let mut claimed: HashSet<&str> = HashSet::new();
    // Authors who posted in a slow channel earlier in this batch.
    let mut paced: HashSet<(ChannelId, UserId)> = HashSet::new();
    let mut stored = Vec::with_capacity(batch.len());
    for (message, postable) in batch.iter().zip(postable) {
        let key = resend_key(message);
        if let Some(original) = earlier.get(&key) {
            // The same id in another conversation is a different message
            // that cannot be stored under it: acknowledging it would lose it.
            stored.push(if original.channel == message.channel {
                Stored::Duplicate(original.clone())
            } else {
                Stored::ClientIdReused(message.clone())
            });
            continue;
        }
        if !message.attachments.is_empty()
            && (message
                .attachments
                .iter()
                .any(|file| claimed.contains(file.0.as_str()))
                || !postable)
        {
            stored.push(Stored::InvalidAttachments(message.clone()));
            continue;
        }
        // Members only, before anything else is told about the channel.
        let right = match rights.get(&(message.channel.clone(), message.author.id.clone())) {
            Some(right) if right.member => right,
            _ => {
                stored.push(Stored::NotAMember(message.clone()));
                continue;
            }
        };
        if right.blocked {
            stored.push(Stored::Blocked(message.clone()));
            continue;
        }
        if right.muted_until.is_some_and(|until| until > now) {
            stored.push(Stored::Muted(message.clone()));
            continue;
        }
        if right.archived {
            stored.push(Stored::Archived(message.clone()));
            continue;
        }
        if right.paced() {
            let pair = (message.channel.clone(), message.author.id.clone());
            let recent = right
                .last_posted_at
                .is_some_and(|at| at + right.slow_mode_seconds * 1000 > now);
            if recent || paced.contains(&pair) {
                stored.push(Stored::SlowMode(message.clone()));
                continue;
            }
            paced.insert(pair);
        }
        let thread = match message.thread {
            None => None,
            Some(reply) => match roots.get(&(message.channel.clone(), reply.root)) {
                Some(root) if !root.closed => Some(Box::new(InThread {
                    root: reply.root,
                    root_author: root.author.clone(),
                    also_in_channel: reply.also_in_channel,
                })),
                _ => {
                    stored.push(Stored::NoSuchThread(message.clone()));
                    continue;
                }
            },
        };
        let Some(counter) = counters.get_mut(&message.channel) else {
            stored.push(Stored::NotAMember(message.clone()));
            continue;
        };
        counter.last_seq += 1;
        counter.last_change += 1;
        let change = counter.last_change;
        if thread.is_some() {
            counter.last_change += 1;
        }
        counter.touched = true;
        claimed.extend(message.attachments.iter().map(|file| file.0.as_str()));
        let new = ChatMessage {
            channel: message.channel.clone(),
            seq: counter.last_seq,
            client_id: message.client_id.clone(),
            author: message.author.clone(),
            text: message.text.clone(),
            sent_at: now,
            edited_at: None,
            deleted: false,
            removed: false,
            reactions: Vec::new(),
            attachments: Vec::new(),
            preview: None,
            pinned: None,
            thread,
            replies: None,
            change: ChangeNo(change),
        };
        earlier.insert(key, new.clone());
        stored.push(Stored::New(new));
    }
    stored
}

/// The authors whose new messages were paced by slow mode: their last post
/// time in those channels is written down with the batch.
pub(crate) fn paced_posters(
    stored: &[Stored],
    rights: &HashMap<(ChannelId, UserId), Right>,
) -> Vec<(ChannelId, UserId)> {
    let mut posters: Vec<(ChannelId, UserId)> = stored
        .iter()
        .filter_map(|outcome| match outcome {
            Stored::New(message) => Some((message.channel.clone(), message.author.id.clone())),
            _ => None,
        })
        .filter(|pair| rights.get(pair).is_some_and(Right::paced))
        .collect();
    posters.sort();
    posters.dedup();
    posters
}

#[cfg(test)]
mod tests {
    use shared::FileId;

    use super::*;

    fn user(name: &str) -> UserInfo {
        UserInfo {
            id: UserId(name.into()),
            name: name.into(),
        }
    }

    fn message(channel: &str, author: &str, id: &str, files: &[&str]) -> NewMessage {
        NewMessage {
            channel: ChannelId(channel.into()),
            author: user(author),
            client_id: ClientMsgId::parse(id).unwrap(),
            text: format!("{id} from {author}"),
            attachments: files.iter().map(|f| FileId((*f).into())).collect(),
            everyone: None,
            thread: None,
        }
    }

    fn reply(channel: &str, author: &str, id: &str, root: Seq) -> NewMessage {
        NewMessage {
            thread: Some(crate::store::ReplyTo {
                root,
                also_in_channel: false,
            }),
            ..message(channel, author, id, &[])
        }
    }

    fn counter(last_seq: Seq) -> Counter {
        Counter {
            last_seq,
            last_change: last_seq * 10,
            direct: false,
            touched: false,
        }
    }

    fn outcome(stored: &Stored) -> String {
        match stored {
            Stored::New(m) => format!("new {}#{} change {}", m.channel.0, m.seq, m.change.0),
            Stored::Duplicate(m) => format!("duplicate of {}#{}", m.channel.0, m.seq),
            Stored::NotAMember(_) => "not a member".into(),
            Stored::InvalidAttachments(_) => "invalid attachments".into(),
            Stored::ClientIdReused(_) => "id reused".into(),
            Stored::Blocked(_) => "blocked".into(),
            Stored::NoSuchThread(_) => "no such thread".into(),
            Stored::Muted(_) => "muted".into(),
            Stored::SlowMode(_) => "slow mode".into(),
            Stored::Archived(_) => "archived".into(),
        }
    }

    #[test]
    fn a_batch_is_numbered_per_channel_and_each_refusal_is_told_apart() {
        let batch = [
            message("a", "ann", "m1", &[]),
            message("b", "ann", "m2", &["f1"]),
            message("a", "ben", "m1", &[]),
            message("a", "ann", "m1", &[]), // sent twice in one batch
            message("b", "ann", "m1", &[]), // the same id in another conversation
            message("b", "ben", "m3", &["f1"]), // a file already posted in this batch
            message("c", "ann", "m4", &[]), // not a member
            message("d", "ann", "m5", &[]), // blocked in a direct conversation
            message("a", "ann", "m6", &["f2"]), // not an unposted upload of hers
            message("a", "ben", "m0", &[]), // stored before this batch
            message("e", "cat", "m7", &[]), // muted until after now
            message("e", "dan", "m8", &[]), // muted until before now
            message("f", "ann", "m9", &[]), // not a member of a slow channel
        ];
        let mut rights = HashMap::from([
            (
                (ChannelId("a".into()), UserId("ann".into())),
                Right {
                    member: true,
                    blocked: false,
                    muted_until: None,
                    ..Default::default()
                },
            ),
            (
                (ChannelId("a".into()), UserId("ben".into())),
                Right {
                    member: true,
                    blocked: false,
                    muted_until: None,
                    ..Default::default()
                },
            ),
            (
                (ChannelId("b".into()), UserId("ann".into())),
                Right {
                    member: true,
                    blocked: false,
                    muted_until: None,
                    ..Default::default()
                },
            ),
            (
                (ChannelId("b".into()), UserId("ben".into())),
                Right {
                    member: true,
                    blocked: false,
                    muted_until: None,
                    ..Default::default()
                },
            ),
            (
                (ChannelId("c".into()), UserId("ann".into())),
                Right {
                    member: false,
                    blocked: false,
                    muted_until: None,
                    ..Default::default()
                },
            ),
            (
                (ChannelId("d".into()), UserId("ann".into())),
                Right {
                    member: true,
                    blocked: true,
                    muted_until: None,
                    ..Default::default()
                },
            ),
        ]);
        rights.insert(
            (ChannelId("e".into()), UserId("cat".into())),
            Right {
                member: true,
                blocked: false,
                muted_until: Some(43),
                ..Default::default()
            },
        );
        rights.insert(
            (ChannelId("e".into()), UserId("dan".into())),
            Right {
                member: true,
                blocked: false,
                muted_until: Some(42),
                ..Default::default()
            },
        );
        rights.insert(
            (ChannelId("f".into()), UserId("ann".into())),
            Right {
                slow_mode_seconds: 30,
                ..Default::default()
            },
        );
        let mut counters = HashMap::from([
            (ChannelId("f".into()), counter(0)),
            (ChannelId("e".into()), counter(0)),
            (ChannelId("a".into()), counter(7)),
            (ChannelId("b".into()), counter(0)),
            (ChannelId("c".into()), counter(3)),
            (ChannelId("d".into()), counter(1)),
        ]);
        let stored_before = ChatMessage {
            channel: ChannelId("a".into()),
            seq: 5,
            client_id: ClientMsgId::parse("m0").unwrap(),
            author: user("ben"),
            text: "m0 from ben".into(),
            sent_at: 1,
            edited_at: None,
            deleted: false,
            removed: false,
            reactions: Vec::new(),
            attachments: Vec::new(),
            preview: None,
            pinned: None,
            thread: None,
            replies: None,
            change: ChangeNo(50),
        };
        let mut earlier =
            Earlier::from([((UserId("ben".into()), "m0".to_string()), stored_before)]);
        let postable = [
            true, true, true, true, true, true, true, true, false, true, true, true, true,
        ];

        let stored = decide_batch(
            &batch,
            &mut earlier,
            &rights,
            &mut counters,
            &postable,
            &Roots::new(),
            42,
        );
        let outcomes: Vec<String> = stored.iter().map(outcome).collect();
        assert_eq!(
            outcomes,
            [
                "new a#8 change 71",
                "new b#1 change 1",
                "new a#9 change 72",
                "duplicate of a#8",
                "id reused",
                "invalid attachments",
                "not a member",
                "blocked",
                "invalid attachments",
                "duplicate of a#5",
                "muted",
                "new e#1 change 1",
                "not a member",
            ]
        );
        assert!(
            stored
                .iter()
                .all(|s| !matches!(s, Stored::New(m) if m.sent_at != 42))
        );
        let touched: Vec<(&str, Seq, i64)> = {
            let mut touched: Vec<_> = counters
                .iter()
                .filter(|(_, c)| c.touched)
                .map(|(id, c)| (id.0.as_str(), c.last_seq, c.last_change))
                .collect();
            touched.sort();
            touched
        };
        assert_eq!(touched, [("a", 9, 72), ("b", 1, 1), ("e", 1, 1)]);
    }

    #[test]
    fn a_reply_needs_an_open_parent_and_takes_a_change_number_for_it() {
        let batch = [
            reply("a", "ann", "r1", 3),
            reply("a", "ann", "r2", 4), // deleted, or a reply itself
            reply("a", "ann", "r3", 9), // no such message
            message("a", "ann", "m1", &[]),
        ];
        let rights = HashMap::from([(
            (ChannelId("a".into()), UserId("ann".into())),
            Right {
                member: true,
                blocked: false,
                muted_until: None,
                ..Default::default()
            },
        )]);
        let mut counters = HashMap::from([(ChannelId("a".into()), counter(7))]);
        let roots = Roots::from([
            (
                (ChannelId("a".into()), 3),
                Root {
                    author: UserId("ben".into()),
                    closed: false,
                },
            ),
            (
                (ChannelId("a".into()), 4),
                Root {
                    author: UserId("ben".into()),
                    closed: true,
                },
            ),
        ]);
        let stored = decide_batch(
            &batch,
            &mut Earlier::new(),
            &rights,
            &mut counters,
            &[true; 4],
            &roots,
            42,
        );
        let outcomes: Vec<String> = stored.iter().map(outcome).collect();
        assert_eq!(
            outcomes,
            [
                "new a#8 change 71",
                "no such thread",
                "no such thread",
                "new a#9 change 73",
            ]
        );
        let Stored::New(first) = &stored[0] else {
            unreachable!()
        };
        let thread = first.thread.as_deref().expect("a reply names its thread");
        assert_eq!((thread.root, thread.root_author.0.as_str()), (3, "ben"));
        assert_eq!(root_change(first), ChangeNo(72));
    }
}

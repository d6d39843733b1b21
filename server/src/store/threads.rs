//! Threads: a parent's page of replies, the threads a person follows, and
//! how far they read each. Replies themselves are stored by the writer's
//! batched inserts with every other message (`Messages::insert_messages`),
//! which also brings the parent's summary up to date and records who
//! follows (the parent's author, the repliers, the people mentioned).

use shared::{ChannelId, ChatMessage, Seq, ThreadItem, UserId};

use super::{Channels, Messages, StoreError};

/// A thread as one reader sees it.
#[derive(Debug, Clone)]
pub struct ThreadPage {
    pub root: ChatMessage,
    /// Oldest first.
    pub replies: Vec<ChatMessage>,
    pub has_older: bool,
    pub following: bool,
}

/// Whether a reader follows a thread, and the last reply they read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Following {
    pub following: bool,
    pub read_seq: Seq,
}

/// What asking about a thread found.
#[derive(Debug, Clone)]
pub enum ThreadLookup<T> {
    Found(T),
    /// The reader is not a member of the conversation.
    NotAMember,
    /// No such message, or a reply (threads grow from other messages).
    NoSuchThread,
}

/// The threads aggregate: what each dialect reads and writes (the
/// required methods), and the checks every dialect makes the same way
/// before it (the provided ones: the reader is a member, the parent is a
/// message that is not a reply).
#[allow(async_fn_in_trait)]
pub trait Threads: Channels + Messages {
    /// Up to `limit` replies to `root` before `before_seq` (the newest of
    /// them, shown oldest first), as `reader` sees them, and whether older
    /// ones are left.
    async fn replies_before(
        &self,
        channel: &ChannelId,
        root: Seq,
        before_seq: Seq,
        limit: u32,
        reader: &UserId,
    ) -> Result<(Vec<ChatMessage>, bool), StoreError>;

    /// The reader's follow row of a thread, if any.
    async fn follow_row(
        &self,
        channel: &ChannelId,
        root: Seq,
        reader: &UserId,
    ) -> Result<Option<Following>, StoreError>;

    /// Creates or changes the reader's follow row: `follow` sets whether
    /// they follow, `read` moves their read mark forward (never back). A
    /// row made by reading alone does not follow.
    async fn write_follow_row(
        &self,
        channel: &ChannelId,
        root: Seq,
        reader: &UserId,
        follow: Option<bool>,
        read: Option<Seq>,
    ) -> Result<Following, StoreError>;

    /// The threads `reader` follows in conversations they are in and that
    /// have replies, the most recently replied to first: `(channel, parent,
    /// read mark)`.
    async fn followed_rows(
        &self,
        reader: &UserId,
        limit: u32,
    ) -> Result<Vec<(ChannelId, Seq, Seq)>, StoreError>;

    /// The parent `root` and up to `limit` of its replies before
    /// `before_seq`, as `reader` sees them.
    async fn thread(
        &self,
        channel: &ChannelId,
        root: Seq,
        before_seq: Seq,
        limit: u32,
        reader: &UserId,
    ) -> Result<ThreadLookup<ThreadPage>, StoreError> {
        let parent = match self.parent(channel, root, reader).await? {
            ThreadLookup::Found(parent) => parent,
            ThreadLookup::NotAMember => return Ok(ThreadLookup::NotAMember),
            ThreadLookup::NoSuchThread => return Ok(ThreadLookup::NoSuchThread),
        };
        let (replies, has_older) = self
            .replies_before(channel, root, before_seq, limit, reader)
            .await?;
        let following = self
            .follow_row(channel, root, reader)
            .await?
            .is_some_and(|row| row.following);
        Ok(ThreadLookup::Found(ThreadPage {
            root: parent,
            replies,
            has_older,
            following,
        }))
    }

    /// The parent of a thread `reader` may see.
    async fn parent(
        &self,
        channel: &ChannelId,
        root: Seq,
        reader: &UserId,
    ) -> Result<ThreadLookup<ChatMessage>, StoreError> {
        if !self.is_member(reader, channel).await? {
            return Ok(ThreadLookup::NotAMember);
        }
        match self.message(channel, root, Some(reader)).await? {
            Some(parent) if parent.thread.is_none() => Ok(ThreadLookup::Found(parent)),
            _ => Ok(ThreadLookup::NoSuchThread),
        }
    }

    /// The threads `reader` follows, as the threads view lists them.
    async fn followed_threads(
        &self,
        reader: &UserId,
        limit: u32,
    ) -> Result<Vec<ThreadItem>, StoreError> {
        let mut items = Vec::new();
        for (channel, root, read_seq) in self.followed_rows(reader, limit).await? {
            if let Some(root) = self.message(&channel, root, Some(reader)).await? {
                let last = root.replies.as_ref().map_or(0, |r| r.last_seq);
                items.push(ThreadItem {
                    unread: last > read_seq,
                    read_seq,
                    root,
                });
            }
        }
        Ok(items)
    }

    /// Follows or unfollows (`follow`) a thread, or, with `read`, records
    /// that `reader` read it up to that reply.
    async fn set_following(
        &self,
        channel: &ChannelId,
        root: Seq,
        reader: &UserId,
        follow: Option<bool>,
        read: Option<Seq>,
    ) -> Result<ThreadLookup<Following>, StoreError> {
        match self.parent(channel, root, reader).await? {
            ThreadLookup::Found(_) => Ok(ThreadLookup::Found(
                self.write_follow_row(channel, root, reader, follow, read)
                    .await?,
            )),
            ThreadLookup::NotAMember => Ok(ThreadLookup::NotAMember),
            ThreadLookup::NoSuchThread => Ok(ThreadLookup::NoSuchThread),
        }
    }
}

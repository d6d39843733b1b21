//! What goes into and comes out of the store, whatever the database.

use shared::validate::Username;
use shared::{
    Attachment, AttachmentKind, ChannelId, ChatMessage, ClientMsgId, FileId, UserId, UserInfo,
};

pub use shared::protocol::DEFAULT_CHANNEL;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the username is already taken")]
    NameTaken,
    #[error("the channel name is already taken")]
    ChannelNameTaken,
    #[error(
        "unsupported database url {0:?}: expected sqlite://path, sqlite::memory: \
         or postgres://user@host/database"
    )]
    UnsupportedUrl(String),
    #[error("could not create the database folder {path}: {source}")]
    CreateFolder {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The write this request was part of failed (the cause is logged once).
    #[error("the write it was part of failed: {0}")]
    BatchFailed(String),
    #[error("a PostgreSQL database is backed up with PostgreSQL's own tools (pg_dump)")]
    BackupByEngine,
    /// A batch kept meeting rows written meanwhile by another node.
    #[error("the batch kept conflicting with concurrent writes; it was not stored")]
    Conflict,
    #[error(
        "the database file is damaged ({0}); restore the latest backup \
         (see the README's \"Back up and restore\")"
    )]
    Damaged(String),
}

/// A signed-in browser session and its user.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub session_id: String,
    pub user: UserInfo,
    /// Whether the user has set a password.
    pub has_password: bool,
}

/// A sign-up to store: the name picked and the first session's token hash.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: Username,
    pub token_hash: String,
}

/// A message to store, already validated.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub channel: ChannelId,
    pub author: UserInfo,
    pub client_id: ClientMsgId,
    /// May be empty when there are attachments.
    pub text: String,
    /// Unposted uploads of the author in this channel, in order.
    pub attachments: Vec<FileId>,
    /// Whom its `@channel` or `@here` notifies besides the people it names.
    pub everyone: Option<EveryoneTo>,
    /// For a reply: its thread's parent, and whether it shows in the
    /// conversation too.
    pub thread: Option<ReplyTo>,
}

/// Where a reply goes: the thread of message `root`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyTo {
    pub root: shared::Seq,
    pub also_in_channel: bool,
}

/// Whom a message's `@channel` or `@here` notifies, decided when it is
/// posted: every member, or the members among these people (who were
/// online).
#[derive(Debug, Clone, PartialEq)]
pub enum EveryoneTo {
    Members,
    Among(Vec<UserId>),
}

/// What storing one message amounted to.
#[derive(Debug, Clone)]
pub enum Stored {
    /// Stored now, with a new sequence number.
    New(ChatMessage),
    /// The author had already sent this `client_id`; here is the stored original.
    Duplicate(ChatMessage),
    /// The author is not a member of the channel (any more): nothing stored.
    NotAMember(NewMessage),
    /// An attachment is not an unposted upload of the author in this channel.
    InvalidAttachments(NewMessage),
    /// The author used this `client_id` for a message in another conversation.
    ClientIdReused(NewMessage),
    /// Someone in this direct conversation has blocked the author.
    Blocked(NewMessage),
    /// A reply whose parent does not exist, is deleted, or is a reply itself.
    NoSuchThread(NewMessage),
    /// A moderator has muted the author for now.
    Muted(NewMessage),
    /// Slow mode: the author posted in this channel too recently.
    SlowMode(NewMessage),
    /// The channel is archived.
    Archived(NewMessage),
}

impl Stored {
    /// The channel the message was (or was not) stored in.
    pub fn channel(&self) -> &ChannelId {
        match self {
            Self::New(message) | Self::Duplicate(message) => &message.channel,
            Self::NotAMember(message)
            | Self::InvalidAttachments(message)
            | Self::ClientIdReused(message)
            | Self::Blocked(message)
            | Self::NoSuchThread(message)
            | Self::Muted(message)
            | Self::SlowMode(message)
            | Self::Archived(message) => &message.channel,
        }
    }
}

/// A change to an existing message.
#[derive(Debug, Clone)]
pub enum MessageChange<'a> {
    Edit {
        by: &'a UserId,
        text: &'a str,
    },
    Delete {
        by: &'a UserId,
        text: &'a str,
    },
    /// A moderator deletes someone's message (the caller checked the
    /// role); it shows as removed by a moderator and goes in the audit log.
    Remove {
        by: &'a UserId,
    },
    React {
        by: &'a UserId,
        emoji: &'a str,
        add: bool,
    },
    /// Pin (`pinned`) or unpin; any member may.
    Pin {
        by: &'a UserId,
        pinned: bool,
    },
}

/// What a message change amounted to.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "Changed is the common outcome; boxing it would only add an allocation"
)]
pub enum ChangeOutcome {
    /// Stored; here is the message's new state.
    Changed(ChatMessage),
    /// Nothing to do (the reaction was already there, or already gone).
    Unchanged,
    NoSuchMessage,
    /// Only the author may edit or delete.
    NotAllowed,
    /// The message has as many different emoji as it may, or the user has
    /// put as many reactions on it as they may.
    TooManyReactions,
    /// The conversation already has as many pins as it may.
    TooManyPins,
}

/// A page of messages, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub messages: Vec<ChatMessage>,
    /// Whether older messages exist before the first one.
    pub has_older: bool,
}

/// What a batch of inserts amounted to.
#[derive(Debug, Default)]
pub struct Inserted {
    /// One outcome per message, in order.
    pub stored: Vec<Stored>,
    /// Members who had hidden a direct conversation that now has a new
    /// message: it is back in their list.
    pub unhidden: Vec<(ChannelId, UserId)>,
}

/// An uploaded file to record (its bytes are already in the files folder).
#[derive(Debug, Clone)]
pub struct NewFile {
    pub channel: ChannelId,
    pub uploader: UserId,
    pub name: String,
    pub kind: AttachmentKind,
    pub mime: String,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub sha256: String,
    pub thumb_sha256: Option<String>,
}

/// A file someone may fetch, and where its bytes are.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub attachment: Attachment,
    pub sha256: String,
    pub thumb_sha256: Option<String>,
}

//! WebSocket frames: JSON text frames, internally tagged by `"type"`.
//!
//! A connection goes: server sends `welcome`; client sends `sync` for each
//! channel with the last sequence number it has; from then on the server pushes
//! `message`, `user_joined` and `user_left`, answers each `send` with `ack`
//! (or `error` carrying the same `client_id`), and each `history` with `history`.

use serde::{Deserialize, Serialize};

use crate::community::{Invite, ServerSettings};
use crate::ids::{ChangeNo, ChannelId, ClientMsgId, FileId, Seq, UserId};
use crate::roles::{AdminUser, AuditEntry, Report, Role};

/// WebSocket close code for the sockets of a session that was signed out
/// (sign out, sign out everywhere, a password change): the client goes back
/// to the name prompt instead of reconnecting.
pub const CLOSE_SIGNED_OUT: u16 = 4001;

/// The public channel every user is in from the start.
pub const DEFAULT_CHANNEL: &str = "general";

/// The User Timing mark the web app sets when the name prompt first shows
/// (the first-load measurements read it).
pub const PROMPT_READY_MARK: &str = "chat:name-prompt-ready";

/// What a browser sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Post a message. A resend with the same `client_id` is acknowledged
    /// again and never stored or broadcast twice. `attachments` are files this
    /// user uploaded to this channel and has not posted yet (`text` is then an
    /// optional caption and may be empty).
    Send {
        channel: ChannelId,
        client_id: ClientMsgId,
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<FileId>,
    },
    /// Reply in the thread of message `root` (a message of `channel` that
    /// is not itself a reply). Like `send` in every other way: acked after
    /// the commit, resent safely under the same `client_id`. With
    /// `also_to_channel`, the reply shows in the conversation too.
    Reply {
        channel: ChannelId,
        root: Seq,
        client_id: ClientMsgId,
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<FileId>,
        #[serde(default)]
        also_to_channel: bool,
    },
    /// A thread: its parent and a page of its replies (the newest, or those
    /// before `before_seq`).
    Thread {
        channel: ChannelId,
        root: Seq,
        #[serde(default)]
        before_seq: Option<Seq>,
    },
    /// The threads you follow in conversations you are in, the most
    /// recently active first.
    Threads,
    /// You have read thread `root` up to reply `seq` (every tab of yours
    /// hears `thread_read`).
    ReadThread {
        channel: ChannelId,
        root: Seq,
        seq: Seq,
    },
    /// Follow (or with `follow: false` stop following) a thread.
    FollowThread {
        channel: ChannelId,
        root: Seq,
        follow: bool,
    },
    /// Catch up: everything after `after_seq`, or the latest page when `None`.
    /// With `after_change`, also the held messages (seq <= `after_seq`) that
    /// were edited, deleted or reacted to since that change number.
    Sync {
        channel: ChannelId,
        after_seq: Option<Seq>,
        #[serde(default)]
        after_change: Option<ChangeNo>,
    },
    /// Scroll-back: up to `limit` messages older than `before_seq`.
    History {
        channel: ChannelId,
        before_seq: Seq,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// The messages around `seq` (a jump to a search result or a link):
    /// a few before it, the message, a page after it.
    Around { channel: ChannelId, seq: Seq },
    /// Scrolling down from a jump: the page after `after_seq`.
    Newer { channel: ChannelId, after_seq: Seq },
    /// Search the messages you can read (see [`crate::search`] for what
    /// `query` may say), newest first; `before` is the previous page's `next`.
    Search {
        query: String,
        #[serde(default)]
        before: Option<i64>,
    },
    /// Create a channel; the creator is its first member.
    CreateChannel {
        name: String,
        #[serde(default)]
        topic: String,
        #[serde(default)]
        private: bool,
    },
    /// Search public channels by name or topic (empty query: all).
    BrowseChannels {
        #[serde(default)]
        query: String,
    },
    /// Join a public channel.
    JoinChannel { channel: ChannelId },
    /// Leave a channel or a group conversation; a direct conversation with
    /// one person is hidden instead, until its next message.
    LeaveChannel { channel: ChannelId },
    /// Add a user to a channel you are in.
    Invite { channel: ChannelId, user: UserId },
    /// Remove a member (only the channel's creator may).
    RemoveMember { channel: ChannelId, user: UserId },
    /// Change a channel's topic (any member).
    SetTopic { channel: ChannelId, topic: String },
    /// Open (or find) the direct conversation with these users (1 to 7 others).
    OpenDirect { users: Vec<UserId> },
    /// Who is in a channel.
    Members { channel: ChannelId },
    /// Say you are typing in a channel (send at most every few seconds).
    Typing { channel: ChannelId },
    /// Replace the text of your own message.
    Edit {
        channel: ChannelId,
        seq: Seq,
        text: String,
    },
    /// Delete your own message; moderators and above may remove anyone's
    /// (it shows as removed by a moderator, and goes in the audit log).
    Delete { channel: ChannelId, seq: Seq },
    /// Add (or with `add: false` take back) your reaction to a message.
    React {
        channel: ChannelId,
        seq: Seq,
        emoji: String,
        add: bool,
    },
    /// Pin (or with `pinned: false` unpin) a message of a conversation you
    /// are in; everyone in it sees the message's new state.
    Pin {
        channel: ChannelId,
        seq: Seq,
        pinned: bool,
    },
    /// The pinned messages of a conversation you are in, most recently
    /// pinned first.
    Pins { channel: ChannelId },
    /// Everything up to `seq` has been read.
    MarkRead { channel: ChannelId, seq: Seq },
    /// How a conversation notifies you (every tab of yours hears
    /// `notify_changed`).
    SetNotify {
        channel: ChannelId,
        level: NotifyLevel,
    },
    /// The newest messages that mention you (by name, `@channel` or
    /// `@here`) in conversations you are in, newest first.
    Mentions,
    /// Block (or with `blocked: false` unblock) a user: they can no longer
    /// start a conversation with you, invite you, or write to you directly.
    Block { user: UserId, blocked: bool },
    /// Away after idling, or back.
    SetAway { away: bool },
    /// People with an account whose name contains `query` (everyone when
    /// empty), by name, a page at a time; `after` is the previous page's `next`.
    ListUsers {
        #[serde(default)]
        query: String,
        #[serde(default)]
        after: Option<String>,
    },
    /// A page of who is online, by name, optionally only names containing
    /// `query`; `after` is the `next` of the previous page. The people on the
    /// page are then kept up to date for this connection (`presence`).
    OnlineMembers {
        #[serde(default)]
        query: String,
        #[serde(default)]
        after: Option<String>,
    },
    /// Moderators and above: people with their roles and standing, by
    /// name, a page at a time (as `list_users`).
    AdminUsers {
        #[serde(default)]
        query: String,
        #[serde(default)]
        after: Option<String>,
    },
    /// Change someone's role (see [`Role::may_assign`]).
    SetRole { user: UserId, role: Role },
    /// Mute someone for `minutes` (at most
    /// [`MAX_MUTE_MINUTES`](crate::limits::MAX_MUTE_MINUTES)): they can
    /// read but not post, reply, edit or react. `0` unmutes.
    Mute { user: UserId, minutes: u32 },
    /// Deactivate (`active: false`) someone: every session and socket of
    /// theirs ends at once and they cannot sign in; their messages stay.
    /// `active: true` lets them sign in again.
    SetActive { user: UserId, active: bool },
    /// Admins and above: the audit log, newest first, entries before the
    /// id `before`.
    AuditLog {
        #[serde(default)]
        before: Option<i64>,
    },
    /// The server's settings (anyone signed in may read them).
    ServerSettings,
    /// Admins and above: change the server's settings.
    SetServerSettings { settings: ServerSettings },
    /// Create an invite link valid for `hours` (at most
    /// [`MAX_INVITE_HOURS`](crate::limits::MAX_INVITE_HOURS)) and `uses`
    /// sign-ups (at most [`MAX_INVITE_USES`](crate::limits::MAX_INVITE_USES)):
    /// admins, and members when the settings allow.
    CreateInvite { hours: u32, uses: u32 },
    /// The invite links still valid: all of them for admins, your own otherwise.
    Invites,
    /// Report a message you can read to the moderators, saying why (at
    /// most [`MAX_REPORT_REASON_CHARS`](crate::limits::MAX_REPORT_REASON_CHARS)).
    Report {
        channel: ChannelId,
        seq: Seq,
        reason: String,
    },
    /// Moderators and above: the open reports, newest first.
    Reports,
    /// Moderators and above: close a report (and every other one on the
    /// same message), removing the message or dismissing the report.
    ResolveReport { id: String, remove: bool },
    /// Moderators and above: slow mode in a channel (one of
    /// [`SLOW_MODE_CHOICES`](crate::limits::SLOW_MODE_CHOICES); 0 is off).
    SetSlowMode { channel: ChannelId, seconds: u32 },
    /// Admins and above: archive (read-only, hidden from browsing) or
    /// restore a channel.
    ArchiveChannel { channel: ChannelId, archived: bool },
    /// Admins and above: give a channel another name (not the default
    /// channel; not a name another channel has).
    RenameChannel { channel: ChannelId, name: String },
}

/// The `type` tags `ClientMsg` understands, to tell an unknown type from a malformed frame.
pub const CLIENT_MSG_TYPES: &[&str] = &[
    "send",
    "sync",
    "history",
    "around",
    "newer",
    "search",
    "create_channel",
    "browse_channels",
    "join_channel",
    "leave_channel",
    "invite",
    "remove_member",
    "set_topic",
    "open_direct",
    "members",
    "typing",
    "mark_read",
    "block",
    "edit",
    "delete",
    "react",
    "set_away",
    "list_users",
    "online_members",
    "pin",
    "pins",
    "set_notify",
    "mentions",
    "reply",
    "thread",
    "threads",
    "read_thread",
    "follow_thread",
    "admin_users",
    "set_role",
    "mute",
    "set_active",
    "audit_log",
    "server_settings",
    "set_server_settings",
    "create_invite",
    "invites",
    "report",
    "reports",
    "resolve_report",
    "set_slow_mode",
    "archive_channel",
    "rename_channel",
];

/// At most this many people in `welcome`'s online list and in an
/// `online_members` page. Up to this many online, everyone sees everyone
/// come and go one by one; beyond it, a connection hears about the people it
/// was shown, and about the rest in coalesced `presence_summary` frames.
pub const ONLINE_PAGE: usize = 100;

/// At most this many people in a `users` page.
pub const USERS_PAGE: usize = 200;

/// Why a text frame is not a `ClientMsg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMsgError {
    /// Not JSON, not an object, or no string `type`.
    Malformed(String),
    /// A `type` this server does not know.
    UnknownType(String),
    /// A known `type` whose fields are missing or wrong.
    InvalidFields(String),
}

impl ClientMsg {
    /// Parses a text frame, telling malformed JSON, unknown types and bad
    /// fields apart. A good frame is parsed once, straight into the enum;
    /// only a refused one is looked at again to say why.
    pub fn parse(frame: &str) -> Result<Self, ClientMsgError> {
        let error = match serde_json::from_str(frame) {
            Ok(message) => return Ok(message),
            Err(error) => error,
        };
        /// Just the tag of a frame (other fields are skipped, not kept).
        #[derive(Deserialize)]
        struct Tag<'a> {
            #[serde(rename = "type", borrow)]
            kind: std::borrow::Cow<'a, str>,
        }
        if let Err(syntax) = serde_json::from_str::<serde::de::IgnoredAny>(frame) {
            return Err(ClientMsgError::Malformed(format!(
                "frame is not valid JSON: {syntax}"
            )));
        }
        let kind = serde_json::from_str::<Tag>(frame)
            .ok()
            .filter(|_| frame.trim_start().starts_with('{'))
            .ok_or_else(|| {
                ClientMsgError::Malformed(
                    "frame must be a JSON object with a string \"type\"".into(),
                )
            })?
            .kind;
        if !CLIENT_MSG_TYPES.contains(&kind.as_ref()) {
            return Err(ClientMsgError::UnknownType(kind.chars().take(64).collect()));
        }
        Err(ClientMsgError::InvalidFields(error.to_string()))
    }
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// First frame on every connection: who you are, your channels, who is online.
    Welcome {
        user: UserInfo,
        channels: Vec<ChannelInfo>,
        /// Who is online: everyone when they are at most [`ONLINE_PAGE`],
        /// otherwise the people you have conversations with and the most
        /// recently active (see `online_count`).
        online: Vec<UserInfo>,
        /// How many are online in all.
        #[serde(default)]
        online_count: u32,
        /// Online users who are idle.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        away: Vec<UserId>,
        /// Largest file this server accepts, in bytes.
        #[serde(default)]
        max_upload_bytes: u64,
        /// Largest conversation where `@channel` and `@here` notify.
        #[serde(default)]
        mention_everyone_max_members: u32,
        /// The people you have blocked.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        blocked: Vec<UserId>,
        /// Your role on this server.
        #[serde(default)]
        role: Role,
        /// You are muted until then (ms since the epoch).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        muted_until: Option<i64>,
        /// A name for the database's history: when it differs from the one
        /// a client saw before, the database was restored (sequence numbers
        /// may have gone back) and the client drops what it cached.
        #[serde(default)]
        epoch: String,
    },
    /// A new message in a channel you are in (not sent to the connection that posted it).
    Message { message: ChatMessage },
    /// Your message `client_id` is durably stored as `seq`.
    Ack {
        channel: ChannelId,
        client_id: ClientMsgId,
        seq: Seq,
        sent_at: i64,
    },
    /// Answer to `sync`, oldest first. `complete: false` means ask again after the last one.
    Synced {
        channel: ChannelId,
        messages: Vec<ChatMessage>,
        has_older: bool,
        complete: bool,
        /// Held messages changed since `after_change` (edited, deleted, reactions).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        updated: Vec<ChatMessage>,
    },
    /// A message was edited, deleted or reacted to: its whole new state.
    MessageUpdated { message: ChatMessage },
    /// Answer to `history`, oldest first.
    History {
        channel: ChannelId,
        messages: Vec<ChatMessage>,
        has_older: bool,
    },
    /// Answer to `around`, oldest first (`seq` is among them unless it was
    /// deleted for good). When `seq` is a reply shown only in its thread,
    /// the window is around its parent and `thread` names the parent.
    Around {
        channel: ChannelId,
        seq: Seq,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread: Option<Seq>,
        messages: Vec<ChatMessage>,
        has_older: bool,
        has_newer: bool,
    },
    /// Answer to `newer`, oldest first.
    Newer {
        channel: ChannelId,
        messages: Vec<ChatMessage>,
        has_newer: bool,
    },
    /// A conversation's notification setting changed (by one of your tabs).
    NotifyChanged {
        channel: ChannelId,
        level: NotifyLevel,
    },
    /// Answer to `thread`: the parent, and replies oldest first.
    Thread {
        channel: ChannelId,
        root: ChatMessage,
        replies: Vec<ChatMessage>,
        has_older: bool,
        /// Whether you follow it (see [`ThreadItem`]).
        following: bool,
    },
    /// Answer to `threads`: at most
    /// [`THREADS_SHOWN`](crate::limits::THREADS_SHOWN).
    Threads { threads: Vec<ThreadItem> },
    /// You (in some tab) followed or stopped following a thread, or read it
    /// up to `read_seq`.
    ThreadState {
        channel: ChannelId,
        root: Seq,
        following: bool,
        read_seq: Seq,
    },
    /// Answer to `mentions`: at most
    /// [`MENTIONS_SHOWN`](crate::limits::MENTIONS_SHOWN), newest first.
    Mentions { messages: Vec<ChatMessage> },
    /// Answer to `pins`: the pinned messages, most recently pinned first
    /// (as many as fit in one reply).
    Pins {
        channel: ChannelId,
        messages: Vec<ChatMessage>,
    },
    /// Answer to `search`: a page of results, newest first, with the words
    /// to mark in them.
    SearchResults {
        query: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<i64>,
        results: Vec<ChatMessage>,
        highlight: crate::search::Highlighter,
        /// Ask with `before: next` for older results; none when this is the last page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<i64>,
    },
    /// A user came online (their first connection opened).
    UserJoined { user: UserInfo },
    /// A user went offline (their last connection closed).
    UserLeft { user: UserInfo },
    /// Comings and goings since the last summary, for a connection that does
    /// not see everyone (more than [`ONLINE_PAGE`] online): at most one
    /// every second, the first few names and how many more.
    PresenceSummary {
        online_count: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        joined: Vec<UserInfo>,
        #[serde(default)]
        joined_others: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        left: Vec<UserInfo>,
        #[serde(default)]
        left_others: u32,
    },
    /// Answer to `online_members`: a page of who is online, by name.
    OnlineMembers {
        query: String,
        users: Vec<UserPresence>,
        /// Ask with `after: next` for the following page; none when this is the last.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
        online_count: u32,
    },
    /// You are now in this channel (created, joined, invited, or a new direct conversation).
    ChannelJoined { channel: ChannelInfo },
    /// You are no longer in this channel; its events stop.
    ChannelLeft { channel: ChannelId, reason: String },
    /// Answer to `browse_channels`.
    ChannelDirectory {
        query: String,
        channels: Vec<ChannelSummary>,
    },
    /// Someone joined a channel you are in.
    MemberJoined { channel: ChannelId, user: UserInfo },
    /// Several joined a big channel you are in since the last such notice
    /// (at most one a second): the first few, and how many more.
    MembersJoined {
        channel: ChannelId,
        users: Vec<UserInfo>,
        others: u32,
    },
    /// Someone left (or was removed from) a channel you are in.
    MemberLeft { channel: ChannelId, user: UserInfo },
    /// A channel's topic changed.
    TopicChanged {
        channel: ChannelId,
        topic: String,
        by: UserInfo,
    },
    /// Answer to `members`.
    Members {
        channel: ChannelId,
        members: Vec<UserInfo>,
    },
    /// Answer to `list_users`: a page of people, with their presence.
    Users {
        users: Vec<UserPresence>,
        /// The `query` and `after` this answers.
        #[serde(default)]
        query: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<String>,
        /// Ask with `after: next` for the following page; none when this is the last.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Someone is typing in a channel you are in.
    Typing { channel: ChannelId, user: UserInfo },
    /// A user's presence changed: online, away, or (for people you were
    /// shown but do not see all comings and goings of) offline.
    Presence {
        user: UserInfo,
        status: PresenceStatus,
    },
    /// You (in another tab) have read up to `seq`.
    ReadUpTo { channel: ChannelId, seq: Seq },
    /// The people you have blocked, after you blocked or unblocked someone.
    Blocked { users: Vec<UserId> },
    /// Your role or mute changed (every tab of yours hears it).
    Standing {
        role: Role,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        muted_until: Option<i64>,
    },
    /// Answer to `admin_users`: a page of people with their roles.
    AdminUsers {
        users: Vec<AdminUser>,
        /// The `query` and `after` this answers.
        #[serde(default)]
        query: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Someone's role or standing after you changed it.
    AdminUser { user: AdminUser },
    /// The server's settings, when asked or changed.
    ServerSettings { settings: ServerSettings },
    /// The invite link you created: its code is shown this once.
    InviteCreated { invite: Invite, code: String },
    /// Answer to `invites`.
    Invites { invites: Vec<Invite> },
    /// A channel's slow mode or archiving changed (to everyone in it).
    ChannelRules {
        channel: ChannelId,
        slow_mode_seconds: u32,
        archived: bool,
    },
    /// A channel has a new name (to everyone in it).
    ChannelRenamed { channel: ChannelId, name: String },
    /// Your report was received.
    Reported { channel: ChannelId, seq: Seq },
    /// The open reports (answer to `reports` and `resolve_report`).
    Reports { reports: Vec<Report> },
    /// Answer to `audit_log`: entries newest first; `more` when older ones are left.
    AuditLog {
        entries: Vec<AuditEntry>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<i64>,
        #[serde(default)]
        more: bool,
    },
    /// Something the client sent was refused; `client_id` names the message if it was a `send`.
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<ClientMsgId>,
    },
}

/// Stable machine-readable reasons in `ServerMsg::Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedFrame,
    UnknownType,
    InvalidFields,
    BinaryNotSupported,
    /// A frame over 64 KiB; the connection is closed with code 1009.
    FrameTooLarge,
    EmptyText,
    TextTooLong,
    NotAMember,
    InvalidChannelName,
    ChannelNameTaken,
    InvalidTopic,
    UnknownMessage,
    InvalidEmoji,
    /// The request is understood but this user may not do it.
    NotAllowed,
    UnknownUser,
    /// An attachment id that is not an unposted upload of yours in that channel.
    InvalidAttachment,
    /// The message already has as many different emoji as it may, or you
    /// have put as many reactions on it as you may.
    TooManyReactions,
    /// Someone in that conversation has blocked you (or you blocked them).
    Blocked,
    /// The database could not store or read; the client should retry later.
    StoreUnavailable,
    /// The server is overloaded; the client should retry later.
    Busy,
    /// A search the server cannot run as typed (the message says why).
    InvalidQuery,
    /// The conversation already has as many pinned messages as it may.
    TooManyPins,
    /// You are muted: you can read but not post or react for now.
    Muted,
    /// Slow mode: you posted in this channel too recently.
    SlowMode,
    /// The channel is archived: read-only.
    Archived,
}

impl ErrorCode {
    /// The code as it appears on the wire (`"not_a_member"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedFrame => "malformed_frame",
            Self::UnknownType => "unknown_type",
            Self::InvalidFields => "invalid_fields",
            Self::BinaryNotSupported => "binary_not_supported",
            Self::FrameTooLarge => "frame_too_large",
            Self::EmptyText => "empty_text",
            Self::TextTooLong => "text_too_long",
            Self::NotAMember => "not_a_member",
            Self::InvalidChannelName => "invalid_channel_name",
            Self::ChannelNameTaken => "channel_name_taken",
            Self::InvalidTopic => "invalid_topic",
            Self::UnknownMessage => "unknown_message",
            Self::InvalidEmoji => "invalid_emoji",
            Self::NotAllowed => "not_allowed",
            Self::UnknownUser => "unknown_user",
            Self::InvalidAttachment => "invalid_attachment",
            Self::TooManyReactions => "too_many_reactions",
            Self::Blocked => "blocked",
            Self::StoreUnavailable => "store_unavailable",
            Self::Busy => "busy",
            Self::InvalidQuery => "invalid_query",
            Self::TooManyPins => "too_many_pins",
            Self::Muted => "muted",
            Self::SlowMode => "slow_mode",
            Self::Archived => "archived",
        }
    }

    /// Whether resending the same frame later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::StoreUnavailable | Self::Busy)
    }
}

/// A user as others see them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: UserId,
    pub name: String,
}

/// A channel the user is in, with what they have read of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelInfo {
    pub id: ChannelId,
    /// For a direct conversation: the other participants' names.
    pub name: String,
    pub topic: String,
    #[serde(default)]
    pub kind: ChannelKind,
    /// For direct conversations: the other participants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub direct_with: Vec<UserInfo>,
    #[serde(default)]
    pub created_by: Option<UserId>,
    #[serde(default)]
    pub member_count: u32,
    /// The newest message's sequence number.
    #[serde(default)]
    pub last_seq: Seq,
    /// The newest message this user has read.
    #[serde(default)]
    pub last_read_seq: Seq,
    /// Replies after `last_read_seq` that show only in their threads: not
    /// unread here (`last_seq` counts them).
    #[serde(default)]
    pub unread_hidden: u32,
    /// Unread messages that mention this user by `@name`.
    #[serde(default)]
    pub unread_mentions: u32,
    /// The channel's latest change number (messages, edits, deletes, reactions).
    #[serde(default)]
    pub last_change: ChangeNo,
    /// How it notifies this user; absent: the default for its kind
    /// ([`NotifyLevel::default_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifyLevel>,
    /// Slow mode: a member posts at most once per this many seconds
    /// (moderators are exempt); 0 is off.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub slow_mode_seconds: u32,
    /// Archived: read-only, hidden from browsing, restorable by admins.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

impl ChannelInfo {
    /// How the conversation notifies this user.
    pub fn notify_level(&self) -> NotifyLevel {
        self.notify
            .unwrap_or_else(|| NotifyLevel::default_for(self.kind))
    }
}

/// How a conversation notifies its member: every message, only messages
/// that mention them, or nothing (muted: no unread badge, a quiet count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyLevel {
    All,
    Mentions,
    None,
}

impl NotifyLevel {
    /// Direct conversations notify of everything; channels of mentions.
    pub fn default_for(kind: ChannelKind) -> Self {
        match kind {
            ChannelKind::Direct => Self::All,
            ChannelKind::Public | ChannelKind::Private => Self::Mentions,
        }
    }

    /// The setting as stored and as the select's values say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Mentions => "mentions",
            Self::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::All, Self::Mentions, Self::None]
            .into_iter()
            .find(|level| level.as_str() == text)
    }
}

/// Public, private (members only), or a direct conversation. The default
/// (a kind that is missing) is private: nothing becomes joinable by accident.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Public,
    #[default]
    Private,
    Direct,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
            Self::Direct => "direct",
        }
    }

    /// The kind stored as `raw`; `None` for anything unknown (callers must
    /// then fail closed: never treat an unknown kind as public).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "public" => Some(Self::Public),
            "private" => Some(Self::Private),
            "direct" => Some(Self::Direct),
            _ => None,
        }
    }
}

/// A public channel as listed when browsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSummary {
    pub id: ChannelId,
    pub name: String,
    pub topic: String,
    pub member_count: u32,
    /// Whether the asking user is a member.
    pub joined: bool,
}

/// Online (a connection open and active), away (idle), or offline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Away,
    #[default]
    Offline,
}

/// A user and their presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPresence {
    pub user: UserInfo,
    pub status: PresenceStatus,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub channel: ChannelId,
    pub seq: Seq,
    pub client_id: ClientMsgId,
    pub author: UserInfo,
    pub text: String,
    /// Server time, milliseconds since the Unix epoch.
    pub sent_at: i64,
    /// When the text was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// Deleted by its author: the text is gone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Deleted by a moderator (then `deleted` too).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// Uploaded files, in the order they were attached (none once deleted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// What the first link in the text points to, once the server has fetched it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<Box<LinkPreview>>,
    /// Who pinned the message to its conversation, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<Box<Pinned>>,
    /// For a reply: the thread it is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<Box<InThread>>,
    /// For a thread's parent: how many replies, when the last came, who replied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<Box<Replies>>,
    /// The channel's change number of this message's latest change; a later
    /// state of the same message has a higher one.
    #[serde(default)]
    pub change: ChangeNo,
}

/// The thread a reply is in: its parent's number and author (who follows
/// it), and whether the reply shows in the conversation too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InThread {
    pub root: Seq,
    pub root_author: UserId,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub also_in_channel: bool,
}

/// A thread as its parent shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replies {
    pub count: u32,
    /// The newest reply's number and time.
    pub last_seq: Seq,
    pub last_at: i64,
    /// The first few people who replied (at most
    /// [`REPLIERS_SHOWN`](crate::limits::REPLIERS_SHOWN)).
    pub repliers: Vec<UserInfo>,
}

/// A followed thread in the threads view: its parent (with its
/// [`Replies`]) and whether replies came after you last read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadItem {
    pub root: ChatMessage,
    pub unread: bool,
    /// The last reply you read.
    pub read_seq: Seq,
}

impl ChatMessage {
    /// Whether this is a reply shown only in its thread.
    pub fn only_in_thread(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.also_in_channel)
    }
}

/// A message's pin: who pinned it, and when (milliseconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pinned {
    pub by: UserInfo,
    pub at: i64,
}

/// One emoji on a message: how many put it there, the first few of them,
/// and whether the reader did. A message's state stays small however many
/// people react, so every change to it is cheap to send to everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    /// The first people who reacted with it, at most
    /// [`REACTION_NAMES_SHOWN`](crate::limits::REACTION_NAMES_SHOWN).
    pub users: Vec<UserInfo>,
    /// How many people reacted with it (0 from older servers: count `users`).
    #[serde(default)]
    pub count: u32,
    /// Whether the person this copy was made for reacted with it. Absent in
    /// states sent to everyone: the reader keeps what it knew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mine: Option<bool>,
}

impl Reaction {
    /// How many people reacted with it.
    pub fn total(&self) -> u32 {
        self.count
            .max(u32::try_from(self.users.len()).unwrap_or(u32::MAX))
    }

    /// Whether `user` reacted with it, as far as this copy tells.
    pub fn by(&self, user: &UserId) -> bool {
        self.mine
            .unwrap_or_else(|| self.users.iter().any(|u| &u.id == user))
    }
}

impl ChatMessage {
    /// This state, with the reader's own marks (`mine`) taken from `held`
    /// wherever this state does not say (it was sent to everyone).
    pub fn keeping_marks_of(mut self, held: &ChatMessage) -> ChatMessage {
        for reaction in &mut self.reactions {
            if reaction.mine.is_none() {
                reaction.mine = held
                    .reactions
                    .iter()
                    .find(|r| r.emoji == reaction.emoji)
                    .and_then(|r| r.mine);
            }
        }
        self
    }
}

/// How a file is shown: inline image, inline video, or a download card.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Image,
    Video,
    #[default]
    File,
}

impl AttachmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::File => "file",
        }
    }

    pub fn parse(raw: &str) -> Self {
        match raw {
            "image" => Self::Image,
            "video" => Self::Video,
            _ => Self::File,
        }
    }
}

/// An uploaded file. Also the answer to `POST /api/channels/{id}/files`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: FileId,
    /// The name it was uploaded with (for display and download).
    pub name: String,
    pub kind: AttachmentKind,
    /// The type the server found in the file's bytes.
    pub mime: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Whether a smaller preview exists at [`Attachment::thumbnail_url`].
    #[serde(default)]
    pub thumbnail: bool,
}

impl Attachment {
    /// Where the file itself is served (members of its channel only).
    pub fn url(&self) -> String {
        format!("/api/files/{}", self.id.0)
    }

    /// The thumbnail if there is one, else the file.
    pub fn thumbnail_url(&self) -> String {
        if self.thumbnail {
            format!("/api/files/{}/thumbnail", self.id.0)
        } else {
            self.url()
        }
    }
}

/// What a link points to: a page (title, description, image), an image, or a video.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviewKind {
    #[default]
    Page,
    Image,
    Video,
}

/// A link preview made by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkPreview {
    /// The link as written in the message.
    pub url: String,
    pub kind: PreviewKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The page's image (or the linked image), copied to this server: a path
    /// under `/api/previews/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl ServerMsg {
    /// Serializes to the JSON text of a frame. Never fails: every field is plain data.
    pub fn to_json(&self) -> String {
        // Serializing these derive-only types (strings, integers, vectors) cannot fail.
        serde_json::to_string(self).expect("ServerMsg serializes")
    }
}

//! [`Store`]: the store of the dialect the database URL names, `sqlite:`
//! (one process) or `postgres:` (several nodes on one database). It
//! implements every aggregate's trait by handing each call to its dialect,
//! so the rest of the server is written once for both.

use shared::api::CustomEmoji;
use shared::protocol::{ChannelInfo, ChannelKind, ChannelSummary, LinkPreview, NotifyLevel};
use shared::search::SearchQuery;
use shared::validate::{ChannelName, Topic, Username};
use shared::{Attachment, ChangeNo, ChannelId, ChatMessage, FileId, Seq, UserId, UserInfo};

use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::{
    Accounts, AuditRecord, ChangeOutcome, Channels, Community, CustomEmojis, EmojiAdded, Files,
    Following, Inserted, LinkCache, Mentions, MessageChange, Messages, Moderation, NewAccount,
    NewEmoji, NewFile, NewInvite, NewMessage, NewReport, Page, PreviewJob, Reports, Search,
    SearchPage, SessionUser, Standing, StandingChange, StoreError, StoredFile, Threads,
};

/// Handle to the database, whichever its dialect; cheap to clone.
#[derive(Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// The stored content held still for every node sharing the database
/// (PostgreSQL's advisory lock, released when this is dropped); nothing on
/// SQLite, where one process's own lock on the files folder is enough.
pub struct ContentLock {
    _held: Option<sqlx::Transaction<'static, sqlx::Postgres>>,
}

impl Store {
    /// Opens the database the URL names (creating a SQLite file if
    /// missing), applies migrations and makes sure the default channel
    /// exists.
    pub async fn open(database_url: &str) -> Result<Self, StoreError> {
        if PgStore::handles(database_url) {
            Ok(Self::Postgres(PgStore::open(database_url).await?))
        } else {
            Ok(Self::Sqlite(SqliteStore::open(database_url).await?))
        }
    }

    /// Names this server node in what it tells other nodes (PostgreSQL).
    pub fn set_node(&mut self, node: &str) {
        if let Self::Postgres(store) = self {
            store.set_node(node);
        }
    }

    /// Whether the writer tells other nodes of its commits inside its
    /// transactions (PostgreSQL's `NOTIFY`, the default); not when another
    /// bus carries the notices.
    pub fn notify_in_transactions(&mut self, notify: bool) {
        if let Self::Postgres(store) = self {
            store.notify_in_transactions(notify);
        }
    }

    /// Whether new messages go into SQLite's search index (on by default;
    /// turning it on indexes what was stored while it was off, and says how
    /// many). PostgreSQL computes its index itself and always keeps it.
    pub async fn set_search_index(&mut self, on: bool) -> Result<u64, StoreError> {
        match self {
            Self::Sqlite(store) => store.set_search_index(on).await,
            Self::Postgres(_) => Ok(0),
        }
    }

    /// Whether searching finds every message (the index is kept).
    pub fn keeps_search_index(&self) -> bool {
        match self {
            Self::Sqlite(store) => store.keeps_search_index(),
            Self::Postgres(_) => true,
        }
    }

    /// Whether several server nodes may share this database.
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(store) => store.ping().await,
            Self::Postgres(store) => store.ping().await,
        }
    }

    /// Waits for open connections to finish and closes the pools.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(store) => store.close().await,
            Self::Postgres(store) => store.close().await,
        }
    }

    /// Takes the content lock shared by every node: `exclusive` while
    /// removing unreferenced bytes, shared while storing and recording new
    /// ones (uploads on different nodes do not wait for each other).
    pub async fn lock_content(&self, exclusive: bool) -> Result<ContentLock, StoreError> {
        let held = match self {
            Self::Sqlite(_) => None,
            Self::Postgres(store) => Some(store.lock_content(exclusive).await?),
        };
        Ok(ContentLock { _held: held })
    }

    /// Counts one more hit on `key` in the current window of `window_ms`
    /// for every node sharing the database: the hits so far in the window
    /// and when it ends (ms since the epoch). `None` on SQLite, where one
    /// process sees every hit and its in-memory budgets are the count.
    pub async fn shared_count(
        &self,
        key: &str,
        window_ms: i64,
    ) -> Result<Option<(u64, i64)>, StoreError> {
        match self {
            Self::Sqlite(_) => Ok(None),
            Self::Postgres(store) => Ok(Some(store.count_hit(key, window_ms).await?)),
        }
    }

    /// Takes back one hit of [`Store::shared_count`] (nothing on SQLite).
    pub async fn shared_refund(&self, key: &str, window_ms: i64) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(_) => Ok(()),
            Self::Postgres(store) => store.refund_hit(key, window_ms).await,
        }
    }

    /// Forgets shared counts of windows that started before `before`.
    pub async fn forget_shared_counts(&self, before: i64) -> Result<u64, StoreError> {
        match self {
            Self::Sqlite(_) => Ok(0),
            Self::Postgres(store) => store.forget_hits(before).await,
        }
    }

    /// The database's epoch: a random name for its history, changed by a
    /// restore; clients drop their caches when it changes.
    pub fn epoch(&self) -> &str {
        match self {
            Self::Sqlite(store) => store.epoch(),
            Self::Postgres(store) => store.epoch(),
        }
    }

    /// Gives the database a new epoch (run after restoring it); the new one.
    pub async fn new_epoch(&self) -> Result<String, StoreError> {
        match self {
            Self::Sqlite(store) => store.new_epoch().await,
            Self::Postgres(store) => store.new_epoch().await,
        }
    }

    /// Claims this period's run of the job `name` for this node: true for
    /// the one node that claims it first in a period of `every` (and always
    /// on SQLite, one process). Work that needs doing once, not once per
    /// node (sweeps), asks before it runs. A claim is a row, not a held
    /// lock: a node that dies mid-run holds nothing, and the job runs again
    /// the next period.
    pub async fn claim_job(
        &self,
        name: &str,
        every: std::time::Duration,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Sqlite(_) => Ok(true),
            Self::Postgres(store) => store.claim_job(name, every).await,
        }
    }

    /// Writes a consistent copy of a SQLite database to `path` while it is
    /// in use; PostgreSQL is backed up with its own tools (`pg_dump`).
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(store) => store.backup_to(path).await,
            Self::Postgres(_) => Err(StoreError::BackupByEngine),
        }
    }
}

/// Implements an aggregate's trait for [`Store`] by handing each (async)
/// method to the dialect's store.
macro_rules! delegate {
    (impl $trait:ident {
        $(fn $sync:ident() -> $sync_ret:ty;)*
        $(async fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty;)*
    }) => {
        impl $trait for Store {
            $(
                fn $sync(&self) -> $sync_ret {
                    match self {
                        Self::Sqlite(store) => store.$sync(),
                        Self::Postgres(store) => store.$sync(),
                    }
                }
            )*
            $(
                async fn $name(&self, $($arg: $ty),*) -> $ret {
                    match self {
                        Self::Sqlite(store) => store.$name($($arg),*).await,
                        Self::Postgres(store) => store.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

delegate! {
    impl Accounts {
        async fn create_accounts(accounts: &[NewAccount]) -> Result<Vec<Result<SessionUser, StoreError>>, StoreError>;
        async fn credentials(name: &Username) -> Result<Option<(UserInfo, Option<String>)>, StoreError>;
        async fn password_hash(user: &UserId) -> Result<Option<String>, StoreError>;
        async fn set_password_hash(user: &UserId, hash: &str, keep_session: &str) -> Result<(), StoreError>;
        async fn create_session(user: &UserInfo, token_hash: &str) -> Result<SessionUser, StoreError>;
        async fn delete_user_sessions(user: &UserId) -> Result<u64, StoreError>;
        async fn session_by_token_hash(token_hash: &str, idle_cutoff: i64) -> Result<Option<SessionUser>, StoreError>;
        async fn session_exists(session_id: &str) -> Result<bool, StoreError>;
        async fn delete_session(session_id: &str) -> Result<bool, StoreError>;
        async fn delete_idle_sessions(idle_cutoff: i64, limit: u32) -> Result<u64, StoreError>;
        async fn users_page(query: &str, after: Option<&str>, limit: usize) -> Result<(Vec<UserInfo>, Option<String>), StoreError>;
        async fn user(id: &UserId) -> Result<Option<UserInfo>, StoreError>;
        async fn set_blocked(user: &UserId, other: &UserId, blocked: bool) -> Result<(), StoreError>;
        async fn blocked_by(user: &UserId) -> Result<Vec<UserId>, StoreError>;
        async fn blocked_by_any(user: &UserId, others: &[UserId]) -> Result<bool, StoreError>;
    }
}

delegate! {
    impl Channels {
        fn default_channel() -> Option<&ChannelId>;
        async fn channels_of(user: &UserInfo) -> Result<Vec<ChannelInfo>, StoreError>;
        async fn channel_for(user: &UserInfo, channel: &ChannelId) -> Result<Option<ChannelInfo>, StoreError>;
        async fn channel_name(channel: &ChannelId) -> Result<Option<String>, StoreError>;
        async fn in_channel_named(user: &UserId, name: &str) -> Result<bool, StoreError>;
        async fn is_member(user: &UserId, channel: &ChannelId) -> Result<bool, StoreError>;
        async fn channel_kind(channel: &ChannelId) -> Result<Option<(ChannelKind, Option<UserId>)>, StoreError>;
        async fn membership(user: &UserId, channel: &ChannelId) -> Result<Option<(ChannelKind, Option<UserId>)>, StoreError>;
        async fn create_channel(creator: &UserId, name: &ChannelName, topic: &Topic, kind: ChannelKind) -> Result<ChannelId, StoreError>;
        async fn browse_channels(user: &UserId, query: &str) -> Result<Vec<ChannelSummary>, StoreError>;
        async fn add_member(channel: &ChannelId, user: &UserId) -> Result<bool, StoreError>;
        async fn remove_member(channel: &ChannelId, user: &UserId) -> Result<bool, StoreError>;
        async fn set_topic(channel: &ChannelId, topic: &Topic) -> Result<(), StoreError>;
        async fn members(channel: &ChannelId) -> Result<Vec<UserInfo>, StoreError>;
        async fn open_direct(users: &[UserId]) -> Result<(ChannelId, bool), StoreError>;
        async fn hide_direct(user: &UserId, channel: &ChannelId) -> Result<(), StoreError>;
        async fn mark_read(user: &UserId, channel: &ChannelId, seq: Seq) -> Result<(), StoreError>;
        async fn set_notify(user: &UserId, channel: &ChannelId, level: NotifyLevel) -> Result<bool, StoreError>;
    }
}

delegate! {
    impl Files {
        async fn insert_file(file: &NewFile) -> Result<Attachment, StoreError>;
        async fn file_for(user: &UserId, file: &FileId) -> Result<Option<StoredFile>, StoreError>;
        async fn sweep_files(unposted_before: i64, limit: u32) -> Result<(usize, Vec<String>), StoreError>;
        async fn unreferenced(hashes: &[String]) -> Result<Vec<String>, StoreError>;
    }
}

delegate! {
    impl Reports {
        async fn file_report(report: &NewReport<'_>) -> Result<bool, StoreError>;
        async fn open_reports_of(reporter: &UserId) -> Result<i64, StoreError>;
        async fn open_reports(limit: u32) -> Result<Vec<shared::roles::Report>, StoreError>;
        async fn resolve_reports(id: &str, by: &UserId, remove: bool, at: i64) -> Result<Option<(ChannelId, Seq)>, StoreError>;
    }
}

delegate! {
    impl Community {
        async fn settings_rows() -> Result<Vec<(String, String)>, StoreError>;
        async fn set_settings(record: &AuditRecord<'_>, settings: &shared::community::ServerSettings) -> Result<(), StoreError>;
        async fn create_invite(record: &AuditRecord<'_>, invite: &NewInvite<'_>) -> Result<(), StoreError>;
        async fn invites(by: Option<&UserId>, now: i64, limit: u32) -> Result<Vec<shared::community::Invite>, StoreError>;
        async fn use_invite(code_hash: &str, now: i64) -> Result<bool, StoreError>;
        async fn return_invite(code_hash: &str) -> Result<(), StoreError>;
    }
}

delegate! {
    impl Moderation {
        async fn standing(user: &UserId) -> Result<Option<Standing>, StoreError>;
        async fn standings(users: &[UserId]) -> Result<std::collections::HashMap<UserId, Standing>, StoreError>;
        async fn change_standing(record: &AuditRecord<'_>, change: StandingChange) -> Result<(), StoreError>;
        async fn record_audit(record: &AuditRecord<'_>) -> Result<(), StoreError>;
        async fn rename_channel(record: &AuditRecord<'_>, channel: &ChannelId, name: &ChannelName) -> Result<(), StoreError>;
        async fn channel_rules(channel: &ChannelId) -> Result<Option<super::moderation::ChannelRules>, StoreError>;
        async fn set_channel_rule(record: &AuditRecord<'_>, channel: &ChannelId, rule: super::moderation::ChannelRule) -> Result<(), StoreError>;
        async fn audit_log(before: Option<i64>, limit: u32) -> Result<(Vec<shared::roles::AuditEntry>, bool), StoreError>;
    }
}

delegate! {
    impl Threads {
        async fn replies_before(channel: &ChannelId, root: Seq, before_seq: Seq, limit: u32, reader: &UserId) -> Result<(Vec<ChatMessage>, bool), StoreError>;
        async fn follow_row(channel: &ChannelId, root: Seq, reader: &UserId) -> Result<Option<Following>, StoreError>;
        async fn write_follow_row(channel: &ChannelId, root: Seq, reader: &UserId, follow: Option<bool>, read: Option<Seq>) -> Result<Following, StoreError>;
        async fn followed_rows(reader: &UserId, limit: u32) -> Result<Vec<(ChannelId, Seq, Seq)>, StoreError>;
    }
}

delegate! {
    impl CustomEmojis {
        async fn add_custom_emoji(emoji: &NewEmoji<'_>) -> Result<EmojiAdded, StoreError>;
        async fn custom_emoji() -> Result<Vec<CustomEmoji>, StoreError>;
        async fn custom_emoji_mime(sha256: &str) -> Result<Option<String>, StoreError>;
        async fn custom_emoji_exists(name: &str) -> Result<bool, StoreError>;
    }
}

delegate! {
    impl LinkCache {
        async fn cached_preview(url: &str, max_age_ms: i64) -> Result<Option<Option<LinkPreview>>, StoreError>;
        async fn cache_preview(url: &str, preview: Option<&LinkPreview>) -> Result<(), StoreError>;
        async fn forget_cached_previews(before: i64, limit: u32) -> Result<u64, StoreError>;
        async fn add_preview_image(sha256: &str, mime: &str) -> Result<(), StoreError>;
        async fn preview_image_mime(sha256: &str) -> Result<Option<String>, StoreError>;
        async fn queue_preview(channel: &ChannelId, seq: Seq, link: &str, max_waiting: u32) -> Result<bool, StoreError>;
        async fn claim_previews(limit: u32, lease_ms: i64) -> Result<Vec<PreviewJob>, StoreError>;
        async fn finish_preview(channel: &ChannelId, seq: Seq) -> Result<(), StoreError>;
    }
}

delegate! {
    impl Messages {
        async fn messages_before(channel: &ChannelId, before_seq: Seq, limit: u32, reader: &UserId) -> Result<Option<Page>, StoreError>;
        async fn messages_after(channel: &ChannelId, after_seq: Seq, limit: u32, reader: &UserId) -> Result<Option<Vec<ChatMessage>>, StoreError>;
        async fn messages_changed(channel: &ChannelId, up_to_seq: Seq, after_change: ChangeNo, limit: u32, reader: Option<&UserId>) -> Result<Vec<ChatMessage>, StoreError>;
        async fn messages_between(channel: &ChannelId, after_seq: Seq, up_to_seq: Seq, limit: u32) -> Result<Vec<ChatMessage>, StoreError>;
        async fn messages_in_ranges(ranges: &[(ChannelId, Seq, Seq)]) -> Result<Vec<ChatMessage>, StoreError>;
        async fn message(channel: &ChannelId, seq: Seq, reader: Option<&UserId>) -> Result<Option<ChatMessage>, StoreError>;
        async fn change_message(channel: &ChannelId, seq: Seq, change: MessageChange<'_>) -> Result<ChangeOutcome, StoreError>;
        async fn pinned_messages(channel: &ChannelId, reader: &UserId) -> Result<Option<Vec<ChatMessage>>, StoreError>;
        async fn set_preview(channel: &ChannelId, seq: Seq, preview: &LinkPreview) -> Result<Option<ChatMessage>, StoreError>;
        async fn insert_messages(batch: &[NewMessage]) -> Result<Inserted, StoreError>;
    }
}

delegate! {
    impl Search {
        async fn search(reader: &UserId, query: &SearchQuery, before: Option<i64>, limit: u32) -> Result<SearchPage, StoreError>;
    }
}

delegate! {
    impl Mentions {
        async fn mentions_of(reader: &UserId, limit: u32) -> Result<Vec<ChatMessage>, StoreError>;
    }
}

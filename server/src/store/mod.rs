//! All storage: the only module that contains SQL. Handlers, the hub and the
//! socket code see a narrow interface of named operations on [`Store`], so a
//! PostgreSQL backend can slot in here without touching them.
//!
//! SQLite runs in WAL mode with `synchronous=FULL`: a committed message is on
//! disk before it is acknowledged. Message inserts go through
//! [`writer::MessageWriter`], which batches them into one transaction per batch.
//! Every write transaction starts with `BEGIN IMMEDIATE`, so it waits (up to
//! the busy timeout) for the write lock instead of failing when another
//! connection wrote first. Users and sessions live in `accounts`, uploaded
//! files in `files`, link previews in `previews`, mentions in `mentions`.

mod accounts;
mod files;
mod mentions;
mod previews;
pub mod writer;

pub use files::{NewFile, StoredFile};

use std::str::FromStr;
use std::time::Duration;

use shared::limits::{MAX_REACTION_EMOJI, MAX_REACTIONS_PER_USER, REACTION_NAMES_SHOWN};
use shared::protocol::{ChannelInfo, ChannelKind, ChannelSummary};
use shared::validate::{ChannelName, Topic};
use shared::{ChannelId, ChatMessage, ClientMsgId, FileId, Reaction, Seq, UserId, UserInfo};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use crate::random::{new_id, now_millis};

/// A message query: the columns `message_from_row` reads, then `$rest`
/// (a WHERE clause and ordering). Every message query goes through it.
macro_rules! select_messages {
    ($rest:literal) => {
        concat!(
            "SELECT m.channel_id, m.seq, m.client_id, m.body, m.sent_at, m.edited_at, m.deleted,
                    m.change_no, m.preview, u.id AS author_id, u.name AS author_name
             FROM messages m JOIN users u ON u.id = m.author_id ",
            $rest
        )
    };
}

/// The channel every user is in from the start.
pub const DEFAULT_CHANNEL: &str = "general";

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the username is already taken")]
    NameTaken,
    #[error("the channel name is already taken")]
    ChannelNameTaken,
    #[error("unsupported database url {0:?}: expected sqlite://path or sqlite::memory:")]
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
    React {
        by: &'a UserId,
        emoji: &'a str,
        add: bool,
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
}

/// A page of messages, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub messages: Vec<ChatMessage>,
    /// Whether older messages exist before the first one.
    pub has_older: bool,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    /// The message writer's own connection, so it never waits for the pool.
    writer_pool: SqlitePool,
}

/// The kind stored for a channel; an unknown kind is treated as private
/// (members only, never joinable, never listed).
fn stored_kind(raw: &str) -> ChannelKind {
    ChannelKind::parse(raw).unwrap_or_else(|| {
        tracing::error!(
            kind = raw,
            "a channel has an unknown kind; treating it as private"
        );
        ChannelKind::Private
    })
}

impl Store {
    /// Opens (creating if missing) the database, applies migrations, and makes
    /// sure the default channel exists.
    pub async fn open(database_url: &str) -> Result<Self, StoreError> {
        if !database_url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(database_url.to_owned()));
        }
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if let Some(folder) = options.get_filename().parent()
            && !folder.as_os_str().is_empty()
        {
            std::fs::create_dir_all(folder).map_err(|source| StoreError::CreateFolder {
                path: folder.display().to_string(),
                source,
            })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await?;
        check_integrity(&pool).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let writer_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let store = Self { pool, writer_pool };
        store.update_name_keys().await?;
        store.ensure_default_channel().await?;
        Ok(store)
    }

    /// A write transaction that holds the write lock from its first statement.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Writes a consistent copy of the database to `path` while it is in use
    /// (`VACUUM INTO`); the file must not exist yet.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<(), StoreError> {
        sqlx::query("VACUUM INTO ?")
            .bind(path.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Waits for open connections to finish and closes the pools.
    pub async fn close(&self) {
        self.writer_pool.close().await;
        self.pool.close().await;
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn ensure_default_channel(&self) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO channels (id, name, topic, kind, created_at) VALUES (?, ?, ?, 'public', ?)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(new_id())
        .bind(DEFAULT_CHANNEL)
        .bind("Everyone is here")
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The id of the default channel.
    pub async fn default_channel(&self) -> Result<Option<ChannelId>, StoreError> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM channels WHERE name = ? AND kind = 'public'")
                .bind(DEFAULT_CHANNEL)
                .fetch_optional(&self.pool)
                .await?;
        Ok(id.map(ChannelId))
    }

    /// The channels a user is a member of (but hidden direct
    /// conversations), with read state.
    pub async fn channels_of(&self, user: &UserInfo) -> Result<Vec<ChannelInfo>, StoreError> {
        self.channel_infos(user, None).await
    }

    /// One channel as `user` sees it, if they are a member (hidden or not).
    pub async fn channel_for(
        &self,
        user: &UserInfo,
        channel: &ChannelId,
    ) -> Result<Option<ChannelInfo>, StoreError> {
        Ok(self.channel_infos(user, Some(channel)).await?.pop())
    }

    async fn channel_infos(
        &self,
        user: &UserInfo,
        only: Option<&ChannelId>,
    ) -> Result<Vec<ChannelInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, COALESCE(c.display_name, c.name) AS name, c.topic, c.kind, c.created_by,
                    c.last_seq, c.last_change, m.last_read_seq,
                    (SELECT COUNT(*) FROM memberships mm WHERE mm.channel_id = c.id) AS member_count,
                    (SELECT COUNT(*) FROM mentions x
                      WHERE x.user_id = m.user_id AND x.channel_id = c.id
                        AND x.seq > m.last_read_seq) AS unread_mentions
             FROM channels c JOIN memberships m ON m.channel_id = c.id
             WHERE m.user_id = ? AND (? IS NULL AND m.hidden = 0 OR c.id = ?)
             ORDER BY c.kind, name",
        )
        .bind(&user.id.0)
        .bind(only.map(|c| c.0.as_str()))
        .bind(only.map(|c| c.0.as_str()))
        .fetch_all(&self.pool)
        .await?;
        let mut channels = Vec::with_capacity(rows.len());
        for row in rows {
            let id = ChannelId(row.get("id"));
            let kind = stored_kind(row.get::<String, _>("kind").as_str());
            let mut info = ChannelInfo {
                name: row.get("name"),
                topic: row.get("topic"),
                kind,
                direct_with: Vec::new(),
                created_by: row.get::<Option<String>, _>("created_by").map(UserId),
                member_count: row.get::<i64, _>("member_count") as u32,
                last_seq: row.get("last_seq"),
                last_read_seq: row.get("last_read_seq"),
                unread_mentions: row.get::<i64, _>("unread_mentions") as u32,
                last_change: row.get("last_change"),
                id,
            };
            if kind == ChannelKind::Direct {
                info.direct_with = self
                    .members(&info.id)
                    .await?
                    .into_iter()
                    .filter(|member| member.id != user.id)
                    .collect();
                let names: Vec<&str> = info.direct_with.iter().map(|u| u.name.as_str()).collect();
                info.name = if names.is_empty() {
                    user.name.clone()
                } else {
                    names.join(", ")
                };
            }
            channels.push(info);
        }
        Ok(channels)
    }

    /// The name people see of a channel (not of a direct conversation).
    pub async fn channel_name(&self, channel: &ChannelId) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(display_name, name) FROM channels WHERE id = ? AND kind != 'direct'",
        )
        .bind(&channel.0)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Whether `user` is in a channel (public or private, hidden or not)
    /// whose name is `name`.
    pub async fn in_channel_named(&self, user: &UserId, name: &str) -> Result<bool, StoreError> {
        let found = sqlx::query(
            "SELECT 1 FROM channels c JOIN memberships m ON m.channel_id = c.id
             WHERE m.user_id = ? AND c.kind != 'direct' AND COALESCE(c.display_name, c.name) = ?",
        )
        .bind(&user.0)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Whether `user` is a member of `channel`.
    pub async fn is_member(&self, user: &UserId, channel: &ChannelId) -> Result<bool, StoreError> {
        let found = sqlx::query("SELECT 1 FROM memberships WHERE channel_id = ? AND user_id = ?")
            .bind(&channel.0)
            .bind(&user.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// A channel's kind and creator, if it exists.
    pub async fn channel_kind(
        &self,
        channel: &ChannelId,
    ) -> Result<Option<(ChannelKind, Option<UserId>)>, StoreError> {
        let row = sqlx::query("SELECT kind, created_by FROM channels WHERE id = ?")
            .bind(&channel.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| kind_and_creator(&row)))
    }

    /// The kind and creator of a channel `user` is a member of; `None` when
    /// they are not (or it does not exist). One query for both checks.
    pub async fn membership(
        &self,
        user: &UserId,
        channel: &ChannelId,
    ) -> Result<Option<(ChannelKind, Option<UserId>)>, StoreError> {
        let row = sqlx::query(
            "SELECT c.kind, c.created_by FROM channels c
             JOIN memberships m ON m.channel_id = c.id
             WHERE c.id = ? AND m.user_id = ?",
        )
        .bind(&channel.0)
        .bind(&user.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| kind_and_creator(&row)))
    }

    /// Creates a public or private channel with its creator as first member.
    /// Public names are unique among public channels. A private channel
    /// takes no name from anyone else (its `name` column is an internal key,
    /// its name is `display_name`), so creating one reveals nothing about
    /// other private channels and cannot squat a name. Either way the
    /// creator may not already be in a channel of that name.
    pub async fn create_channel(
        &self,
        creator: &UserId,
        name: &ChannelName,
        topic: &Topic,
        kind: ChannelKind,
    ) -> Result<ChannelId, StoreError> {
        let id = ChannelId(new_id());
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let clash = sqlx::query(
            "SELECT 1 FROM channels c
             WHERE COALESCE(c.display_name, c.name) = ?1 AND c.kind != 'direct'
               AND (c.kind = 'public' AND ?2 = 'private'
                    OR EXISTS (SELECT 1 FROM memberships m WHERE m.channel_id = c.id AND m.user_id = ?3))",
        )
        .bind(name.as_str())
        .bind(kind.as_str())
        .bind(&creator.0)
        .fetch_optional(&mut *tx)
        .await?;
        if clash.is_some() {
            return Err(StoreError::ChannelNameTaken);
        }
        let (key, display_name) = match kind {
            ChannelKind::Public => (name.as_str().to_owned(), None),
            _ => (format!("private:{}", id.0), Some(name.as_str())),
        };
        let inserted = sqlx::query(
            "INSERT INTO channels (id, name, display_name, topic, kind, created_by, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&id.0)
        .bind(&key)
        .bind(display_name)
        .bind(topic.as_str())
        .bind(kind.as_str())
        .bind(&creator.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::ChannelNameTaken);
        }
        sqlx::query("INSERT INTO memberships (channel_id, user_id, joined_at) VALUES (?, ?, ?)")
            .bind(&id.0)
            .bind(&creator.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Public channels whose name or topic contains `query`, with member counts.
    pub async fn browse_channels(
        &self,
        user: &UserId,
        query: &str,
    ) -> Result<Vec<ChannelSummary>, StoreError> {
        let pattern = format!("%{}%", query.trim().to_lowercase());
        let rows = sqlx::query(
            "SELECT c.id, c.name, c.topic,
                    (SELECT COUNT(*) FROM memberships m WHERE m.channel_id = c.id) AS member_count,
                    EXISTS (SELECT 1 FROM memberships m WHERE m.channel_id = c.id AND m.user_id = ?) AS joined
             FROM channels c
             WHERE c.kind = 'public' AND (lower(c.name) LIKE ? OR lower(c.topic) LIKE ?)
             ORDER BY member_count DESC, c.name LIMIT 200",
        )
        .bind(&user.0)
        .bind(&pattern)
        .bind(&pattern)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| ChannelSummary {
                id: ChannelId(row.get("id")),
                name: row.get("name"),
                topic: row.get("topic"),
                member_count: row.get::<i64, _>("member_count") as u32,
                joined: row.get("joined"),
            })
            .collect())
    }

    /// Adds a member; `false` if they already were one.
    pub async fn add_member(&self, channel: &ChannelId, user: &UserId) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO memberships (channel_id, user_id, joined_at) VALUES (?, ?, ?)
             ON CONFLICT (channel_id, user_id) DO NOTHING",
        )
        .bind(&channel.0)
        .bind(&user.0)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Removes a member; `false` if they were not one.
    pub async fn remove_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM memberships WHERE channel_id = ? AND user_id = ?")
            .bind(&channel.0)
            .bind(&user.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn set_topic(&self, channel: &ChannelId, topic: &Topic) -> Result<(), StoreError> {
        sqlx::query("UPDATE channels SET topic = ? WHERE id = ?")
            .bind(topic.as_str())
            .bind(&channel.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The members of a channel, by name.
    pub async fn members(&self, channel: &ChannelId) -> Result<Vec<UserInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.channel_id = ? ORDER BY u.mention_key",
        )
        .bind(&channel.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| UserInfo {
                id: UserId(row.get("id")),
                name: row.get("name"),
            })
            .collect())
    }

    /// The direct conversation between exactly these users, created if new.
    /// An existing one gets back anyone who had left it, and is shown again
    /// to whoever had hidden it. Returns its id and whether it was created now.
    pub async fn open_direct(&self, users: &[UserId]) -> Result<(ChannelId, bool), StoreError> {
        let mut ids: Vec<&str> = users.iter().map(|u| u.0.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        // The name is derived from the participants, so the same group always finds the same row.
        let key = format!("dm:{}", ids.join(","));
        let mut tx = self.begin_write().await?;
        let now = now_millis();
        let existing: Option<String> =
            sqlx::query_scalar("SELECT id FROM channels WHERE name = ? AND kind = 'direct'")
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?;
        let (id, created) = match existing {
            Some(id) => (ChannelId(id), false),
            None => {
                let id = ChannelId(new_id());
                sqlx::query(
                    "INSERT INTO channels (id, name, topic, kind, created_at)
                     VALUES (?, ?, '', 'direct', ?)",
                )
                .bind(&id.0)
                .bind(&key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                (id, true)
            }
        };
        for user in &ids {
            sqlx::query(
                "INSERT INTO memberships (channel_id, user_id, joined_at) VALUES (?, ?, ?)
                 ON CONFLICT (channel_id, user_id) DO UPDATE SET hidden = 0",
            )
            .bind(&id.0)
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok((id, created))
    }

    /// Hides a direct conversation from `user`'s list until its next message.
    pub async fn hide_direct(&self, user: &UserId, channel: &ChannelId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE memberships SET hidden = 1 WHERE channel_id = ? AND user_id = ?
               AND EXISTS (SELECT 1 FROM channels WHERE id = ? AND kind = 'direct')",
        )
        .bind(&channel.0)
        .bind(&user.0)
        .bind(&channel.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records that `user` has read `channel` up to `seq` (never backwards).
    pub async fn mark_read(
        &self,
        user: &UserId,
        channel: &ChannelId,
        seq: Seq,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE memberships SET last_read_seq = MAX(last_read_seq,
                 MIN(?, (SELECT last_seq FROM channels WHERE id = ?)))
             WHERE channel_id = ? AND user_id = ?",
        )
        .bind(seq)
        .bind(&channel.0)
        .bind(&channel.0)
        .bind(&user.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest `limit` messages of a channel, as `reader` sees them.
    pub async fn latest_messages(
        &self,
        channel: &ChannelId,
        limit: u32,
        reader: &UserId,
    ) -> Result<Page, StoreError> {
        self.messages_before(channel, Seq::MAX, limit, reader).await
    }

    /// Up to `limit` messages older than `before_seq`, oldest first, as `reader` sees them.
    pub async fn messages_before(
        &self,
        channel: &ChannelId,
        before_seq: Seq,
        limit: u32,
        reader: &UserId,
    ) -> Result<Page, StoreError> {
        let rows = sqlx::query(select_messages!(
            "WHERE m.channel_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"
        ))
        .bind(&channel.0)
        .bind(before_seq)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let has_older = rows.len() > limit as usize;
        let mut messages = self
            .with_details(
                channel,
                &rows[..rows.len().min(limit as usize)],
                Some(reader),
            )
            .await?;
        messages.reverse();
        Ok(Page {
            messages,
            has_older,
        })
    }

    /// Up to `limit` messages newer than `after_seq`, oldest first, as `reader` sees them.
    pub async fn messages_after(
        &self,
        channel: &ChannelId,
        after_seq: Seq,
        limit: u32,
        reader: &UserId,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let rows = sqlx::query(select_messages!(
            "WHERE m.channel_id = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?"
        ))
        .bind(&channel.0)
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.with_details(channel, &rows, Some(reader)).await
    }

    /// Held messages (seq <= `up_to_seq`) changed after change number
    /// `after_change`, as `reader` sees them.
    pub async fn messages_changed(
        &self,
        channel: &ChannelId,
        up_to_seq: Seq,
        after_change: i64,
        limit: u32,
        reader: &UserId,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let rows = sqlx::query(select_messages!(
            "WHERE m.channel_id = ? AND m.seq <= ? AND m.change_no > ? ORDER BY m.seq ASC LIMIT ?"
        ))
        .bind(&channel.0)
        .bind(up_to_seq)
        .bind(after_change)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.with_details(channel, &rows, Some(reader)).await
    }

    /// One message with its reactions and files, as everyone sees it, or
    /// with the reactions of `reader` marked.
    pub async fn message(
        &self,
        channel: &ChannelId,
        seq: Seq,
        reader: Option<&UserId>,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let row = sqlx::query(select_messages!("WHERE m.channel_id = ? AND m.seq = ?"))
            .bind(&channel.0)
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(self.with_details(channel, &[row], reader).await?.pop())
    }

    /// Changes a message (edit, delete, or a reaction) in one transaction that
    /// also takes the channel's next change number. A refused change
    /// (`NotAllowed`, `NoSuchMessage`, `Unchanged`) writes nothing.
    pub async fn change_message(
        &self,
        channel: &ChannelId,
        seq: Seq,
        change: MessageChange<'_>,
    ) -> Result<ChangeOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let row =
            sqlx::query("SELECT author_id, deleted FROM messages WHERE channel_id = ? AND seq = ?")
                .bind(&channel.0)
                .bind(seq)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(row) = row else {
            return Ok(ChangeOutcome::NoSuchMessage);
        };
        let author: String = row.get("author_id");
        let deleted = row.get::<i64, _>("deleted") != 0;
        if deleted {
            return Ok(ChangeOutcome::NoSuchMessage);
        }
        let now = now_millis();
        match &change {
            MessageChange::Edit { by, text } | MessageChange::Delete { by, text } => {
                if author != by.0 {
                    return Ok(ChangeOutcome::NotAllowed);
                }
                let delete = matches!(change, MessageChange::Delete { .. });
                sqlx::query(
                    "UPDATE messages SET body = ?, edited_at = CASE WHEN ? THEN edited_at ELSE ? END,
                            deleted = ?, preview = NULL WHERE channel_id = ? AND seq = ?",
                )
                .bind(if delete { "" } else { text })
                .bind(delete)
                .bind(now)
                .bind(delete)
                .bind(&channel.0)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
                if delete {
                    sqlx::query("DELETE FROM reactions WHERE channel_id = ? AND seq = ?")
                        .bind(&channel.0)
                        .bind(seq)
                        .execute(&mut *tx)
                        .await?;
                    mentions::forget(&mut tx, channel, seq).await?;
                } else {
                    mentions::record(&mut tx, channel, seq, by, text).await?;
                }
            }
            MessageChange::React { by, emoji, add } => {
                if *add {
                    let counts = sqlx::query(
                        "SELECT COUNT(DISTINCT emoji) AS emoji,
                                COUNT(*) FILTER (WHERE user_id = ?) AS mine,
                                MAX(emoji = ?) AS present
                         FROM reactions WHERE channel_id = ? AND seq = ?",
                    )
                    .bind(&by.0)
                    .bind(*emoji)
                    .bind(&channel.0)
                    .bind(seq)
                    .fetch_one(&mut *tx)
                    .await?;
                    let distinct: i64 = counts.get("emoji");
                    let mine: i64 = counts.get("mine");
                    let present = counts.get::<Option<i64>, _>("present") == Some(1);
                    if (!present && distinct >= MAX_REACTION_EMOJI as i64)
                        || mine >= MAX_REACTIONS_PER_USER as i64
                    {
                        return Ok(ChangeOutcome::TooManyReactions);
                    }
                }
                let done = if *add {
                    sqlx::query(
                        "INSERT INTO reactions (channel_id, seq, user_id, emoji, created_at)
                         VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    )
                    .bind(&channel.0)
                    .bind(seq)
                    .bind(&by.0)
                    .bind(*emoji)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                } else {
                    sqlx::query(
                        "DELETE FROM reactions WHERE channel_id = ? AND seq = ? AND user_id = ? AND emoji = ?",
                    )
                    .bind(&channel.0)
                    .bind(seq)
                    .bind(&by.0)
                    .bind(*emoji)
                    .execute(&mut *tx)
                    .await?
                };
                if done.rows_affected() == 0 {
                    return Ok(ChangeOutcome::Unchanged);
                }
            }
        }
        stamp_change(&mut tx, channel, seq).await?;
        tx.commit().await?;
        match self.message(channel, seq, None).await? {
            Some(message) => Ok(ChangeOutcome::Changed(message)),
            None => Ok(ChangeOutcome::NoSuchMessage),
        }
    }

    /// Messages from rows of `select_messages!`, with their reactions (the
    /// reactions of `reader` marked, when given) and files.
    async fn with_details(
        &self,
        channel: &ChannelId,
        rows: &[sqlx::sqlite::SqliteRow],
        reader: Option<&UserId>,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let mut messages: Vec<ChatMessage> = rows.iter().map(message_from_row).collect();
        self.attach_reactions(channel, &mut messages, reader)
            .await?;
        self.attach_files(channel, &mut messages).await?;
        Ok(messages)
    }

    /// Fills in the reactions of these messages (all from `channel`): per
    /// emoji, in the order first used, how many reacted, the first
    /// `REACTION_NAMES_SHOWN` of them, and whether `reader` did.
    async fn attach_reactions(
        &self,
        channel: &ChannelId,
        messages: &mut [ChatMessage],
        reader: Option<&UserId>,
    ) -> Result<(), StoreError> {
        let Some((low, high)) = seq_range(messages) else {
            return Ok(());
        };
        let rows = sqlx::query(
            "SELECT seq, emoji, id, name, total, mine FROM (
                 SELECT r.seq, r.emoji, u.id, u.name,
                        ROW_NUMBER() OVER per_emoji AS place,
                        COUNT(*) OVER whole_emoji AS total,
                        MAX(r.user_id = ?1) OVER whole_emoji AS mine,
                        MIN(r.created_at) OVER whole_emoji AS first_at
                 FROM reactions r JOIN users u ON u.id = r.user_id
                 WHERE r.channel_id = ?2 AND r.seq BETWEEN ?3 AND ?4
                 WINDOW whole_emoji AS (PARTITION BY r.seq, r.emoji),
                        per_emoji AS (PARTITION BY r.seq, r.emoji ORDER BY r.created_at, u.mention_key))
             WHERE place <= ?5
             ORDER BY seq, first_at, emoji, place",
        )
        .bind(reader.map(|r| r.0.as_str()))
        .bind(&channel.0)
        .bind(low)
        .bind(high)
        .bind(REACTION_NAMES_SHOWN as i64)
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let seq: Seq = row.get("seq");
            let emoji: String = row.get("emoji");
            let user = UserInfo {
                id: UserId(row.get("id")),
                name: row.get("name"),
            };
            let Some(message) = messages.iter_mut().find(|m| m.seq == seq) else {
                continue;
            };
            match message.reactions.iter_mut().find(|r| r.emoji == emoji) {
                Some(reaction) => reaction.users.push(user),
                None => message.reactions.push(Reaction {
                    emoji,
                    users: vec![user],
                    count: u32::try_from(row.get::<i64, _>("total")).unwrap_or(u32::MAX),
                    mine: reader.map(|_| row.get::<Option<i64>, _>("mine") == Some(1)),
                }),
            }
        }
        Ok(())
    }

    /// Stores a batch of messages in one transaction, in order. Either all of
    /// them are committed or none is.
    pub async fn insert_messages(&self, batch: &[NewMessage]) -> Result<Inserted, StoreError> {
        let mut tx = self.writer_pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut inserted = Inserted::default();
        for message in batch {
            let stored = insert_one(&mut tx, message).await?;
            if let Stored::New(new) = &stored {
                inserted
                    .unhidden
                    .extend(unhide(&mut tx, &new.channel).await?);
            }
            inserted.stored.push(stored);
        }
        tx.commit().await?;
        Ok(inserted)
    }
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

/// Shows a direct conversation with a new message again to whoever hid it.
async fn unhide(
    tx: &mut Transaction<'static, Sqlite>,
    channel: &ChannelId,
) -> Result<Vec<(ChannelId, UserId)>, StoreError> {
    let users: Vec<String> = sqlx::query_scalar(
        "UPDATE memberships SET hidden = 0 WHERE channel_id = ? AND hidden = 1 RETURNING user_id",
    )
    .bind(&channel.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(users
        .into_iter()
        .map(|user| (channel.clone(), UserId(user)))
        .collect())
}

async fn insert_one(
    tx: &mut Transaction<'static, Sqlite>,
    message: &NewMessage,
) -> Result<Stored, StoreError> {
    let existing = sqlx::query(select_messages!(
        "WHERE m.author_id = ? AND m.client_id = ?"
    ))
    .bind(&message.author.id.0)
    .bind(message.client_id.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(row) = existing {
        let original = message_from_row(&row);
        // The same id in another conversation is a different message that
        // cannot be stored under it: acknowledging it would lose it.
        return Ok(if original.channel == message.channel {
            Stored::Duplicate(original)
        } else {
            Stored::ClientIdReused(message.clone())
        });
    }
    if !message.attachments.is_empty() && !files::attachments_postable(tx, message).await? {
        return Ok(Stored::InvalidAttachments(message.clone()));
    }
    // Numbering, the membership check and the block check in one statement:
    // no row means the author is not (or no longer) a member, or someone in
    // this direct conversation has blocked them.
    let numbers = sqlx::query(
        "UPDATE channels SET last_seq = last_seq + 1, last_change = last_change + 1
         WHERE id = ?1 AND EXISTS (SELECT 1 FROM memberships WHERE channel_id = ?1 AND user_id = ?2)
           AND NOT (kind = 'direct' AND EXISTS (
                SELECT 1 FROM blocks b JOIN memberships o ON o.user_id = b.user_id
                WHERE o.channel_id = ?1 AND b.blocked_id = ?2))
         RETURNING last_seq, last_change",
    )
    .bind(&message.channel.0)
    .bind(&message.author.id.0)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(numbers) = numbers else {
        let member = sqlx::query("SELECT 1 FROM memberships WHERE channel_id = ? AND user_id = ?")
            .bind(&message.channel.0)
            .bind(&message.author.id.0)
            .fetch_optional(&mut **tx)
            .await?;
        return Ok(if member.is_some() {
            Stored::Blocked(message.clone())
        } else {
            Stored::NotAMember(message.clone())
        });
    };
    let seq: Seq = numbers.get("last_seq");
    let change: i64 = numbers.get("last_change");
    let sent_at = now_millis();
    sqlx::query(
        "INSERT INTO messages (channel_id, seq, author_id, client_id, body, sent_at, change_no)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&message.channel.0)
    .bind(seq)
    .bind(&message.author.id.0)
    .bind(message.client_id.as_str())
    .bind(&message.text)
    .bind(sent_at)
    .bind(change)
    .execute(&mut **tx)
    .await?;
    if message.text.contains('@') {
        mentions::record(tx, &message.channel, seq, &message.author.id, &message.text).await?;
    }
    let attachments = files::attach_to_message(tx, message, seq).await?;
    Ok(Stored::New(ChatMessage {
        channel: message.channel.clone(),
        seq,
        client_id: message.client_id.clone(),
        author: message.author.clone(),
        text: message.text.clone(),
        sent_at,
        edited_at: None,
        deleted: false,
        reactions: Vec::new(),
        attachments,
        preview: None,
        change,
    }))
}

/// Refuses to start on a damaged database file (SQLite's `quick_check`),
/// saying how to restore from a backup.
async fn check_integrity(pool: &SqlitePool) -> Result<(), StoreError> {
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA quick_check(10)")
        .fetch_all(pool)
        .await?;
    if problems.len() == 1 && problems[0] == "ok" {
        Ok(())
    } else {
        Err(StoreError::Damaged(problems.join("; ")))
    }
}

/// Gives a changed message the channel's next change number, so catch-up
/// (`sync` with `after_change`) finds it.
async fn stamp_change(
    connection: &mut sqlx::SqliteConnection,
    channel: &ChannelId,
    seq: Seq,
) -> Result<i64, StoreError> {
    let change_no: i64 = sqlx::query_scalar(
        "UPDATE channels SET last_change = last_change + 1 WHERE id = ? RETURNING last_change",
    )
    .bind(&channel.0)
    .fetch_one(&mut *connection)
    .await?;
    sqlx::query("UPDATE messages SET change_no = ? WHERE channel_id = ? AND seq = ?")
        .bind(change_no)
        .bind(&channel.0)
        .bind(seq)
        .execute(&mut *connection)
        .await?;
    Ok(change_no)
}

/// The lowest and highest sequence number of some messages (held in order).
fn seq_range(messages: &[ChatMessage]) -> Option<(Seq, Seq)> {
    let (first, last) = (messages.first()?, messages.last()?);
    Some((first.seq.min(last.seq), first.seq.max(last.seq)))
}

fn kind_and_creator(row: &sqlx::sqlite::SqliteRow) -> (ChannelKind, Option<UserId>) {
    (
        stored_kind(row.get::<String, _>("kind").as_str()),
        row.get::<Option<String>, _>("created_by").map(UserId),
    )
}

fn message_from_row(row: &sqlx::sqlite::SqliteRow) -> ChatMessage {
    let client_id: String = row.get("client_id");
    ChatMessage {
        channel: ChannelId(row.get("channel_id")),
        seq: row.get("seq"),
        // Only ids that passed `ClientMsgId::parse` are ever stored.
        client_id: ClientMsgId::parse(&client_id)
            .unwrap_or_else(|_| ClientMsgId::parse("invalid").expect("a literal valid id")),
        author: UserInfo {
            id: UserId(row.get("author_id")),
            name: row.get("author_name"),
        },
        text: row.get("body"),
        sent_at: row.get("sent_at"),
        edited_at: row.get("edited_at"),
        deleted: row.get::<i64, _>("deleted") != 0,
        reactions: Vec::new(),
        attachments: Vec::new(),
        preview: row
            .get::<Option<String>, _>("preview")
            .and_then(|json| serde_json::from_str(&json).ok()),
        change: row.get("change_no"),
    }
}

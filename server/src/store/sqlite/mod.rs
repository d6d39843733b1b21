//! The SQLite dialect of the store. SQLite runs in WAL mode with
//! `synchronous=FULL`: a committed message is on disk before it is
//! acknowledged. The message writer's batched inserts run on their own
//! connection. Every write transaction starts with `BEGIN IMMEDIATE`, so it
//! waits (up to the busy timeout) for the write lock instead of failing
//! when another connection wrote first.

use std::str::FromStr;
use std::time::Duration;

use shared::{ChannelId, Seq};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, Transaction};

use crate::random::{new_id, now_millis};
use crate::store::{DEFAULT_CHANNEL, StoreError};

use crate::store::messages::select_messages;

mod accounts;
mod channels;
mod community;
mod custom_emoji;
mod files;
mod link_cache;
mod mentions;
mod messages;
mod moderation;
mod reports;
mod search;
mod threads;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The message writer's own connection, so it never waits for the pool.
    writer_pool: SqlitePool,
    /// The default channel (public; never renamed or removed), read once.
    default_channel: Option<ChannelId>,
    /// The database's epoch (see the `epoch` table), read once.
    epoch: String,
    /// Whether new messages go into the search index.
    search_index: bool,
}

/// The message writer's page cache (negative: KiB): a batch touches index
/// pages all over the messages table, and re-reading them from the file
/// costs more than the memory.
const WRITER_CACHE: &str = "-65536";
/// WAL pages written before the writer copies them back into the database
/// (SQLite's default is 1,000, which a batch of 256 messages into scattered
/// conversations reaches every other commit, each time with an extra sync).
const WAL_CHECKPOINT_PAGES: &str = "16384";

impl SqliteStore {
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
            .connect_with(
                options
                    .pragma("cache_size", WRITER_CACHE)
                    .pragma("wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
                    .pragma("temp_store", "memory"),
            )
            .await?;
        let epoch = sqlx::query_scalar("SELECT value FROM epoch WHERE id = 1")
            .fetch_one(&pool)
            .await?;
        let mut store = Self {
            pool,
            writer_pool,
            default_channel: None,
            epoch,
            search_index: true,
        };
        store.update_name_keys().await?;
        store.default_channel = store.ensure_default_channel().await?;
        Ok(store)
    }

    /// Whether new messages go into the search index (on by default).
    /// Turning it on indexes what was stored while it was off; how many
    /// messages that added.
    pub async fn set_search_index(&mut self, on: bool) -> Result<u64, StoreError> {
        self.search_index = on;
        if !on {
            return Ok(0);
        }
        let mut connection = self.writer_pool.acquire().await?;
        search::index_missing(&mut connection).await
    }

    /// Whether new messages go into the search index.
    pub fn keeps_search_index(&self) -> bool {
        self.search_index
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
        // The copy is a history of its own once restored: clients that saw
        // this database after now must drop what they cached.
        let options = SqliteConnectOptions::new().filename(path);
        let mut copy = sqlx::SqliteConnection::connect_with(&options).await?;
        sqlx::query("UPDATE epoch SET value = ? WHERE id = 1")
            .bind(new_id())
            .execute(&mut copy)
            .await?;
        copy.close().await?;
        Ok(())
    }

    /// The database's epoch: the same until a restore (see `new_epoch`).
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Gives the database a new epoch (after a restore); the new one.
    pub async fn new_epoch(&self) -> Result<String, StoreError> {
        let epoch = new_id();
        sqlx::query("UPDATE epoch SET value = ? WHERE id = 1")
            .bind(&epoch)
            .execute(&self.pool)
            .await?;
        Ok(epoch)
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

    /// Creates the default channel if it is missing; returns its id (none
    /// if a channel of that name is not public).
    async fn ensure_default_channel(&self) -> Result<Option<ChannelId>, StoreError> {
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
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM channels WHERE name = ? AND kind = 'public'")
                .bind(DEFAULT_CHANNEL)
                .fetch_optional(&self.pool)
                .await?;
        Ok(id.map(ChannelId))
    }
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

/// `count` copies of a placeholder group (`"?"`, `"(?, ?)"`…) separated by
/// commas, for an `IN (…)` list or a `VALUES` list bound row by row.
fn placeholders(group: &str, count: usize) -> String {
    vec![group; count].join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Channels;
    use shared::UserId;
    use shared::protocol::ChannelKind;

    #[tokio::test]
    async fn a_channel_of_a_kind_this_version_does_not_know_is_members_only() {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", folder.path().join("chat.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        // Written by a newer version, say.
        sqlx::query(
            "INSERT INTO channels (id, name, topic, kind, created_at)
             VALUES ('later', 'announcements', '', 'broadcast', 0)",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        let id = ChannelId("later".into());
        let (kind, _) = store.channel_kind(&id).await.unwrap().unwrap();
        assert_eq!(kind, ChannelKind::Private);
        let stranger = UserId("stranger".into());
        let listed = store.browse_channels(&stranger, "").await.unwrap();
        assert!(listed.iter().all(|channel| channel.id != id));
        assert_eq!(store.membership(&stranger, &id).await.unwrap(), None);
    }
}

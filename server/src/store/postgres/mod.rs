//! The PostgreSQL dialect of the store, for running several server nodes on
//! one database: every aggregate of [`super::sqlite`], checked by the same
//! conformance tests. Multi-row writes bind arrays (`UNNEST`) instead of
//! building placeholder lists; numbers are handed out under channel row
//! locks (see `messages`).

use std::sync::Arc;
use std::time::Duration;

use shared::ChannelId;
use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::random::{new_id, now_millis};
use crate::store::{DEFAULT_CHANNEL, StoreError};

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

/// The `LISTEN`/`NOTIFY` channel the nodes' notices travel on
/// ([`shared::cluster::Notice`]).
pub const NOTICES: &str = "chat_notices";

/// The advisory lock on stored content ("chatfile"): shared while an
/// upload stores bytes and records them, exclusive while a sweep removes
/// bytes nothing refers to.
const CONTENT_LOCK: i64 = 0x6368_6174_6669_6c65;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// This server node's name, in the notices it publishes.
    node: Arc<str>,
    /// Whether the writer `NOTIFY`s its commits inside its transactions
    /// (the PostgreSQL bus).
    notify: bool,
    /// The default channel (public; never renamed or removed), read once.
    default_channel: Option<ChannelId>,
    /// The database's epoch (see the `epoch` table), read once.
    epoch: String,
}

impl PgStore {
    /// Connects, applies migrations (one node at a time: the migrator holds
    /// an advisory lock) and makes sure the default channel exists.
    pub async fn open(database_url: &str) -> Result<Self, StoreError> {
        if !Self::handles(database_url) {
            return Err(StoreError::UnsupportedUrl(database_url.to_owned()));
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(database_url)
            .await?;
        sqlx::migrate!("./migrations-postgres").run(&pool).await?;
        let epoch = sqlx::query_scalar("SELECT value FROM epoch WHERE id = 1")
            .fetch_one(&pool)
            .await?;
        let mut store = Self {
            epoch,
            pool,
            node: Arc::from(new_id()),
            notify: true,
            default_channel: None,
        };
        store.update_name_keys().await?;
        store.default_channel = store.ensure_default_channel().await?;
        Ok(store)
    }

    /// Names this server node (a random name until then).
    pub fn set_node(&mut self, node: &str) {
        self.node = Arc::from(node);
    }

    /// Whether the writer `NOTIFY`s its commits (see the field).
    pub fn notify_in_transactions(&mut self, notify: bool) {
        self.notify = notify;
    }

    /// This server node's name.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The connection pool (the bus listens through its own connection
    /// made from the same options).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The database's epoch: the same until a restore (see `new_epoch`).
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Gives the database a new epoch (after a restore); the new one.
    pub async fn new_epoch(&self) -> Result<String, StoreError> {
        let epoch = new_id();
        sqlx::query("UPDATE epoch SET value = $1 WHERE id = 1")
            .bind(&epoch)
            .execute(&self.pool)
            .await?;
        Ok(epoch)
    }

    /// Whether a database URL names a PostgreSQL database.
    pub fn handles(database_url: &str) -> bool {
        database_url.starts_with("postgres:") || database_url.starts_with("postgresql:")
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Takes the content lock for every node: shared (uploads) or
    /// exclusive (sweeps). Held until the returned transaction ends.
    pub async fn lock_content(
        &self,
        exclusive: bool,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let sql = if exclusive {
            "SELECT pg_advisory_xact_lock($1)"
        } else {
            "SELECT pg_advisory_xact_lock_shared($1)"
        };
        sqlx::query(sql)
            .bind(CONTENT_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// Counts one more hit on `key` in the current window of `window_ms`
    /// (the same count on every node); returns the hits in this window
    /// and when the window ends (ms since the epoch).
    pub async fn count_hit(&self, key: &str, window_ms: i64) -> Result<(u64, i64), StoreError> {
        let window_start = window_start(window_ms);
        let hits: i64 = sqlx::query_scalar(
            "INSERT INTO limit_hits (key, window_start, hits) VALUES ($1, $2, 1)
             ON CONFLICT (key, window_start) DO UPDATE SET hits = limit_hits.hits + 1
             RETURNING hits",
        )
        .bind(key)
        .bind(window_start)
        .fetch_one(&self.pool)
        .await?;
        Ok((hits.max(0) as u64, window_start + window_ms))
    }

    /// Takes back one hit on `key` in the current window (an attempt that
    /// turned out fine).
    pub async fn refund_hit(&self, key: &str, window_ms: i64) -> Result<(), StoreError> {
        let window_start = window_start(window_ms);
        sqlx::query(
            "UPDATE limit_hits SET hits = hits - 1
             WHERE key = $1 AND window_start = $2 AND hits > 0",
        )
        .bind(key)
        .bind(window_start)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims this period's run of the job `name`: true when no node ran
    /// it in the last `every` (less a tenth, for timers that tick a little
    /// early against the database clock); the claim is the row's update.
    pub async fn claim_job(&self, name: &str, every: Duration) -> Result<bool, StoreError> {
        let every = every.as_millis() as i64;
        let claimed: Option<String> = sqlx::query_scalar(
            "INSERT INTO jobs (name, last_run_at)
             VALUES ($1, (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT)
             ON CONFLICT (name) DO UPDATE SET last_run_at = EXCLUDED.last_run_at
             WHERE jobs.last_run_at <= EXCLUDED.last_run_at - $2
             RETURNING name",
        )
        .bind(name)
        .bind(every - every / 10)
        .fetch_optional(&self.pool)
        .await?;
        Ok(claimed.is_some())
    }

    /// Forgets the counts of windows that started before `before`.
    pub async fn forget_hits(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM limit_hits WHERE window_start < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Waits for open connections to finish and closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Creates the default channel if it is missing; returns its id (none
    /// if a channel of that name is not public).
    async fn ensure_default_channel(&self) -> Result<Option<ChannelId>, StoreError> {
        sqlx::query(
            "INSERT INTO channels (id, name, topic, kind, created_at)
             VALUES ($1, $2, $3, 'public', $4)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(new_id())
        .bind(DEFAULT_CHANNEL)
        .bind("Everyone is here")
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM channels WHERE name = $1 AND kind = 'public'")
                .bind(DEFAULT_CHANNEL)
                .fetch_optional(&self.pool)
                .await?;
        Ok(id.map(ChannelId))
    }
}

/// When the current fixed window of `window_ms` began (ms since the epoch).
fn window_start(window_ms: i64) -> i64 {
    let now = now_millis();
    now - now.rem_euclid(window_ms.max(1))
}

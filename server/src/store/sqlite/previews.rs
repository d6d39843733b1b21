//! Link previews in the database: a message's preview (stored as a change),
//! the cache of fetched links, and the images copied for previews.

use shared::{ChannelId, ChatMessage, LinkPreview, Seq};
use sqlx::Row;

use super::{Store, stamp_change};
use crate::random::now_millis;
use crate::store::StoreError;

impl Store {
    /// Sets a message's link preview as a change (new change number) and
    /// returns the message's new state; `None` if it is gone or deleted.
    pub async fn set_preview(
        &self,
        channel: &ChannelId,
        seq: Seq,
        preview: &LinkPreview,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let json = serde_json::to_string(preview).unwrap_or_default();
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query_scalar::<_, i64>(
            "SELECT 1 FROM messages WHERE channel_id = ? AND seq = ? AND deleted = 0",
        )
        .bind(&channel.0)
        .bind(seq)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Ok(None);
        }
        sqlx::query("UPDATE messages SET preview = ? WHERE channel_id = ? AND seq = ?")
            .bind(&json)
            .bind(&channel.0)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        stamp_change(&mut tx, channel, seq).await?;
        tx.commit().await?;
        self.message(channel, seq, None).await
    }

    /// A cached fetch of `url` no older than `max_age_ms`: `Some(None)` means
    /// the link had nothing to preview.
    pub async fn cached_preview(
        &self,
        url: &str,
        max_age_ms: i64,
    ) -> Result<Option<Option<LinkPreview>>, StoreError> {
        let row =
            sqlx::query("SELECT preview FROM preview_cache WHERE url = ? AND fetched_at >= ?")
                .bind(url)
                .bind(now_millis() - max_age_ms)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|row| {
            row.get::<Option<String>, _>("preview")
                .and_then(|json| serde_json::from_str(&json).ok())
        }))
    }

    /// Remembers the outcome of fetching `url`.
    pub async fn cache_preview(
        &self,
        url: &str,
        preview: Option<&LinkPreview>,
    ) -> Result<(), StoreError> {
        let json = preview.map(|p| serde_json::to_string(p).unwrap_or_default());
        sqlx::query(
            "INSERT INTO preview_cache (url, preview, fetched_at) VALUES (?, ?, ?)
             ON CONFLICT (url) DO UPDATE SET preview = excluded.preview, fetched_at = excluded.fetched_at",
        )
        .bind(url)
        .bind(json)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets up to `limit` cached fetches older than `before` (ms); returns how many.
    pub async fn forget_cached_previews(&self, before: i64, limit: u32) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM preview_cache WHERE url IN
               (SELECT url FROM preview_cache WHERE fetched_at < ? LIMIT ?)",
        )
        .bind(before)
        .bind(limit)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Records an image copied for a preview, so `/api/previews/` may serve it.
    pub async fn add_preview_image(&self, sha256: &str, mime: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO preview_images (sha256, mime, created_at) VALUES (?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(sha256)
        .bind(mime)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The type of a preview image, if `sha256` is one (uploads are never served this way).
    pub async fn preview_image_mime(&self, sha256: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT mime FROM preview_images WHERE sha256 = ?")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

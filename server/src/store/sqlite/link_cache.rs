//! Link previews in SQLite: the cache of fetched links and the images
//! copied for previews. (A message's preview is a message change.)

use shared::{ChannelId, LinkPreview, Seq};

use super::SqliteStore;
use crate::random::now_millis;
use crate::store::link_cache::{from_json, to_json};
use crate::store::{LinkCache, PreviewJob, StoreError};

impl LinkCache for SqliteStore {
    async fn cached_preview(
        &self,
        url: &str,
        max_age_ms: i64,
    ) -> Result<Option<Option<LinkPreview>>, StoreError> {
        let row: Option<Option<String>> = sqlx::query_scalar(
            "SELECT preview FROM preview_cache WHERE url = ? AND fetched_at >= ?",
        )
        .bind(url)
        .bind(now_millis() - max_age_ms)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(from_json))
    }

    async fn cache_preview(
        &self,
        url: &str,
        preview: Option<&LinkPreview>,
    ) -> Result<(), StoreError> {
        let json = preview.map(to_json);
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

    async fn forget_cached_previews(&self, before: i64, limit: u32) -> Result<u64, StoreError> {
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

    async fn add_preview_image(&self, sha256: &str, mime: &str) -> Result<(), StoreError> {
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

    async fn preview_image_mime(&self, sha256: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT mime FROM preview_images WHERE sha256 = ?")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn queue_preview(
        &self,
        channel: &ChannelId,
        seq: Seq,
        link: &str,
        max_waiting: u32,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO preview_jobs (channel_id, seq, link, due_at, tries)
             SELECT ?, ?, ?, ?, 0
             WHERE (SELECT COUNT(*) FROM preview_jobs) < ?
             ON CONFLICT (channel_id, seq) DO UPDATE
                 SET link = excluded.link, due_at = excluded.due_at, tries = 0",
        )
        .bind(&channel.0)
        .bind(seq)
        .bind(link)
        .bind(now_millis())
        .bind(max_waiting)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn claim_previews(
        &self,
        limit: u32,
        lease_ms: i64,
    ) -> Result<Vec<PreviewJob>, StoreError> {
        let now = now_millis();
        let rows: Vec<(String, Seq, String, i64)> = sqlx::query_as(
            "UPDATE preview_jobs SET due_at = ?, tries = tries + 1
             WHERE rowid IN
               (SELECT rowid FROM preview_jobs WHERE due_at <= ? ORDER BY due_at LIMIT ?)
             RETURNING channel_id, seq, link, tries",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(crate::store::link_cache::jobs(rows))
    }

    async fn finish_preview(&self, channel: &ChannelId, seq: Seq) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM preview_jobs WHERE channel_id = ? AND seq = ?")
            .bind(&channel.0)
            .bind(seq)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

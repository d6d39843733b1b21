//! The cache of fetched links and the images copied for previews, in
//! PostgreSQL.

use shared::{ChannelId, LinkPreview, Seq};

use super::PgStore;
use crate::random::now_millis;
use crate::store::link_cache::{from_json, to_json};
use crate::store::{LinkCache, PreviewJob, StoreError};

impl LinkCache for PgStore {
    async fn cached_preview(
        &self,
        url: &str,
        max_age_ms: i64,
    ) -> Result<Option<Option<LinkPreview>>, StoreError> {
        let row: Option<Option<String>> = sqlx::query_scalar(
            "SELECT preview FROM preview_cache WHERE url = $1 AND fetched_at >= $2",
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
            "INSERT INTO preview_cache (url, preview, fetched_at) VALUES ($1, $2, $3)
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
               (SELECT url FROM preview_cache WHERE fetched_at < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn add_preview_image(&self, sha256: &str, mime: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO preview_images (sha256, mime, created_at) VALUES ($1, $2, $3)
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
            sqlx::query_scalar("SELECT mime FROM preview_images WHERE sha256 = $1")
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
             SELECT $1, $2, $3, $4, 0
             WHERE (SELECT COUNT(*) FROM preview_jobs) < $5
             ON CONFLICT (channel_id, seq) DO UPDATE
                 SET link = EXCLUDED.link, due_at = EXCLUDED.due_at, tries = 0",
        )
        .bind(&channel.0)
        .bind(seq)
        .bind(link)
        .bind(now_millis())
        .bind(i64::from(max_waiting))
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
        // Rows another node is claiming right now are skipped, not waited for.
        let rows: Vec<(String, Seq, String, i32)> = sqlx::query_as(
            "UPDATE preview_jobs SET due_at = $1, tries = tries + 1
             WHERE (channel_id, seq) IN
               (SELECT channel_id, seq FROM preview_jobs WHERE due_at <= $2
                ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING channel_id, seq, link, tries",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(crate::store::link_cache::jobs(
            rows.into_iter()
                .map(|(channel, seq, link, tries)| (channel, seq, link, i64::from(tries)))
                .collect(),
        ))
    }

    async fn finish_preview(&self, channel: &ChannelId, seq: Seq) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM preview_jobs WHERE channel_id = $1 AND seq = $2")
            .bind(&channel.0)
            .bind(seq)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

//! The cache of fetched links and the images copied for previews, in
//! PostgreSQL.

use shared::LinkPreview;

use super::PgStore;
use crate::random::now_millis;
use crate::store::link_cache::{from_json, to_json};
use crate::store::{LinkCache, StoreError};

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
}

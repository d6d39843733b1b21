//! Uploaded files in PostgreSQL: recording an upload, finding the files a
//! user may fetch, and sweeping files nobody can see any more. (Attaching
//! uploads to a message happens in the message's own transaction.)

use shared::{Attachment, FileId, UserId};

use super::PgStore;
use crate::random::{new_id, now_millis};
use crate::store::files::{FileRow, select_files, stored_file, swept_hashes, uploaded};
use crate::store::{Files, NewFile, StoreError, StoredFile};

impl Files for PgStore {
    async fn insert_file(&self, file: &NewFile) -> Result<Attachment, StoreError> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO files (id, channel_id, uploader_id, name, kind, mime, size, width, height,
                                sha256, thumb_sha256, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(&file.channel.0)
        .bind(&file.uploader.0)
        .bind(&file.name)
        .bind(file.kind.as_str())
        .bind(&file.mime)
        .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
        .bind(file.width.map(i64::from))
        .bind(file.height.map(i64::from))
        .bind(&file.sha256)
        .bind(&file.thumb_sha256)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(uploaded(id, file))
    }

    async fn file_for(
        &self,
        user: &UserId,
        file: &FileId,
    ) -> Result<Option<StoredFile>, StoreError> {
        let row: Option<FileRow> = sqlx::query_as(select_files!(
            "JOIN memberships ms ON ms.channel_id = f.channel_id AND ms.user_id = $1
             LEFT JOIN messages m ON m.channel_id = f.channel_id AND m.seq = f.seq
             WHERE f.id = $2
               AND ((f.seq IS NULL AND f.uploader_id = $1) OR (m.seq IS NOT NULL AND NOT m.deleted))"
        ))
        .bind(&user.0)
        .bind(&file.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| stored_file(row).0))
    }

    async fn sweep_files(
        &self,
        unposted_before: i64,
        limit: u32,
    ) -> Result<(usize, Vec<String>), StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "(SELECT f.id, f.sha256, f.thumb_sha256 FROM files f
               WHERE f.seq IS NULL AND f.created_at < $1 LIMIT $2)
             UNION ALL
             (SELECT f.id, f.sha256, f.thumb_sha256
               FROM messages m JOIN files f ON f.channel_id = m.channel_id AND f.seq = m.seq
               WHERE m.deleted LIMIT $2)",
        )
        .bind(unposted_before)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let ids: Vec<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
        sqlx::query("DELETE FROM files WHERE id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        let unreferenced = unreferenced_among(&mut tx, &swept_hashes(&rows)).await?;
        tx.commit().await?;
        Ok((rows.len(), unreferenced))
    }

    async fn unreferenced(&self, hashes: &[String]) -> Result<Vec<String>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        unreferenced_among(&mut connection, hashes).await
    }
}

/// Of these content hashes, the ones no file row or preview image refers to
/// (one query for all of them).
async fn unreferenced_among(
    connection: &mut sqlx::PgConnection,
    hashes: &[String],
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT h FROM UNNEST($1::text[]) AS h
         WHERE NOT EXISTS (SELECT 1 FROM files WHERE sha256 = h)
           AND NOT EXISTS (SELECT 1 FROM files WHERE thumb_sha256 = h)
           AND NOT EXISTS (SELECT 1 FROM preview_images WHERE sha256 = h)
         ORDER BY h",
    )
    .bind(hashes)
    .fetch_all(connection)
    .await?)
}

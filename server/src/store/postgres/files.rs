//! Uploaded files in PostgreSQL: recording an upload, attaching uploads to
//! a message inside its insert transaction, finding the files a user may
//! fetch, loading messages' attachments, and sweeping files nobody can see
//! any more.

use shared::{Attachment, ChannelId, ChatMessage, FileId, Seq, UserId};

use super::PgStore;
use crate::random::{new_id, now_millis};
use crate::store::files::{FileRow, select_files, stored_file, swept_hashes, uploaded};
use crate::store::messages::seq_range;
use crate::store::{Files, NewFile, NewMessage, StoreError, StoredFile};

impl PgStore {
    /// Fills in the attachments of these messages (all from `channel`);
    /// deleted messages keep none.
    pub(super) async fn fill_attachments(
        &self,
        channel: &ChannelId,
        messages: &mut [ChatMessage],
    ) -> Result<(), StoreError> {
        let Some((low, high)) = seq_range(messages) else {
            return Ok(());
        };
        let rows: Vec<FileRow> = sqlx::query_as(select_files!(
            "WHERE f.channel_id = $1 AND f.seq BETWEEN $2 AND $3 ORDER BY f.seq, f.position"
        ))
        .bind(&channel.0)
        .bind(low)
        .bind(high)
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let (file, seq) = stored_file(row);
            if let Some(message) = messages
                .iter_mut()
                .find(|m| Some(m.seq) == seq && !m.deleted)
            {
                message.attachments.push(file.attachment);
            }
        }
        Ok(())
    }
}

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

/// Of these content hashes, the ones no file row, preview image or custom
/// emoji refers to
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
           AND NOT EXISTS (SELECT 1 FROM custom_emoji WHERE sha256 = h)
         ORDER BY h",
    )
    .bind(hashes)
    .fetch_all(connection)
    .await?)
}

/// Whether every attachment of `message` is a distinct, unposted upload of
/// its author in its channel.
pub(super) async fn attachments_postable(
    connection: &mut sqlx::PgConnection,
    message: &NewMessage,
) -> Result<bool, StoreError> {
    let mut ids: Vec<&str> = message.attachments.iter().map(|f| f.0.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != message.attachments.len() {
        return Ok(false);
    }
    let found: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM files
         WHERE id = ANY($1) AND channel_id = $2 AND uploader_id = $3 AND seq IS NULL",
    )
    .bind(&ids)
    .bind(&message.channel.0)
    .bind(&message.author.id.0)
    .fetch_one(connection)
    .await?;
    Ok(found == ids.len() as i64)
}

/// Gives each attachment of a just-numbered message its place (`seq`,
/// position) and returns them in order. Call after [`attachments_postable`].
pub(super) async fn attach_to_message(
    connection: &mut sqlx::PgConnection,
    message: &NewMessage,
    seq: Seq,
) -> Result<Vec<Attachment>, StoreError> {
    let ids: Vec<&str> = message.attachments.iter().map(|f| f.0.as_str()).collect();
    sqlx::query(
        "UPDATE files SET seq = $1, position = placed.position - 1
         FROM UNNEST($2::text[]) WITH ORDINALITY AS placed (id, position)
         WHERE files.id = placed.id",
    )
    .bind(seq)
    .bind(&ids)
    .execute(&mut *connection)
    .await?;
    let rows: Vec<FileRow> = sqlx::query_as(select_files!(
        "WHERE f.channel_id = $1 AND f.seq = $2 ORDER BY f.position"
    ))
    .bind(&message.channel.0)
    .bind(seq)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| stored_file(row).0.attachment)
        .collect())
}

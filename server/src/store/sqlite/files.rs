//! Uploaded files in the database: recording an upload, attaching uploads
//! to a message inside its insert transaction, finding the files a user may
//! fetch, loading messages' attachments, and forgetting files nobody can
//! see any more.

use shared::{Attachment, ChannelId, ChatMessage, FileId, UserId};
use sqlx::{Sqlite, Transaction};

use super::SqliteStore;
use crate::random::{new_id, now_millis};
use crate::store::files::{FileRow, select_files, stored_file, swept_hashes, uploaded};
use crate::store::messages::seq_range;
use crate::store::{Files, NewFile, NewMessage, StoreError, StoredFile};
use shared::Seq;

impl SqliteStore {
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
            "WHERE f.channel_id = ? AND f.seq BETWEEN ? AND ? ORDER BY f.seq, f.position"
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

impl Files for SqliteStore {
    async fn insert_file(&self, file: &NewFile) -> Result<Attachment, StoreError> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO files (id, channel_id, uploader_id, name, kind, mime, size, width, height,
                                sha256, thumb_sha256, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&file.channel.0)
        .bind(&file.uploader.0)
        .bind(&file.name)
        .bind(file.kind.as_str())
        .bind(&file.mime)
        .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
        .bind(file.width)
        .bind(file.height)
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
            "JOIN memberships ms ON ms.channel_id = f.channel_id AND ms.user_id = ?
             LEFT JOIN messages m ON m.channel_id = f.channel_id AND m.seq = f.seq
             WHERE f.id = ?
               AND ((f.seq IS NULL AND f.uploader_id = ?) OR (m.seq IS NOT NULL AND m.deleted = 0))"
        ))
        .bind(&user.0)
        .bind(&file.0)
        .bind(&user.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| stored_file(row).0))
    }

    async fn sweep_files(
        &self,
        unposted_before: i64,
        limit: u32,
    ) -> Result<(usize, Vec<String>), StoreError> {
        let mut tx = self.begin_write().await?;
        let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, sha256, thumb_sha256 FROM
               (SELECT f.id, f.sha256, f.thumb_sha256 FROM files f INDEXED BY files_unposted
                 WHERE f.seq IS NULL AND f.created_at < ?1 LIMIT ?2)
             UNION ALL
             SELECT id, sha256, thumb_sha256 FROM
               (SELECT f.id, f.sha256, f.thumb_sha256
                 FROM messages m INDEXED BY messages_deleted
                 JOIN files f ON f.channel_id = m.channel_id AND f.seq = m.seq
                 WHERE m.deleted = 1 LIMIT ?2)",
        )
        .bind(unposted_before)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        for (id, _, _) in &rows {
            sqlx::query("DELETE FROM files WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let mut unreferenced = Vec::new();
        for sha256 in swept_hashes(&rows) {
            if !content_referenced(&mut tx, &sha256).await? {
                unreferenced.push(sha256);
            }
        }
        tx.commit().await?;
        Ok((rows.len(), unreferenced))
    }

    async fn unreferenced(&self, hashes: &[String]) -> Result<Vec<String>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        let mut unreferenced = Vec::new();
        for sha256 in hashes {
            if !content_referenced(&mut connection, sha256).await? {
                unreferenced.push(sha256.clone());
            }
        }
        Ok(unreferenced)
    }
}

/// Whether any file row, preview image or custom emoji refers to this content.
async fn content_referenced(
    connection: &mut sqlx::SqliteConnection,
    sha256: &str,
) -> Result<bool, StoreError> {
    let used = sqlx::query_scalar::<_, i64>(
        "SELECT 1 FROM files WHERE sha256 = ?1
         UNION ALL SELECT 1 FROM files WHERE thumb_sha256 = ?1
         UNION ALL SELECT 1 FROM preview_images WHERE sha256 = ?1
         UNION ALL SELECT 1 FROM custom_emoji WHERE sha256 = ?1 LIMIT 1",
    )
    .bind(sha256)
    .fetch_optional(connection)
    .await?;
    Ok(used.is_some())
}

/// Gives each attachment of a just-numbered message its place (`seq`,
/// position) and returns them in order. Call after [`attachments_postable`].
pub(super) async fn attach_to_message(
    tx: &mut Transaction<'static, Sqlite>,
    message: &NewMessage,
    seq: Seq,
) -> Result<Vec<Attachment>, StoreError> {
    let mut attachments = Vec::with_capacity(message.attachments.len());
    for (position, file) in message.attachments.iter().enumerate() {
        sqlx::query("UPDATE files SET seq = ?, position = ? WHERE id = ?")
            .bind(seq)
            .bind(position as i64)
            .bind(&file.0)
            .execute(&mut **tx)
            .await?;
        let row: FileRow = sqlx::query_as(select_files!("WHERE f.id = ?"))
            .bind(&file.0)
            .fetch_one(&mut **tx)
            .await?;
        attachments.push(stored_file(row).0.attachment);
    }
    Ok(attachments)
}

/// Whether every attachment of `message` is a distinct, unposted upload of
/// its author in its channel.
pub(super) async fn attachments_postable(
    tx: &mut Transaction<'static, Sqlite>,
    message: &NewMessage,
) -> Result<bool, StoreError> {
    let mut ids: Vec<&str> = message.attachments.iter().map(|f| f.0.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != message.attachments.len() {
        return Ok(false);
    }
    let mut postable = 0;
    for id in ids {
        let found = sqlx::query_scalar::<_, i64>(
            "SELECT 1 FROM files WHERE id = ? AND channel_id = ? AND uploader_id = ? AND seq IS NULL",
        )
        .bind(id)
        .bind(&message.channel.0)
        .bind(&message.author.id.0)
        .fetch_optional(&mut **tx)
        .await?;
        postable += usize::from(found.is_some());
    }
    Ok(postable == message.attachments.len())
}

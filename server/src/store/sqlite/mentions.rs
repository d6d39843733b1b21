//! Who a message mentions, in SQLite (the rule is [`crate::store::mentions`]).

use shared::{ChannelId, Seq, UserId};

use super::placeholders;
use crate::store::StoreError;
use crate::store::mentions::candidates;

/// Records whom `text` (a new or edited message by `author`) mentions,
/// replacing what was recorded for this message before.
pub(super) async fn record(
    connection: &mut sqlx::SqliteConnection,
    channel: &ChannelId,
    seq: Seq,
    author: &UserId,
    text: &str,
) -> Result<(), StoreError> {
    forget(connection, channel, seq).await?;
    for candidates in candidates(text) {
        // Up to MAX_USERNAME_CHARS placeholders: well within SQLite's limit.
        let keys = placeholders("?", candidates.len());
        let sql = format!(
            "INSERT OR IGNORE INTO mentions (user_id, channel_id, seq)
             SELECT id, ?, ? FROM users WHERE id != ? AND mention_key IN ({keys})"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&channel.0)
            .bind(seq)
            .bind(&author.0);
        for candidate in &candidates {
            query = query.bind(candidate);
        }
        query.execute(&mut *connection).await?;
    }
    Ok(())
}

/// Forgets whom a message mentions (it was deleted, or is about to be re-recorded).
pub(super) async fn forget(
    connection: &mut sqlx::SqliteConnection,
    channel: &ChannelId,
    seq: Seq,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM mentions WHERE channel_id = ? AND seq = ?")
        .bind(&channel.0)
        .bind(seq)
        .execute(connection)
        .await?;
    Ok(())
}

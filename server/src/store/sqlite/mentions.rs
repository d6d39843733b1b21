//! Who a message mentions, in SQLite (the rule is [`crate::store::mentions`]).

use shared::{ChannelId, ChatMessage, Seq, UserId};

use super::SqliteStore;
use super::placeholders;
use crate::store::mentions::{candidates, read_each};
use crate::store::{EveryoneTo, Mentions, StoreError};

/// Records whom `text` (a new or edited message by `author`) mentions by
/// name, replacing what was recorded for this message by name before.
pub(super) async fn record(
    connection: &mut sqlx::SqliteConnection,
    channel: &ChannelId,
    seq: Seq,
    author: &UserId,
    text: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM mentions WHERE channel_id = ? AND seq = ? AND everyone = 0")
        .bind(&channel.0)
        .bind(seq)
        .execute(&mut *connection)
        .await?;
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

/// Records that a new message by `author` notifies `everyone` (the members
/// of its conversation, or those among some people).
pub(super) async fn record_everyone(
    connection: &mut sqlx::SqliteConnection,
    channel: &ChannelId,
    seq: Seq,
    author: &UserId,
    everyone: &EveryoneTo,
) -> Result<(), StoreError> {
    let among = match everyone {
        EveryoneTo::Members => String::new(),
        EveryoneTo::Among(people) if people.is_empty() => return Ok(()),
        // At most the conversation's member limit for `@here`: well
        // within SQLite's bound on placeholders.
        EveryoneTo::Among(people) => {
            format!(" AND user_id IN ({})", placeholders("?", people.len()))
        }
    };
    let sql = format!(
        "INSERT OR IGNORE INTO mentions (user_id, channel_id, seq, everyone)
         SELECT user_id, ?, ?, 1 FROM memberships WHERE channel_id = ? AND user_id != ?{among}"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&channel.0)
        .bind(seq)
        .bind(&channel.0)
        .bind(&author.0);
    if let EveryoneTo::Among(people) = everyone {
        for person in people {
            query = query.bind(&person.0);
        }
    }
    query.execute(connection).await?;
    Ok(())
}

/// Forgets whom a deleted message mentions.
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

impl Mentions for SqliteStore {
    async fn mentions_of(
        &self,
        reader: &UserId,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        // Only conversations the reader is in now; the newest first.
        let keys: Vec<(String, Seq)> = sqlx::query_as(
            "SELECT x.channel_id, x.seq FROM mentions x
             JOIN memberships ms ON ms.channel_id = x.channel_id AND ms.user_id = x.user_id
             JOIN messages m ON m.channel_id = x.channel_id AND m.seq = x.seq
             WHERE x.user_id = ? AND m.deleted = 0
             ORDER BY m.sent_at DESC, m.seq DESC LIMIT ?",
        )
        .bind(&reader.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        read_each(self, reader, keys).await
    }
}

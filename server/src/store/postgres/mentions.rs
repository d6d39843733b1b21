//! Who a message mentions, in PostgreSQL (the rule is
//! [`crate::store::mentions`]): every candidate name of a message in one
//! statement.

use shared::{ChannelId, ChatMessage, Seq, UserId};

use super::PgStore;
use crate::store::mentions::{candidates, read_each};
use crate::store::{EveryoneTo, Mentions, StoreError};

/// Records whom `text` (a new or edited message by `author`) mentions by
/// name, replacing what was recorded for this message by name before.
pub(super) async fn record(
    connection: &mut sqlx::PgConnection,
    channel: &ChannelId,
    seq: Seq,
    author: &UserId,
    text: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM mentions WHERE channel_id = $1 AND seq = $2 AND NOT everyone")
        .bind(&channel.0)
        .bind(seq)
        .execute(&mut *connection)
        .await?;
    let keys: Vec<String> = candidates(text).into_iter().flatten().collect();
    if keys.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO mentions (user_id, channel_id, seq)
         SELECT id, $1, $2 FROM users WHERE id <> $3 AND mention_key = ANY($4)
         ON CONFLICT DO NOTHING",
    )
    .bind(&channel.0)
    .bind(seq)
    .bind(&author.0)
    .bind(&keys)
    .execute(connection)
    .await?;
    Ok(())
}

/// Records that a new message by `author` notifies `everyone` (the members
/// of its conversation, or those among some people).
pub(super) async fn record_everyone(
    connection: &mut sqlx::PgConnection,
    channel: &ChannelId,
    seq: Seq,
    author: &UserId,
    everyone: &EveryoneTo,
) -> Result<(), StoreError> {
    let among: Option<Vec<&str>> = match everyone {
        EveryoneTo::Members => None,
        EveryoneTo::Among(people) => Some(people.iter().map(|p| p.0.as_str()).collect()),
    };
    sqlx::query(
        "INSERT INTO mentions (user_id, channel_id, seq, everyone)
         SELECT user_id, $1, $2, TRUE FROM memberships
         WHERE channel_id = $1 AND user_id <> $3 AND ($4::TEXT[] IS NULL OR user_id = ANY($4))
         ON CONFLICT DO NOTHING",
    )
    .bind(&channel.0)
    .bind(seq)
    .bind(&author.0)
    .bind(among)
    .execute(connection)
    .await?;
    Ok(())
}

/// Forgets whom a deleted message mentions.
pub(super) async fn forget(
    connection: &mut sqlx::PgConnection,
    channel: &ChannelId,
    seq: Seq,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM mentions WHERE channel_id = $1 AND seq = $2")
        .bind(&channel.0)
        .bind(seq)
        .execute(connection)
        .await?;
    Ok(())
}

impl Mentions for PgStore {
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
             WHERE x.user_id = $1 AND NOT m.deleted
             ORDER BY m.sent_at DESC, m.seq DESC LIMIT $2",
        )
        .bind(&reader.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        read_each(self, reader, keys).await
    }
}

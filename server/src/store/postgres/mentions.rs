//! Who a message mentions, in PostgreSQL (the rule is
//! [`crate::store::mentions`]): every candidate name of a message in one
//! statement.

use shared::{ChannelId, Seq, UserId};

use crate::store::StoreError;
use crate::store::mentions::candidates;

/// Records whom `text` (a new or edited message by `author`) mentions,
/// replacing what was recorded for this message before.
pub(super) async fn record(
    connection: &mut sqlx::PgConnection,
    channel: &ChannelId,
    seq: Seq,
    author: &UserId,
    text: &str,
) -> Result<(), StoreError> {
    forget(connection, channel, seq).await?;
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

/// Forgets whom a message mentions (it was deleted, or is about to be re-recorded).
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

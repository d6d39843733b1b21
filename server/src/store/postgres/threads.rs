//! Threads in PostgreSQL: a thread's replies, follow rows and read marks, and
//! what the writer's transaction does for new replies (the parents they
//! name, the parent's summary, who follows).

use shared::{ChangeNo, ChannelId, ChatMessage, Seq, UserId};
use sqlx::Row;

use super::PgStore;
use crate::store::messages::{
    Details, MessageRow, ReplierRow, Root, Roots, add_repliers, newest_rows, oldest_first,
    root_change, roots_named, select_messages,
};
use crate::store::{Following, NewMessage, StoreError, Threads};

impl Threads for PgStore {
    async fn replies_before(
        &self,
        channel: &ChannelId,
        root: Seq,
        before_seq: Seq,
        limit: u32,
        reader: &UserId,
    ) -> Result<(Vec<ChatMessage>, bool), StoreError> {
        let rows: Vec<MessageRow> = sqlx::query_as(select_messages!(
            "WHERE m.channel_id = $1 AND m.thread_seq = $2 AND m.seq < $3
             ORDER BY m.seq DESC LIMIT $4"
        ))
        .bind(&channel.0)
        .bind(root)
        .bind(before_seq)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let (rows, has_older) = newest_rows(rows, limit);
        let messages = self.with_details(channel, &rows, Some(reader)).await?;
        Ok((oldest_first(messages, has_older).messages, has_older))
    }

    async fn follow_row(
        &self,
        channel: &ChannelId,
        root: Seq,
        reader: &UserId,
    ) -> Result<Option<Following>, StoreError> {
        let row = sqlx::query(
            "SELECT following, read_seq FROM thread_follows
             WHERE user_id = $1 AND channel_id = $2 AND root_seq = $3",
        )
        .bind(&reader.0)
        .bind(&channel.0)
        .bind(root)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| Following {
            following: row.get("following"),
            read_seq: row.get("read_seq"),
        }))
    }

    async fn write_follow_row(
        &self,
        channel: &ChannelId,
        root: Seq,
        reader: &UserId,
        follow: Option<bool>,
        read: Option<Seq>,
    ) -> Result<Following, StoreError> {
        let row = sqlx::query(
            "INSERT INTO thread_follows (channel_id, root_seq, user_id, following, read_seq)
             VALUES ($1, $2, $3, COALESCE($4, FALSE), COALESCE($5, 0))
             ON CONFLICT (user_id, channel_id, root_seq) DO UPDATE
             SET following = COALESCE($4, thread_follows.following),
                 read_seq = GREATEST(thread_follows.read_seq, COALESCE($5, 0))
             RETURNING following, read_seq",
        )
        .bind(&channel.0)
        .bind(root)
        .bind(&reader.0)
        .bind(follow)
        .bind(read)
        .fetch_one(&self.pool)
        .await?;
        Ok(Following {
            following: row.get("following"),
            read_seq: row.get("read_seq"),
        })
    }

    async fn followed_rows(
        &self,
        reader: &UserId,
        limit: u32,
    ) -> Result<Vec<(ChannelId, Seq, Seq)>, StoreError> {
        let rows: Vec<(String, Seq, Seq)> = sqlx::query_as(
            "SELECT f.channel_id, f.root_seq, f.read_seq
             FROM thread_follows f
             JOIN memberships m ON m.channel_id = f.channel_id AND m.user_id = f.user_id
             JOIN messages r ON r.channel_id = f.channel_id AND r.seq = f.root_seq
             WHERE f.user_id = $1 AND f.following AND r.reply_count > 0
             ORDER BY r.last_reply_at DESC, f.channel_id, f.root_seq LIMIT $2",
        )
        .bind(&reader.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(channel, root, read)| (ChannelId(channel), root, read))
            .collect())
    }
}

impl PgStore {
    /// The first repliers of these parents (all from `channel`).
    pub(super) async fn fill_repliers(
        &self,
        channel: &ChannelId,
        messages: &mut [ChatMessage],
    ) -> Result<(), StoreError> {
        let parents: Vec<Seq> = messages
            .iter()
            .filter(|m| m.replies.is_some())
            .map(|m| m.seq)
            .collect();
        let rows: Vec<ReplierRow> = sqlx::query_as(
            "SELECT root_seq, id, name FROM (
                 SELECT f.root_seq, u.id, u.name, f.first_reply_seq,
                        ROW_NUMBER() OVER (PARTITION BY f.root_seq ORDER BY f.first_reply_seq) AS place
                 FROM thread_follows f JOIN users u ON u.id = f.user_id
                 WHERE f.channel_id = $1 AND f.first_reply_seq IS NOT NULL
                   AND f.root_seq = ANY($2)) AS ranked
             WHERE place <= $3 ORDER BY root_seq, first_reply_seq",
        )
        .bind(&channel.0)
        .bind(&parents)
        .bind(shared::limits::REPLIERS_SHOWN as i64)
        .fetch_all(&self.pool)
        .await?;
        add_repliers(messages, rows);
        Ok(())
    }
}

/// The parents the batch's replies name, as the batch's transaction reads them.
pub(super) async fn roots(
    connection: &mut sqlx::PgConnection,
    batch: &[NewMessage],
) -> Result<Roots, StoreError> {
    let mut roots = Roots::new();
    for (channel, seq) in roots_named(batch) {
        let row = sqlx::query(
            "SELECT author_id, deleted, thread_seq IS NOT NULL AS reply
             FROM messages WHERE channel_id = $1 AND seq = $2",
        )
        .bind(&channel.0)
        .bind(seq)
        .fetch_optional(&mut *connection)
        .await?;
        if let Some(row) = row {
            roots.insert(
                (channel.clone(), seq),
                Root {
                    author: UserId(row.get("author_id")),
                    closed: row.get::<bool, _>("deleted") || row.get::<bool, _>("reply"),
                },
            );
        }
    }
    Ok(roots)
}

/// For a new reply (stored in this transaction, its mentions recorded):
/// the parent's summary and change number, and who follows the thread now
/// (the parent's author, the replier, who is read up to the reply, and the
/// people it mentions by name).
pub(super) async fn record_reply(
    connection: &mut sqlx::PgConnection,
    reply: &ChatMessage,
) -> Result<(), StoreError> {
    let Some(thread) = reply.thread.as_deref() else {
        return Ok(());
    };
    let ChangeNo(change) = root_change(reply);
    sqlx::query(
        "UPDATE messages SET reply_count = reply_count + 1, last_reply_seq = $1, last_reply_at = $2,
                change_no = $3
         WHERE channel_id = $4 AND seq = $5",
    )
    .bind(reply.seq)
    .bind(reply.sent_at)
    .bind(change)
    .bind(&reply.channel.0)
    .bind(thread.root)
    .execute(&mut *connection)
    .await?;
    sqlx::query(
        "INSERT INTO thread_follows (channel_id, root_seq, user_id, read_seq, first_reply_seq)
         VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (user_id, channel_id, root_seq) DO UPDATE
         SET following = TRUE, read_seq = GREATEST(thread_follows.read_seq, excluded.read_seq),
             first_reply_seq = COALESCE(thread_follows.first_reply_seq, excluded.first_reply_seq)",
    )
    .bind(&reply.channel.0)
    .bind(thread.root)
    .bind(&reply.author.id.0)
    .bind(reply.seq)
    .execute(&mut *connection)
    .await?;
    sqlx::query(
        "INSERT INTO thread_follows (channel_id, root_seq, user_id)
         SELECT $1, $2, $3
         UNION SELECT channel_id, $2, user_id FROM mentions
               WHERE channel_id = $1 AND seq = $4 AND NOT everyone
         ON CONFLICT DO NOTHING",
    )
    .bind(&reply.channel.0)
    .bind(thread.root)
    .bind(&thread.root_author.0)
    .bind(reply.seq)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

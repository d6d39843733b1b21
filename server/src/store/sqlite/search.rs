//! Search in SQLite: the FTS5 index `message_search`, kept in the messages'
//! own transactions (new messages numbered in the order stored, edits
//! rewritten, deletes removed), and the search query over it.

use shared::search::{SearchQuery, has_link};
use shared::{ChannelId, ChatMessage, Seq, UserId};
use sqlx::{Row, SqliteConnection};

use super::SqliteStore;
use crate::store::search::{Hit, fts5_match, page_of};
use crate::store::{Search, SearchPage, StoreError};

impl Search for SqliteStore {
    async fn search(
        &self,
        reader: &UserId,
        query: &SearchQuery,
        before: Option<i64>,
        limit: u32,
    ) -> Result<SearchPage, StoreError> {
        let mut sql = String::from(
            "SELECT rowid AS no, channel_id, seq FROM message_search
             WHERE channel_id IN (SELECT ms.channel_id FROM memberships ms",
        );
        if query.channel.is_some() {
            sql.push_str(
                " JOIN channels c ON c.id = ms.channel_id
                  AND (lower(c.name) = ? OR lower(c.display_name) = ?)",
            );
        }
        sql.push_str(" WHERE ms.user_id = ?)");
        let matching = fts5_match(query);
        if matching.is_some() {
            sql.push_str(" AND message_search MATCH ?");
        }
        if query.from.is_some() {
            sql.push_str(" AND author_id IN (SELECT id FROM users WHERE mention_key = ?)");
        }
        if query.has_file {
            sql.push_str(" AND has_file = 1");
        }
        if query.has_link {
            sql.push_str(" AND has_link = 1");
        }
        if query.before.is_some() {
            sql.push_str(" AND sent_at < ?");
        }
        if query.after.is_some() {
            sql.push_str(" AND sent_at >= ?");
        }
        if before.is_some() {
            sql.push_str(" AND rowid < ?");
        }
        sql.push_str(" ORDER BY rowid DESC LIMIT ?");
        let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(channel) = &query.channel {
            statement = statement.bind(channel).bind(channel);
        }
        statement = statement.bind(&reader.0);
        if let Some(matching) = matching {
            statement = statement.bind(matching);
        }
        if let Some(from) = &query.from {
            statement = statement.bind(from);
        }
        for bound in [query.before, query.after, before].into_iter().flatten() {
            statement = statement.bind(bound);
        }
        let rows = statement
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        let hits = rows
            .iter()
            .map(|row| Hit {
                channel: ChannelId(row.get("channel_id")),
                seq: row.get("seq"),
                no: row.get("no"),
            })
            .collect();
        page_of(self, reader, hits, limit).await
    }
}

/// Numbers for `count` new messages in the order they are stored: the
/// first of them (the rest follow it).
pub(super) async fn take_numbers(
    connection: &mut SqliteConnection,
    count: usize,
) -> Result<i64, StoreError> {
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let last: i64 =
        sqlx::query_scalar("UPDATE search_counter SET last = last + ? WHERE id = 1 RETURNING last")
            .bind(count)
            .fetch_one(connection)
            .await?;
    Ok(last - count + 1)
}

/// Adds new messages to the index, each under its number.
pub(super) async fn index(
    connection: &mut SqliteConnection,
    messages: &[(i64, &ChatMessage, bool)],
) -> Result<(), StoreError> {
    for chunk in messages.chunks(ROWS_PER_STATEMENT) {
        let rows = super::placeholders("(?, ?, ?, ?, ?, ?, ?, ?)", chunk.len());
        let sql = format!(
            "INSERT INTO message_search
                 (rowid, body, channel_id, seq, author_id, sent_at, has_file, has_link)
             VALUES {rows}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (no, message, has_file) in chunk {
            query = query
                .bind(no)
                .bind(&message.text)
                .bind(&message.channel.0)
                .bind(message.seq)
                .bind(&message.author.id.0)
                .bind(message.sent_at)
                .bind(has_file)
                .bind(has_link(&message.text));
        }
        query.execute(&mut *connection).await?;
    }
    Ok(())
}

/// Rows per multi-row insert: 8 parameters each, far below SQLite's limit.
const ROWS_PER_STATEMENT: usize = 256;

/// Rewrites an edited message's row (nothing if it has none).
pub(super) async fn reindex(
    connection: &mut SqliteConnection,
    channel: &ChannelId,
    seq: Seq,
    text: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE message_search SET body = ?, has_link = ?
         WHERE rowid = (SELECT search_no FROM messages WHERE channel_id = ? AND seq = ?)",
    )
    .bind(text)
    .bind(has_link(text))
    .bind(&channel.0)
    .bind(seq)
    .execute(connection)
    .await?;
    Ok(())
}

/// Removes a deleted message's row.
pub(super) async fn unindex(
    connection: &mut SqliteConnection,
    channel: &ChannelId,
    seq: Seq,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM message_search
         WHERE rowid = (SELECT search_no FROM messages WHERE channel_id = ? AND seq = ?)",
    )
    .bind(&channel.0)
    .bind(seq)
    .execute(connection)
    .await?;
    Ok(())
}

/// Indexes the messages stored while the index was off (and, after the
/// migration that made it, every message there was): numbers them in the
/// order stored and adds the ones not deleted. How many were added.
pub(super) async fn index_missing(connection: &mut SqliteConnection) -> Result<u64, StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *connection).await?;
    let missing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE search_no IS NULL")
        .fetch_one(&mut *tx)
        .await?;
    if missing == 0 {
        return Ok(0);
    }
    let first = take_numbers(&mut tx, usize::try_from(missing).unwrap_or(0)).await?;
    sqlx::query(
        "UPDATE messages SET search_no = numbered.no FROM (
             SELECT rowid AS id, ? - 1 + ROW_NUMBER() OVER (ORDER BY sent_at, rowid) AS no
             FROM messages WHERE search_no IS NULL) AS numbered
         WHERE messages.rowid = numbered.id",
    )
    .bind(first)
    .execute(&mut *tx)
    .await?;
    let added = sqlx::query(
        "INSERT INTO message_search
             (rowid, body, channel_id, seq, author_id, sent_at, has_file, has_link)
         SELECT m.search_no, m.body, m.channel_id, m.seq, m.author_id, m.sent_at,
                EXISTS (SELECT 1 FROM files f WHERE f.channel_id = m.channel_id AND f.seq = m.seq),
                lower(m.body) LIKE '%http://%' OR lower(m.body) LIKE '%https://%'
         FROM messages m WHERE m.search_no >= ? AND m.deleted = 0",
    )
    .bind(first)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(added)
}

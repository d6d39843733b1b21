//! Messages in SQLite: pages and catch-up, single messages with their
//! reactions and files, edits, deletes, reactions, and the writer's batched
//! inserts (numbering, membership and block checks in one statement).

use std::collections::{HashMap, HashSet};

use shared::limits::{MAX_PINS, REACTION_NAMES_SHOWN};
use shared::{ChangeNo, ChannelId, ChatMessage, LinkPreview, Seq, UserId};
use sqlx::{Row, Sqlite, Transaction};

use super::{
    SqliteStore, files, mentions, moderation, placeholders, search, select_messages, stamp_change,
    threads,
};
use crate::random::now_millis;
use crate::store::link_cache::to_json;
use crate::store::messages::{
    Counter, Details, Earlier, MessageRow, ReactionRow, Right, add_reactions, decide_batch,
    newest_rows, oldest_first, paced_posters, pins_allowed, reaction_allowed, resend_key,
    seq_range,
};
use crate::store::moderation::removal_record;
use crate::store::{
    ChangeOutcome, Channels, Inserted, MessageChange, Messages, NewMessage, Page, StoreError,
    Stored,
};
use shared::roles::Role;

impl Messages for SqliteStore {
    async fn messages_before(
        &self,
        channel: &ChannelId,
        before_seq: Seq,
        limit: u32,
        reader: &UserId,
    ) -> Result<Option<Page>, StoreError> {
        let rows: Vec<MessageRow> = sqlx::query_as(select_messages!(
            "WHERE m.channel_id = ? AND m.seq < ? AND m.in_channel = 1
               AND EXISTS (SELECT 1 FROM memberships WHERE channel_id = ? AND user_id = ?)
             ORDER BY m.seq DESC LIMIT ?"
        ))
        .bind(&channel.0)
        .bind(before_seq)
        .bind(&channel.0)
        .bind(&reader.0)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let Some(rows) = self.rows_for_member(rows, channel, reader).await? else {
            return Ok(None);
        };
        let (rows, has_older) = newest_rows(rows, limit);
        let messages = self.with_details(channel, &rows, Some(reader)).await?;
        Ok(Some(oldest_first(messages, has_older)))
    }

    async fn messages_after(
        &self,
        channel: &ChannelId,
        after_seq: Seq,
        limit: u32,
        reader: &UserId,
    ) -> Result<Option<Vec<ChatMessage>>, StoreError> {
        let rows: Vec<MessageRow> = sqlx::query_as(select_messages!(
            "WHERE m.channel_id = ? AND m.seq > ? AND m.in_channel = 1
               AND EXISTS (SELECT 1 FROM memberships WHERE channel_id = ? AND user_id = ?)
             ORDER BY m.seq ASC LIMIT ?"
        ))
        .bind(&channel.0)
        .bind(after_seq)
        .bind(&channel.0)
        .bind(&reader.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let Some(rows) = self.rows_for_member(rows, channel, reader).await? else {
            return Ok(None);
        };
        Ok(Some(self.with_details(channel, &rows, Some(reader)).await?))
    }

    async fn messages_changed(
        &self,
        channel: &ChannelId,
        up_to_seq: Seq,
        after_change: ChangeNo,
        limit: u32,
        reader: Option<&UserId>,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let rows: Vec<MessageRow> = sqlx::query_as(select_messages!(
            "WHERE m.channel_id = ? AND m.seq <= ? AND m.change_no > ?
               AND (m.in_channel = 1 OR NOT ?)
             ORDER BY m.seq ASC LIMIT ?"
        ))
        .bind(&channel.0)
        .bind(up_to_seq)
        .bind(after_change.0)
        // A reader catches up on the conversation (threads are asked for
        // again); a node hands every change on.
        .bind(reader.is_some())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.with_details(channel, &rows, reader).await
    }

    async fn messages_between(
        &self,
        channel: &ChannelId,
        after_seq: Seq,
        up_to_seq: Seq,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let rows: Vec<MessageRow> = sqlx::query_as(select_messages!(
            "WHERE m.channel_id = ? AND m.seq > ? AND m.seq <= ? ORDER BY m.seq ASC LIMIT ?"
        ))
        .bind(&channel.0)
        .bind(after_seq)
        .bind(up_to_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.with_details(channel, &rows, None).await
    }

    async fn message(
        &self,
        channel: &ChannelId,
        seq: Seq,
        reader: Option<&UserId>,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let row: Option<MessageRow> =
            sqlx::query_as(select_messages!("WHERE m.channel_id = ? AND m.seq = ?"))
                .bind(&channel.0)
                .bind(seq)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(self.with_details(channel, &[row], reader).await?.pop())
    }

    async fn change_message(
        &self,
        channel: &ChannelId,
        seq: Seq,
        change: MessageChange<'_>,
    ) -> Result<ChangeOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let row =
            sqlx::query("SELECT author_id, deleted FROM messages WHERE channel_id = ? AND seq = ?")
                .bind(&channel.0)
                .bind(seq)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(row) = row else {
            return Ok(ChangeOutcome::NoSuchMessage);
        };
        let author: String = row.get("author_id");
        let deleted = row.get::<i64, _>("deleted") != 0;
        if deleted {
            return Ok(ChangeOutcome::NoSuchMessage);
        }
        let now = now_millis();
        match &change {
            MessageChange::Edit { by, .. }
            | MessageChange::Delete { by, .. }
            | MessageChange::Remove { by } => {
                let removal = matches!(change, MessageChange::Remove { .. });
                if author != by.0 && !removal {
                    return Ok(ChangeOutcome::NotAllowed);
                }
                let text = match change {
                    MessageChange::Edit { text, .. } => Some(text),
                    _ => None,
                };
                let delete = text.is_none();
                // A deleted message's pin goes with it.
                sqlx::query(
                    "UPDATE messages SET body = ?, edited_at = CASE WHEN ? THEN edited_at ELSE ? END,
                            deleted = ?, preview = NULL,
                            pinned_at = CASE WHEN ? THEN NULL ELSE pinned_at END,
                            pinned_by = CASE WHEN ? THEN NULL ELSE pinned_by END,
                            removed_by = ?
                     WHERE channel_id = ? AND seq = ?",
                )
                .bind(text.unwrap_or_default())
                .bind(delete)
                .bind(now)
                .bind(delete)
                .bind(delete)
                .bind(delete)
                .bind(removal.then_some(&by.0))
                .bind(&channel.0)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
                match text {
                    None => {
                        sqlx::query("DELETE FROM reactions WHERE channel_id = ? AND seq = ?")
                            .bind(&channel.0)
                            .bind(seq)
                            .execute(&mut *tx)
                            .await?;
                        mentions::forget(&mut tx, channel, seq).await?;
                        search::unindex(&mut tx, channel, seq).await?;
                    }
                    Some(text) => {
                        mentions::record(&mut tx, channel, seq, by, text).await?;
                        search::reindex(&mut tx, channel, seq, text).await?;
                    }
                }
                if removal {
                    let author = UserId(author.clone());
                    moderation::audit(&mut tx, &removal_record(by, &author, channel, seq)).await?;
                }
            }
            MessageChange::React { by, emoji, add } => {
                if *add {
                    let counts = sqlx::query(
                        "SELECT COUNT(DISTINCT emoji) AS emoji,
                                COUNT(*) FILTER (WHERE user_id = ?) AS mine,
                                MAX(emoji = ?) AS present
                         FROM reactions WHERE channel_id = ? AND seq = ?",
                    )
                    .bind(&by.0)
                    .bind(*emoji)
                    .bind(&channel.0)
                    .bind(seq)
                    .fetch_one(&mut *tx)
                    .await?;
                    let distinct: i64 = counts.get("emoji");
                    let mine: i64 = counts.get("mine");
                    let present = counts.get::<Option<i64>, _>("present") == Some(1);
                    if !reaction_allowed(distinct, mine, present) {
                        return Ok(ChangeOutcome::TooManyReactions);
                    }
                }
                let done = if *add {
                    sqlx::query(
                        "INSERT INTO reactions (channel_id, seq, user_id, emoji, created_at)
                         VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    )
                    .bind(&channel.0)
                    .bind(seq)
                    .bind(&by.0)
                    .bind(*emoji)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                } else {
                    sqlx::query(
                        "DELETE FROM reactions WHERE channel_id = ? AND seq = ? AND user_id = ? AND emoji = ?",
                    )
                    .bind(&channel.0)
                    .bind(seq)
                    .bind(&by.0)
                    .bind(*emoji)
                    .execute(&mut *tx)
                    .await?
                };
                if done.rows_affected() == 0 {
                    return Ok(ChangeOutcome::Unchanged);
                }
            }
            MessageChange::Pin { by, pinned } => {
                let done = sqlx::query(
                    "UPDATE messages
                     SET pinned_at = CASE WHEN ? THEN ? END, pinned_by = CASE WHEN ? THEN ? END
                     WHERE channel_id = ? AND seq = ? AND (pinned_at IS NULL) = ?",
                )
                .bind(*pinned)
                .bind(now)
                .bind(*pinned)
                .bind(&by.0)
                .bind(&channel.0)
                .bind(seq)
                .bind(*pinned)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(ChangeOutcome::Unchanged);
                }
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM messages WHERE channel_id = ? AND pinned_at IS NOT NULL",
                )
                .bind(&channel.0)
                .fetch_one(&mut *tx)
                .await?;
                if *pinned && !pins_allowed(count) {
                    return Ok(ChangeOutcome::TooManyPins);
                }
            }
        }
        stamp_change(&mut tx, channel, seq).await?;
        tx.commit().await?;
        match self.message(channel, seq, None).await? {
            Some(message) => Ok(ChangeOutcome::Changed(message)),
            None => Ok(ChangeOutcome::NoSuchMessage),
        }
    }

    async fn pinned_messages(
        &self,
        channel: &ChannelId,
        reader: &UserId,
    ) -> Result<Option<Vec<ChatMessage>>, StoreError> {
        if !self.is_member(reader, channel).await? {
            return Ok(None);
        }
        let rows: Vec<MessageRow> = sqlx::query_as(select_messages!(
            "WHERE m.channel_id = ? AND m.pinned_at IS NOT NULL ORDER BY m.pinned_at DESC LIMIT ?"
        ))
        .bind(&channel.0)
        .bind(MAX_PINS as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(self.with_details(channel, &rows, Some(reader)).await?))
    }

    async fn set_preview(
        &self,
        channel: &ChannelId,
        seq: Seq,
        preview: &LinkPreview,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let json = to_json(preview);
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query_scalar::<_, i64>(
            "SELECT 1 FROM messages WHERE channel_id = ? AND seq = ? AND deleted = 0",
        )
        .bind(&channel.0)
        .bind(seq)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Ok(None);
        }
        sqlx::query("UPDATE messages SET preview = ? WHERE channel_id = ? AND seq = ?")
            .bind(&json)
            .bind(&channel.0)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        stamp_change(&mut tx, channel, seq).await?;
        tx.commit().await?;
        self.message(channel, seq, None).await
    }

    async fn insert_messages(&self, batch: &[NewMessage]) -> Result<Inserted, StoreError> {
        let mut tx = self.writer_pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut earlier = stored_by_client_id(&mut tx, batch).await?;
        let (rights, mut counters) = posting_rights(&mut tx, batch).await?;
        let roots = threads::roots(&mut tx, batch).await?;
        let mut postable = Vec::with_capacity(batch.len());
        for message in batch {
            postable.push(
                message.attachments.is_empty()
                    || earlier.contains_key(&resend_key(message))
                    || files::attachments_postable(&mut tx, message).await?,
            );
        }
        let now = now_millis();
        let mut stored = decide_batch(
            batch,
            &mut earlier,
            &rights,
            &mut counters,
            &postable,
            &roots,
            now,
        );
        let mut inserted = Inserted::default();
        for (channel, user) in paced_posters(&stored, &rights) {
            sqlx::query(
                "UPDATE memberships SET last_posted_at = ? WHERE channel_id = ? AND user_id = ?",
            )
            .bind(now)
            .bind(&channel.0)
            .bind(&user.0)
            .execute(&mut *tx)
            .await?;
        }
        let touched: Vec<(&ChannelId, &Counter)> =
            counters.iter().filter(|(_, c)| c.touched).collect();
        bump_counters(&mut tx, &touched).await?;
        // Whoever had hidden a direct conversation sees it again.
        let direct: Vec<&ChannelId> = touched
            .iter()
            .filter(|(_, c)| c.direct)
            .map(|(channel, _)| *channel)
            .collect();
        inserted.unhidden = unhide(&mut tx, &direct).await?;
        let new_count = stored
            .iter()
            .filter(|outcome| matches!(outcome, Stored::New(_)))
            .count();
        let first_no = match self.search_index && new_count > 0 {
            true => Some(search::take_numbers(&mut tx, new_count).await?),
            false => None,
        };
        insert_rows(&mut tx, &stored, first_no).await?;
        let mut indexed = Vec::with_capacity(new_count);
        for (message, outcome) in batch.iter().zip(stored.iter_mut()) {
            let Stored::New(new) = outcome else { continue };
            if message.text.contains('@') {
                mentions::record(&mut tx, &new.channel, new.seq, &new.author.id, &new.text).await?;
                if let Some(everyone) = &message.everyone {
                    mentions::record_everyone(
                        &mut tx,
                        &new.channel,
                        new.seq,
                        &new.author.id,
                        everyone,
                    )
                    .await?;
                }
            }
            if !message.attachments.is_empty() {
                new.attachments = files::attach_to_message(&mut tx, message, new.seq).await?;
            }
            threads::record_reply(&mut tx, new).await?;
        }
        if let Some(first) = first_no {
            let new = stored.iter().filter_map(|outcome| match outcome {
                Stored::New(message) => Some(message),
                _ => None,
            });
            for (no, message) in (first..).zip(new) {
                indexed.push((no, message, !message.attachments.is_empty()));
            }
            search::index(&mut tx, &indexed).await?;
        }
        tx.commit().await?;
        inserted.stored = stored;
        Ok(inserted)
    }
}

impl Details for SqliteStore {
    async fn attach_reactions(
        &self,
        channel: &ChannelId,
        messages: &mut [ChatMessage],
        reader: Option<&UserId>,
    ) -> Result<(), StoreError> {
        let Some((low, high)) = seq_range(messages) else {
            return Ok(());
        };
        let rows: Vec<ReactionRow> = sqlx::query_as(
            "SELECT seq, emoji, id, name, total, mine FROM (
                 SELECT r.seq, r.emoji, u.id, u.name,
                        ROW_NUMBER() OVER per_emoji AS place,
                        COUNT(*) OVER whole_emoji AS total,
                        MAX(r.user_id = ?1) OVER whole_emoji AS mine,
                        MIN(r.created_at) OVER whole_emoji AS first_at
                 FROM reactions r JOIN users u ON u.id = r.user_id
                 WHERE r.channel_id = ?2 AND r.seq BETWEEN ?3 AND ?4
                 WINDOW whole_emoji AS (PARTITION BY r.seq, r.emoji),
                        per_emoji AS (PARTITION BY r.seq, r.emoji ORDER BY r.created_at, u.mention_key))
             WHERE place <= ?5
             ORDER BY seq, first_at, emoji, place",
        )
        .bind(reader.map(|r| r.0.as_str()))
        .bind(&channel.0)
        .bind(low)
        .bind(high)
        .bind(REACTION_NAMES_SHOWN as i64)
        .fetch_all(&self.pool)
        .await?;
        add_reactions(messages, rows, reader);
        Ok(())
    }

    async fn attach_files(
        &self,
        channel: &ChannelId,
        messages: &mut [ChatMessage],
    ) -> Result<(), StoreError> {
        self.fill_attachments(channel, messages).await
    }

    async fn attach_repliers(
        &self,
        channel: &ChannelId,
        messages: &mut [ChatMessage],
    ) -> Result<(), StoreError> {
        self.fill_repliers(channel, messages).await
    }
}

/// The messages already stored under the batch's (author, client id) pairs.
async fn stored_by_client_id(
    tx: &mut Transaction<'static, Sqlite>,
    batch: &[NewMessage],
) -> Result<Earlier, StoreError> {
    let mut found = HashMap::new();
    for chunk in batch.chunks(ROWS_PER_STATEMENT) {
        let pairs = placeholders("(?, ?)", chunk.len());
        let sql = format!(
            "{} WHERE (m.author_id, m.client_id) IN (VALUES {pairs})",
            select_messages!("")
        );
        let mut query = sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(sql));
        for message in chunk {
            query = query
                .bind(&message.author.id.0)
                .bind(message.client_id.as_str());
        }
        for row in query.fetch_all(&mut **tx).await? {
            let message = row.message();
            let key = (
                message.author.id.clone(),
                message.client_id.as_str().to_owned(),
            );
            found.insert(key, message);
        }
    }
    Ok(found)
}

/// Who may post where (members, not blocked), and the counters of every
/// channel the batch posts to.
async fn posting_rights(
    tx: &mut Transaction<'static, Sqlite>,
    batch: &[NewMessage],
) -> Result<
    (
        HashMap<(ChannelId, UserId), Right>,
        HashMap<ChannelId, Counter>,
    ),
    StoreError,
> {
    let pairs: HashSet<(&ChannelId, &UserId)> = batch
        .iter()
        .map(|message| (&message.channel, &message.author.id))
        .collect();
    let pairs: Vec<_> = pairs.into_iter().collect();
    let mut rights = HashMap::new();
    let mut counters = HashMap::new();
    for chunk in pairs.chunks(ROWS_PER_STATEMENT) {
        let values = placeholders("(?, ?)", chunk.len());
        let sql = format!(
            "WITH pairs (channel_id, user_id) AS (VALUES {values})
             SELECT p.channel_id, p.user_id, c.kind, c.last_seq, c.last_change,
                    EXISTS (SELECT 1 FROM memberships
                            WHERE channel_id = p.channel_id AND user_id = p.user_id) AS member,
                    c.kind = 'direct' AND EXISTS (
                        SELECT 1 FROM blocks b JOIN memberships o ON o.user_id = b.user_id
                        WHERE o.channel_id = p.channel_id AND b.blocked_id = p.user_id) AS blocked,
                    u.muted_until, u.role, c.archived_at IS NOT NULL AS archived,
                    c.slow_mode_seconds,
                    (SELECT last_posted_at FROM memberships
                      WHERE channel_id = p.channel_id AND user_id = p.user_id) AS last_posted_at
             FROM pairs p JOIN channels c ON c.id = p.channel_id
                  LEFT JOIN users u ON u.id = p.user_id"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (channel, user) in chunk {
            query = query.bind(&channel.0).bind(&user.0);
        }
        for row in query.fetch_all(&mut **tx).await? {
            let channel = ChannelId(row.get("channel_id"));
            let kind: String = row.get("kind");
            counters.entry(channel.clone()).or_insert(Counter {
                last_seq: row.get("last_seq"),
                last_change: row.get("last_change"),
                direct: kind == "direct",
                touched: false,
            });
            rights.insert(
                (channel, UserId(row.get("user_id"))),
                Right {
                    member: row.get("member"),
                    blocked: row.get("blocked"),
                    muted_until: row.get("muted_until"),
                    archived: row.get("archived"),
                    slow_mode_seconds: row.get("slow_mode_seconds"),
                    last_posted_at: row.get("last_posted_at"),
                    exempt: Role::parse(row.get::<Option<&str>, _>("role").unwrap_or_default())
                        .moderates(),
                },
            );
        }
    }
    Ok((rights, counters))
}

/// Inserts the new messages among `stored`, many rows per statement.
/// With `first_no`, they are numbered for the search index from it on.
async fn insert_rows(
    tx: &mut Transaction<'static, Sqlite>,
    stored: &[Stored],
    first_no: Option<i64>,
) -> Result<(), StoreError> {
    let new: Vec<&ChatMessage> = stored
        .iter()
        .filter_map(|outcome| match outcome {
            Stored::New(message) => Some(message),
            _ => None,
        })
        .collect();
    let mut numbered = 0;
    for chunk in new.chunks(ROWS_PER_STATEMENT) {
        let rows = placeholders("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", chunk.len());
        let sql = format!(
            "INSERT INTO messages
                 (channel_id, seq, author_id, client_id, body, sent_at, change_no, search_no,
                  thread_seq, in_channel)
             VALUES {rows}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for message in chunk {
            let search_no = first_no.map(|first| first + numbered);
            numbered += 1;
            query = query
                .bind(&message.channel.0)
                .bind(message.seq)
                .bind(&message.author.id.0)
                .bind(message.client_id.as_str())
                .bind(&message.text)
                .bind(message.sent_at)
                .bind(message.change.0)
                .bind(search_no)
                .bind(message.thread.as_ref().map(|t| t.root))
                .bind(!message.only_in_thread());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Rows per multi-row statement: 10 parameters each stays far below SQLite's limit.
const ROWS_PER_STATEMENT: usize = 256;

/// Shows a direct conversation with a new message again to whoever hid it.
async fn unhide(
    tx: &mut Transaction<'static, Sqlite>,
    channels: &[&ChannelId],
) -> Result<Vec<(ChannelId, UserId)>, StoreError> {
    let mut unhidden = Vec::new();
    for chunk in channels.chunks(ROWS_PER_STATEMENT) {
        let places = placeholders("?", chunk.len());
        let sql = format!(
            "UPDATE memberships SET hidden = 0 WHERE hidden = 1 AND channel_id IN ({places})
             RETURNING channel_id, user_id"
        );
        let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
        for channel in chunk {
            query = query.bind(&channel.0);
        }
        unhidden.extend(
            query
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(|(channel, user)| (ChannelId(channel), UserId(user))),
        );
    }
    Ok(unhidden)
}

/// Writes the touched channels' new `last_seq` and `last_change`: one
/// statement per [`ROWS_PER_STATEMENT`] channels, not one per channel (a
/// batch of direct messages touches as many channels as it has messages).
async fn bump_counters(
    tx: &mut Transaction<'static, Sqlite>,
    touched: &[(&ChannelId, &Counter)],
) -> Result<(), StoreError> {
    for chunk in touched.chunks(ROWS_PER_STATEMENT) {
        let values = placeholders("(?, ?, ?)", chunk.len());
        let sql = format!(
            "WITH new (id, last_seq, last_change) AS (VALUES {values})
             UPDATE channels SET last_seq = new.last_seq, last_change = new.last_change
             FROM new WHERE channels.id = new.id"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (channel, counter) in chunk {
            query = query
                .bind(&channel.0)
                .bind(counter.last_seq)
                .bind(counter.last_change);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

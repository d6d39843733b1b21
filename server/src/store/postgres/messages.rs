//! Messages in PostgreSQL: pages and catch-up, single messages with their
//! reactions and files, edits, deletes, reactions, previews, and the
//! writer's batched inserts.
//!
//! Several nodes write at once, so numbers are handed out under the
//! channel's row lock, held until commit: a batch locks its channels in id
//! order (`FOR UPDATE`; the same order on every node, so two batches never
//! wait for each other in a circle), reads resends and rights after the
//! lock, and numbers its messages; a change takes the channel's next change
//! number as its first statement. Numbers therefore commit in order, and
//! a reader that sees number N has seen every number below it.

use std::collections::HashMap;

use shared::cluster::Notice;
use shared::limits::{MAX_PINS, REACTION_NAMES_SHOWN};
use shared::{ChangeNo, ChannelId, ChatMessage, LinkPreview, Seq, UserId};
use sqlx::{PgConnection, Postgres, Transaction};

use super::{PgStore, files, mentions, moderation, threads};
use crate::store::link_cache::to_json;
use crate::store::messages::{
    Counter, Details, Earlier, MessageRow, ReactionRow, Right, add_reactions, decide_batch,
    newest_rows, oldest_first, paced_posters, pins_allowed, reaction_allowed, resend_key,
    select_messages, seq_range,
};
use crate::store::moderation::removal_record;
use crate::store::{
    ChangeOutcome, Channels, Inserted, MessageChange, Messages, NewMessage, Page, StoreError,
    Stored,
};
use shared::roles::Role;

/// Tries of a batch that met a resend racing it on another node (the
/// retry finds the other node's row and answers with it).
const BATCH_TRIES: usize = 3;

impl Messages for PgStore {
    async fn messages_before(
        &self,
        channel: &ChannelId,
        before_seq: Seq,
        limit: u32,
        reader: &UserId,
    ) -> Result<Option<Page>, StoreError> {
        let rows: Vec<MessageRow> = sqlx::query_as(select_messages!(
            "WHERE m.channel_id = $1 AND m.seq < $2 AND m.in_channel
               AND EXISTS (SELECT 1 FROM memberships WHERE channel_id = $1 AND user_id = $3)
             ORDER BY m.seq DESC LIMIT $4"
        ))
        .bind(&channel.0)
        .bind(before_seq)
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
            "WHERE m.channel_id = $1 AND m.seq > $2 AND m.in_channel
               AND EXISTS (SELECT 1 FROM memberships WHERE channel_id = $1 AND user_id = $3)
             ORDER BY m.seq ASC LIMIT $4"
        ))
        .bind(&channel.0)
        .bind(after_seq)
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
            "WHERE m.channel_id = $1 AND m.seq <= $2 AND m.change_no > $3
               AND (m.in_channel OR NOT $5)
             ORDER BY m.seq ASC LIMIT $4"
        ))
        .bind(&channel.0)
        .bind(up_to_seq)
        .bind(after_change.0)
        .bind(i64::from(limit))
        // A reader catches up on the conversation (threads are asked for
        // again); a node hands every change on.
        .bind(reader.is_some())
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
            "WHERE m.channel_id = $1 AND m.seq > $2 AND m.seq <= $3 ORDER BY m.seq ASC LIMIT $4"
        ))
        .bind(&channel.0)
        .bind(after_seq)
        .bind(up_to_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.with_details(channel, &rows, None).await
    }

    async fn messages_in_ranges(
        &self,
        ranges: &[(ChannelId, Seq, Seq)],
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let channels: Vec<&str> = ranges.iter().map(|(c, _, _)| c.0.as_str()).collect();
        let afters: Vec<Seq> = ranges.iter().map(|(_, after, _)| *after).collect();
        let up_tos: Vec<Seq> = ranges.iter().map(|(_, _, up_to)| *up_to).collect();
        let rows: Vec<MessageRow> = sqlx::query_as(select_messages!(
            "JOIN UNNEST($1::text[], $2::bigint[], $3::bigint[]) AS r (channel_id, after, up_to)
               ON m.channel_id = r.channel_id AND m.seq > r.after AND m.seq <= r.up_to
             ORDER BY m.channel_id, m.seq"
        ))
        .bind(&channels)
        .bind(&afters)
        .bind(&up_tos)
        .fetch_all(&self.pool)
        .await?;
        // Reactions and files are read per channel, and only where there are any.
        let mut messages = Vec::with_capacity(rows.len());
        for same_channel in rows.chunk_by(|a, b| a.channel_id() == b.channel_id()) {
            let channel = ChannelId(same_channel[0].channel_id().to_owned());
            messages.extend(self.with_details(&channel, same_channel, None).await?);
        }
        Ok(messages)
    }

    async fn message(
        &self,
        channel: &ChannelId,
        seq: Seq,
        reader: Option<&UserId>,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let row: Option<MessageRow> =
            sqlx::query_as(select_messages!("WHERE m.channel_id = $1 AND m.seq = $2"))
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
        let mut tx = self.pool.begin().await?;
        // Dropping `tx` without committing (any refusal below) rolls back.
        let Some(change_no) = next_change(&mut tx, channel).await? else {
            return Ok(ChangeOutcome::NoSuchMessage);
        };
        let row: Option<(String, bool)> = sqlx::query_as(
            "SELECT author_id, deleted FROM messages WHERE channel_id = $1 AND seq = $2",
        )
        .bind(&channel.0)
        .bind(seq)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((author, false)) = row else {
            return Ok(ChangeOutcome::NoSuchMessage);
        };
        let now = crate::random::now_millis();
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
                sqlx::query(
                    "UPDATE messages SET body = $1,
                            edited_at = CASE WHEN $2 THEN edited_at ELSE $3 END,
                            deleted = $2, preview = NULL,
                            pinned_at = CASE WHEN $2 THEN NULL ELSE pinned_at END,
                            pinned_by = CASE WHEN $2 THEN NULL ELSE pinned_by END,
                            removed_by = $6
                     WHERE channel_id = $4 AND seq = $5",
                )
                .bind(text.unwrap_or_default())
                .bind(delete)
                .bind(now)
                .bind(&channel.0)
                .bind(seq)
                .bind(removal.then_some(&by.0))
                .execute(&mut *tx)
                .await?;
                match text {
                    None => {
                        sqlx::query("DELETE FROM reactions WHERE channel_id = $1 AND seq = $2")
                            .bind(&channel.0)
                            .bind(seq)
                            .execute(&mut *tx)
                            .await?;
                        mentions::forget(&mut tx, channel, seq).await?;
                    }
                    Some(text) => mentions::record(&mut tx, channel, seq, by, text).await?,
                }
                if removal {
                    let author = UserId(author.clone());
                    moderation::audit(&mut tx, &removal_record(by, &author, channel, seq)).await?;
                }
            }
            MessageChange::React { by, emoji, add } => {
                if *add {
                    let (distinct, mine, present): (i64, i64, bool) = sqlx::query_as(
                        "SELECT COUNT(DISTINCT emoji), COUNT(*) FILTER (WHERE user_id = $1),
                                COALESCE(BOOL_OR(emoji = $2), FALSE)
                         FROM reactions WHERE channel_id = $3 AND seq = $4",
                    )
                    .bind(&by.0)
                    .bind(*emoji)
                    .bind(&channel.0)
                    .bind(seq)
                    .fetch_one(&mut *tx)
                    .await?;
                    if !reaction_allowed(distinct, mine, present) {
                        return Ok(ChangeOutcome::TooManyReactions);
                    }
                }
                let done = if *add {
                    sqlx::query(
                        "INSERT INTO reactions (channel_id, seq, user_id, emoji, created_at)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
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
                        "DELETE FROM reactions
                         WHERE channel_id = $1 AND seq = $2 AND user_id = $3 AND emoji = $4",
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
                     SET pinned_at = CASE WHEN $1 THEN $2::BIGINT END,
                         pinned_by = CASE WHEN $1 THEN $3 END
                     WHERE channel_id = $4 AND seq = $5 AND (pinned_at IS NULL) = $1",
                )
                .bind(*pinned)
                .bind(now)
                .bind(&by.0)
                .bind(&channel.0)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(ChangeOutcome::Unchanged);
                }
                // Under the channel's row lock (`next_change`), so two pins
                // at once cannot both squeeze under the limit.
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM messages WHERE channel_id = $1 AND pinned_at IS NOT NULL",
                )
                .bind(&channel.0)
                .fetch_one(&mut *tx)
                .await?;
                if *pinned && !pins_allowed(count) {
                    return Ok(ChangeOutcome::TooManyPins);
                }
            }
        }
        stamp(&mut tx, channel, seq, change_no).await?;
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
            "WHERE m.channel_id = $1 AND m.pinned_at IS NOT NULL
             ORDER BY m.pinned_at DESC LIMIT $2"
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
        let mut tx = self.pool.begin().await?;
        let Some(change_no) = next_change(&mut tx, channel).await? else {
            return Ok(None);
        };
        let done = sqlx::query(
            "UPDATE messages SET preview = $1, change_no = $2
             WHERE channel_id = $3 AND seq = $4 AND NOT deleted",
        )
        .bind(to_json(preview))
        .bind(change_no)
        .bind(&channel.0)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        tx.commit().await?;
        self.message(channel, seq, None).await
    }

    async fn insert_messages(&self, batch: &[NewMessage]) -> Result<Inserted, StoreError> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.try_insert_messages(batch).await? {
                Some(inserted) => return Ok(inserted),
                None if tries < BATCH_TRIES => continue,
                None => return Err(StoreError::Conflict),
            }
        }
    }
}

impl Details for PgStore {
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
                        BOOL_OR(r.user_id = $1) OVER whole_emoji AS mine,
                        MIN(r.created_at) OVER whole_emoji AS first_at
                 FROM reactions r JOIN users u ON u.id = r.user_id
                 WHERE r.channel_id = $2 AND r.seq BETWEEN $3 AND $4
                 WINDOW whole_emoji AS (PARTITION BY r.seq, r.emoji),
                        per_emoji AS (PARTITION BY r.seq, r.emoji
                                      ORDER BY r.created_at, u.mention_key)) AS ranked
             WHERE place <= $5
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

impl PgStore {
    /// One try of [`Messages::insert_messages`]; `None` when a message's
    /// (author, client id) was stored meanwhile by another node's batch
    /// into another channel, which this batch could not see before its
    /// insert: the transaction is rolled back and the batch tried again.
    async fn try_insert_messages(
        &self,
        batch: &[NewMessage],
    ) -> Result<Option<Inserted>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut counters = lock_channels(&mut tx, batch).await?;
        let mut earlier = stored_by_client_id(&mut tx, batch).await?;
        let rights = posting_rights(&mut tx, batch).await?;
        let roots = threads::roots(&mut tx, batch).await?;
        let mut postable = Vec::with_capacity(batch.len());
        for message in batch {
            postable.push(
                message.attachments.is_empty()
                    || earlier.contains_key(&resend_key(message))
                    || files::attachments_postable(&mut tx, message).await?,
            );
        }
        // The database's clock, the same for every node, so times follow
        // the numbers within a channel.
        let now: i64 =
            sqlx::query_scalar("SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT")
                .fetch_one(&mut *tx)
                .await?;
        let mut stored = decide_batch(
            batch,
            &mut earlier,
            &rights,
            &mut counters,
            &postable,
            &roots,
            now,
        );
        let posters = paced_posters(&stored, &rights);
        if !posters.is_empty() {
            let (channels, users): (Vec<&str>, Vec<&str>) = posters
                .iter()
                .map(|(channel, user)| (channel.0.as_str(), user.0.as_str()))
                .unzip();
            sqlx::query(
                "UPDATE memberships m SET last_posted_at = $1
                 FROM UNNEST($2::text[], $3::text[]) AS p (channel_id, user_id)
                 WHERE m.channel_id = p.channel_id AND m.user_id = p.user_id",
            )
            .bind(now)
            .bind(&channels)
            .bind(&users)
            .execute(&mut *tx)
            .await?;
        }
        let touched: Vec<(&ChannelId, &Counter)> =
            counters.iter().filter(|(_, c)| c.touched).collect();
        bump_counters(&mut tx, &touched).await?;
        let direct: Vec<&str> = touched
            .iter()
            .filter(|(_, c)| c.direct)
            .map(|(channel, _)| channel.0.as_str())
            .collect();
        let unhidden = unhide(&mut tx, &direct).await?;
        if !insert_rows(&mut tx, &stored).await? {
            return Ok(None);
        }
        // Told inside the transaction: other nodes hear of it only if it
        // commits, and in the order of commits.
        if self.notify {
            sqlx::query("SELECT pg_notify($1, notice) FROM UNNEST($2::text[]) AS notice")
                .bind(super::NOTICES)
                .bind(Notice::stored(&self.node, &stored_ranges(&stored)))
                .execute(&mut *tx)
                .await?;
        }
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
        tx.commit().await?;
        Ok(Some(Inserted { stored, unhidden }))
    }
}

/// Per channel, the first and last sequence number of the new messages.
fn stored_ranges(stored: &[Stored]) -> Vec<(ChannelId, Seq, Seq)> {
    let mut ranges: Vec<(ChannelId, Seq, Seq)> = Vec::new();
    for outcome in stored {
        let Stored::New(message) = outcome else {
            continue;
        };
        match ranges.iter_mut().find(|(c, _, _)| *c == message.channel) {
            Some((_, _, last)) => *last = message.seq,
            None => ranges.push((message.channel.clone(), message.seq, message.seq)),
        }
    }
    ranges
}

/// Takes a channel's next change number (locking its row until commit);
/// `None` if the channel is gone.
async fn next_change(
    connection: &mut PgConnection,
    channel: &ChannelId,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "UPDATE channels SET last_change = last_change + 1 WHERE id = $1 RETURNING last_change",
    )
    .bind(&channel.0)
    .fetch_optional(connection)
    .await?)
}

/// Gives a changed message its change number, so catch-up (`sync` with
/// `after_change`) finds it.
async fn stamp(
    connection: &mut PgConnection,
    channel: &ChannelId,
    seq: Seq,
    change_no: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE messages SET change_no = $1 WHERE channel_id = $2 AND seq = $3")
        .bind(change_no)
        .bind(&channel.0)
        .bind(seq)
        .execute(connection)
        .await?;
    Ok(())
}

/// Locks the rows of the channels the batch posts to, in id order, and
/// reads their counters.
async fn lock_channels(
    tx: &mut Transaction<'static, Postgres>,
    batch: &[NewMessage],
) -> Result<HashMap<ChannelId, Counter>, StoreError> {
    let mut ids: Vec<&str> = batch.iter().map(|m| m.channel.0.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<(String, String, Seq, i64)> = sqlx::query_as(
        "SELECT id, kind, last_seq, last_change FROM channels
         WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, last_seq, last_change)| {
            let counter = Counter {
                last_seq,
                last_change,
                direct: kind == "direct",
                touched: false,
            };
            (ChannelId(id), counter)
        })
        .collect())
}

/// The messages already stored under the batch's (author, client id) pairs.
async fn stored_by_client_id(
    tx: &mut Transaction<'static, Postgres>,
    batch: &[NewMessage],
) -> Result<Earlier, StoreError> {
    let authors: Vec<&str> = batch.iter().map(|m| m.author.id.0.as_str()).collect();
    let client_ids: Vec<&str> = batch.iter().map(|m| m.client_id.as_str()).collect();
    let rows: Vec<MessageRow> = sqlx::query_as(select_messages!(
        "WHERE (m.author_id, m.client_id) IN (SELECT * FROM UNNEST($1::text[], $2::text[]))"
    ))
    .bind(&authors)
    .bind(&client_ids)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let message = row.message();
            let key = (
                message.author.id.clone(),
                message.client_id.as_str().to_owned(),
            );
            (key, message)
        })
        .collect())
}

/// Who may post where: members, and not blocked by anyone in a direct
/// conversation.
async fn posting_rights(
    tx: &mut Transaction<'static, Postgres>,
    batch: &[NewMessage],
) -> Result<HashMap<(ChannelId, UserId), Right>, StoreError> {
    let channels: Vec<&str> = batch.iter().map(|m| m.channel.0.as_str()).collect();
    let authors: Vec<&str> = batch.iter().map(|m| m.author.id.0.as_str()).collect();
    type RightRow = (
        String,
        String,
        bool,
        bool,
        Option<i64>,
        Option<String>,
        bool,
        i64,
        Option<i64>,
    );
    let rows: Vec<RightRow> = sqlx::query_as(
        "SELECT p.channel_id, p.user_id,
                EXISTS (SELECT 1 FROM memberships
                        WHERE channel_id = p.channel_id AND user_id = p.user_id),
                c.kind = 'direct' AND EXISTS (
                    SELECT 1 FROM blocks b JOIN memberships o ON o.user_id = b.user_id
                    WHERE o.channel_id = p.channel_id AND b.blocked_id = p.user_id),
                u.muted_until, u.role, c.archived_at IS NOT NULL, c.slow_mode_seconds,
                (SELECT last_posted_at FROM memberships
                  WHERE channel_id = p.channel_id AND user_id = p.user_id)
         FROM (SELECT DISTINCT * FROM UNNEST($1::text[], $2::text[])) AS p (channel_id, user_id)
         JOIN channels c ON c.id = p.channel_id
         LEFT JOIN users u ON u.id = p.user_id",
    )
    .bind(&channels)
    .bind(&authors)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                channel,
                user,
                member,
                blocked,
                muted_until,
                role,
                archived,
                slow,
                last_posted_at,
            )| {
                let key = (ChannelId(channel), UserId(user));
                let right = Right {
                    member,
                    blocked,
                    muted_until,
                    archived,
                    slow_mode_seconds: slow,
                    last_posted_at,
                    exempt: Role::parse(role.as_deref().unwrap_or_default()).moderates(),
                };
                (key, right)
            },
        )
        .collect())
}

/// Writes the touched channels' new `last_seq` and `last_change` in one
/// statement.
async fn bump_counters(
    tx: &mut Transaction<'static, Postgres>,
    touched: &[(&ChannelId, &Counter)],
) -> Result<(), StoreError> {
    if touched.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = touched.iter().map(|(id, _)| id.0.as_str()).collect();
    let seqs: Vec<Seq> = touched.iter().map(|(_, c)| c.last_seq).collect();
    let changes: Vec<i64> = touched.iter().map(|(_, c)| c.last_change).collect();
    sqlx::query(
        "UPDATE channels SET last_seq = new.last_seq, last_change = new.last_change
         FROM UNNEST($1::text[], $2::bigint[], $3::bigint[]) AS new (id, last_seq, last_change)
         WHERE channels.id = new.id",
    )
    .bind(&ids)
    .bind(&seqs)
    .bind(&changes)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Shows a direct conversation with a new message again to whoever hid it.
async fn unhide(
    tx: &mut Transaction<'static, Postgres>,
    channels: &[&str],
) -> Result<Vec<(ChannelId, UserId)>, StoreError> {
    if channels.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String)> = sqlx::query_as(
        "UPDATE memberships SET hidden = FALSE WHERE hidden AND channel_id = ANY($1)
         RETURNING channel_id, user_id",
    )
    .bind(channels)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(channel, user)| (ChannelId(channel), UserId(user)))
        .collect())
}

/// Inserts the new messages among `stored` in one statement. False when
/// one of them met a row stored meanwhile under its (author, client id)
/// (then nothing of this batch may commit).
async fn insert_rows(
    tx: &mut Transaction<'static, Postgres>,
    stored: &[Stored],
) -> Result<bool, StoreError> {
    let new: Vec<&ChatMessage> = stored
        .iter()
        .filter_map(|outcome| match outcome {
            Stored::New(message) => Some(message),
            _ => None,
        })
        .collect();
    if new.is_empty() {
        return Ok(true);
    }
    let channels: Vec<&str> = new.iter().map(|m| m.channel.0.as_str()).collect();
    let seqs: Vec<Seq> = new.iter().map(|m| m.seq).collect();
    let authors: Vec<&str> = new.iter().map(|m| m.author.id.0.as_str()).collect();
    let client_ids: Vec<&str> = new.iter().map(|m| m.client_id.as_str()).collect();
    let bodies: Vec<&str> = new.iter().map(|m| m.text.as_str()).collect();
    let sent: Vec<i64> = new.iter().map(|m| m.sent_at).collect();
    let changes: Vec<i64> = new.iter().map(|m| m.change.0).collect();
    let threads: Vec<Option<Seq>> = new
        .iter()
        .map(|m| m.thread.as_ref().map(|t| t.root))
        .collect();
    let in_channel: Vec<bool> = new.iter().map(|m| !m.only_in_thread()).collect();
    let done = sqlx::query(
        "INSERT INTO messages (channel_id, seq, author_id, client_id, body, sent_at, change_no,
                              thread_seq, in_channel)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                              $6::bigint[], $7::bigint[], $8::bigint[], $9::boolean[])
         ON CONFLICT (author_id, client_id) DO NOTHING",
    )
    .bind(&channels)
    .bind(&seqs)
    .bind(&authors)
    .bind(&client_ids)
    .bind(&bodies)
    .bind(&sent)
    .bind(&changes)
    .bind(&threads)
    .bind(&in_channel)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == new.len() as u64)
}

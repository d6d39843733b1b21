//! Channels, memberships and read state in SQLite: the channel list of a
//! user (one query, direct conversations' members in a second one, not one
//! per conversation), membership checks, creating, joining, leaving,
//! direct conversations.

use std::collections::HashMap;

use shared::protocol::{ChannelInfo, ChannelKind, ChannelSummary, NotifyLevel};
use shared::validate::{ChannelName, Topic};
use shared::{ChannelId, Seq, UserId, UserInfo};

use super::SqliteStore;
use crate::random::{new_id, now_millis};
use crate::store::channels::{
    BROWSE_LIMIT, ChannelRow, any_direct, browse_pattern, channel_infos, channel_keys, direct_key,
    kind_and_creator, partners_by_channel, people, summaries,
};
use crate::store::{Channels, StoreError};

impl SqliteStore {
    async fn channel_infos(
        &self,
        user: &UserInfo,
        only: Option<&ChannelId>,
    ) -> Result<Vec<ChannelInfo>, StoreError> {
        let rows: Vec<ChannelRow> = sqlx::query_as(
            "SELECT c.id, COALESCE(c.display_name, c.name) AS name, c.topic, c.kind, c.created_by,
                    c.last_seq, c.last_change, m.last_read_seq, c.member_count,
                    (SELECT COUNT(*) FROM mentions x
                      WHERE x.user_id = m.user_id AND x.channel_id = c.id
                        AND x.seq > m.last_read_seq),
                    (SELECT COUNT(*) FROM messages x
                      WHERE x.channel_id = c.id AND x.seq > m.last_read_seq AND x.in_channel = 0),
                    m.notify, c.slow_mode_seconds, c.archived_at IS NOT NULL
             FROM channels c JOIN memberships m ON m.channel_id = c.id
             WHERE m.user_id = ?1 AND (?2 IS NULL AND m.hidden = 0 OR c.id = ?2)
             ORDER BY c.kind, name",
        )
        .bind(&user.id.0)
        .bind(only.map(|c| c.0.as_str()))
        .fetch_all(&self.pool)
        .await?;
        let partners = if any_direct(&rows) {
            self.direct_partners(user, only).await?
        } else {
            HashMap::new()
        };
        Ok(channel_infos(rows, partners, user))
    }

    /// The other people in each of `user`'s direct conversations (or only
    /// in `only`), by name: one query for all of them.
    async fn direct_partners(
        &self,
        user: &UserInfo,
        only: Option<&ChannelId>,
    ) -> Result<HashMap<ChannelId, Vec<UserInfo>>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT o.channel_id, u.id, u.name
             FROM memberships mine
             JOIN channels c ON c.id = mine.channel_id AND c.kind = 'direct'
             JOIN memberships o ON o.channel_id = mine.channel_id AND o.user_id != mine.user_id
             JOIN users u ON u.id = o.user_id
             WHERE mine.user_id = ?1 AND (?2 IS NULL OR mine.channel_id = ?2)
             ORDER BY o.channel_id, u.mention_key",
        )
        .bind(&user.id.0)
        .bind(only.map(|c| c.0.as_str()))
        .fetch_all(&self.pool)
        .await?;
        Ok(partners_by_channel(rows))
    }
}

impl Channels for SqliteStore {
    fn default_channel(&self) -> Option<&ChannelId> {
        self.default_channel.as_ref()
    }

    async fn channels_of(&self, user: &UserInfo) -> Result<Vec<ChannelInfo>, StoreError> {
        self.channel_infos(user, None).await
    }

    async fn channel_for(
        &self,
        user: &UserInfo,
        channel: &ChannelId,
    ) -> Result<Option<ChannelInfo>, StoreError> {
        Ok(self.channel_infos(user, Some(channel)).await?.pop())
    }

    async fn channel_name(&self, channel: &ChannelId) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(display_name, name) FROM channels WHERE id = ? AND kind != 'direct'",
        )
        .bind(&channel.0)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn in_channel_named(&self, user: &UserId, name: &str) -> Result<bool, StoreError> {
        let found = sqlx::query(
            "SELECT 1 FROM channels c JOIN memberships m ON m.channel_id = c.id
             WHERE m.user_id = ? AND c.kind != 'direct' AND COALESCE(c.display_name, c.name) = ?",
        )
        .bind(&user.0)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    async fn is_member(&self, user: &UserId, channel: &ChannelId) -> Result<bool, StoreError> {
        let found = sqlx::query("SELECT 1 FROM memberships WHERE channel_id = ? AND user_id = ?")
            .bind(&channel.0)
            .bind(&user.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    async fn channel_kind(
        &self,
        channel: &ChannelId,
    ) -> Result<Option<(ChannelKind, Option<UserId>)>, StoreError> {
        let row = sqlx::query_as("SELECT kind, created_by FROM channels WHERE id = ?")
            .bind(&channel.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(kind_and_creator))
    }

    async fn membership(
        &self,
        user: &UserId,
        channel: &ChannelId,
    ) -> Result<Option<(ChannelKind, Option<UserId>)>, StoreError> {
        let row = sqlx::query_as(
            "SELECT c.kind, c.created_by FROM channels c
             JOIN memberships m ON m.channel_id = c.id
             WHERE c.id = ? AND m.user_id = ?",
        )
        .bind(&channel.0)
        .bind(&user.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(kind_and_creator))
    }

    async fn create_channel(
        &self,
        creator: &UserId,
        name: &ChannelName,
        topic: &Topic,
        kind: ChannelKind,
    ) -> Result<ChannelId, StoreError> {
        let id = ChannelId(new_id());
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let clash = sqlx::query(
            "SELECT 1 FROM channels c
             WHERE COALESCE(c.display_name, c.name) = ?1 AND c.kind != 'direct'
               AND (c.kind = 'public' AND ?2 = 'private'
                    OR EXISTS (SELECT 1 FROM memberships m WHERE m.channel_id = c.id AND m.user_id = ?3))",
        )
        .bind(name.as_str())
        .bind(kind.as_str())
        .bind(&creator.0)
        .fetch_optional(&mut *tx)
        .await?;
        if clash.is_some() {
            return Err(StoreError::ChannelNameTaken);
        }
        let (key, display_name) = channel_keys(&id, name, kind);
        let inserted = sqlx::query(
            "INSERT INTO channels (id, name, display_name, topic, kind, created_by, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&id.0)
        .bind(&key)
        .bind(display_name)
        .bind(topic.as_str())
        .bind(kind.as_str())
        .bind(&creator.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::ChannelNameTaken);
        }
        sqlx::query("INSERT INTO memberships (channel_id, user_id, joined_at) VALUES (?, ?, ?)")
            .bind(&id.0)
            .bind(&creator.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn browse_channels(
        &self,
        user: &UserId,
        query: &str,
    ) -> Result<Vec<ChannelSummary>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT c.id, c.name, c.topic, c.member_count,
                    EXISTS (SELECT 1 FROM memberships m WHERE m.channel_id = c.id AND m.user_id = ?1)
             FROM channels c
             WHERE c.kind = 'public' AND c.archived_at IS NULL
               AND (lower(c.name) LIKE ?2 OR lower(c.topic) LIKE ?2)
             ORDER BY c.member_count DESC, c.name LIMIT ?3",
        )
        .bind(&user.0)
        .bind(browse_pattern(query))
        .bind(BROWSE_LIMIT)
        .fetch_all(&self.pool)
        .await?;
        Ok(summaries(rows))
    }

    async fn add_member(&self, channel: &ChannelId, user: &UserId) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO memberships (channel_id, user_id, joined_at) VALUES (?, ?, ?)
             ON CONFLICT (channel_id, user_id) DO NOTHING",
        )
        .bind(&channel.0)
        .bind(&user.0)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_member(&self, channel: &ChannelId, user: &UserId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM memberships WHERE channel_id = ? AND user_id = ?")
            .bind(&channel.0)
            .bind(&user.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_topic(&self, channel: &ChannelId, topic: &Topic) -> Result<(), StoreError> {
        sqlx::query("UPDATE channels SET topic = ? WHERE id = ?")
            .bind(topic.as_str())
            .bind(&channel.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn members(&self, channel: &ChannelId) -> Result<Vec<UserInfo>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT u.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.channel_id = ? ORDER BY u.mention_key",
        )
        .bind(&channel.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(people(rows))
    }

    async fn open_direct(&self, users: &[UserId]) -> Result<(ChannelId, bool), StoreError> {
        let (ids, key) = direct_key(users);
        let mut tx = self.begin_write().await?;
        let now = now_millis();
        let existing: Option<String> =
            sqlx::query_scalar("SELECT id FROM channels WHERE name = ? AND kind = 'direct'")
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?;
        let (id, created) = match existing {
            Some(id) => (ChannelId(id), false),
            None => {
                let id = ChannelId(new_id());
                sqlx::query(
                    "INSERT INTO channels (id, name, topic, kind, created_at)
                     VALUES (?, ?, '', 'direct', ?)",
                )
                .bind(&id.0)
                .bind(&key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                (id, true)
            }
        };
        for user in &ids {
            sqlx::query(
                "INSERT INTO memberships (channel_id, user_id, joined_at) VALUES (?, ?, ?)
                 ON CONFLICT (channel_id, user_id) DO UPDATE SET hidden = 0",
            )
            .bind(&id.0)
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok((id, created))
    }

    async fn hide_direct(&self, user: &UserId, channel: &ChannelId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE memberships SET hidden = 1 WHERE channel_id = ?1 AND user_id = ?2
               AND EXISTS (SELECT 1 FROM channels WHERE id = ?1 AND kind = 'direct')",
        )
        .bind(&channel.0)
        .bind(&user.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn mark_read(
        &self,
        user: &UserId,
        channel: &ChannelId,
        seq: Seq,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE memberships SET last_read_seq = MAX(last_read_seq,
                 MIN(?1, (SELECT last_seq FROM channels WHERE id = ?2)))
             WHERE channel_id = ?2 AND user_id = ?3",
        )
        .bind(seq)
        .bind(&channel.0)
        .bind(&user.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_notify(
        &self,
        user: &UserId,
        channel: &ChannelId,
        level: NotifyLevel,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE memberships SET notify = ?1 WHERE channel_id = ?2 AND user_id = ?3",
        )
        .bind(level.as_str())
        .bind(&channel.0)
        .bind(&user.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

//! Channels, memberships and read state in SQLite: the channel list of a
//! user (one query, direct conversations' members in a second one, not one
//! per conversation), membership checks, creating, joining, leaving,
//! direct conversations.

use std::collections::HashMap;

use shared::protocol::{ChannelInfo, ChannelKind, ChannelSummary};
use shared::validate::{ChannelName, Topic};
use shared::{ChangeNo, ChannelId, Seq, UserId, UserInfo};
use sqlx::Row;

use super::{Store, kind_and_creator, stored_kind};
use crate::random::{new_id, now_millis};
use crate::store::StoreError;

impl Store {
    /// The id of the default channel (everyone joins it on sign-up).
    pub fn default_channel(&self) -> Option<&ChannelId> {
        self.default_channel.as_ref()
    }

    /// The channels a user is a member of (but hidden direct
    /// conversations), with read state.
    pub async fn channels_of(&self, user: &UserInfo) -> Result<Vec<ChannelInfo>, StoreError> {
        self.channel_infos(user, None).await
    }

    /// One channel as `user` sees it, if they are a member (hidden or not).
    pub async fn channel_for(
        &self,
        user: &UserInfo,
        channel: &ChannelId,
    ) -> Result<Option<ChannelInfo>, StoreError> {
        Ok(self.channel_infos(user, Some(channel)).await?.pop())
    }

    async fn channel_infos(
        &self,
        user: &UserInfo,
        only: Option<&ChannelId>,
    ) -> Result<Vec<ChannelInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, COALESCE(c.display_name, c.name) AS name, c.topic, c.kind, c.created_by,
                    c.last_seq, c.last_change, m.last_read_seq,
                    c.member_count,
                    (SELECT COUNT(*) FROM mentions x
                      WHERE x.user_id = m.user_id AND x.channel_id = c.id
                        AND x.seq > m.last_read_seq) AS unread_mentions
             FROM channels c JOIN memberships m ON m.channel_id = c.id
             WHERE m.user_id = ? AND (? IS NULL AND m.hidden = 0 OR c.id = ?)
             ORDER BY c.kind, name",
        )
        .bind(&user.id.0)
        .bind(only.map(|c| c.0.as_str()))
        .bind(only.map(|c| c.0.as_str()))
        .fetch_all(&self.pool)
        .await?;
        let any_direct = rows
            .iter()
            .any(|row| stored_kind(row.get::<String, _>("kind").as_str()) == ChannelKind::Direct);
        let mut others = if any_direct {
            self.direct_partners(user, only).await?
        } else {
            HashMap::new()
        };
        let mut channels = Vec::with_capacity(rows.len());
        for row in rows {
            let id = ChannelId(row.get("id"));
            let kind = stored_kind(row.get::<String, _>("kind").as_str());
            let mut info = ChannelInfo {
                name: row.get("name"),
                topic: row.get("topic"),
                kind,
                direct_with: Vec::new(),
                created_by: row.get::<Option<String>, _>("created_by").map(UserId),
                member_count: row.get::<i64, _>("member_count") as u32,
                last_seq: row.get("last_seq"),
                last_read_seq: row.get("last_read_seq"),
                unread_mentions: row.get::<i64, _>("unread_mentions") as u32,
                last_change: ChangeNo(row.get("last_change")),
                id,
            };
            if kind == ChannelKind::Direct {
                info.direct_with = others.remove(&info.id).unwrap_or_default();
                let names: Vec<&str> = info.direct_with.iter().map(|u| u.name.as_str()).collect();
                info.name = if names.is_empty() {
                    user.name.clone()
                } else {
                    names.join(", ")
                };
            }
            channels.push(info);
        }
        Ok(channels)
    }

    /// The other people in each of `user`'s direct conversations (or only
    /// in `only`), by name: one query for all of them.
    async fn direct_partners(
        &self,
        user: &UserInfo,
        only: Option<&ChannelId>,
    ) -> Result<HashMap<ChannelId, Vec<UserInfo>>, StoreError> {
        let rows = sqlx::query(
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
        let mut partners: HashMap<ChannelId, Vec<UserInfo>> = HashMap::new();
        for row in rows {
            partners
                .entry(ChannelId(row.get("channel_id")))
                .or_default()
                .push(UserInfo {
                    id: UserId(row.get("id")),
                    name: row.get("name"),
                });
        }
        Ok(partners)
    }

    /// The name people see of a channel (not of a direct conversation).
    pub async fn channel_name(&self, channel: &ChannelId) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(display_name, name) FROM channels WHERE id = ? AND kind != 'direct'",
        )
        .bind(&channel.0)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Whether `user` is in a channel (public or private, hidden or not)
    /// whose name is `name`.
    pub async fn in_channel_named(&self, user: &UserId, name: &str) -> Result<bool, StoreError> {
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

    /// Whether `user` is a member of `channel`.
    pub async fn is_member(&self, user: &UserId, channel: &ChannelId) -> Result<bool, StoreError> {
        let found = sqlx::query("SELECT 1 FROM memberships WHERE channel_id = ? AND user_id = ?")
            .bind(&channel.0)
            .bind(&user.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// A channel's kind and creator, if it exists.
    pub async fn channel_kind(
        &self,
        channel: &ChannelId,
    ) -> Result<Option<(ChannelKind, Option<UserId>)>, StoreError> {
        let row = sqlx::query("SELECT kind, created_by FROM channels WHERE id = ?")
            .bind(&channel.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| kind_and_creator(&row)))
    }

    /// The kind and creator of a channel `user` is a member of; `None` when
    /// they are not (or it does not exist). One query for both checks.
    pub async fn membership(
        &self,
        user: &UserId,
        channel: &ChannelId,
    ) -> Result<Option<(ChannelKind, Option<UserId>)>, StoreError> {
        let row = sqlx::query(
            "SELECT c.kind, c.created_by FROM channels c
             JOIN memberships m ON m.channel_id = c.id
             WHERE c.id = ? AND m.user_id = ?",
        )
        .bind(&channel.0)
        .bind(&user.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| kind_and_creator(&row)))
    }

    /// Creates a public or private channel with its creator as first member.
    /// Public names are unique among public channels. A private channel
    /// takes no name from anyone else (its `name` column is an internal key,
    /// its name is `display_name`), so creating one reveals nothing about
    /// other private channels and cannot squat a name. Either way the
    /// creator may not already be in a channel of that name.
    pub async fn create_channel(
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
        let (key, display_name) = match kind {
            ChannelKind::Public => (name.as_str().to_owned(), None),
            _ => (format!("private:{}", id.0), Some(name.as_str())),
        };
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

    /// Public channels whose name or topic contains `query`, with member counts.
    pub async fn browse_channels(
        &self,
        user: &UserId,
        query: &str,
    ) -> Result<Vec<ChannelSummary>, StoreError> {
        let pattern = format!("%{}%", query.trim().to_lowercase());
        let rows = sqlx::query(
            "SELECT c.id, c.name, c.topic,
                    c.member_count,
                    EXISTS (SELECT 1 FROM memberships m WHERE m.channel_id = c.id AND m.user_id = ?) AS joined
             FROM channels c
             WHERE c.kind = 'public' AND (lower(c.name) LIKE ? OR lower(c.topic) LIKE ?)
             ORDER BY member_count DESC, c.name LIMIT 200",
        )
        .bind(&user.0)
        .bind(&pattern)
        .bind(&pattern)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| ChannelSummary {
                id: ChannelId(row.get("id")),
                name: row.get("name"),
                topic: row.get("topic"),
                member_count: row.get::<i64, _>("member_count") as u32,
                joined: row.get("joined"),
            })
            .collect())
    }

    /// Adds a member; `false` if they already were one.
    pub async fn add_member(&self, channel: &ChannelId, user: &UserId) -> Result<bool, StoreError> {
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

    /// Removes a member; `false` if they were not one.
    pub async fn remove_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM memberships WHERE channel_id = ? AND user_id = ?")
            .bind(&channel.0)
            .bind(&user.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn set_topic(&self, channel: &ChannelId, topic: &Topic) -> Result<(), StoreError> {
        sqlx::query("UPDATE channels SET topic = ? WHERE id = ?")
            .bind(topic.as_str())
            .bind(&channel.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The members of a channel, by name.
    pub async fn members(&self, channel: &ChannelId) -> Result<Vec<UserInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.channel_id = ? ORDER BY u.mention_key",
        )
        .bind(&channel.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| UserInfo {
                id: UserId(row.get("id")),
                name: row.get("name"),
            })
            .collect())
    }

    /// The direct conversation between exactly these users, created if new.
    /// An existing one gets back anyone who had left it, and is shown again
    /// to whoever had hidden it. Returns its id and whether it was created now.
    pub async fn open_direct(&self, users: &[UserId]) -> Result<(ChannelId, bool), StoreError> {
        let mut ids: Vec<&str> = users.iter().map(|u| u.0.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        // The name is derived from the participants, so the same group always finds the same row.
        let key = format!("dm:{}", ids.join(","));
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

    /// Hides a direct conversation from `user`'s list until its next message.
    pub async fn hide_direct(&self, user: &UserId, channel: &ChannelId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE memberships SET hidden = 1 WHERE channel_id = ? AND user_id = ?
               AND EXISTS (SELECT 1 FROM channels WHERE id = ? AND kind = 'direct')",
        )
        .bind(&channel.0)
        .bind(&user.0)
        .bind(&channel.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records that `user` has read `channel` up to `seq` (never backwards).
    pub async fn mark_read(
        &self,
        user: &UserId,
        channel: &ChannelId,
        seq: Seq,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE memberships SET last_read_seq = MAX(last_read_seq,
                 MIN(?, (SELECT last_seq FROM channels WHERE id = ?)))
             WHERE channel_id = ? AND user_id = ?",
        )
        .bind(seq)
        .bind(&channel.0)
        .bind(&channel.0)
        .bind(&user.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

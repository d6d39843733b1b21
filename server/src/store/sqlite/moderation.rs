//! Roles, mutes, deactivation and the audit log in SQLite.

use std::collections::HashMap;

use shared::roles::AuditEntry;
use shared::validate::ChannelName;
use shared::{ChannelId, UserId};
use sqlx::{Sqlite, Transaction};

use super::{SqliteStore, placeholders};
use crate::random::now_millis;
use crate::store::StoreError;
use crate::store::moderation::{
    AuditRecord, AuditRow, ChannelRule, ChannelRules, FIRST_ACCOUNT_OWNS, LAST_OWNER_STAYS,
    Moderation, Standing, StandingChange, audit_entry, rules_from, standing_from,
};

/// Makes the oldest account the owner if no one is (inside a sign-up's
/// transaction).
pub(super) async fn first_account_owns(
    tx: &mut Transaction<'static, Sqlite>,
) -> Result<(), StoreError> {
    sqlx::query(FIRST_ACCOUNT_OWNS).execute(&mut **tx).await?;
    Ok(())
}

/// Writes one line of the audit log inside `tx`.
pub(super) async fn audit(
    tx: &mut Transaction<'static, Sqlite>,
    record: &AuditRecord<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, action, target_user_id, channel_id, seq, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(now_millis())
    .bind(&record.actor.0)
    .bind(record.action.as_str())
    .bind(record.target.map(|user| user.0.as_str()))
    .bind(record.channel.map(|channel| channel.0.as_str()))
    .bind(record.seq)
    .bind(record.detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Moderation for SqliteStore {
    async fn standing(&self, user: &UserId) -> Result<Option<Standing>, StoreError> {
        let row: Option<(String, Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT role, muted_until, deactivated_at FROM users WHERE id = ?")
                .bind(&user.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(role, muted, deactivated)| standing_from(&role, muted, deactivated)))
    }

    async fn standings(&self, users: &[UserId]) -> Result<HashMap<UserId, Standing>, StoreError> {
        if users.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT id, role, muted_until, deactivated_at FROM users WHERE id IN ({})",
            placeholders("?", users.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, Option<i64>, Option<i64>)>(
            sqlx::AssertSqlSafe(sql),
        );
        for user in users {
            query = query.bind(&user.0);
        }
        Ok(query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|(id, role, muted, deactivated)| {
                (UserId(id), standing_from(&role, muted, deactivated))
            })
            .collect())
    }

    async fn change_standing(
        &self,
        record: &AuditRecord<'_>,
        change: StandingChange,
    ) -> Result<(), StoreError> {
        let Some(target) = record.target else {
            return Ok(());
        };
        let mut tx = self.begin_write().await?;
        let update = match change {
            StandingChange::Role(role) => sqlx::query(LAST_OWNER_STAYS.0).bind(role.as_str()),
            StandingChange::Muted(until) => {
                sqlx::query("UPDATE users SET muted_until = ? WHERE id = ?").bind(until)
            }
            StandingChange::Active(active) => {
                sqlx::query("UPDATE users SET deactivated_at = ? WHERE id = ?")
                    .bind((!active).then(now_millis))
            }
        };
        update.bind(&target.0).execute(&mut *tx).await?;
        if change == StandingChange::Active(false) {
            sqlx::query("DELETE FROM sessions WHERE user_id = ?")
                .bind(&target.0)
                .execute(&mut *tx)
                .await?;
        }
        audit(&mut tx, record).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn channel_rules(&self, channel: &ChannelId) -> Result<Option<ChannelRules>, StoreError> {
        let row: Option<(i64, bool)> = sqlx::query_as(
            "SELECT slow_mode_seconds, archived_at IS NOT NULL FROM channels
             WHERE id = ? AND kind != 'direct'",
        )
        .bind(&channel.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(rules_from))
    }

    async fn set_channel_rule(
        &self,
        record: &AuditRecord<'_>,
        channel: &ChannelId,
        rule: ChannelRule,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let update = match rule {
            ChannelRule::SlowMode(seconds) => {
                sqlx::query("UPDATE channels SET slow_mode_seconds = ? WHERE id = ?")
                    .bind(i64::from(seconds))
            }
            ChannelRule::Archived(archived) => {
                sqlx::query("UPDATE channels SET archived_at = ? WHERE id = ?")
                    .bind(archived.then(now_millis))
            }
        };
        update.bind(&channel.0).execute(&mut *tx).await?;
        audit(&mut tx, record).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn rename_channel(
        &self,
        record: &AuditRecord<'_>,
        channel: &ChannelId,
        name: &ChannelName,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let clash = sqlx::query(
            "SELECT 1 FROM channels
             WHERE id != ?1 AND kind != 'direct' AND COALESCE(display_name, name) = ?2",
        )
        .bind(&channel.0)
        .bind(name.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if clash.is_some() {
            return Err(StoreError::ChannelNameTaken);
        }
        // A public channel's name is its key; a private one's is apart.
        sqlx::query(
            "UPDATE channels
             SET name = CASE WHEN kind = 'public' THEN ?2 ELSE name END,
                 display_name = CASE WHEN kind = 'public' THEN NULL ELSE ?2 END
             WHERE id = ?1 AND kind != 'direct'",
        )
        .bind(&channel.0)
        .bind(name.as_str())
        .execute(&mut *tx)
        .await?;
        audit(&mut tx, record).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_audit(&self, record: &AuditRecord<'_>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        audit(&mut tx, record).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_log(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<AuditEntry>, bool), StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT a.id, a.at, a.actor_id, actor.name, a.action, a.target_user_id, target.name,
                    a.channel_id, a.seq, a.detail
             FROM audit_log a JOIN users actor ON actor.id = a.actor_id
                  LEFT JOIN users target ON target.id = a.target_user_id
             WHERE a.id < ? ORDER BY a.id DESC LIMIT ?",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let more = rows.len() > limit as usize;
        let entries = rows
            .into_iter()
            .take(limit as usize)
            .filter_map(audit_entry)
            .collect();
        Ok((entries, more))
    }
}

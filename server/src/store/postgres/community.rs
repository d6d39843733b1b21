//! Server settings and invite links in PostgreSQL.

use shared::UserId;
use shared::community::{Invite, ServerSettings};

use super::PgStore;
use super::moderation::audit;
use crate::store::community::{Community, InviteRow, NewInvite, invite_from, setting_rows};
use crate::store::{AuditRecord, StoreError};

impl Community for PgStore {
    async fn settings_rows(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT key, value FROM server_settings")
            .fetch_all(&self.pool)
            .await?)
    }

    async fn set_settings(
        &self,
        record: &AuditRecord<'_>,
        settings: &ServerSettings,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for (key, value) in setting_rows(settings) {
            sqlx::query(
                "INSERT INTO server_settings (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        audit(&mut tx, record).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_invite(
        &self,
        record: &AuditRecord<'_>,
        invite: &NewInvite<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO invites (id, code_hash, created_by, created_at, expires_at, max_uses)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(invite.id)
        .bind(invite.code_hash)
        .bind(&invite.by.id.0)
        .bind(invite.created_at)
        .bind(invite.expires_at)
        .bind(i64::from(invite.max_uses))
        .execute(&mut *tx)
        .await?;
        audit(&mut tx, record).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn invites(
        &self,
        by: Option<&UserId>,
        now: i64,
        limit: u32,
    ) -> Result<Vec<Invite>, StoreError> {
        let rows: Vec<InviteRow> = sqlx::query_as(
            "SELECT i.id, i.created_at, i.expires_at, i.max_uses, i.uses, u.id, u.name
             FROM invites i JOIN users u ON u.id = i.created_by
             WHERE i.expires_at > $1 AND i.uses < i.max_uses
               AND ($2 = '' OR i.created_by = $2)
             ORDER BY i.created_at DESC LIMIT $3",
        )
        .bind(now)
        .bind(by.map_or("", |user| user.0.as_str()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(invite_from).collect())
    }

    async fn use_invite(&self, code_hash: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE invites SET uses = uses + 1
             WHERE code_hash = $1 AND expires_at > $2 AND uses < max_uses
               AND EXISTS (SELECT 1 FROM users u
                           WHERE u.id = invites.created_by AND u.deactivated_at IS NULL)",
        )
        .bind(code_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn return_invite(&self, code_hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE invites SET uses = uses - 1 WHERE code_hash = $1 AND uses > 0")
            .bind(code_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

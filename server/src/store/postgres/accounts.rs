//! Accounts in PostgreSQL: users and their names, password hashes, browser
//! sessions and blocks. Nodes sign people up concurrently: a name and its
//! look-alikes go to one of them through the unique `name_key` (a racing
//! insert waits for the other transaction, then does nothing).

use std::collections::HashSet;

use shared::validate::Username;
use shared::{UserId, UserInfo};
use sqlx::Row;

use super::PgStore;
use super::moderation::first_account_owns;
use crate::random::{new_id, now_millis};
use crate::store::accounts::{
    NAME_KEY_RULE, SessionRow, batch_answers, directory_page, directory_search, live_session,
    name_keys, new_users,
};
use crate::store::{Accounts, NewAccount, SessionUser, StoreError};

impl Accounts for PgStore {
    async fn create_accounts(
        &self,
        accounts: &[NewAccount],
    ) -> Result<Vec<Result<SessionUser, StoreError>>, StoreError> {
        let now = now_millis();
        let (users, sessions) = new_users(accounts);
        let ids: Vec<&str> = users.iter().map(|user| user.id.0.as_str()).collect();
        let names: Vec<&str> = users.iter().map(|user| user.name.as_str()).collect();
        let name_keys: Vec<String> = accounts.iter().map(|a| a.name.uniqueness_key()).collect();
        let mention_keys: Vec<String> = accounts.iter().map(|a| a.name.mention_key()).collect();
        let mut tx = self.pool.begin().await?;
        // Rows go in the order given, so of look-alikes in one batch the
        // first wins.
        let created: HashSet<String> = sqlx::query_scalar(
            "INSERT INTO users (id, name, name_key, mention_key, created_at)
             SELECT id, name, name_key, mention_key, $5
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[])
                  WITH ORDINALITY AS new (id, name, name_key, mention_key, position)
             ORDER BY position
             ON CONFLICT (name_key) DO NOTHING
             RETURNING id",
        )
        .bind(&ids)
        .bind(&names)
        .bind(&name_keys)
        .bind(&mention_keys)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        let new: Vec<usize> = (0..accounts.len())
            .filter(|&row| created.contains(&users[row].id.0))
            .collect();
        let new_ids: Vec<&str> = new.iter().map(|&row| ids[row]).collect();
        let new_sessions: Vec<&str> = new.iter().map(|&row| sessions[row].as_str()).collect();
        let new_tokens: Vec<&str> = new
            .iter()
            .map(|&row| accounts[row].token_hash.as_str())
            .collect();
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at)
             SELECT id, token_hash, user_id, $4, $4
             FROM UNNEST($1::text[], $2::text[], $3::text[]) AS new (id, token_hash, user_id)",
        )
        .bind(&new_sessions)
        .bind(&new_tokens)
        .bind(&new_ids)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let Some(general) = &self.default_channel {
            sqlx::query(
                "INSERT INTO memberships (channel_id, user_id, joined_at)
                 SELECT $1, user_id, $3 FROM UNNEST($2::text[]) AS new (user_id)",
            )
            .bind(&general.0)
            .bind(&new_ids)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if !created.is_empty() {
            first_account_owns(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(batch_answers(users, sessions, &created))
    }

    async fn credentials(
        &self,
        name: &Username,
    ) -> Result<Option<(UserInfo, Option<String>)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, password_hash FROM users
             WHERE name_key = $1 AND deactivated_at IS NULL",
        )
        .bind(name.uniqueness_key())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| {
            (
                UserInfo {
                    id: UserId(row.get("id")),
                    name: row.get("name"),
                },
                row.get("password_hash"),
            )
        }))
    }

    async fn password_hash(&self, user: &UserId) -> Result<Option<String>, StoreError> {
        let hash: Option<Option<String>> =
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(&user.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(hash.flatten())
    }

    async fn set_password_hash(
        &self,
        user: &UserId,
        hash: &str,
        keep_session: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(&user.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(&user.0)
            .bind(keep_session)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_session(
        &self,
        user: &UserInfo,
        token_hash: &str,
    ) -> Result<SessionUser, StoreError> {
        let session_id = new_id();
        let now = now_millis();
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(&session_id)
        .bind(token_hash)
        .bind(&user.id.0)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(SessionUser {
            session_id,
            user: user.clone(),
            has_password: true,
        })
    }

    async fn delete_user_sessions(&self, user: &UserId) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(&user.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn session_by_token_hash(
        &self,
        token_hash: &str,
        idle_cutoff: i64,
    ) -> Result<Option<SessionUser>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.id, s.last_seen_at, u.id, u.name, u.password_hash IS NOT NULL
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND u.deactivated_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let now = now_millis();
        let Some((session, touch)) = row.and_then(|row| live_session(row, idle_cutoff, now)) else {
            return Ok(None);
        };
        if touch {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&session.session_id)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(session))
    }

    async fn session_exists(&self, session_id: &str) -> Result<bool, StoreError> {
        let found = sqlx::query("SELECT 1 FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_idle_sessions(&self, idle_cutoff: i64, limit: u32) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM sessions WHERE id IN
               (SELECT id FROM sessions WHERE last_seen_at < $1 LIMIT $2)",
        )
        .bind(idle_cutoff)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn users_page(
        &self,
        query: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<UserInfo>, Option<String>), StoreError> {
        let (after, query) = directory_search(query, after);
        let rows = sqlx::query_as(
            "SELECT id, name, mention_key FROM users
             WHERE mention_key > $1 AND strpos(mention_key, $2) > 0
             ORDER BY mention_key LIMIT $3",
        )
        .bind(after)
        .bind(query)
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        Ok(directory_page(rows, limit))
    }

    async fn user(&self, id: &UserId) -> Result<Option<UserInfo>, StoreError> {
        let row = sqlx::query("SELECT id, name FROM users WHERE id = $1")
            .bind(&id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| UserInfo {
            id: UserId(row.get("id")),
            name: row.get("name"),
        }))
    }

    async fn set_blocked(
        &self,
        user: &UserId,
        other: &UserId,
        blocked: bool,
    ) -> Result<(), StoreError> {
        if blocked {
            sqlx::query(
                "INSERT INTO blocks (user_id, blocked_id, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(&user.0)
            .bind(&other.0)
            .bind(now_millis())
            .execute(&self.pool)
            .await?;
        } else {
            sqlx::query("DELETE FROM blocks WHERE user_id = $1 AND blocked_id = $2")
                .bind(&user.0)
                .bind(&other.0)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    async fn blocked_by(&self, user: &UserId) -> Result<Vec<UserId>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT blocked_id FROM blocks WHERE user_id = $1 ORDER BY created_at, blocked_id",
        )
        .bind(&user.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    async fn blocked_by_any(&self, user: &UserId, others: &[UserId]) -> Result<bool, StoreError> {
        let others: Vec<&str> = others.iter().map(|other| other.0.as_str()).collect();
        let found: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocked_id = $1 AND user_id = ANY($2))",
        )
        .bind(&user.0)
        .bind(&others)
        .fetch_one(&self.pool)
        .await?;
        Ok(found)
    }
}

impl PgStore {
    /// Recomputes every `users.name_key` when the rule that makes them has
    /// changed since they were written (see the SQLite dialect). The table
    /// lock makes nodes starting together do it once.
    pub(super) async fn update_name_keys(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("LOCK TABLE users IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'name_key_rule'")
                .fetch_optional(&mut *tx)
                .await?;
        if current.as_deref() == Some(NAME_KEY_RULE) {
            return Ok(());
        }
        let users = sqlx::query("SELECT id, name FROM users ORDER BY created_at, id")
            .fetch_all(&mut *tx)
            .await?;
        // Clear first so keys can move between rows without colliding.
        sqlx::query("UPDATE users SET name_key = 'rekey:' || id")
            .execute(&mut *tx)
            .await?;
        let users: Vec<(String, String)> = users
            .iter()
            .map(|row| (row.get("id"), row.get("name")))
            .collect();
        for ((id, _), key) in users.iter().zip(name_keys(&users)) {
            sqlx::query("UPDATE users SET name_key = $1 WHERE id = $2")
                .bind(&key)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('name_key_rule', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(NAME_KEY_RULE)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

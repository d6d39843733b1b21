//! Accounts in the database: users and their names, password hashes,
//! browser sessions (which end after a period without use), and blocks
//! between users.

use shared::validate::Username;
use shared::{UserId, UserInfo};
use sqlx::Row;

use std::collections::HashSet;

use super::{Store, placeholders};
use crate::random::{new_id, now_millis};
use crate::store::{NewAccount, SessionUser, StoreError};

/// How often a session's last use is written down (at most).
const TOUCH_EVERY_MS: i64 = 60 * 60 * 1000;
/// The rule `users.name_key` is computed by; recomputed when it changes.
const NAME_KEY_RULE: &str = "nfkc-lowercase-uts39-skeleton";
/// Accounts per multi-row statement (five values each, well under SQLite's
/// limit of bound values).
const ROWS_PER_STATEMENT: usize = 256;

impl Store {
    /// Creates a user with a first session and puts them in the default channel.
    pub async fn create_user_with_session(
        &self,
        name: &Username,
        token_hash: &str,
    ) -> Result<SessionUser, StoreError> {
        let account = NewAccount {
            name: name.clone(),
            token_hash: token_hash.to_owned(),
        };
        let mut created = self.create_accounts(std::slice::from_ref(&account)).await?;
        created.pop().unwrap_or(Err(StoreError::NameTaken))
    }

    /// Creates users, each with a first session and in the default channel,
    /// in one transaction (one sync to disk for all of them). Answers each
    /// account in order: its session, or `NameTaken` when the name or a
    /// look-alike is taken (also by an earlier account of the same batch).
    pub async fn create_accounts(
        &self,
        accounts: &[NewAccount],
    ) -> Result<Vec<Result<SessionUser, StoreError>>, StoreError> {
        let now = now_millis();
        let users: Vec<UserInfo> = accounts
            .iter()
            .map(|account| UserInfo {
                id: UserId(new_id()),
                name: account.name.as_str().to_owned(),
            })
            .collect();
        let sessions: Vec<String> = accounts.iter().map(|_| new_id()).collect();
        let mut tx = self.begin_write().await?;
        let mut created = HashSet::new();
        for rows in (0..accounts.len())
            .collect::<Vec<_>>()
            .chunks(ROWS_PER_STATEMENT)
        {
            let sql = format!(
                "INSERT INTO users (id, name, name_key, mention_key, created_at) VALUES {}
                 ON CONFLICT (name_key) DO NOTHING RETURNING id",
                placeholders("(?, ?, ?, ?, ?)", rows.len())
            );
            let mut insert = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            for &row in rows {
                let name = &accounts[row].name;
                insert = insert
                    .bind(&users[row].id.0)
                    .bind(&users[row].name)
                    .bind(name.uniqueness_key())
                    .bind(name.mention_key())
                    .bind(now);
            }
            created.extend(insert.fetch_all(&mut *tx).await?);
        }
        let new: Vec<usize> = (0..accounts.len())
            .filter(|&row| created.contains(&users[row].id.0))
            .collect();
        for rows in new.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at) VALUES {}",
                placeholders("(?, ?, ?, ?, ?)", rows.len())
            );
            let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
            for &row in rows {
                insert = insert
                    .bind(&sessions[row])
                    .bind(&accounts[row].token_hash)
                    .bind(&users[row].id.0)
                    .bind(now)
                    .bind(now);
            }
            insert.execute(&mut *tx).await?;
            if let Some(general) = &self.default_channel {
                let sql = format!(
                    "INSERT INTO memberships (channel_id, user_id, joined_at) VALUES {}",
                    placeholders("(?, ?, ?)", rows.len())
                );
                let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
                for &row in rows {
                    insert = insert.bind(&general.0).bind(&users[row].id.0).bind(now);
                }
                insert.execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(users
            .into_iter()
            .zip(sessions)
            .map(|(user, session_id)| {
                if created.contains(&user.id.0) {
                    Ok(SessionUser {
                        session_id,
                        user,
                        has_password: false,
                    })
                } else {
                    Err(StoreError::NameTaken)
                }
            })
            .collect())
    }

    /// The user a name stands for (the same name or a look-alike of it) and
    /// their password hash, if they set one.
    pub async fn credentials(
        &self,
        name: &Username,
    ) -> Result<Option<(UserInfo, Option<String>)>, StoreError> {
        let row = sqlx::query("SELECT id, name, password_hash FROM users WHERE name_key = ?")
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

    /// A user's password hash, if they set one.
    pub async fn password_hash(&self, user: &UserId) -> Result<Option<String>, StoreError> {
        let hash: Option<Option<String>> =
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?")
                .bind(&user.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(hash.flatten())
    }

    /// Sets or replaces a user's password hash and ends their other sessions
    /// (all but `keep_session`) in the same transaction.
    pub async fn set_password_hash(
        &self,
        user: &UserId,
        hash: &str,
        keep_session: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(&user.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = ? AND id != ?")
            .bind(&user.0)
            .bind(keep_session)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A new session for an existing user (after signing in with a password).
    pub async fn create_session(
        &self,
        user: &UserInfo,
        token_hash: &str,
    ) -> Result<SessionUser, StoreError> {
        let session_id = new_id();
        let now = now_millis();
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&session_id)
        .bind(token_hash)
        .bind(&user.id.0)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(SessionUser {
            session_id,
            user: user.clone(),
            has_password: true,
        })
    }

    /// Ends every session of a user (sign out everywhere).
    pub async fn delete_user_sessions(&self, user: &UserId) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = ?")
            .bind(&user.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// The session a cookie token hash belongs to, if it exists and was used
    /// since `idle_cutoff` (ms since the epoch). Using it keeps it alive.
    pub async fn session_by_token_hash(
        &self,
        token_hash: &str,
        idle_cutoff: i64,
    ) -> Result<Option<SessionUser>, StoreError> {
        let row = sqlx::query(
            "SELECT s.id AS session_id, s.last_seen_at, u.id AS user_id, u.name AS user_name,
                    u.password_hash IS NOT NULL AS has_password
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let last_seen: i64 = row.get("last_seen_at");
        let session_id: String = row.get("session_id");
        if last_seen < idle_cutoff {
            return Ok(None);
        }
        let now = now_millis();
        if now - last_seen > TOUCH_EVERY_MS {
            sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id = ?")
                .bind(now)
                .bind(&session_id)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(SessionUser {
            session_id,
            user: UserInfo {
                id: UserId(row.get("user_id")),
                name: row.get("user_name"),
            },
            has_password: row.get("has_password"),
        }))
    }

    /// Whether a session still exists (it may have been ended meanwhile).
    pub async fn session_exists(&self, session_id: &str) -> Result<bool, StoreError> {
        let found = sqlx::query("SELECT 1 FROM sessions WHERE id = ?")
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Ends one session (sign out). Returns whether it existed.
    pub async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE id = ?")
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes up to `limit` sessions unused since `idle_cutoff`; returns how many.
    pub async fn delete_idle_sessions(
        &self,
        idle_cutoff: i64,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM sessions WHERE id IN
               (SELECT id FROM sessions WHERE last_seen_at < ? LIMIT ?)",
        )
        .bind(idle_cutoff)
        .bind(limit)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Every user, by name (the directory for the user list).
    /// Up to `limit` people whose lowercase name contains `query`, by name,
    /// after the lowercase name `after`; and where the next page starts.
    pub async fn users_page(
        &self,
        query: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<UserInfo>, Option<String>), StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, mention_key FROM users
             WHERE mention_key > ? AND instr(mention_key, ?) > 0
             ORDER BY mention_key LIMIT ?",
        )
        .bind(after.map(str::to_lowercase).unwrap_or_default())
        .bind(query.trim().to_lowercase())
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let more = rows.len() > limit;
        let rows = &rows[..rows.len().min(limit)];
        let next = more
            .then(|| rows.last().map(|row| row.get::<String, _>("mention_key")))
            .flatten();
        let users = rows
            .iter()
            .map(|row| UserInfo {
                id: UserId(row.get("id")),
                name: row.get("name"),
            })
            .collect();
        Ok((users, next))
    }

    /// A user by id.
    pub async fn user(&self, id: &UserId) -> Result<Option<UserInfo>, StoreError> {
        let row = sqlx::query("SELECT id, name FROM users WHERE id = ?")
            .bind(&id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| UserInfo {
            id: UserId(row.get("id")),
            name: row.get("name"),
        }))
    }

    /// `user` blocks (or with `blocked: false` unblocks) `other`.
    pub async fn set_blocked(
        &self,
        user: &UserId,
        other: &UserId,
        blocked: bool,
    ) -> Result<(), StoreError> {
        if blocked {
            sqlx::query(
                "INSERT INTO blocks (user_id, blocked_id, created_at) VALUES (?, ?, ?)
                 ON CONFLICT DO NOTHING",
            )
            .bind(&user.0)
            .bind(&other.0)
            .bind(now_millis())
            .execute(&self.pool)
            .await?;
        } else {
            sqlx::query("DELETE FROM blocks WHERE user_id = ? AND blocked_id = ?")
                .bind(&user.0)
                .bind(&other.0)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The people `user` has blocked.
    pub async fn blocked_by(&self, user: &UserId) -> Result<Vec<UserId>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT blocked_id FROM blocks WHERE user_id = ? ORDER BY created_at",
        )
        .bind(&user.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    /// Whether any of `others` has blocked `user`.
    pub async fn blocked_by_any(
        &self,
        user: &UserId,
        others: &[UserId],
    ) -> Result<bool, StoreError> {
        for other in others {
            let found = sqlx::query("SELECT 1 FROM blocks WHERE user_id = ? AND blocked_id = ?")
                .bind(&other.0)
                .bind(&user.0)
                .fetch_optional(&self.pool)
                .await?;
            if found.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Recomputes every `users.name_key` when the rule that makes them has
    /// changed since they were written. Two existing names that the new rule
    /// finds alike both stay (the later one's key gets its id appended), so
    /// nobody loses an account; new look-alikes of either are refused.
    pub(super) async fn update_name_keys(&self) -> Result<(), StoreError> {
        let current: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'name_key_rule'")
                .fetch_optional(&self.pool)
                .await?;
        if current.as_deref() == Some(NAME_KEY_RULE) {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let users = sqlx::query("SELECT id, name FROM users ORDER BY created_at, id")
            .fetch_all(&mut *tx)
            .await?;
        // Clear first so keys can move between rows without colliding.
        sqlx::query("UPDATE users SET name_key = 'rekey:' || id")
            .execute(&mut *tx)
            .await?;
        let mut taken = std::collections::HashSet::new();
        for row in users {
            let id: String = row.get("id");
            let name: String = row.get("name");
            let mut key = match Username::parse(&name) {
                Ok(name) => name.uniqueness_key(),
                Err(_) => name.to_lowercase(),
            };
            if !taken.insert(key.clone()) {
                tracing::warn!(%name, "an existing name looks like an earlier one; both are kept");
                key = format!("{key}\u{0}{id}");
            }
            sqlx::query("UPDATE users SET name_key = ? WHERE id = ?")
                .bind(&key)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('name_key_rule', ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(NAME_KEY_RULE)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

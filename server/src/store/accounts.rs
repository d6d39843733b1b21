//! Users, their browser sessions, passwords and blocks: what every dialect
//! of the store does the same way. The conformance tests
//! (`server/tests/store`) run the same checks against each dialect.

use std::collections::HashSet;

use shared::validate::Username;
use shared::{UserId, UserInfo};

use super::{NewAccount, SessionUser, StoreError};
use crate::random::new_id;

/// How often a session's last use is written down (at most).
pub const TOUCH_EVERY_MS: i64 = 60 * 60 * 1000;
/// The rule `users.name_key` is computed by; recomputed when it changes.
pub const NAME_KEY_RULE: &str = "nfkc-lowercase-uts39-skeleton";

/// The accounts aggregate. Implemented by each dialect's store.
#[allow(async_fn_in_trait)]
pub trait Accounts {
    /// Creates users, each with a first session and in the default channel,
    /// in one transaction (one sync to disk for all of them). Answers each
    /// account in order: its session, or `NameTaken` when the name or a
    /// look-alike is taken (also by an earlier account of the same batch).
    async fn create_accounts(
        &self,
        accounts: &[NewAccount],
    ) -> Result<Vec<Result<SessionUser, StoreError>>, StoreError>;

    /// The user a name stands for (the same name or a look-alike of it) and
    /// their password hash, if they set one.
    async fn credentials(
        &self,
        name: &Username,
    ) -> Result<Option<(UserInfo, Option<String>)>, StoreError>;

    /// A user's password hash, if they set one.
    async fn password_hash(&self, user: &UserId) -> Result<Option<String>, StoreError>;

    /// Sets or replaces a user's password hash and ends their other sessions
    /// (all but `keep_session`) in the same transaction.
    async fn set_password_hash(
        &self,
        user: &UserId,
        hash: &str,
        keep_session: &str,
    ) -> Result<(), StoreError>;

    /// A new session for an existing user (after signing in with a password).
    async fn create_session(
        &self,
        user: &UserInfo,
        token_hash: &str,
    ) -> Result<SessionUser, StoreError>;

    /// Ends every session of a user (sign out everywhere).
    async fn delete_user_sessions(&self, user: &UserId) -> Result<u64, StoreError>;

    /// The session a cookie token hash belongs to, if it exists and was used
    /// since `idle_cutoff` (ms since the epoch). Using it keeps it alive.
    async fn session_by_token_hash(
        &self,
        token_hash: &str,
        idle_cutoff: i64,
    ) -> Result<Option<SessionUser>, StoreError>;

    /// Whether a session still exists (it may have been ended meanwhile).
    async fn session_exists(&self, session_id: &str) -> Result<bool, StoreError>;

    /// Ends one session (sign out). Returns whether it existed.
    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError>;

    /// Deletes up to `limit` sessions unused since `idle_cutoff`; returns how many.
    async fn delete_idle_sessions(&self, idle_cutoff: i64, limit: u32) -> Result<u64, StoreError>;

    /// Up to `limit` people whose lowercase name contains `query`, by name,
    /// after the lowercase name `after`; and where the next page starts.
    async fn users_page(
        &self,
        query: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<UserInfo>, Option<String>), StoreError>;

    /// A user by id.
    async fn user(&self, id: &UserId) -> Result<Option<UserInfo>, StoreError>;

    /// `user` blocks (or with `blocked: false` unblocks) `other`.
    async fn set_blocked(
        &self,
        user: &UserId,
        other: &UserId,
        blocked: bool,
    ) -> Result<(), StoreError>;

    /// The people `user` has blocked.
    async fn blocked_by(&self, user: &UserId) -> Result<Vec<UserId>, StoreError>;

    /// Whether any of `others` has blocked `user`.
    async fn blocked_by_any(&self, user: &UserId, others: &[UserId]) -> Result<bool, StoreError>;

    /// Creates a user with a first session and puts them in the default channel.
    async fn create_user_with_session(
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
}

/// A session found by its token hash: session id, last use (ms), user id,
/// user name, whether the user has a password.
pub(crate) type SessionRow = (String, i64, String, String, bool);

/// What a found session means at `idle_cutoff`: the session when it is
/// still alive, and whether its last use should be written down now (at
/// most every [`TOUCH_EVERY_MS`]).
pub(crate) fn live_session(
    row: SessionRow,
    idle_cutoff: i64,
    now: i64,
) -> Option<(SessionUser, bool)> {
    let (session_id, last_seen, user_id, user_name, has_password) = row;
    if last_seen < idle_cutoff {
        return None;
    }
    let session = SessionUser {
        session_id,
        user: UserInfo {
            id: UserId(user_id),
            name: user_name,
        },
        has_password,
    };
    Some((session, now - last_seen > TOUCH_EVERY_MS))
}

/// The directory search as both dialects bind it: the lowercase name to
/// start after and the lowercase text to look for.
pub(crate) fn directory_search(query: &str, after: Option<&str>) -> (String, String) {
    (
        after.map(str::to_lowercase).unwrap_or_default(),
        query.trim().to_lowercase(),
    )
}

/// A page of the directory from up to `limit + 1` rows `(id, name,
/// mention_key)` in order: the people, and where the next page starts.
pub(crate) fn directory_page(
    mut rows: Vec<(String, String, String)>,
    limit: usize,
) -> (Vec<UserInfo>, Option<String>) {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = more.then(|| rows.last().map(|row| row.2.clone())).flatten();
    let users = rows
        .into_iter()
        .map(|(id, name, _)| UserInfo {
            id: UserId(id),
            name,
        })
        .collect();
    (users, next)
}

/// A batch of sign-ups given their new ids: each account's user, and the
/// id of its first session.
pub(crate) fn new_users(accounts: &[NewAccount]) -> (Vec<UserInfo>, Vec<String>) {
    accounts
        .iter()
        .map(|account| {
            let user = UserInfo {
                id: UserId(new_id()),
                name: account.name.as_str().to_owned(),
            };
            (user, new_id())
        })
        .unzip()
}

/// What each account of a batch gets: its session when its user row went
/// in (`created` holds the ids that did), `NameTaken` otherwise.
pub(crate) fn batch_answers(
    users: Vec<UserInfo>,
    sessions: Vec<String>,
    created: &HashSet<String>,
) -> Vec<Result<SessionUser, StoreError>> {
    users
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
        .collect()
}

/// The uniqueness keys of existing users `(id, name)`, oldest first, under
/// the current rule: a later name that looks like an earlier one keeps its
/// account under [`kept_look_alike_key`].
pub(crate) fn name_keys(users: &[(String, String)]) -> Vec<String> {
    let mut taken = HashSet::new();
    users
        .iter()
        .map(|(id, name)| {
            let key = match Username::parse(name) {
                Ok(name) => name.uniqueness_key(),
                Err(_) => name.to_lowercase(),
            };
            if taken.insert(key.clone()) {
                key
            } else {
                tracing::warn!(%name, "an existing name looks like an earlier one; both are kept");
                kept_look_alike_key(&key, id)
            }
        })
        .collect()
}

/// The uniqueness key kept by an existing name that a new key rule finds
/// alike an earlier one: both accounts stay, new look-alikes of either are
/// refused. The separator is a control character, which no name contains.
fn kept_look_alike_key(key: &str, user: &str) -> String {
    format!("{key}\u{1f}{user}")
}

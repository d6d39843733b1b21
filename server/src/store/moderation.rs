//! Roles and moderation: each person's standing (role, mute, whether the
//! account is active), its changes, each written in one transaction with
//! its line of the audit log, and the audit log itself (never edited: the
//! database refuses updates and deletes of it). Who may change whose
//! standing is `shared::roles`' decision, made by the commands before they
//! call in here.

use std::collections::HashMap;

use shared::roles::{AdminUser, AuditAction, AuditEntry, Role};
use shared::validate::ChannelName;
use shared::{ChannelId, Seq, UserId};

use super::{Accounts, StoreError};

/// Makes the oldest active account the owner when there is none (a fresh
/// install's first sign-up); the same SQL in every dialect.
pub(crate) const FIRST_ACCOUNT_OWNS: &str = "UPDATE users SET role = 'owner'
     WHERE NOT EXISTS (SELECT 1 FROM users WHERE role = 'owner')
       AND id = (SELECT id FROM users WHERE deactivated_at IS NULL
                 ORDER BY created_at, id LIMIT 1)";

/// Changes a role unless it would leave the server without an active
/// owner (SQLite's and PostgreSQL's placeholders).
pub(crate) const LAST_OWNER_STAYS: (&str, &str) = (
    "UPDATE users SET role = ?1 WHERE id = ?2
       AND (role != 'owner' OR ?1 = 'owner'
            OR (SELECT COUNT(*) FROM users WHERE role = 'owner' AND deactivated_at IS NULL) > 1)",
    "UPDATE users SET role = $1 WHERE id = $2
       AND (role != 'owner' OR $1 = 'owner'
            OR (SELECT COUNT(*) FROM users WHERE role = 'owner' AND deactivated_at IS NULL) > 1)",
);

/// A person's standing as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    /// Muted until then (ms since the epoch); may be past.
    pub muted_until: Option<i64>,
    pub active: bool,
}

impl Standing {
    /// Until when the person is muted at `now`, if they are.
    pub fn muted_at(&self, now: i64) -> Option<i64> {
        self.muted_until.filter(|&until| until > now)
    }
}

/// A change of someone's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandingChange {
    Role(Role),
    /// Muted until then, or (`None`) unmuted.
    Muted(Option<i64>),
    /// Reactivated, or (`false`) deactivated: every session ends with it.
    Active(bool),
}

/// A rule of a channel that moderators (slow mode) and admins (archiving) set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelRule {
    /// Seconds between a member's posts; 0 is off.
    SlowMode(u32),
    Archived(bool),
}

/// A channel's rules as they are: slow mode seconds and whether archived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelRules {
    pub slow_mode_seconds: u32,
    pub archived: bool,
}

/// One line for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct AuditRecord<'a> {
    pub actor: &'a UserId,
    pub action: AuditAction,
    pub target: Option<&'a UserId>,
    pub channel: Option<&'a ChannelId>,
    pub seq: Option<Seq>,
    pub detail: &'a str,
}

/// An audit log row as both dialects read it: id, at, actor id and name,
/// action, target id and name, channel, seq, detail.
pub(crate) type AuditRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Seq>,
    String,
);

/// The entry a row stands for (a row naming an action this version does
/// not know is left out).
pub(crate) fn audit_entry(row: AuditRow) -> Option<AuditEntry> {
    let (id, at, actor_id, actor_name, action, target_id, target_name, channel, seq, detail) = row;
    let target = match (target_id, target_name) {
        (Some(id), Some(name)) => Some(shared::UserInfo {
            id: UserId(id),
            name,
        }),
        _ => None,
    };
    Some(AuditEntry {
        id,
        at,
        actor: shared::UserInfo {
            id: UserId(actor_id),
            name: actor_name,
        },
        action: AuditAction::parse(&action)?,
        target,
        channel: channel.map(ChannelId),
        seq,
        detail,
    })
}

/// The moderation aggregate. Implemented by each dialect's store.
#[allow(async_fn_in_trait)]
pub trait Moderation: Accounts {
    /// A person's standing, if they exist.
    async fn standing(&self, user: &UserId) -> Result<Option<Standing>, StoreError>;

    /// The standings of these people (those who exist).
    async fn standings(&self, users: &[UserId]) -> Result<HashMap<UserId, Standing>, StoreError>;

    /// Changes `record.target`'s standing and records `record`, in one
    /// transaction; deactivating ends every session of theirs in it too.
    async fn change_standing(
        &self,
        record: &AuditRecord<'_>,
        change: StandingChange,
    ) -> Result<(), StoreError>;

    /// A channel's rules, if it exists and is not a direct conversation.
    async fn channel_rules(&self, channel: &ChannelId) -> Result<Option<ChannelRules>, StoreError>;

    /// Changes a channel's rule and records `record`, in one transaction.
    async fn set_channel_rule(
        &self,
        record: &AuditRecord<'_>,
        channel: &ChannelId,
        rule: ChannelRule,
    ) -> Result<(), StoreError>;

    /// Renames a channel (public or private) and records `record`, in one
    /// transaction; `ChannelNameTaken` when another channel has the name.
    async fn rename_channel(
        &self,
        record: &AuditRecord<'_>,
        channel: &ChannelId,
        name: &ChannelName,
    ) -> Result<(), StoreError>;

    /// Records an action whose change was stored elsewhere.
    async fn record_audit(&self, record: &AuditRecord<'_>) -> Result<(), StoreError>;

    /// Up to `limit` audit entries before id `before`, newest first, and
    /// whether older ones are left.
    async fn audit_log(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<AuditEntry>, bool), StoreError>;

    /// A page of people as the admin panel lists them (as
    /// [`Accounts::users_page`]), with their standing at `now`.
    async fn admin_users(
        &self,
        query: &str,
        after: Option<&str>,
        limit: usize,
        now: i64,
    ) -> Result<(Vec<AdminUser>, Option<String>), StoreError> {
        let (users, next) = self.users_page(query, after, limit).await?;
        let ids: Vec<UserId> = users.iter().map(|user| user.id.clone()).collect();
        let standings = self.standings(&ids).await?;
        let listed = users
            .into_iter()
            .filter_map(|user| {
                let standing = standings.get(&user.id)?;
                Some(admin_user(user, standing, now))
            })
            .collect();
        Ok((listed, next))
    }
}

/// A person with their standing, as the admin panel shows them at `now`.
pub fn admin_user(user: shared::UserInfo, standing: &Standing, now: i64) -> AdminUser {
    AdminUser {
        user,
        role: standing.role,
        muted_until: standing.muted_at(now),
        deactivated: !standing.active,
    }
}

/// A standing as both dialects read it: role, muted until, deactivated at.
pub(crate) fn standing_from(
    role: &str,
    muted_until: Option<i64>,
    deactivated: Option<i64>,
) -> Standing {
    Standing {
        role: Role::parse(role),
        muted_until,
        active: deactivated.is_none(),
    }
}

/// The audit line of a moderator's removal of `author`'s message.
pub(crate) fn removal_record<'a>(
    by: &'a UserId,
    author: &'a UserId,
    channel: &'a ChannelId,
    seq: Seq,
) -> AuditRecord<'a> {
    AuditRecord {
        actor: by,
        action: AuditAction::RemoveMessage,
        target: Some(author),
        channel: Some(channel),
        seq: Some(seq),
        detail: "",
    }
}

/// A channel's rules as both dialects read them: slow mode, archived.
pub(crate) fn rules_from((slow_mode, archived): (i64, bool)) -> ChannelRules {
    ChannelRules {
        slow_mode_seconds: u32::try_from(slow_mode).unwrap_or(0),
        archived,
    }
}

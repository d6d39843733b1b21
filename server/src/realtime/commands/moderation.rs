//! Running the community: the admin panel's list of people, roles, mutes,
//! deactivation and the audit log. Every request reads the caller's role
//! (and the target's) from the database at that moment and asks
//! `shared::roles` whether it is allowed; nothing here trusts what the
//! client shows. The other commands ask [`role_of`] when a role widens
//! what they allow (removing others' messages, removing people from
//! public channels).

use shared::limits::{ADMIN_USERS_PAGE, AUDIT_PAGE, MAX_MUTE_MINUTES, SLOW_MODE_CHOICES};
use shared::roles::{AuditAction, Role};
use shared::validate::ChannelName;
use shared::{ChannelId, ErrorCode, ServerMsg, UserId, UserInfo};

use super::refusal::{self, Refusal, refuse};
use super::{Caller, Reply, answer};
use crate::random::now_millis;
use crate::realtime::fanout::Sessions;
use crate::store::moderation::admin_user;
use crate::store::{
    Accounts, AuditRecord, ChannelRule, Channels, Moderation, Standing, StandingChange,
};

/// The caller's role, read now (a member if the account is gone).
pub async fn role_of(caller: &Caller<'_>) -> Result<Role, Refusal> {
    Ok(caller
        .store()
        .standing(&caller.user.id)
        .await?
        .map(|standing| standing.role)
        .unwrap_or_default())
}

/// Refuses an edit or a reaction by a caller who is muted now, or in an
/// archived channel (posts are checked by the writer, in its batch's
/// transaction).
pub async fn may_change(caller: &Caller<'_>, channel: &ChannelId) -> Result<(), Refusal> {
    not_muted(caller).await?;
    let rules = caller.store().channel_rules(channel).await?;
    if rules.is_some_and(|r| r.archived) {
        return Err(refusal::archived());
    }
    Ok(())
}

/// Refuses a caller who is muted now.
pub async fn not_muted(caller: &Caller<'_>) -> Result<(), Refusal> {
    let standing = caller.store().standing(&caller.user.id).await?;
    match standing.and_then(|standing| standing.muted_at(now_millis())) {
        Some(_) => Err(refusal::muted()),
        None => Ok(()),
    }
}

pub async fn set_slow_mode(caller: &Caller<'_>, channel: &ChannelId, seconds: u32) -> Reply {
    if !SLOW_MODE_CHOICES.contains(&seconds) {
        return Err(refuse(
            ErrorCode::InvalidFields,
            format!("Slow mode is one of {SLOW_MODE_CHOICES:?} seconds."),
        ));
    }
    role_allowing(caller, Role::moderates).await?;
    let detail = format!("{seconds} seconds");
    set_rule(
        caller,
        channel,
        ChannelRule::SlowMode(seconds),
        AuditAction::SetSlowMode,
        &detail,
    )
    .await
}

pub async fn archive_channel(caller: &Caller<'_>, channel: &ChannelId, archived: bool) -> Reply {
    role_allowing(caller, Role::administers).await?;
    if caller.store().default_channel() == Some(channel) {
        return Err(refuse(
            ErrorCode::NotAllowed,
            "The default channel cannot be archived.",
        ));
    }
    let action = if archived {
        AuditAction::ArchiveChannel
    } else {
        AuditAction::RestoreChannel
    };
    set_rule(caller, channel, ChannelRule::Archived(archived), action, "").await
}

pub async fn rename_channel(caller: &Caller<'_>, channel: &ChannelId, name: &str) -> Reply {
    role_allowing(caller, Role::administers).await?;
    let name = ChannelName::parse(name)
        .map_err(|e| refuse(ErrorCode::InvalidChannelName, e.to_string()))?;
    let store = caller.store();
    if store.default_channel() == Some(channel) {
        return Err(refuse(
            ErrorCode::NotAllowed,
            "The default channel keeps its name.",
        ));
    }
    let old = store
        .channel_name(channel)
        .await?
        .ok_or_else(refusal::not_a_member)?;
    let detail = format!("#{old} to #{}", name.as_str());
    let record = AuditRecord {
        actor: &caller.user.id,
        action: AuditAction::RenameChannel,
        target: None,
        channel: Some(channel),
        seq: None,
        detail: &detail,
    };
    store.rename_channel(&record, channel, &name).await?;
    tracing::info!(by = %caller.user.name, %detail, "channel renamed");
    let told = ServerMsg::ChannelRenamed {
        channel: channel.clone(),
        name: name.as_str().to_owned(),
    };
    tell_channel(caller, channel, told).await
}

/// Changes a channel's rule (channels, not direct conversations; the
/// caller need not be a member) and tells everyone in it.
async fn set_rule(
    caller: &Caller<'_>,
    channel: &ChannelId,
    rule: ChannelRule,
    action: AuditAction,
    detail: &str,
) -> Reply {
    let store = caller.store();
    let name = store
        .channel_name(channel)
        .await?
        .ok_or_else(refusal::not_a_member)?;
    let detail = format!(
        "#{name}{}{detail}",
        if detail.is_empty() { "" } else { ", " }
    );
    let record = AuditRecord {
        actor: &caller.user.id,
        action,
        target: None,
        channel: Some(channel),
        seq: None,
        detail: &detail,
    };
    store.set_channel_rule(&record, channel, rule).await?;
    let rules = store
        .channel_rules(channel)
        .await?
        .ok_or_else(refusal::not_a_member)?;
    tracing::info!(by = %caller.user.name, %detail, "channel rule changed");
    let told = ServerMsg::ChannelRules {
        channel: channel.clone(),
        slow_mode_seconds: rules.slow_mode_seconds,
        archived: rules.archived,
    };
    tell_channel(caller, channel, told).await
}

/// Tells everyone in `channel`, and the caller, what changed about it.
async fn tell_channel(caller: &Caller<'_>, channel: &ChannelId, told: ServerMsg) -> Reply {
    // Once to each: the room but the caller, the caller's other tabs, and
    // this connection (a moderator need not be in the channel).
    let fanout = caller.fanout();
    let me = caller.user.id.clone();
    fanout
        .to_room(channel.clone(), told.clone(), Some(me.clone()))
        .await;
    fanout.to_user(me, told.clone(), Some(caller.conn)).await;
    answer(told)
}

/// The caller's role when it allows `allowed`; a refusal otherwise.
async fn role_allowing(caller: &Caller<'_>, allowed: fn(Role) -> bool) -> Result<Role, Refusal> {
    let role = role_of(caller).await?;
    if allowed(role) {
        Ok(role)
    } else {
        Err(refusal::not_your_role())
    }
}

/// Someone else, with their standing now.
async fn other(caller: &Caller<'_>, user: &UserId) -> Result<(UserInfo, Standing), Refusal> {
    if user == &caller.user.id {
        return Err(refusal::not_on_yourself());
    }
    let store = caller.store();
    let found = store.user(user).await?.ok_or_else(refusal::unknown_user)?;
    let standing = store
        .standing(user)
        .await?
        .ok_or_else(refusal::unknown_user)?;
    Ok((found, standing))
}

pub async fn admin_users(caller: &Caller<'_>, query: String, after: Option<String>) -> Reply {
    role_allowing(caller, Role::moderates).await?;
    let (users, next) = caller
        .store()
        .admin_users(&query, after.as_deref(), ADMIN_USERS_PAGE, now_millis())
        .await?;
    answer(ServerMsg::AdminUsers {
        users,
        query,
        after,
        next,
    })
}

pub async fn set_role(caller: &Caller<'_>, user: &UserId, role: Role) -> Reply {
    let (target, standing) = other(caller, user).await?;
    let actor = role_of(caller).await?;
    if !actor.may_assign(standing.role, role) {
        return Err(refusal::not_your_role());
    }
    let changed = Standing { role, ..standing };
    if standing.role != role {
        let record = record(caller, AuditAction::SetRole, user, role.as_str());
        caller
            .store()
            .change_standing(&record, StandingChange::Role(role))
            .await?;
        tracing::info!(by = %caller.user.name, user = %target.name, role = role.as_str(), "role changed");
        tell_standing(caller, user, &changed).await;
    }
    answer(ServerMsg::AdminUser {
        user: admin_user(target, &changed, now_millis()),
    })
}

pub async fn mute(caller: &Caller<'_>, user: &UserId, minutes: u32) -> Reply {
    if minutes > MAX_MUTE_MINUTES {
        return Err(refuse(
            ErrorCode::InvalidFields,
            format!("A mute lasts at most {MAX_MUTE_MINUTES} minutes."),
        ));
    }
    let (target, standing) = moderated(caller, user).await?;
    let now = now_millis();
    let until = (minutes > 0).then(|| now + i64::from(minutes) * 60_000);
    let (action, detail) = match until {
        Some(_) => (AuditAction::Mute, format!("{minutes} minutes")),
        None => (AuditAction::Unmute, String::new()),
    };
    caller
        .store()
        .change_standing(
            &record(caller, action, user, &detail),
            StandingChange::Muted(until),
        )
        .await?;
    tracing::info!(by = %caller.user.name, user = %target.name, minutes, "mute changed");
    let changed = Standing {
        muted_until: until,
        ..standing
    };
    tell_standing(caller, user, &changed).await;
    answer(ServerMsg::AdminUser {
        user: admin_user(target, &changed, now),
    })
}

pub async fn set_active(caller: &Caller<'_>, user: &UserId, active: bool) -> Reply {
    let (target, standing) = moderated(caller, user).await?;
    let changed = Standing { active, ..standing };
    if standing.active != active {
        let action = if active {
            AuditAction::Reactivate
        } else {
            AuditAction::Deactivate
        };
        caller
            .store()
            .change_standing(
                &record(caller, action, user, ""),
                StandingChange::Active(active),
            )
            .await?;
        tracing::info!(by = %caller.user.name, user = %target.name, active, "account standing changed");
        if !active {
            // Their sessions are gone from the database: their sockets stop now.
            caller
                .fanout()
                .close_sessions(user.clone(), Sessions::AllBut(None))
                .await;
        }
    }
    answer(ServerMsg::AdminUser {
        user: admin_user(target, &changed, now_millis()),
    })
}

pub async fn audit_log(caller: &Caller<'_>, before: Option<i64>) -> Reply {
    role_allowing(caller, Role::administers).await?;
    let (entries, more) = caller.store().audit_log(before, AUDIT_PAGE).await?;
    answer(ServerMsg::AuditLog {
        entries,
        before,
        more,
    })
}

/// Someone else whom the caller's role may moderate.
async fn moderated(caller: &Caller<'_>, user: &UserId) -> Result<(UserInfo, Standing), Refusal> {
    let (target, standing) = other(caller, user).await?;
    if !role_of(caller).await?.may_moderate(standing.role) {
        return Err(refusal::not_your_role());
    }
    Ok((target, standing))
}

fn record<'a>(
    caller: &'a Caller<'_>,
    action: AuditAction,
    target: &'a UserId,
    detail: &'a str,
) -> AuditRecord<'a> {
    AuditRecord {
        actor: &caller.user.id,
        action,
        target: Some(target),
        channel: None,
        seq: None,
        detail,
    }
}

/// Tells every tab of `user` their new role and mute.
async fn tell_standing(caller: &Caller<'_>, user: &UserId, standing: &Standing) {
    let message = ServerMsg::Standing {
        role: standing.role,
        muted_until: standing.muted_at(now_millis()),
    };
    caller.fanout().to_user(user.clone(), message, None).await;
}

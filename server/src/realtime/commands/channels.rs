//! Channel requests: creating, browsing, joining, leaving, inviting,
//! removing, topics, member lists and read marks.

use shared::protocol::{ChannelKind, NotifyLevel};
use shared::roles::AuditAction;
use shared::validate::{ChannelName, Topic};
use shared::{ChannelId, ErrorCode, Seq, ServerMsg, UserId, UserInfo};

use super::refusal::{self, Refusal, refuse};
use super::{Caller, Reply, announce_joined, answer, done, membership, moderation};

use crate::store::{Accounts, AuditRecord, Channels, Community, Moderation};

pub async fn create(caller: &Caller<'_>, name: &str, topic: &str, private: bool) -> Reply {
    let name = ChannelName::parse(name)
        .map_err(|e| refuse(ErrorCode::InvalidChannelName, e.to_string()))?;
    let topic = Topic::parse(topic).map_err(|e| refuse(ErrorCode::InvalidTopic, e.to_string()))?;
    let kind = if private {
        ChannelKind::Private
    } else {
        ChannelKind::Public
    };
    moderation::not_muted(caller).await?;
    if caller.store().settings().await?.admins_create_channels
        && !moderation::role_of(caller).await?.administers()
    {
        return Err(refuse(
            ErrorCode::NotAllowed,
            "Only admins create channels on this server.",
        ));
    }
    let channel = caller
        .store()
        .create_channel(&caller.user.id, &name, &topic, kind)
        .await?;
    tracing::info!(user = %caller.user.name, channel = %name.as_str(), ?kind, "channel created");
    announce_joined(caller, caller.user, &channel).await?;
    done()
}

pub async fn browse(caller: &Caller<'_>, query: &str) -> Reply {
    let query: String = query.trim().chars().take(100).collect();
    let channels = caller
        .store()
        .browse_channels(&caller.user.id, &query)
        .await?;
    answer(ServerMsg::ChannelDirectory { query, channels })
}

/// Refuses when `user` is already in another channel called `name` (names
/// are how people and links tell channels apart).
async fn check_name_free(
    caller: &Caller<'_>,
    user: &UserId,
    channel: &ChannelId,
    wording: &str,
) -> Result<(), Refusal> {
    let store = caller.store();
    if store.is_member(user, channel).await? {
        return Ok(());
    }
    let Some(name) = store.channel_name(channel).await? else {
        return Err(refusal::not_a_member());
    };
    if store.in_channel_named(user, &name).await? {
        return Err(refuse(ErrorCode::ChannelNameTaken, wording));
    }
    Ok(())
}

pub async fn join(caller: &Caller<'_>, channel: &ChannelId) -> Reply {
    let store = caller.store();
    match store.channel_kind(channel).await? {
        Some((ChannelKind::Public, _)) => {}
        // Private and direct conversations are joined by invitation only, and
        // are indistinguishable from ones that do not exist.
        _ => return Err(refusal::not_a_member()),
    }
    if store
        .channel_rules(channel)
        .await?
        .is_some_and(|r| r.archived)
    {
        return Err(refusal::archived());
    }
    check_name_free(
        caller,
        &caller.user.id,
        channel,
        "You are already in another channel with that name; leave it first.",
    )
    .await?;
    if store.add_member(channel, &caller.user.id).await? {
        welcome_member(caller, caller.user, channel).await?;
        done()
    } else {
        let info = store.channel_for(caller.user, channel).await?;
        Ok(info
            .map(|channel| ServerMsg::ChannelJoined { channel })
            .into_iter()
            .collect())
    }
}

pub async fn leave(caller: &Caller<'_>, channel: &ChannelId) -> Reply {
    let store = caller.store();
    if membership(caller, channel).await?.0 == ChannelKind::Direct
        && store.members(channel).await?.len() <= 2
    {
        // A conversation with one person is hidden, not left: their next
        // message brings it back (unless they are blocked).
        store.hide_direct(&caller.user.id, channel).await?;
        caller
            .fanout()
            .unsubscribe(
                caller.user.id.clone(),
                channel.clone(),
                ServerMsg::ChannelLeft {
                    channel: channel.clone(),
                    reason: "you hid the conversation".into(),
                },
            )
            .await;
        return done();
    }
    store.remove_member(channel, &caller.user.id).await?;
    part(
        caller,
        &caller.user.clone(),
        channel,
        "you left the channel",
    )
    .await;
    done()
}

/// Puts a new member in the room (their tabs get `channel_joined`) and
/// tells the others in the channel.
async fn welcome_member(
    caller: &Caller<'_>,
    user: &UserInfo,
    channel: &ChannelId,
) -> Result<(), Refusal> {
    announce_joined(caller, user, channel).await?;
    caller
        .fanout()
        .member_joined(channel.clone(), user.clone())
        .await;
    Ok(())
}

/// Takes `user` out of the room at once and tells the remaining members.
async fn part(caller: &Caller<'_>, user: &UserInfo, channel: &ChannelId, reason: &str) {
    let fanout = caller.fanout();
    fanout
        .unsubscribe(
            user.id.clone(),
            channel.clone(),
            ServerMsg::ChannelLeft {
                channel: channel.clone(),
                reason: reason.to_owned(),
            },
        )
        .await;
    fanout
        .to_room(
            channel.clone(),
            ServerMsg::MemberLeft {
                channel: channel.clone(),
                user: user.clone(),
            },
            None,
        )
        .await;
}

pub async fn invite(caller: &Caller<'_>, channel: &ChannelId, user: &UserId) -> Reply {
    if membership(caller, channel).await?.0 == ChannelKind::Direct {
        return Err(refuse(
            ErrorCode::NotAllowed,
            "Start a new direct conversation to add people.",
        ));
    }
    moderation::may_change(caller, channel).await?;
    let store = caller.store();
    let invited = store.user(user).await?.ok_or_else(refusal::unknown_user)?;
    if store
        .blocked_by_any(&caller.user.id, std::slice::from_ref(&invited.id))
        .await?
    {
        return Err(refusal::blocked());
    }
    check_name_free(
        caller,
        &invited.id,
        channel,
        "They are already in another channel with that name.",
    )
    .await?;
    if store.add_member(channel, &invited.id).await? {
        tracing::info!(by = %caller.user.name, user = %invited.name, "member invited");
        welcome_member(caller, &invited, channel).await?;
    }
    done()
}

pub async fn remove_member(caller: &Caller<'_>, channel: &ChannelId, user: &UserId) -> Reply {
    let (kind, creator) = membership(caller, channel).await?;
    let store = caller.store();
    if user == &caller.user.id {
        return Err(refuse(ErrorCode::NotAllowed, "Leave the channel instead."));
    }
    // The creator removes anyone from their channel; moderators and above
    // remove from public channels anyone whose role is below theirs.
    let by_creator = kind != ChannelKind::Direct && creator.as_ref() == Some(&caller.user.id);
    let by_moderator = !by_creator
        && kind == ChannelKind::Public
        && match store.standing(user).await? {
            Some(target) => moderation::role_of(caller).await?.may_moderate(target.role),
            None => false,
        };
    if !by_creator && !by_moderator {
        return Err(refuse(
            ErrorCode::NotAllowed,
            "Only the channel's creator (or, in a public channel, a moderator) can remove members.",
        ));
    }
    let removed = store.user(user).await?.ok_or_else(refusal::unknown_user)?;
    if store.remove_member(channel, &removed.id).await? {
        tracing::info!(by = %caller.user.name, user = %removed.name, "member removed");
        if by_moderator {
            let name = store.channel_name(channel).await?.unwrap_or_default();
            store
                .record_audit(&AuditRecord {
                    actor: &caller.user.id,
                    action: AuditAction::RemoveMember,
                    target: Some(user),
                    channel: Some(channel),
                    seq: None,
                    detail: &name,
                })
                .await?;
        }
        let reason = format!("removed by {}", caller.user.name);
        part(caller, &removed, channel, &reason).await;
    }
    done()
}

pub async fn set_topic(caller: &Caller<'_>, channel: &ChannelId, topic: &str) -> Reply {
    if membership(caller, channel).await?.0 == ChannelKind::Direct {
        return Err(refuse(
            ErrorCode::NotAllowed,
            "Direct conversations have no topic.",
        ));
    }
    moderation::may_change(caller, channel).await?;
    let topic = Topic::parse(topic).map_err(|e| refuse(ErrorCode::InvalidTopic, e.to_string()))?;
    caller.store().set_topic(channel, &topic).await?;
    caller
        .fanout()
        .to_room(
            channel.clone(),
            ServerMsg::TopicChanged {
                channel: channel.clone(),
                topic: topic.as_str().to_owned(),
                by: caller.user.clone(),
            },
            None,
        )
        .await;
    done()
}

pub async fn members(caller: &Caller<'_>, channel: &ChannelId) -> Reply {
    membership(caller, channel).await?;
    let members = caller.store().members(channel).await?;
    answer(ServerMsg::Members {
        channel: channel.clone(),
        members,
    })
}

/// How a conversation notifies the caller; all their tabs hear it.
pub async fn set_notify(caller: &Caller<'_>, channel: &ChannelId, level: NotifyLevel) -> Reply {
    if !caller
        .store()
        .set_notify(&caller.user.id, channel, level)
        .await?
    {
        return Err(refusal::not_a_member());
    }
    caller
        .fanout()
        .to_user(
            caller.user.id.clone(),
            ServerMsg::NotifyChanged {
                channel: channel.clone(),
                level,
            },
            None,
        )
        .await;
    done()
}

pub async fn mark_read(caller: &Caller<'_>, channel: &ChannelId, seq: Seq) -> Reply {
    membership(caller, channel).await?;
    caller
        .store()
        .mark_read(&caller.user.id, channel, seq)
        .await?;
    caller
        .fanout()
        .to_user(
            caller.user.id.clone(),
            ServerMsg::ReadUpTo {
                channel: channel.clone(),
                seq,
            },
            Some(caller.conn),
        )
        .await;
    done()
}

//! Channel, direct-conversation and presence requests from a connection. Each
//! function checks, against the database, that the caller may do it (the
//! server decides, every time), changes the store, then tells the hub who must
//! hear about it. A refusal never carries data about the channel.

use shared::limits::{MAX_DIRECT_OTHERS, MAX_REACTION_EMOJI, MAX_REACTIONS_PER_USER};
use shared::protocol::{ChannelKind, UserPresence};
use shared::validate::{ChannelName, MessageText, MessageTextError, Topic};
use shared::{ChannelId, ClientMsgId, ErrorCode, Seq, ServerMsg, UserId, UserInfo};

use crate::connection::ConnectionContext;
use crate::hub::ConnId;
use crate::store::{ChangeOutcome, MessageChange, StoreError};

/// Who is asking, and through which connection.
pub struct Caller<'a> {
    pub context: &'a ConnectionContext,
    pub user: &'a UserInfo,
    pub conn: ConnId,
}

/// A refusal, sent back as an `error` frame.
#[derive(Debug)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    /// The message it refuses, when it answers a `send`.
    pub client_id: Option<ClientMsgId>,
}

impl Refusal {
    /// The same refusal, naming the refused message.
    pub fn for_message(mut self, client_id: ClientMsgId) -> Self {
        self.client_id = Some(client_id);
        self
    }
}

/// What to answer the caller directly (other frames travel through the hub).
pub type Reply = Result<Option<ServerMsg>, Refusal>;

pub fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
        client_id: None,
    }
}

/// The one wording for "not a member", identical for channels that do not exist.
pub fn not_a_member() -> Refusal {
    refuse(
        ErrorCode::NotAMember,
        "you are not a member of that channel (or it does not exist)",
    )
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::ChannelNameTaken => refuse(
                ErrorCode::ChannelNameTaken,
                "That channel name is taken. Please choose another.",
            ),
            other => {
                tracing::error!(error = %other, "database error in a channel request");
                refuse(
                    ErrorCode::StoreUnavailable,
                    "The database is unavailable right now; try again.",
                )
            }
        }
    }
}

/// The channel's kind and creator if the caller is a member; a refusal otherwise.
async fn membership(
    caller: &Caller<'_>,
    channel: &ChannelId,
) -> Result<(ChannelKind, Option<UserId>), Refusal> {
    caller
        .context
        .store
        .membership(&caller.user.id, channel)
        .await?
        .ok_or_else(not_a_member)
}

/// Puts `user` in the room and sends their tabs `channel_joined` as they see it.
async fn announce_joined(
    caller: &Caller<'_>,
    user: &UserInfo,
    channel: &ChannelId,
) -> Result<(), Refusal> {
    let info = caller.context.store.channel_for(user, channel).await?;
    let announce = info.map(|channel| ServerMsg::ChannelJoined { channel });
    caller
        .context
        .hub
        .subscribe(user.id.clone(), channel.clone(), announce)
        .await;
    Ok(())
}

pub async fn create_channel(caller: &Caller<'_>, name: &str, topic: &str, private: bool) -> Reply {
    let name = ChannelName::parse(name)
        .map_err(|e| refuse(ErrorCode::InvalidChannelName, e.to_string()))?;
    let topic = Topic::parse(topic).map_err(|e| refuse(ErrorCode::InvalidTopic, e.to_string()))?;
    let kind = if private {
        ChannelKind::Private
    } else {
        ChannelKind::Public
    };
    let channel = caller
        .context
        .store
        .create_channel(&caller.user.id, &name, &topic, kind)
        .await?;
    tracing::info!(user = %caller.user.name, channel = %name.as_str(), ?kind, "channel created");
    announce_joined(caller, caller.user, &channel).await?;
    Ok(None)
}

pub async fn browse_channels(caller: &Caller<'_>, query: &str) -> Reply {
    let query: String = query.trim().chars().take(100).collect();
    let channels = caller
        .context
        .store
        .browse_channels(&caller.user.id, &query)
        .await?;
    Ok(Some(ServerMsg::ChannelDirectory { query, channels }))
}

/// Refuses when `user` is already in another channel called `name` (names
/// are how people and links tell channels apart).
async fn check_name_free(
    caller: &Caller<'_>,
    user: &UserId,
    channel: &ChannelId,
    wording: &str,
) -> Result<(), Refusal> {
    let store = &caller.context.store;
    if store.is_member(user, channel).await? {
        return Ok(());
    }
    let Some(name) = store.channel_name(channel).await? else {
        return Err(not_a_member());
    };
    if store.in_channel_named(user, &name).await? {
        return Err(refuse(ErrorCode::ChannelNameTaken, wording));
    }
    Ok(())
}

pub async fn join_channel(caller: &Caller<'_>, channel: &ChannelId) -> Reply {
    let store = &caller.context.store;
    match store.channel_kind(channel).await? {
        Some((ChannelKind::Public, _)) => {}
        // Private and direct conversations are joined by invitation only, and
        // are indistinguishable from ones that do not exist.
        _ => return Err(not_a_member()),
    }
    check_name_free(
        caller,
        &caller.user.id,
        channel,
        "You are already in another channel with that name; leave it first.",
    )
    .await?;
    if store.add_member(channel, &caller.user.id).await? {
        announce_joined(caller, caller.user, channel).await?;
        caller
            .context
            .hub
            .to_room(
                channel.clone(),
                ServerMsg::MemberJoined {
                    channel: channel.clone(),
                    user: caller.user.clone(),
                },
                Some(caller.user.id.clone()),
            )
            .await;
        Ok(None)
    } else {
        let info = store.channel_for(caller.user, channel).await?;
        Ok(info.map(|channel| ServerMsg::ChannelJoined { channel }))
    }
}

pub async fn leave_channel(caller: &Caller<'_>, channel: &ChannelId) -> Reply {
    let store = &caller.context.store;
    if membership(caller, channel).await?.0 == ChannelKind::Direct
        && store.members(channel).await?.len() <= 2
    {
        // A conversation with one person is hidden, not left: their next
        // message brings it back (unless they are blocked).
        store.hide_direct(&caller.user.id, channel).await?;
        caller
            .context
            .hub
            .unsubscribe(
                caller.user.id.clone(),
                channel.clone(),
                ServerMsg::ChannelLeft {
                    channel: channel.clone(),
                    reason: "you hid the conversation".into(),
                },
            )
            .await;
        return Ok(None);
    }
    store.remove_member(channel, &caller.user.id).await?;
    part(
        caller,
        &caller.user.clone(),
        channel,
        "you left the channel",
    )
    .await;
    Ok(None)
}

/// Takes `user` out of the room at once and tells the remaining members.
async fn part(caller: &Caller<'_>, user: &UserInfo, channel: &ChannelId, reason: &str) {
    let hub = &caller.context.hub;
    hub.unsubscribe(
        user.id.clone(),
        channel.clone(),
        ServerMsg::ChannelLeft {
            channel: channel.clone(),
            reason: reason.to_owned(),
        },
    )
    .await;
    hub.to_room(
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
    let store = &caller.context.store;
    let invited = store
        .user(user)
        .await?
        .ok_or_else(|| refuse(ErrorCode::UnknownUser, "There is no such user."))?;
    if store
        .blocked_by_any(&caller.user.id, std::slice::from_ref(&invited.id))
        .await?
    {
        return Err(blocked());
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
        announce_joined(caller, &invited, channel).await?;
        caller
            .context
            .hub
            .to_room(
                channel.clone(),
                ServerMsg::MemberJoined {
                    channel: channel.clone(),
                    user: invited.clone(),
                },
                Some(invited.id.clone()),
            )
            .await;
    }
    Ok(None)
}

pub async fn remove_member(caller: &Caller<'_>, channel: &ChannelId, user: &UserId) -> Reply {
    let (kind, creator) = membership(caller, channel).await?;
    let store = &caller.context.store;
    if kind == ChannelKind::Direct || creator.as_ref() != Some(&caller.user.id) {
        return Err(refuse(
            ErrorCode::NotAllowed,
            "Only the channel's creator can remove members.",
        ));
    }
    if user == &caller.user.id {
        return Err(refuse(ErrorCode::NotAllowed, "Leave the channel instead."));
    }
    let removed = store
        .user(user)
        .await?
        .ok_or_else(|| refuse(ErrorCode::UnknownUser, "There is no such user."))?;
    if store.remove_member(channel, &removed.id).await? {
        tracing::info!(by = %caller.user.name, user = %removed.name, "member removed");
        let reason = format!("removed by {}", caller.user.name);
        part(caller, &removed, channel, &reason).await;
    }
    Ok(None)
}

pub async fn set_topic(caller: &Caller<'_>, channel: &ChannelId, topic: &str) -> Reply {
    if membership(caller, channel).await?.0 == ChannelKind::Direct {
        return Err(refuse(
            ErrorCode::NotAllowed,
            "Direct conversations have no topic.",
        ));
    }
    let topic = Topic::parse(topic).map_err(|e| refuse(ErrorCode::InvalidTopic, e.to_string()))?;
    caller.context.store.set_topic(channel, &topic).await?;
    caller
        .context
        .hub
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
    Ok(None)
}

pub async fn open_direct(caller: &Caller<'_>, users: &[UserId]) -> Reply {
    let mut others: Vec<&UserId> = users.iter().filter(|u| **u != caller.user.id).collect();
    others.sort();
    others.dedup();
    if others.is_empty() || others.len() > MAX_DIRECT_OTHERS {
        return Err(refuse(
            ErrorCode::NotAllowed,
            format!("A direct conversation has 1 to {MAX_DIRECT_OTHERS} other people."),
        ));
    }
    let store = &caller.context.store;
    let mut participants = vec![caller.user.clone()];
    for id in others {
        participants.push(
            store
                .user(id)
                .await?
                .ok_or_else(|| refuse(ErrorCode::UnknownUser, "There is no such user."))?,
        );
    }
    let ids: Vec<UserId> = participants.iter().map(|u| u.id.clone()).collect();
    if store.blocked_by_any(&caller.user.id, &ids[1..]).await? {
        return Err(blocked());
    }
    let (channel, created) = store.open_direct(&ids).await?;
    if created {
        for participant in &participants {
            announce_joined(caller, participant, &channel).await?;
        }
    } else {
        // It may have been hidden (or left, for a group): show it again.
        announce_joined(caller, caller.user, &channel).await?;
    }
    Ok(None)
}

/// Blocks or unblocks a user, and tells all the caller's tabs who is blocked now.
pub async fn block(caller: &Caller<'_>, user: &UserId, blocked: bool) -> Reply {
    if user == &caller.user.id {
        return Err(refuse(ErrorCode::NotAllowed, "You cannot block yourself."));
    }
    let store = &caller.context.store;
    if store.user(user).await?.is_none() {
        return Err(refuse(ErrorCode::UnknownUser, "There is no such user."));
    }
    store.set_blocked(&caller.user.id, user, blocked).await?;
    let users = store.blocked_by(&caller.user.id).await?;
    caller
        .context
        .hub
        .to_user(
            caller.user.id.clone(),
            ServerMsg::Blocked {
                users: users.clone(),
            },
            Some(caller.conn),
        )
        .await;
    Ok(Some(ServerMsg::Blocked { users }))
}

fn blocked() -> Refusal {
    refuse(
        ErrorCode::Blocked,
        "You cannot start a conversation with or invite someone who has blocked you.",
    )
}

pub async fn members(caller: &Caller<'_>, channel: &ChannelId) -> Reply {
    membership(caller, channel).await?;
    let members = caller.context.store.members(channel).await?;
    Ok(Some(ServerMsg::Members {
        channel: channel.clone(),
        members,
    }))
}

pub async fn mark_read(caller: &Caller<'_>, channel: &ChannelId, seq: Seq) -> Reply {
    membership(caller, channel).await?;
    caller
        .context
        .store
        .mark_read(&caller.user.id, channel, seq)
        .await?;
    caller
        .context
        .hub
        .to_user(
            caller.user.id.clone(),
            ServerMsg::ReadUpTo {
                channel: channel.clone(),
                seq,
            },
            Some(caller.conn),
        )
        .await;
    Ok(None)
}

pub async fn list_users(caller: &Caller<'_>) -> Reply {
    let presence = caller.context.hub.presence().await;
    let users = caller
        .context
        .store
        .users()
        .await?
        .into_iter()
        .map(|user| UserPresence {
            status: presence.get(&user.id).copied().unwrap_or_default(),
            user,
        })
        .collect();
    Ok(Some(ServerMsg::Users { users }))
}

/// Tells the others in a channel that the caller is typing.
pub async fn typing(caller: &Caller<'_>, channel: &ChannelId) -> Reply {
    membership(caller, channel).await?;
    caller
        .context
        .hub
        .to_room(
            channel.clone(),
            ServerMsg::Typing {
                channel: channel.clone(),
                user: caller.user.clone(),
            },
            Some(caller.user.id.clone()),
        )
        .await;
    Ok(None)
}

/// Tells everyone in the channel a message's new state.
async fn announce_change(caller: &Caller<'_>, outcome: ChangeOutcome) -> Reply {
    announce_change_except(caller, outcome, None).await
}

/// [`announce_change`] to everyone but `except` (who gets their own copy).
async fn announce_change_except(
    caller: &Caller<'_>,
    outcome: ChangeOutcome,
    except: Option<UserId>,
) -> Reply {
    match outcome {
        ChangeOutcome::Changed(message) => {
            let channel = message.channel.clone();
            caller
                .context
                .hub
                .to_room(channel, ServerMsg::MessageUpdated { message }, except)
                .await;
            Ok(None)
        }
        ChangeOutcome::Unchanged => Ok(None),
        ChangeOutcome::NoSuchMessage => Err(refuse(
            ErrorCode::UnknownMessage,
            "That message does not exist (or was deleted).",
        )),
        ChangeOutcome::NotAllowed => Err(refuse(
            ErrorCode::NotAllowed,
            "Only the author can change a message.",
        )),
        ChangeOutcome::TooManyReactions => Err(refuse(
            ErrorCode::TooManyReactions,
            format!(
                "A message can have at most {MAX_REACTION_EMOJI} different emoji, \
                 and {MAX_REACTIONS_PER_USER} reactions from each person."
            ),
        )),
    }
}

pub async fn edit(caller: &Caller<'_>, channel: &ChannelId, seq: Seq, text: &str) -> Reply {
    membership(caller, channel).await?;
    let text = MessageText::parse(text).map_err(|error| {
        let code = match error {
            MessageTextError::Empty => ErrorCode::EmptyText,
            MessageTextError::TooLong { .. } => ErrorCode::TextTooLong,
        };
        refuse(code, error.to_string())
    })?;
    let outcome = caller
        .context
        .store
        .change_message(
            channel,
            seq,
            MessageChange::Edit {
                by: &caller.user.id,
                text: text.as_str(),
            },
        )
        .await?;
    // The edit dropped the old preview; the new text may link elsewhere.
    let edited = match &outcome {
        ChangeOutcome::Changed(message) => Some(message.clone()),
        _ => None,
    };
    let reply = announce_change(caller, outcome).await;
    if let (Some(message), Some(previews)) = (edited, &caller.context.previews) {
        previews.consider(&message);
    }
    reply
}

pub async fn delete(caller: &Caller<'_>, channel: &ChannelId, seq: Seq) -> Reply {
    membership(caller, channel).await?;
    let outcome = caller
        .context
        .store
        .change_message(
            channel,
            seq,
            MessageChange::Delete {
                by: &caller.user.id,
                text: "",
            },
        )
        .await?;
    announce_change(caller, outcome).await
}

pub async fn react(
    caller: &Caller<'_>,
    channel: &ChannelId,
    seq: Seq,
    emoji: &str,
    add: bool,
) -> Reply {
    membership(caller, channel).await?;
    // Only real emoji (any skin tone): nothing else can be stored as a reaction.
    if emoji.len() > 64 || emojis::get(emoji).is_none() {
        return Err(refuse(ErrorCode::InvalidEmoji, "That is not an emoji."));
    }
    let store = &caller.context.store;
    let outcome = store
        .change_message(
            channel,
            seq,
            MessageChange::React {
                by: &caller.user.id,
                emoji,
                add,
            },
        )
        .await?;
    let changed = matches!(outcome, ChangeOutcome::Changed(_));
    let reply = announce_change_except(caller, outcome, Some(caller.user.id.clone())).await;
    // Everyone else gets the state without anyone's own marks; the
    // reactor's tabs get it with theirs.
    if changed && let Some(mine) = store.message(channel, seq, Some(&caller.user.id)).await? {
        caller
            .context
            .hub
            .to_user(
                caller.user.id.clone(),
                ServerMsg::MessageUpdated { message: mine },
                None,
            )
            .await;
    }
    reply
}

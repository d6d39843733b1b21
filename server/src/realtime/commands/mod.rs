//! The one dispatch of client requests: [`dispatch`] waits for the caller's
//! budget of the request's kind, then runs the one function that handles it
//! (one `match` over `ClientMsg`). Each function checks, against the
//! database at that moment, that the caller may do it, changes the store,
//! then publishes who must hear about it through [`FanOut`]; what it returns
//! goes to the caller's own connection.
//!
//! - [`messages`]: posting, catch-up, history pages, jumps into history,
//!   edits, deletes, reactions.
//! - [`channels`]: creating, browsing, joining, leaving, inviting, removing,
//!   topics, member lists, read marks.
//! - [`people`]: direct conversations, blocks, the people list, presence, typing.
//! - [`search`]: finding messages by their words.
//! - [`moderation`]: roles, mutes, deactivation, the audit log.
//! - [`community`]: the server's settings and invite links.
//! - [`reports`]: reporting messages to the moderators, and closing reports.
//! - [`refusal`]: every refusal's wording.

mod channels;
mod community;
mod messages;
mod moderation;
mod people;
pub mod refusal;
mod reports;
mod search;
mod threads;

use std::collections::HashMap;
use std::time::Instant;

use shared::{ChannelId, ClientMsg, ServerMsg, UserInfo};

use super::context::Realtime;
use super::fanout::{ConnId, FanOut};
use crate::budget::RequestKind;
use crate::store::{Channels, NewMessage, ReplyTo, Store, Stored};
pub use messages::MAX_REPLY_BYTES;
pub use refusal::Refusal;

/// What to answer the caller's own connection, in order (other frames travel
/// through the fan-out).
pub type Reply = Result<Vec<ServerMsg>, Refusal>;

/// Nothing to answer.
fn done() -> Reply {
    Ok(Vec::new())
}

/// One frame to answer.
fn answer(message: ServerMsg) -> Reply {
    Ok(vec![message])
}

/// Who is asking, and through which connection.
pub struct Caller<'a> {
    pub realtime: &'a Realtime,
    pub user: &'a UserInfo,
    pub conn: ConnId,
}

impl Caller<'_> {
    fn store(&self) -> &Store {
        &self.realtime.store
    }

    fn fanout(&self) -> &dyn FanOut {
        &*self.realtime.fanout
    }
}

/// What one connection remembers between its requests.
#[derive(Default)]
pub struct ConnectionState {
    /// When this connection last announced typing, per channel (to throttle).
    last_typing: HashMap<ChannelId, Instant>,
}

/// Waits for the caller's budget of this kind of request, then handles it.
/// Typing notices over budget are dropped (they are only hints).
pub async fn dispatch(
    caller: &Caller<'_>,
    state: &mut ConnectionState,
    request: ClientMsg,
) -> Reply {
    let kind = request_kind(&request);
    let user = caller.user.id.0.as_str();
    let budgets = &caller.realtime.budgets;
    if kind == RequestKind::Typing {
        if !budgets.try_spend(kind, user) {
            return done();
        }
    } else {
        budgets.wait(kind, user).await;
    }
    match request {
        ClientMsg::Send {
            channel,
            client_id,
            text,
            attachments,
        } => {
            // A message ends "is typing" for the others: the next keystroke may announce again.
            state.last_typing.remove(&channel);
            messages::post(caller, channel, client_id, &text, attachments, None).await
        }
        ClientMsg::Reply {
            channel,
            root,
            client_id,
            text,
            attachments,
            also_to_channel,
        } => {
            state.last_typing.remove(&channel);
            let thread = ReplyTo {
                root,
                also_in_channel: also_to_channel,
            };
            messages::post(caller, channel, client_id, &text, attachments, Some(thread)).await
        }
        ClientMsg::Thread {
            channel,
            root,
            before_seq,
        } => threads::thread(caller, channel, root, before_seq).await,
        ClientMsg::Threads => threads::followed(caller).await,
        ClientMsg::ReadThread { channel, root, seq } => {
            threads::set_following(caller, channel, root, None, Some(seq)).await
        }
        ClientMsg::FollowThread {
            channel,
            root,
            follow,
        } => threads::set_following(caller, channel, root, Some(follow), None).await,
        ClientMsg::Sync {
            channel,
            after_seq,
            after_change,
        } => messages::sync(caller, channel, after_seq, after_change).await,
        ClientMsg::History {
            channel,
            before_seq,
            limit,
        } => messages::history(caller, channel, before_seq, limit).await,
        ClientMsg::Around { channel, seq } => messages::around(caller, channel, seq).await,
        ClientMsg::Newer { channel, after_seq } => {
            messages::newer(caller, channel, after_seq).await
        }
        ClientMsg::Search { query, before } => search::search(caller, query, before).await,
        ClientMsg::Edit { channel, seq, text } => {
            messages::edit(caller, &channel, seq, &text).await
        }
        ClientMsg::Delete { channel, seq } => messages::delete(caller, &channel, seq).await,
        ClientMsg::React {
            channel,
            seq,
            emoji,
            add,
        } => messages::react(caller, &channel, seq, &emoji, add).await,
        ClientMsg::Pin {
            channel,
            seq,
            pinned,
        } => messages::pin(caller, &channel, seq, pinned).await,
        ClientMsg::Pins { channel } => messages::pins(caller, channel).await,
        ClientMsg::CreateChannel {
            name,
            topic,
            private,
        } => channels::create(caller, &name, &topic, private).await,
        ClientMsg::BrowseChannels { query } => channels::browse(caller, &query).await,
        ClientMsg::JoinChannel { channel } => channels::join(caller, &channel).await,
        ClientMsg::LeaveChannel { channel } => channels::leave(caller, &channel).await,
        ClientMsg::Invite { channel, user } => channels::invite(caller, &channel, &user).await,
        ClientMsg::RemoveMember { channel, user } => {
            channels::remove_member(caller, &channel, &user).await
        }
        ClientMsg::SetTopic { channel, topic } => {
            channels::set_topic(caller, &channel, &topic).await
        }
        ClientMsg::Members { channel } => channels::members(caller, &channel).await,
        ClientMsg::MarkRead { channel, seq } => channels::mark_read(caller, &channel, seq).await,
        ClientMsg::SetNotify { channel, level } => {
            channels::set_notify(caller, &channel, level).await
        }
        ClientMsg::Mentions => messages::mentions(caller).await,
        ClientMsg::OpenDirect { users } => people::open_direct(caller, &users).await,
        ClientMsg::Block { user, blocked } => people::block(caller, &user, blocked).await,
        ClientMsg::ListUsers { query, after } => people::list_users(caller, query, after).await,
        ClientMsg::OnlineMembers { query, after } => {
            people::online_members(caller, query, after).await
        }
        ClientMsg::Typing { channel } => {
            people::typing(caller, &mut state.last_typing, channel).await
        }
        ClientMsg::SetAway { away } => people::set_away(caller, away).await,
        ClientMsg::AdminUsers { query, after } => {
            moderation::admin_users(caller, query, after).await
        }
        ClientMsg::SetRole { user, role } => moderation::set_role(caller, &user, role).await,
        ClientMsg::Mute { user, minutes } => moderation::mute(caller, &user, minutes).await,
        ClientMsg::SetActive { user, active } => {
            moderation::set_active(caller, &user, active).await
        }
        ClientMsg::AuditLog { before } => moderation::audit_log(caller, before).await,
        ClientMsg::ServerSettings => community::settings(caller).await,
        ClientMsg::SetServerSettings { settings } => {
            community::set_settings(caller, settings).await
        }
        ClientMsg::CreateInvite { hours, uses } => {
            community::create_invite(caller, hours, uses).await
        }
        ClientMsg::Invites => community::invites(caller).await,
        ClientMsg::Report {
            channel,
            seq,
            reason,
        } => reports::report(caller, channel, seq, &reason).await,
        ClientMsg::Reports => reports::reports(caller).await,
        ClientMsg::ResolveReport { id, remove } => reports::resolve(caller, &id, remove).await,
        ClientMsg::SetSlowMode { channel, seconds } => {
            moderation::set_slow_mode(caller, &channel, seconds).await
        }
        ClientMsg::ArchiveChannel { channel, archived } => {
            moderation::archive_channel(caller, &channel, archived).await
        }
        ClientMsg::RenameChannel { channel, name } => {
            moderation::rename_channel(caller, &channel, &name).await
        }
    }
}

/// Which budget a request is counted in.
fn request_kind(request: &ClientMsg) -> RequestKind {
    match request {
        ClientMsg::Send { .. } | ClientMsg::Reply { .. } => RequestKind::Post,
        ClientMsg::Edit { .. }
        | ClientMsg::Delete { .. }
        | ClientMsg::React { .. }
        | ClientMsg::Pin { .. } => RequestKind::Change,
        ClientMsg::MarkRead { .. } | ClientMsg::ReadThread { .. } => RequestKind::ReadMark,
        ClientMsg::SetAway { .. } => RequestKind::Presence,
        ClientMsg::Typing { .. } => RequestKind::Typing,
        ClientMsg::CreateChannel { .. } => RequestKind::CreateChannel,
        ClientMsg::JoinChannel { .. }
        | ClientMsg::LeaveChannel { .. }
        | ClientMsg::Invite { .. }
        | ClientMsg::RemoveMember { .. }
        | ClientMsg::SetTopic { .. }
        | ClientMsg::SetNotify { .. }
        | ClientMsg::OpenDirect { .. }
        | ClientMsg::FollowThread { .. }
        | ClientMsg::SetRole { .. }
        | ClientMsg::Mute { .. }
        | ClientMsg::SetActive { .. }
        | ClientMsg::SetServerSettings { .. }
        | ClientMsg::CreateInvite { .. }
        | ClientMsg::Report { .. }
        | ClientMsg::ResolveReport { .. }
        | ClientMsg::SetSlowMode { .. }
        | ClientMsg::ArchiveChannel { .. }
        | ClientMsg::RenameChannel { .. }
        | ClientMsg::Block { .. } => RequestKind::Membership,
        ClientMsg::Sync { .. }
        | ClientMsg::History { .. }
        | ClientMsg::Around { .. }
        | ClientMsg::Newer { .. }
        | ClientMsg::Pins { .. }
        | ClientMsg::Thread { .. }
        | ClientMsg::Threads
        | ClientMsg::AuditLog { .. }
        | ClientMsg::ServerSettings
        | ClientMsg::Invites
        | ClientMsg::Reports
        | ClientMsg::Mentions => RequestKind::Read,
        ClientMsg::Search { .. } => RequestKind::Search,
        ClientMsg::Members { .. }
        | ClientMsg::BrowseChannels { .. }
        | ClientMsg::ListUsers { .. }
        | ClientMsg::AdminUsers { .. }
        | ClientMsg::OnlineMembers { .. } => RequestKind::Directory,
    }
}

/// What the sender of a posted message hears, and what the others in the
/// channel hear: an ack and the message when it was stored now, an ack for
/// a resend, a refusal otherwise.
pub fn delivery_frames(result: &Result<Stored, NewMessage>) -> (ServerMsg, Option<ServerMsg>) {
    let refused = |refusal: Refusal, message: &NewMessage| {
        (
            refusal.for_message(message.client_id.clone()).into_frame(),
            None,
        )
    };
    match result {
        Ok(Stored::New(message)) => (
            ack(message),
            Some(ServerMsg::Message {
                message: message.clone(),
            }),
        ),
        Ok(Stored::Duplicate(message)) => (ack(message), None),
        Ok(Stored::NotAMember(message)) => refused(refusal::not_a_member(), message),
        Ok(Stored::InvalidAttachments(message)) => refused(refusal::invalid_attachments(), message),
        Ok(Stored::ClientIdReused(message)) => refused(refusal::client_id_reused(), message),
        Ok(Stored::Blocked(message)) => refused(refusal::blocked_post(), message),
        Ok(Stored::NoSuchThread(message)) => refused(refusal::no_such_thread(), message),
        Ok(Stored::Muted(message)) => refused(refusal::muted(), message),
        Ok(Stored::SlowMode(message)) => refused(refusal::slow_mode(), message),
        Ok(Stored::Archived(message)) => refused(refusal::archived(), message),
        Err(message) => refused(refusal::not_stored(), message),
    }
}

fn ack(message: &shared::ChatMessage) -> ServerMsg {
    ServerMsg::Ack {
        channel: message.channel.clone(),
        client_id: message.client_id.clone(),
        seq: message.seq,
        sent_at: message.sent_at,
    }
}

/// The channel's kind and creator if the caller is a member; a refusal otherwise.
async fn membership(
    caller: &Caller<'_>,
    channel: &ChannelId,
) -> Result<(shared::protocol::ChannelKind, Option<shared::UserId>), Refusal> {
    caller
        .store()
        .membership(&caller.user.id, channel)
        .await?
        .ok_or_else(refusal::not_a_member)
}

/// Puts `user` in the room and sends their tabs `channel_joined` as they see it.
async fn announce_joined(
    caller: &Caller<'_>,
    user: &UserInfo,
    channel: &ChannelId,
) -> Result<(), Refusal> {
    let info = caller.store().channel_for(user, channel).await?;
    let announce = info.map(|channel| ServerMsg::ChannelJoined { channel });
    caller
        .fanout()
        .subscribe(user.id.clone(), channel.clone(), announce)
        .await;
    Ok(())
}

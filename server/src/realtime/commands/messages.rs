//! Posting, catch-up, history pages, edits, deletes and reactions. Posts go
//! to the message writer (membership is checked inside its transaction);
//! replies are at most [`MAX_REPLY_BYTES`], so longer catch-ups and pages
//! come in parts.

use shared::limits::{
    HISTORY_PAGE, MAX_ATTACHMENTS, MAX_HISTORY_PAGE, MAX_SYNC_BATCH, MENTIONS_SHOWN,
};
use shared::mention::{Everyone, everyone_in};
use shared::protocol::PresenceStatus;
use shared::validate::{MessageText, MessageTextError};
use shared::{ChangeNo, ChannelId, ChatMessage, ClientMsgId, FileId, Seq, ServerMsg, UserId};

use super::refusal::{self, Refusal};
use super::{Caller, Reply, answer, done, membership, moderation};
use crate::realtime::writer::WriteRequest;
use crate::store::{
    ChangeOutcome, Channels, CustomEmojis, EveryoneTo, Mentions, MessageChange, Messages,
    NewMessage, ReplyTo, StoreError,
};

/// Largest reply frame; longer catch-ups and pages come in parts.
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;
/// Room in a reply for messages, leaving space for the envelope.
const MESSAGES_BUDGET: usize = MAX_REPLY_BYTES - 1024;

/// Queues a message for the writer, which answers with an ack or a refusal.
pub async fn post(
    caller: &Caller<'_>,
    channel: ChannelId,
    client_id: ClientMsgId,
    text: &str,
    attachments: Vec<FileId>,
    thread: Option<ReplyTo>,
) -> Reply {
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(refusal::too_many_attachments().for_message(client_id));
    }
    let text = match MessageText::parse(text) {
        Ok(text) => text.into_string(),
        // A caption is optional.
        Err(MessageTextError::Empty) if !attachments.is_empty() => String::new(),
        Err(error) => return Err(refusal::bad_text(&error).for_message(client_id)),
    };
    let everyone = match everyone_in(&text) {
        None => None,
        Some(called) => everyone_to(caller, &channel, called)
            .await
            .map_err(|error| Refusal::from(error).for_message(client_id.clone()))?,
    };
    let request = WriteRequest {
        origin: caller.conn,
        message: NewMessage {
            channel,
            author: caller.user.clone(),
            client_id: client_id.clone(),
            text,
            attachments,
            everyone,
            thread,
        },
    };
    match caller.realtime.writer.submit(request).await {
        Ok(()) => done(),
        Err(_) => Err(refusal::shutting_down().for_message(client_id)),
    }
}

/// Whom `@channel` or `@here` in a new message notifies: nobody in a
/// conversation larger than the limit (or one the author is not in: the
/// writer refuses that post anyway); for `@here`, the members online now
/// and not away.
async fn everyone_to(
    caller: &Caller<'_>,
    channel: &ChannelId,
    called: Everyone,
) -> Result<Option<EveryoneTo>, StoreError> {
    let store = caller.store();
    let Some(info) = store.channel_for(caller.user, channel).await? else {
        return Ok(None);
    };
    if info.member_count > caller.realtime.mention_everyone_max_members {
        return Ok(None);
    }
    Ok(Some(match called {
        Everyone::Channel => EveryoneTo::Members,
        Everyone::Here => {
            let present = caller.fanout().presence().await;
            let members = store.members(channel).await?;
            EveryoneTo::Among(
                members
                    .into_iter()
                    .filter(|member| present.get(&member.id) == Some(&PresenceStatus::Online))
                    .map(|member| member.id)
                    .collect(),
            )
        }
    }))
}

/// The newest messages that mention the caller, where they are now.
pub async fn mentions(caller: &Caller<'_>) -> Reply {
    let messages = caller
        .store()
        .mentions_of(&caller.user.id, MENTIONS_SHOWN)
        .await?;
    let (messages, _) = fit_oldest(messages);
    answer(ServerMsg::Mentions { messages })
}

/// Catch-up: the messages after `after_seq` (or the latest page) and the
/// held ones changed since `after_change`.
pub async fn sync(
    caller: &Caller<'_>,
    channel: ChannelId,
    after_seq: Option<Seq>,
    after_change: Option<ChangeNo>,
) -> Reply {
    let store = caller.store();
    let reader = &caller.user.id;
    let Some(after) = after_seq else {
        let page = store
            .latest_messages(&channel, HISTORY_PAGE, reader)
            .await?
            .ok_or_else(refusal::not_a_member)?;
        let (messages, cut) = fit_newest(page.messages);
        return answer(ServerMsg::Synced {
            channel,
            messages,
            has_older: page.has_older || cut,
            complete: true,
            updated: Vec::new(),
        });
    };
    let after = after.max(0);
    // The page asks for membership too: a non-member learns nothing.
    let messages = store
        .messages_after(&channel, after, MAX_SYNC_BATCH, reader)
        .await?
        .ok_or_else(refusal::not_a_member)?;
    let updated = match after_change {
        Some(change) => {
            store
                .messages_changed(&channel, after, change, MAX_SYNC_BATCH, Some(reader))
                .await?
        }
        None => Vec::new(),
    };
    let complete = messages.len() < MAX_SYNC_BATCH as usize;
    let has_older = messages.first().map_or(after > 0, |m| m.seq > 1);
    let (messages, cut) = fit_oldest(messages);
    // Changes to held messages that do not fit travel as separate
    // updates (the client treats both the same way).
    let (updated, overflow) = split_to_fit(updated);
    let mut frames = vec![ServerMsg::Synced {
        channel,
        messages,
        has_older,
        complete: complete && !cut,
        updated,
    }];
    frames.extend(
        overflow
            .into_iter()
            .map(|message| ServerMsg::MessageUpdated { message }),
    );
    Ok(frames)
}

/// A page of older messages for scroll-back.
pub async fn history(
    caller: &Caller<'_>,
    channel: ChannelId,
    before_seq: Seq,
    limit: Option<u32>,
) -> Reply {
    let limit = limit.unwrap_or(HISTORY_PAGE).clamp(1, MAX_HISTORY_PAGE);
    let page = caller
        .store()
        .messages_before(&channel, before_seq, limit, &caller.user.id)
        .await?
        .ok_or_else(refusal::not_a_member)?;
    let (messages, cut) = fit_newest(page.messages);
    answer(ServerMsg::History {
        channel,
        messages,
        has_older: page.has_older || cut,
    })
}

/// How many messages a jump shows before the one it jumps to.
const AROUND_BEFORE: u32 = 15;

/// A jump into history: a few messages before `seq`, then `seq` and a
/// page after it. A reply shown only in its thread is reached through its
/// parent: the window is around the parent, and the answer names it.
pub async fn around(caller: &Caller<'_>, channel: ChannelId, seq: Seq) -> Reply {
    let store = caller.store();
    let reader = &caller.user.id;
    membership(caller, &channel).await?;
    let thread = match store.message(&channel, seq, None).await? {
        Some(message) if message.only_in_thread() => message.thread.map(|t| t.root),
        _ => None,
    };
    let at = thread.unwrap_or(seq);
    let earlier = store
        .messages_before(&channel, at.saturating_add(1), AROUND_BEFORE + 1, reader)
        .await?
        .ok_or_else(refusal::not_a_member)?;
    let later = store
        .messages_after(&channel, at, HISTORY_PAGE + 1, reader)
        .await?
        .ok_or_else(refusal::not_a_member)?;
    let has_newer = later.len() > HISTORY_PAGE as usize;
    let mut messages = earlier.messages;
    messages.extend(later.into_iter().take(HISTORY_PAGE as usize));
    let (messages, cut) = fit_newest(messages);
    answer(ServerMsg::Around {
        channel,
        seq,
        thread,
        messages,
        has_older: earlier.has_older || cut,
        has_newer,
    })
}

/// Scrolling down after a jump: the page after `after_seq`.
pub async fn newer(caller: &Caller<'_>, channel: ChannelId, after_seq: Seq) -> Reply {
    let later = caller
        .store()
        .messages_after(&channel, after_seq, HISTORY_PAGE + 1, &caller.user.id)
        .await?
        .ok_or_else(refusal::not_a_member)?;
    let has_newer = later.len() > HISTORY_PAGE as usize;
    let (messages, cut) = fit_oldest(later.into_iter().take(HISTORY_PAGE as usize).collect());
    answer(ServerMsg::Newer {
        channel,
        messages,
        has_newer: has_newer || cut,
    })
}

pub async fn edit(caller: &Caller<'_>, channel: &ChannelId, seq: Seq, text: &str) -> Reply {
    membership(caller, channel).await?;
    moderation::may_change(caller, channel).await?;
    let text = MessageText::parse(text).map_err(|error| refusal::bad_text(&error))?;
    let outcome = caller
        .store()
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
    let reply = announce_change(caller, outcome, None).await;
    if let (Some(message), Some(previews)) = (edited, &caller.realtime.previews) {
        previews.consider(&message);
    }
    reply
}

/// Deletes the caller's own message; someone else's when the caller is a
/// moderator or above (a removal, in the audit log).
pub async fn delete(caller: &Caller<'_>, channel: &ChannelId, seq: Seq) -> Reply {
    membership(caller, channel).await?;
    let by = &caller.user.id;
    let store = caller.store();
    let mut outcome = store
        .change_message(channel, seq, MessageChange::Delete { by, text: "" })
        .await?;
    if matches!(outcome, ChangeOutcome::NotAllowed)
        && moderation::role_of(caller).await?.moderates()
    {
        outcome = store
            .change_message(channel, seq, MessageChange::Remove { by })
            .await?;
    }
    announce_change(caller, outcome, None).await
}

pub async fn react(
    caller: &Caller<'_>,
    channel: &ChannelId,
    seq: Seq,
    emoji: &str,
    add: bool,
) -> Reply {
    membership(caller, channel).await?;
    moderation::may_change(caller, channel).await?;
    // Only real emoji (any skin tone) and the server's custom ones (as
    // `:name:`): nothing else can be stored as a reaction.
    let custom = match shared::validate::EmojiName::from_shortcode(emoji) {
        Some(name) => caller.store().custom_emoji_exists(name.as_str()).await?,
        None => false,
    };
    if emoji.len() > 64 || !(custom || emojis::get(emoji).is_some()) {
        return Err(refusal::refuse(
            shared::ErrorCode::InvalidEmoji,
            "That is not an emoji.",
        ));
    }
    let store = caller.store();
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
    let reply = announce_change(caller, outcome, Some(caller.user.id.clone())).await;
    // Everyone else gets the state without anyone's own marks; the
    // reactor's tabs get it with theirs.
    if changed && let Some(mine) = store.message(channel, seq, Some(&caller.user.id)).await? {
        caller
            .fanout()
            .to_user(
                caller.user.id.clone(),
                ServerMsg::MessageUpdated { message: mine },
                None,
            )
            .await;
    }
    reply
}

/// Pins or unpins a message; everyone in the conversation sees its new state.
pub async fn pin(caller: &Caller<'_>, channel: &ChannelId, seq: Seq, pinned: bool) -> Reply {
    membership(caller, channel).await?;
    moderation::may_change(caller, channel).await?;
    let outcome = caller
        .store()
        .change_message(
            channel,
            seq,
            MessageChange::Pin {
                by: &caller.user.id,
                pinned,
            },
        )
        .await?;
    announce_change(caller, outcome, None).await
}

/// The pinned list of a conversation the caller is in.
pub async fn pins(caller: &Caller<'_>, channel: ChannelId) -> Reply {
    let pinned = caller
        .store()
        .pinned_messages(&channel, &caller.user.id)
        .await?
        .ok_or_else(refusal::not_a_member)?;
    let (messages, _) = fit_oldest(pinned);
    answer(ServerMsg::Pins { channel, messages })
}

/// Tells everyone in the channel (but `except`, who gets their own copy) a
/// message's new state, or refuses.
pub(super) async fn announce_change(
    caller: &Caller<'_>,
    outcome: ChangeOutcome,
    except: Option<UserId>,
) -> Reply {
    match outcome {
        ChangeOutcome::Changed(message) => {
            let channel = message.channel.clone();
            caller
                .fanout()
                .to_room(channel, ServerMsg::MessageUpdated { message }, except)
                .await;
            done()
        }
        ChangeOutcome::Unchanged => done(),
        ChangeOutcome::NoSuchMessage => Err(refusal::unknown_message()),
        ChangeOutcome::NotAllowed => Err(refusal::only_the_author()),
        ChangeOutcome::TooManyReactions => Err(refusal::too_many_reactions()),
        ChangeOutcome::TooManyPins => Err(refusal::too_many_pins()),
    }
}

/// The JSON size of a message inside a reply.
fn json_len(message: &ChatMessage) -> usize {
    serde_json::to_string(message).map_or(0, |json| json.len() + 1)
}

/// The oldest messages that fit in a reply, and whether some were left out.
pub(super) fn fit_oldest(messages: Vec<ChatMessage>) -> (Vec<ChatMessage>, bool) {
    let (fitting, rest) = split_to_fit(messages);
    (fitting, !rest.is_empty())
}

/// The newest messages (held oldest first) that fit in a reply, and whether
/// older ones were left out.
pub(super) fn fit_newest(mut messages: Vec<ChatMessage>) -> (Vec<ChatMessage>, bool) {
    messages.reverse();
    let (mut fitting, rest) = split_to_fit(messages);
    fitting.reverse();
    (fitting, !rest.is_empty())
}

/// Splits `messages` after the longest start that fits in a reply (at least one).
fn split_to_fit(mut messages: Vec<ChatMessage>) -> (Vec<ChatMessage>, Vec<ChatMessage>) {
    let mut total = 0;
    let mut keep = messages.len();
    for (index, message) in messages.iter().enumerate() {
        total += json_len(message);
        if total > MESSAGES_BUDGET && index > 0 {
            keep = index;
            break;
        }
    }
    let rest = messages.split_off(keep);
    (messages, rest)
}

//! Requests about people: direct conversations, blocks, the people list,
//! presence (away/back) and typing notices.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use shared::limits::MAX_DIRECT_OTHERS;
use shared::protocol::{USERS_PAGE, UserPresence};
use shared::{ChannelId, ErrorCode, ServerMsg, UserId};

use super::refusal::{self, refuse};
use super::{Caller, Reply, announce_joined, answer, done, membership};
use crate::realtime::fanout::Event;
use crate::store::{Accounts, Channels};

/// Typing notices from one connection in one channel are passed on at most this often.
const TYPING_THROTTLE: Duration = Duration::from_secs(2);

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
    let store = caller.store();
    let mut participants = vec![caller.user.clone()];
    for id in others {
        participants.push(store.user(id).await?.ok_or_else(refusal::unknown_user)?);
    }
    let ids: Vec<UserId> = participants.iter().map(|u| u.id.clone()).collect();
    if store.blocked_by_any(&caller.user.id, &ids[1..]).await? {
        return Err(refusal::blocked());
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
    done()
}

/// Blocks or unblocks a user, and tells all the caller's tabs who is blocked now.
pub async fn block(caller: &Caller<'_>, user: &UserId, blocked: bool) -> Reply {
    if user == &caller.user.id {
        return Err(refuse(ErrorCode::NotAllowed, "You cannot block yourself."));
    }
    let store = caller.store();
    if store.user(user).await?.is_none() {
        return Err(refusal::unknown_user());
    }
    store.set_blocked(&caller.user.id, user, blocked).await?;
    let users = store.blocked_by(&caller.user.id).await?;
    caller
        .fanout()
        .to_user(
            caller.user.id.clone(),
            ServerMsg::Blocked {
                users: users.clone(),
            },
            Some(caller.conn),
        )
        .await;
    answer(ServerMsg::Blocked { users })
}

/// Everyone, with whether they are online, away or offline.
/// Longest search text or page cursor looked at (names are shorter).
const MAX_QUERY_CHARS: usize = 64;

/// A search text or page cursor, cut to [`MAX_QUERY_CHARS`].
fn bounded(text: &str) -> String {
    text.chars().take(MAX_QUERY_CHARS).collect()
}

pub async fn list_users(caller: &Caller<'_>, query: String, after: Option<String>) -> Reply {
    let query = bounded(&query);
    let after = after.as_deref().map(bounded);
    let (page, next) = caller
        .store()
        .users_page(&query, after.as_deref(), USERS_PAGE)
        .await?;
    let presence = caller.fanout().presence().await;
    let users = page
        .into_iter()
        .map(|user| UserPresence {
            status: presence.get(&user.id).copied().unwrap_or_default(),
            user,
        })
        .collect();
    answer(ServerMsg::Users {
        users,
        query,
        after,
        next,
    })
}

/// A page of who is online (optionally matching `query`); this connection
/// hears about those people from now on.
pub async fn online_members(caller: &Caller<'_>, query: String, after: Option<String>) -> Reply {
    let query = bounded(&query);
    let page = caller
        .fanout()
        .online_page(caller.conn, query.clone(), after.as_deref().map(bounded))
        .await;
    answer(ServerMsg::OnlineMembers {
        query,
        users: page.users,
        next: page.next,
        online_count: page.online_count,
    })
}

/// Tells the others in a channel that the caller is typing (at most once
/// per [`TYPING_THROTTLE`] per connection and channel).
pub async fn typing(
    caller: &Caller<'_>,
    last_typing: &mut HashMap<ChannelId, Instant>,
    channel: ChannelId,
) -> Reply {
    let now = Instant::now();
    let recent = last_typing
        .get(&channel)
        .is_some_and(|at| now.duration_since(*at) < TYPING_THROTTLE);
    if recent {
        return done();
    }
    membership(caller, &channel).await?;
    last_typing.insert(channel.clone(), now);
    caller
        .fanout()
        .to_room(
            channel.clone(),
            ServerMsg::Typing {
                channel,
                user: caller.user.clone(),
            },
            Some(caller.user.id.clone()),
        )
        .await;
    done()
}

/// Marks the caller's connection idle (away) or active again.
pub async fn set_away(caller: &Caller<'_>, away: bool) -> Reply {
    caller
        .fanout()
        .publish(Event::SetAway {
            conn: caller.conn,
            away,
        })
        .await;
    done()
}

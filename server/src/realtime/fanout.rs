//! How commands, the message writer, previews and HTTP routes reach the
//! people who must hear about something: events published through the
//! [`FanOut`] trait. Today the local hub implements it; a bus between server
//! nodes will implement the same trait, so nothing that publishes changes
//! when it comes. Events name users, channels and connections, and carry
//! protocol messages only: no store outcomes, no wording decided here.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use shared::protocol::{PresenceStatus, UserPresence};
use shared::{ChannelId, Seq, ServerMsg, UserId, UserInfo};

/// Identifies one WebSocket connection (one browser tab).
pub type ConnId = u64;

static NEXT_CONN_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh connection id, unique within this process.
pub fn next_conn_id() -> ConnId {
    NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed)
}

/// A future a [`FanOut`] returns (boxed, so the trait can be used as `dyn`).
pub type FanOutFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The answer to one posted message: what its sender's connection gets (an
/// ack or a refusal) and, when it was stored now, what everyone else in the
/// channel gets.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub origin: ConnId,
    pub channel: ChannelId,
    pub to_sender: ServerMsg,
    pub to_others: Option<ServerMsg>,
}

/// A page of who is online, by name.
#[derive(Debug, Clone, Default)]
pub struct OnlinePage {
    pub users: Vec<UserPresence>,
    /// Where the next page starts, if there is one.
    pub next: Option<String>,
    pub online_count: u32,
}

/// Which of a user's sessions lose their sockets.
#[derive(Debug, Clone)]
pub enum Sessions {
    /// One session (signed out).
    One(String),
    /// Every session but this one, if any ("sign out everywhere", a password change).
    AllBut(Option<String>),
}

impl Sessions {
    /// Whether the session `id` is one of these.
    pub fn contains(&self, id: &str) -> bool {
        match self {
            Self::One(one) => one == id,
            Self::AllBut(kept) => kept.as_deref() != Some(id),
        }
    }
}

/// Something that happened, and who must hear about it.
#[derive(Debug, Clone)]
pub enum Event {
    /// Every connection of `user` joins `channel`'s room, then gets `announce`.
    Subscribe {
        user: UserId,
        channel: ChannelId,
        announce: Option<ServerMsg>,
    },
    /// Every connection of `user` leaves `channel`'s room at once, then gets `announce`.
    Unsubscribe {
        user: UserId,
        channel: ChannelId,
        announce: ServerMsg,
    },
    /// Everyone in `channel`'s room (but `except_user`'s connections).
    ToRoom {
        channel: ChannelId,
        message: ServerMsg,
        except_user: Option<UserId>,
    },
    /// Every connection of `user` (but `except_conn`).
    ToUser {
        user: UserId,
        message: ServerMsg,
        except_conn: Option<ConnId>,
    },
    /// `user` joined `channel`: its room hears it at once when small, in a
    /// coalesced notice ("Alice, Bob and 37 others") when large.
    MemberJoined { channel: ChannelId, user: UserInfo },
    /// Answers to posted messages, in the order they were stored.
    Deliver(Vec<Delivery>),
    /// A connection went idle (away) or active again.
    SetAway { conn: ConnId, away: bool },
    /// Sessions of `user` were revoked: their sockets stop at once.
    CloseSessions { user: UserId, sessions: Sessions },
    /// How `user` is present through other server nodes (all of them
    /// together): online, away (on every one), or offline (on none).
    Elsewhere {
        user: UserInfo,
        status: PresenceStatus,
    },
}

/// A channel's room on this node got its first connection (`open`) or
/// lost its last, for a cluster's bus that routes by room. `after`: the
/// channel's last sequence number as that first connection loaded it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomChange {
    pub channel: ChannelId,
    pub open: bool,
    pub after: Option<Seq>,
}

/// How a user is present through this node's own connections, for the
/// other nodes of a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalPresence {
    pub user: UserInfo,
    pub status: PresenceStatus,
    /// Counts this node's reports: a later one supersedes an earlier one.
    pub version: u64,
}

/// Where events go. Implemented by the local hub; later also by a bus
/// between nodes.
pub trait FanOut: Send + Sync {
    /// Hands an event on; returns once it is queued (not delivered).
    fn publish(&self, event: Event) -> FanOutFuture<'_, ()>;

    /// Everyone online and whether they are away; absent users are offline.
    fn presence(&self) -> FanOutFuture<'_, HashMap<UserId, PresenceStatus>>;

    /// A page of who is online whose name contains `query`, after the name
    /// `after`; `conn` hears about the people on it from then on.
    fn online_page(
        &self,
        conn: ConnId,
        query: String,
        after: Option<String>,
    ) -> FanOutFuture<'_, OnlinePage>;

    fn member_joined(&self, channel: ChannelId, user: UserInfo) -> FanOutFuture<'_, ()> {
        self.publish(Event::MemberJoined { channel, user })
    }

    fn subscribe(
        &self,
        user: UserId,
        channel: ChannelId,
        announce: Option<ServerMsg>,
    ) -> FanOutFuture<'_, ()> {
        self.publish(Event::Subscribe {
            user,
            channel,
            announce,
        })
    }

    fn unsubscribe(
        &self,
        user: UserId,
        channel: ChannelId,
        announce: ServerMsg,
    ) -> FanOutFuture<'_, ()> {
        self.publish(Event::Unsubscribe {
            user,
            channel,
            announce,
        })
    }

    fn to_room(
        &self,
        channel: ChannelId,
        message: ServerMsg,
        except_user: Option<UserId>,
    ) -> FanOutFuture<'_, ()> {
        self.publish(Event::ToRoom {
            channel,
            message,
            except_user,
        })
    }

    fn to_user(
        &self,
        user: UserId,
        message: ServerMsg,
        except_conn: Option<ConnId>,
    ) -> FanOutFuture<'_, ()> {
        self.publish(Event::ToUser {
            user,
            message,
            except_conn,
        })
    }

    /// Revokes sessions' sockets; returns once they have stopped reading
    /// (so nothing a client sends after a sign-out answered is acted on).
    fn close_sessions(&self, user: UserId, sessions: Sessions) -> FanOutFuture<'_, ()>;
}

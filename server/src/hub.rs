//! The hub: one task that owns every live connection, which rooms they are in
//! and who is online, and fans messages out. It holds no locks and never waits
//! on a socket: each connection has an outgoing queue bounded in frames and
//! bytes ([`Outbox`]), and a connection whose queue is full is disconnected
//! (it reconnects and catches up by sequence number) instead of slowing the
//! room down or growing memory. Connections are indexed by user, so finding
//! a user's sockets never scans everyone.
//!
//! A broadcast is serialized to JSON once; every recipient gets a clone of the
//! same reference-counted bytes.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use actix_ws::{CloseCode, CloseReason};
use bytestring::ByteString;
use shared::protocol::{ChannelInfo, PresenceStatus};
use shared::{ChannelId, ErrorCode, ServerMsg, UserId, UserInfo};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
pub use crate::outbox::Outgoing;
use crate::outbox::{Outbox, PushFailure};
use crate::store::{NewMessage, Stored};

/// Commands waiting for the hub before senders have to wait.
const COMMAND_QUEUE: usize = 8_192;
/// Close code sent to the sockets of a session that signed out.
pub const CLOSE_SIGNED_OUT: u16 = 4001;

/// Identifies one WebSocket connection (one browser tab).
pub type ConnId = u64;

static NEXT_CONN_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh connection id, unique within this process.
pub fn next_conn_id() -> ConnId {
    NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed)
}

/// A connection introducing itself to the hub.
pub struct Registration {
    pub conn: ConnId,
    pub user: UserInfo,
    pub session_id: String,
    pub channels: Vec<ChannelInfo>,
    /// The people this user has blocked (told in `welcome`).
    pub blocked: Vec<UserId>,
    /// Bounded queue read by the connection's socket writer.
    pub outbox: Outbox,
    /// Cancelled by the hub to drop a connection that cannot keep up.
    pub kick: CancellationToken,
    /// Cancelled by the hub when the session is revoked: the connection
    /// reads and does nothing more, and closes once its close frame is out.
    pub stop_reading: CancellationToken,
    /// Told to the client in `welcome`.
    pub max_upload_bytes: u64,
}

/// The result of storing one message, for the hub to acknowledge and fan out.
#[derive(Debug)]
pub struct Delivery {
    pub origin: ConnId,
    /// The stored message, or the message that could not be stored.
    pub result: Result<Stored, NewMessage>,
}

enum Command {
    Connect(Registration),
    Subscribe {
        user: UserId,
        channel: ChannelId,
        announce: Option<ServerMsg>,
    },
    Unsubscribe {
        user: UserId,
        channel: ChannelId,
        announce: ServerMsg,
    },
    ToRoom {
        channel: ChannelId,
        message: ServerMsg,
        except_user: Option<UserId>,
    },
    ToUser {
        user: UserId,
        message: ServerMsg,
        except_conn: Option<ConnId>,
    },
    SetAway {
        conn: ConnId,
        away: bool,
    },
    Disconnect(ConnId),
    Deliver(Vec<Delivery>),
    CloseSession {
        user: UserId,
        session_id: String,
    },
    CloseUser {
        user: UserId,
        except_session: Option<String>,
    },
    Shutdown(oneshot::Sender<()>),
    Online(oneshot::Sender<Vec<UserInfo>>),
    Presence(oneshot::Sender<HashMap<UserId, PresenceStatus>>),
}

/// Clonable handle to the hub task.
#[derive(Clone)]
pub struct HubHandle {
    commands: mpsc::Sender<Command>,
}

impl HubHandle {
    /// Starts the hub task on `runtime` (the realtime core's own runtime).
    pub fn start(runtime: &tokio::runtime::Handle, metrics: Metrics) -> (Self, JoinHandle<()>) {
        let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
        let hub = Hub {
            metrics,
            ..Hub::default()
        };
        let task = runtime.spawn(hub.run(receiver));
        (Self { commands }, task)
    }

    /// Adds a connection; the hub sends it `welcome` first.
    pub async fn connect(&self, registration: Registration) {
        let _ = self.commands.send(Command::Connect(registration)).await;
    }

    /// Puts every connection of `user` in `channel`'s room, then sends them `announce`.
    pub async fn subscribe(&self, user: UserId, channel: ChannelId, announce: Option<ServerMsg>) {
        let _ = self
            .commands
            .send(Command::Subscribe {
                user,
                channel,
                announce,
            })
            .await;
    }

    /// Takes every connection of `user` out of `channel`'s room at once and
    /// sends them `announce` (their `channel_left`).
    pub async fn unsubscribe(&self, user: UserId, channel: ChannelId, announce: ServerMsg) {
        let _ = self
            .commands
            .send(Command::Unsubscribe {
                user,
                channel,
                announce,
            })
            .await;
    }

    /// Sends `message` to every connection in `channel`'s room (but `except_user`'s).
    pub async fn to_room(
        &self,
        channel: ChannelId,
        message: ServerMsg,
        except_user: Option<UserId>,
    ) {
        let _ = self
            .commands
            .send(Command::ToRoom {
                channel,
                message,
                except_user,
            })
            .await;
    }

    /// Sends `message` to every connection of `user` (but `except_conn`).
    pub async fn to_user(&self, user: UserId, message: ServerMsg, except_conn: Option<ConnId>) {
        let _ = self
            .commands
            .send(Command::ToUser {
                user,
                message,
                except_conn,
            })
            .await;
    }

    /// Marks a connection idle (away) or active again.
    pub async fn set_away(&self, conn: ConnId, away: bool) {
        let _ = self.commands.send(Command::SetAway { conn, away }).await;
    }

    /// Removes a connection (a no-op if the hub already dropped it).
    pub async fn disconnect(&self, conn: ConnId) {
        let _ = self.commands.send(Command::Disconnect(conn)).await;
    }

    /// Acknowledges and broadcasts stored messages, in the order given.
    pub async fn deliver(&self, deliveries: Vec<Delivery>) {
        let _ = self.commands.send(Command::Deliver(deliveries)).await;
    }

    /// Closes every socket of one session (after sign-out) at once: they
    /// read nothing more, and get a close frame if they still read.
    pub async fn close_session(&self, user: UserId, session_id: String) {
        let _ = self
            .commands
            .send(Command::CloseSession { user, session_id })
            .await;
    }

    /// Closes every socket of one user (after "sign out everywhere", or a
    /// password change: then all but `except_session`'s).
    pub async fn close_user(&self, user: UserId, except_session: Option<String>) {
        let _ = self
            .commands
            .send(Command::CloseUser {
                user,
                except_session,
            })
            .await;
    }

    /// Sends every connection a close frame and refuses new ones.
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Everyone online and whether they are away; absent users are offline.
    pub async fn presence(&self) -> HashMap<UserId, PresenceStatus> {
        let (reply, wait) = oneshot::channel();
        if self.commands.send(Command::Presence(reply)).await.is_err() {
            return HashMap::new();
        }
        wait.await.unwrap_or_default()
    }

    /// Who is online now, sorted by name.
    pub async fn online(&self) -> Vec<UserInfo> {
        let (reply, wait) = oneshot::channel();
        if self.commands.send(Command::Online(reply)).await.is_err() {
            return Vec::new();
        }
        wait.await.unwrap_or_default()
    }
}

struct Connection {
    user: UserInfo,
    session_id: String,
    channels: HashSet<ChannelId>,
    away: bool,
    outbox: Outbox,
    kick: CancellationToken,
    stop_reading: CancellationToken,
}

/// An online user and their open connections.
struct OnlineUser {
    info: UserInfo,
    connections: HashSet<ConnId>,
}

#[derive(Default)]
struct Hub {
    connections: HashMap<ConnId, Connection>,
    rooms: HashMap<ChannelId, HashSet<ConnId>>,
    /// Online users (at least one connection open), with their connections.
    online: HashMap<UserId, OnlineUser>,
    /// Users whose every connection is away.
    away: HashSet<UserId>,
    shutting_down: bool,
    metrics: Metrics,
}

/// Who ends a connection.
#[derive(Clone, Copy)]
enum Removal {
    /// The connection itself is closing: let it flush its last frames.
    Requested,
    /// The hub gives up on it (stuck or gone): stop its socket at once.
    Kicked,
}

impl Hub {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        while let Some(command) = commands.recv().await {
            match command {
                Command::Connect(registration) => self.connect(registration),
                Command::Subscribe {
                    user,
                    channel,
                    announce,
                } => self.subscribe(&user, channel, announce),
                Command::Unsubscribe {
                    user,
                    channel,
                    announce,
                } => self.unsubscribe(&user, &channel, announce),
                Command::ToRoom {
                    channel,
                    message,
                    except_user,
                } => {
                    let targets = self.room_members(&channel, except_user.as_ref());
                    self.push_all(targets, &frame(&message));
                }
                Command::ToUser {
                    user,
                    message,
                    except_conn,
                } => {
                    let targets: Vec<ConnId> = self
                        .connections_of(&user)
                        .into_iter()
                        .filter(|c| Some(*c) != except_conn)
                        .collect();
                    self.push_all(targets, &frame(&message));
                }
                Command::SetAway { conn, away } => self.set_away(conn, away),
                Command::Disconnect(conn) => self.remove(conn, Removal::Requested),
                Command::Deliver(deliveries) => {
                    for delivery in deliveries {
                        self.deliver(delivery);
                    }
                }
                Command::CloseSession { user, session_id } => {
                    self.revoke(&user, |session| session == session_id);
                }
                Command::CloseUser {
                    user,
                    except_session,
                } => self.revoke(&user, |session| except_session.as_deref() != Some(session)),
                Command::Shutdown(done) => {
                    self.shutdown();
                    let _ = done.send(());
                }
                Command::Online(reply) => {
                    let _ = reply.send(self.online_users());
                }
                Command::Presence(reply) => {
                    let presence = self
                        .online
                        .keys()
                        .map(|user| {
                            let status = if self.away.contains(user) {
                                PresenceStatus::Away
                            } else {
                                PresenceStatus::Online
                            };
                            (user.clone(), status)
                        })
                        .collect();
                    let _ = reply.send(presence);
                }
            }
        }
    }

    fn connect(&mut self, registration: Registration) {
        let Registration {
            conn,
            user,
            session_id,
            channels,
            blocked,
            outbox,
            kick,
            stop_reading,
            max_upload_bytes,
        } = registration;
        if self.shutting_down {
            let _ = outbox.push(Outgoing::Close(going_away()));
            return;
        }
        let entry = self
            .online
            .entry(user.id.clone())
            .or_insert_with(|| OnlineUser {
                info: user.clone(),
                connections: HashSet::new(),
            });
        entry.connections.insert(conn);
        let first_connection = entry.connections.len() == 1;
        for channel in &channels {
            self.rooms
                .entry(channel.id.clone())
                .or_default()
                .insert(conn);
        }
        let welcome = ServerMsg::Welcome {
            user: user.clone(),
            channels: channels.clone(),
            online: self.online_users(),
            away: self.away.iter().cloned().collect(),
            max_upload_bytes,
            blocked,
        };
        // The queue is new and empty: the welcome fits (it is refused only
        // if it alone is over the byte bound, and then the client gets closed).
        if outbox
            .push(Outgoing::Frame(welcome.to_json().into()))
            .is_err()
        {
            kick.cancel();
        }
        self.connections.insert(
            conn,
            Connection {
                user: user.clone(),
                session_id,
                channels: channels.into_iter().map(|c| c.id).collect(),
                away: false,
                outbox,
                kick,
                stop_reading,
            },
        );
        if first_connection {
            let frame = frame(&ServerMsg::UserJoined { user: user.clone() });
            let others: Vec<ConnId> = self
                .connections
                .iter()
                .filter(|(_, c)| c.user.id != user.id)
                .map(|(id, _)| *id)
                .collect();
            self.push_all(others, &frame);
        }
    }

    /// Drops a connection; announces `user_left` when it was the user's last.
    fn remove(&mut self, conn: ConnId, removal: Removal) {
        let mut pending = vec![(conn, removal)];
        while let Some((conn, removal)) = pending.pop() {
            let Some(connection) = self.connections.remove(&conn) else {
                continue;
            };
            if let Removal::Kicked = removal {
                connection.kick.cancel();
            }
            for channel in &connection.channels {
                if let Some(room) = self.rooms.get_mut(channel) {
                    room.remove(&conn);
                    if room.is_empty() {
                        self.rooms.remove(channel);
                    }
                }
            }
            let last_connection = match self.online.get_mut(&connection.user.id) {
                Some(entry) => {
                    entry.connections.remove(&conn);
                    entry.connections.is_empty()
                }
                None => false,
            };
            if last_connection {
                self.online.remove(&connection.user.id);
                self.away.remove(&connection.user.id);
                if !self.shutting_down {
                    let frame = frame(&ServerMsg::UserLeft {
                        user: connection.user,
                    });
                    let everyone: Vec<ConnId> = self.connections.keys().copied().collect();
                    pending.extend(
                        self.push_collecting_failures(everyone, &frame)
                            .into_iter()
                            .map(|conn| (conn, Removal::Kicked)),
                    );
                }
            }
        }
    }

    fn deliver(&mut self, delivery: Delivery) {
        match delivery.result {
            Ok(Stored::New(message)) => {
                let ack = frame(&ServerMsg::Ack {
                    channel: message.channel.clone(),
                    client_id: message.client_id.clone(),
                    seq: message.seq,
                    sent_at: message.sent_at,
                });
                let recipients: Vec<ConnId> = self
                    .rooms
                    .get(&message.channel)
                    .map(|room| {
                        room.iter()
                            .copied()
                            .filter(|&c| c != delivery.origin)
                            .collect()
                    })
                    .unwrap_or_default();
                let broadcast = frame(&ServerMsg::Message { message });
                self.push_all(recipients, &broadcast);
                self.push_all(vec![delivery.origin], &ack);
            }
            Ok(Stored::NotAMember(message)) => {
                let error = frame(&ServerMsg::Error {
                    code: ErrorCode::NotAMember,
                    message: "you are not a member of that channel (or it does not exist)".into(),
                    client_id: Some(message.client_id),
                });
                self.push_all(vec![delivery.origin], &error);
            }
            Ok(Stored::InvalidAttachments(message)) => {
                let error = frame(&ServerMsg::Error {
                    code: ErrorCode::InvalidAttachment,
                    message: "An attached file is not one of your uploads to this conversation \
                              (or it was already posted)."
                        .into(),
                    client_id: Some(message.client_id),
                });
                self.push_all(vec![delivery.origin], &error);
            }
            Ok(Stored::ClientIdReused(message)) => {
                let error = frame(&ServerMsg::Error {
                    code: ErrorCode::InvalidFields,
                    message: "This client_id was already used for a message in another \
                              conversation; send it with a new one."
                        .into(),
                    client_id: Some(message.client_id),
                });
                self.push_all(vec![delivery.origin], &error);
            }
            Ok(Stored::Blocked(message)) => {
                let error = frame(&ServerMsg::Error {
                    code: ErrorCode::Blocked,
                    message: "You cannot write to this conversation: you have been blocked.".into(),
                    client_id: Some(message.client_id),
                });
                self.push_all(vec![delivery.origin], &error);
            }
            Ok(Stored::Duplicate(message)) => {
                let ack = frame(&ServerMsg::Ack {
                    channel: message.channel,
                    client_id: message.client_id,
                    seq: message.seq,
                    sent_at: message.sent_at,
                });
                self.push_all(vec![delivery.origin], &ack);
            }
            Err(message) => {
                let error = frame(&ServerMsg::Error {
                    code: ErrorCode::StoreUnavailable,
                    message: "The message could not be stored; it will be sent again.".into(),
                    client_id: Some(message.client_id),
                });
                self.push_all(vec![delivery.origin], &error);
            }
        }
    }

    fn connections_of(&self, user: &UserId) -> Vec<ConnId> {
        self.online
            .get(user)
            .map(|entry| entry.connections.iter().copied().collect())
            .unwrap_or_default()
    }

    fn room_members(&self, channel: &ChannelId, except_user: Option<&UserId>) -> Vec<ConnId> {
        let Some(room) = self.rooms.get(channel) else {
            return Vec::new();
        };
        room.iter()
            .copied()
            .filter(|conn| match (except_user, self.connections.get(conn)) {
                (Some(user), Some(connection)) => &connection.user.id != user,
                _ => true,
            })
            .collect()
    }

    fn subscribe(&mut self, user: &UserId, channel: ChannelId, announce: Option<ServerMsg>) {
        let conns = self.connections_of(user);
        for conn in &conns {
            if let Some(connection) = self.connections.get_mut(conn) {
                connection.channels.insert(channel.clone());
            }
            self.rooms.entry(channel.clone()).or_default().insert(*conn);
        }
        if let Some(message) = announce {
            self.push_all(conns, &frame(&message));
        }
    }

    fn unsubscribe(&mut self, user: &UserId, channel: &ChannelId, announce: ServerMsg) {
        let conns = self.connections_of(user);
        for conn in &conns {
            if let Some(connection) = self.connections.get_mut(conn) {
                connection.channels.remove(channel);
            }
            if let Some(room) = self.rooms.get_mut(channel) {
                room.remove(conn);
                if room.is_empty() {
                    self.rooms.remove(channel);
                }
            }
        }
        self.push_all(conns, &frame(&announce));
    }

    fn set_away(&mut self, conn: ConnId, away: bool) {
        let Some(connection) = self.connections.get_mut(&conn) else {
            return;
        };
        connection.away = away;
        let user = connection.user.clone();
        let all_away = self
            .connections_of(&user.id)
            .iter()
            .filter_map(|conn| self.connections.get(conn))
            .all(|c| c.away);
        let changed = if all_away {
            self.away.insert(user.id.clone())
        } else {
            self.away.remove(&user.id)
        };
        if changed {
            let status = if all_away {
                PresenceStatus::Away
            } else {
                PresenceStatus::Online
            };
            let everyone: Vec<ConnId> = self.connections.keys().copied().collect();
            self.push_all(everyone, &frame(&ServerMsg::Presence { user, status }));
        }
    }

    /// Ends the user's connections whose session `matches` at once: they
    /// leave every room now, their readers stop, and their writers send a
    /// close frame (to a client that still reads) and end.
    fn revoke(&mut self, user: &UserId, matches: impl Fn(&str) -> bool) {
        let targets: Vec<ConnId> = self
            .connections_of(user)
            .into_iter()
            .filter(|conn| {
                self.connections
                    .get(conn)
                    .is_some_and(|c| matches(&c.session_id))
            })
            .collect();
        for conn in targets {
            let Some(connection) = self.connections.get(&conn) else {
                continue;
            };
            connection.stop_reading.cancel();
            let removal = match connection.outbox.push(Outgoing::Close(signed_out())) {
                Ok(()) => Removal::Requested,
                Err(_) => Removal::Kicked,
            };
            self.metrics.kicked("revoked");
            self.remove(conn, removal);
        }
    }

    fn shutdown(&mut self) {
        self.shutting_down = true;
        let everyone: Vec<ConnId> = self.connections.keys().copied().collect();
        self.close_all(everyone, going_away());
    }

    fn close_all(&mut self, targets: Vec<ConnId>, reason: CloseReason) {
        for conn in targets {
            if let Some(connection) = self.connections.get(&conn)
                && connection
                    .outbox
                    .push(Outgoing::Close(reason.clone()))
                    .is_err()
            {
                self.remove(conn, Removal::Kicked);
            }
        }
    }

    fn online_users(&self) -> Vec<UserInfo> {
        let mut users: Vec<UserInfo> = self.online.values().map(|u| u.info.clone()).collect();
        users.sort_by_key(|user| user.name.to_lowercase());
        users
    }

    /// Queues `frame` for each target; drops the ones that are stuck or gone.
    fn push_all(&mut self, targets: Vec<ConnId>, frame: &ByteString) {
        let failed = self.push_collecting_failures(targets, frame);
        for conn in failed {
            self.remove(conn, Removal::Kicked);
        }
    }

    fn push_collecting_failures(&self, targets: Vec<ConnId>, frame: &ByteString) -> Vec<ConnId> {
        let mut failed = Vec::new();
        for conn in targets {
            let Some(connection) = self.connections.get(&conn) else {
                continue;
            };
            match connection.outbox.push(Outgoing::Frame(frame.clone())) {
                Ok(()) => {
                    self.metrics.deliveries.inc();
                }
                Err(failure) => {
                    if failure != PushFailure::Gone {
                        tracing::warn!(
                            conn,
                            user = %connection.user.name,
                            queued_bytes = connection.outbox.queued_bytes(),
                            "outgoing queue full; disconnecting a client that is not keeping up"
                        );
                        self.metrics.kicked("stuck");
                    }
                    failed.push(conn);
                }
            }
        }
        failed
    }
}

fn frame(message: &ServerMsg) -> ByteString {
    ByteString::from(message.to_json())
}

fn signed_out() -> CloseReason {
    CloseReason {
        code: CloseCode::Other(CLOSE_SIGNED_OUT),
        description: Some("signed out".into()),
    }
}

fn going_away() -> CloseReason {
    CloseReason {
        code: CloseCode::Away,
        description: Some("server is shutting down".into()),
    }
}

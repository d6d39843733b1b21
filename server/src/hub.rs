//! The hub: one task that owns every live connection, which rooms they are in
//! and who is online, and fans messages out. It holds no locks and never waits
//! on a socket: each connection has a bounded outgoing queue, and a connection
//! whose queue is full is disconnected (it reconnects and catches up by
//! sequence number) instead of slowing the room down or growing memory.
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

/// What a connection's writer sends to its socket.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Frame(ByteString),
    Pong(actix_web::web::Bytes),
    Close(CloseReason),
}

/// A connection introducing itself to the hub.
pub struct Registration {
    pub conn: ConnId,
    pub user: UserInfo,
    pub session_id: String,
    pub channels: Vec<ChannelInfo>,
    /// Bounded queue read by the connection's socket writer.
    pub queue: mpsc::Sender<Outgoing>,
    /// Cancelled by the hub to drop a connection that cannot keep up.
    pub kick: CancellationToken,
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
    CloseSession(String),
    CloseUser(UserId),
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
    /// Starts the hub task.
    pub fn start() -> (Self, JoinHandle<()>) {
        let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
        let task = tokio::spawn(Hub::default().run(receiver));
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

    /// Closes every socket of one session (after sign-out).
    pub async fn close_session(&self, session_id: String) {
        let _ = self.commands.send(Command::CloseSession(session_id)).await;
    }

    /// Closes every socket of one user (after "sign out everywhere").
    pub async fn close_user(&self, user: UserId) {
        let _ = self.commands.send(Command::CloseUser(user)).await;
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
    queue: mpsc::Sender<Outgoing>,
    kick: CancellationToken,
}

#[derive(Default)]
struct Hub {
    connections: HashMap<ConnId, Connection>,
    rooms: HashMap<ChannelId, HashSet<ConnId>>,
    /// Online users and how many connections each has open.
    online: HashMap<UserId, (UserInfo, usize)>,
    /// Users whose every connection is away.
    away: HashSet<UserId>,
    shutting_down: bool,
}

/// Who ends a connection.
#[derive(Clone, Copy)]
enum Removal {
    /// The connection itself is closing: let it flush its last frames.
    Requested,
    /// The hub gives up on it (stuck or gone): stop its socket at once.
    Kicked,
}

/// Why a frame could not be queued for a connection.
enum PushFailure {
    /// Queue full: the client is not keeping up.
    Stuck,
    /// The connection is already gone.
    Gone,
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
                Command::CloseSession(session_id) => self.close_session(&session_id),
                Command::CloseUser(user) => self.close_user(&user),
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
            queue,
            kick,
            max_upload_bytes,
        } = registration;
        if self.shutting_down {
            let _ = queue.try_send(Outgoing::Close(going_away()));
            return;
        }
        let first_connection = {
            let entry = self
                .online
                .entry(user.id.clone())
                .or_insert_with(|| (user.clone(), 0));
            entry.1 += 1;
            entry.1 == 1
        };
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
        };
        // The queue is new and empty: the welcome always fits.
        let _ = queue.try_send(Outgoing::Frame(welcome.to_json().into()));
        self.connections.insert(
            conn,
            Connection {
                user: user.clone(),
                session_id,
                channels: channels.into_iter().map(|c| c.id).collect(),
                away: false,
                queue,
                kick,
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
                    entry.1 -= 1;
                    entry.1 == 0
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
        self.connections
            .iter()
            .filter(|(_, c)| &c.user.id == user)
            .map(|(id, _)| *id)
            .collect()
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
            .connections
            .values()
            .filter(|c| c.user.id == user.id)
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

    fn close_session(&mut self, session_id: &str) {
        let targets: Vec<ConnId> = self
            .connections
            .iter()
            .filter(|(_, c)| c.session_id == session_id)
            .map(|(id, _)| *id)
            .collect();
        self.close_all(targets, signed_out());
    }

    fn close_user(&mut self, user: &UserId) {
        let targets: Vec<ConnId> = self
            .connections
            .iter()
            .filter(|(_, c)| &c.user.id == user)
            .map(|(id, _)| *id)
            .collect();
        self.close_all(targets, signed_out());
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
                    .queue
                    .try_send(Outgoing::Close(reason.clone()))
                    .is_err()
            {
                self.remove(conn, Removal::Kicked);
            }
        }
    }

    fn online_users(&self) -> Vec<UserInfo> {
        let mut users: Vec<UserInfo> = self.online.values().map(|(u, _)| u.clone()).collect();
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
            if let Err(failure) = push(connection, frame) {
                if let PushFailure::Stuck = failure {
                    tracing::warn!(
                        conn,
                        user = %connection.user.name,
                        "outgoing queue full; disconnecting a client that is not keeping up"
                    );
                }
                failed.push(conn);
            }
        }
        failed
    }
}

fn push(connection: &Connection, frame: &ByteString) -> Result<(), PushFailure> {
    connection
        .queue
        .try_send(Outgoing::Frame(frame.clone()))
        .map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => PushFailure::Stuck,
            mpsc::error::TrySendError::Closed(_) => PushFailure::Gone,
        })
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

//! The hub: one task that owns every live connection, which rooms they are in
//! and who is online, and fans messages out. It holds no locks and never waits
//! on a socket: each connection has an outgoing queue bounded in frames and
//! bytes ([`Outbox`]), and a connection whose queue is full is disconnected
//! (it reconnects and catches up by sequence number) instead of slowing the
//! room down or growing memory. Connections are indexed by user, so finding
//! a user's sockets never scans everyone.
//!
//! A broadcast is serialized and framed once; every recipient gets a clone of the
//! same reference-counted bytes, a complete WebSocket frame.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use actix_http::ws::{CloseCode, CloseReason};
use actix_web::web::Bytes;
use shared::protocol::{CLOSE_SIGNED_OUT, ChannelInfo, ChannelKind, ONLINE_PAGE, PresenceStatus};
use shared::{ChannelId, Seq, ServerMsg, UserId, UserInfo};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::fanout::{
    ConnId, Delivery, Event, FanOut, FanOutFuture, LocalPresence, OnlinePage, RoomChange, Sessions,
    next_conn_id,
};
use super::frames;
pub use super::outbox::Outgoing;
use super::outbox::{Outbox, PushFailure};
use super::presence::{Coalesced, Presence};
use crate::metrics::Metrics;

/// Commands waiting for the hub before senders have to wait.
const COMMAND_QUEUE: usize = 8_192;

/// How often coalesced notices (presence summaries, joins to big channels) go out.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(1);

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
    /// Told to the client in `welcome`.
    pub mention_everyone_max_members: u32,
    /// The database's epoch, told in `welcome`.
    pub epoch: String,
    /// The user's role, told in `welcome`.
    pub role: shared::roles::Role,
    /// Until when the user is muted, told in `welcome`.
    pub muted_until: Option<i64>,
}

enum Command {
    Connect(Registration),
    Disconnect(ConnId),
    Publish(Event),
    /// An event, and word back once it has been applied.
    Apply(Event, oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
    Online(oneshot::Sender<Vec<UserInfo>>),
    Presence(oneshot::Sender<HashMap<UserId, PresenceStatus>>),
    OnlinePage {
        conn: ConnId,
        query: String,
        after: Option<String>,
        reply: oneshot::Sender<OnlinePage>,
    },
    /// From now on, tell `sink` when a user's presence through this node's
    /// own connections changes (a node of a cluster).
    ReportPresence(mpsc::Sender<LocalPresence>),
    /// Everyone with a connection to this node, and how present (one
    /// version for all, later than every change reported before).
    LocalPresence(oneshot::Sender<(u64, Vec<LocalPresence>)>),
    /// From now on, tell `sink` when a channel's room opens or closes here.
    ReportRooms(mpsc::UnboundedSender<RoomChange>),
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

    /// Removes a connection (a no-op if the hub already dropped it).
    pub async fn disconnect(&self, conn: ConnId) {
        let _ = self.commands.send(Command::Disconnect(conn)).await;
    }

    /// Sends every connection a close frame and refuses new ones.
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Has the hub tell `sink` whenever someone's presence through this
    /// node's own connections changes (never waiting: a full sink misses
    /// the change, and the next full report corrects it).
    pub async fn report_presence(&self, sink: mpsc::Sender<LocalPresence>) {
        let _ = self.commands.send(Command::ReportPresence(sink)).await;
    }

    /// Has the hub tell `sink` whenever a channel's room gets its first
    /// connection here or loses its last, starting with the rooms open now.
    /// Unbounded, since a lost report would leave a room deaf: it carries
    /// one small entry per room opened or closed, and its reader only keeps
    /// subscriptions.
    pub async fn report_rooms(&self, sink: mpsc::UnboundedSender<RoomChange>) {
        let _ = self.commands.send(Command::ReportRooms(sink)).await;
    }

    /// Everyone connected to this node, and how present, as of the report
    /// numbered as returned.
    pub async fn local_presence(&self) -> (u64, Vec<LocalPresence>) {
        let (reply, wait) = oneshot::channel();
        if self
            .commands
            .send(Command::LocalPresence(reply))
            .await
            .is_err()
        {
            return (0, Vec::new());
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

impl FanOut for HubHandle {
    fn publish(&self, event: Event) -> FanOutFuture<'_, ()> {
        Box::pin(async move {
            let _ = self.commands.send(Command::Publish(event)).await;
        })
    }

    fn close_sessions(&self, user: UserId, sessions: Sessions) -> FanOutFuture<'_, ()> {
        Box::pin(async move {
            let (done, applied) = oneshot::channel();
            let event = Event::CloseSessions { user, sessions };
            if self
                .commands
                .send(Command::Apply(event, done))
                .await
                .is_ok()
            {
                let _ = applied.await;
            }
        })
    }

    fn online_page(
        &self,
        conn: ConnId,
        query: String,
        after: Option<String>,
    ) -> FanOutFuture<'_, OnlinePage> {
        Box::pin(async move {
            let (reply, wait) = oneshot::channel();
            let command = Command::OnlinePage {
                conn,
                query,
                after,
                reply,
            };
            if self.commands.send(command).await.is_err() {
                return OnlinePage::default();
            }
            wait.await.unwrap_or_default()
        })
    }

    fn presence(&self) -> FanOutFuture<'_, HashMap<UserId, PresenceStatus>> {
        Box::pin(async move {
            let (reply, wait) = oneshot::channel();
            if self.commands.send(Command::Presence(reply)).await.is_err() {
                return HashMap::new();
            }
            wait.await.unwrap_or_default()
        })
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

#[derive(Default)]
struct Hub {
    connections: HashMap<ConnId, Connection>,
    rooms: HashMap<ChannelId, HashSet<ConnId>>,
    /// Who is online, and who hears about whom.
    presence: Presence,
    /// Joins to big channels since the last tick.
    pending_joins: HashMap<ChannelId, Coalesced>,
    /// People present through other server nodes: the stand-in connection
    /// that counts them online here, and whether they are away there.
    elsewhere: HashMap<UserId, Elsewhere>,
    /// Where changes of presence through this node's own connections are
    /// told, and what was told last (a node of a cluster).
    report: Option<mpsc::Sender<LocalPresence>>,
    reported: HashMap<UserId, PresenceStatus>,
    /// Reports made so far (changes and full lists).
    report_version: u64,
    /// Where rooms opening and closing are told (a node of a cluster whose
    /// bus routes by room).
    room_report: Option<mpsc::UnboundedSender<RoomChange>>,
    shutting_down: bool,
    metrics: Metrics,
}

/// Someone present through other nodes.
struct Elsewhere {
    conn: ConnId,
    away: bool,
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
        let mut ticks = tokio::time::interval(SUMMARY_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let command = tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => command,
                    None => break,
                },
                _ = ticks.tick() => {
                    self.send_summaries();
                    continue;
                }
            };
            match command {
                Command::Connect(registration) => self.connect(registration),
                Command::Disconnect(conn) => self.remove(conn, Removal::Requested),
                Command::Publish(event) => self.apply(event),
                Command::Apply(event, done) => {
                    self.apply(event);
                    let _ = done.send(());
                }
                Command::Shutdown(done) => {
                    self.shutdown();
                    let _ = done.send(());
                }
                Command::Online(reply) => {
                    let _ = reply.send(self.online_users());
                }
                Command::Presence(reply) => {
                    let _ = reply.send(self.presence.statuses());
                }
                Command::OnlinePage {
                    conn,
                    query,
                    after,
                    reply,
                } => {
                    let _ = reply.send(self.presence.page(conn, &query, after.as_deref()));
                }
                Command::ReportPresence(sink) => self.report = Some(sink),
                Command::ReportRooms(sink) => {
                    for channel in self.rooms.keys() {
                        let _ = sink.send(RoomChange {
                            channel: channel.clone(),
                            open: true,
                            after: None,
                        });
                    }
                    self.room_report = Some(sink);
                }
                Command::LocalPresence(reply) => {
                    let _ = reply.send(self.local_presence());
                }
            }
        }
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Subscribe {
                user,
                channel,
                announce,
            } => self.subscribe(&user, channel, announce),
            Event::Unsubscribe {
                user,
                channel,
                announce,
            } => self.unsubscribe(&user, &channel, announce),
            Event::ToRoom {
                channel,
                message,
                except_user,
            } => {
                let targets = self.room_members(&channel, except_user.as_ref());
                self.push_all(targets, &frames::text(&message));
            }
            Event::ToUser {
                user,
                message,
                except_conn,
            } => {
                let targets: Vec<ConnId> = self
                    .connections_of(&user)
                    .into_iter()
                    .filter(|c| Some(*c) != except_conn)
                    .collect();
                self.push_all(targets, &frames::text(&message));
            }
            Event::MemberJoined { channel, user } => self.member_joined(channel, user),
            Event::Deliver(deliveries) => {
                for delivery in deliveries {
                    self.deliver(delivery);
                }
            }
            Event::SetAway { conn, away } => self.set_away(conn, away),
            Event::CloseSessions { user, sessions } => self.revoke(&user, &sessions),
            Event::Elsewhere { user, status } => self.elsewhere(user, status),
        }
    }

    /// Someone's presence through other nodes changed: counted here under
    /// a stand-in connection while they are present anywhere else.
    fn elsewhere(&mut self, user: UserInfo, status: PresenceStatus) {
        if status == PresenceStatus::Offline {
            let Some(stand_in) = self.elsewhere.remove(&user.id) else {
                return;
            };
            if self.presence.disconnect(stand_in.conn, &user.id) {
                self.announce_left(user);
            } else {
                self.update_away(&user);
            }
            return;
        }
        let away = status == PresenceStatus::Away;
        if let Some(stand_in) = self.elsewhere.get_mut(&user.id) {
            stand_in.away = away;
        } else {
            let conn = next_conn_id();
            self.elsewhere
                .insert(user.id.clone(), Elsewhere { conn, away });
            if self.presence.connect_elsewhere(conn, &user) {
                self.announce_came(&user);
            }
        }
        self.update_away(&user);
    }

    /// How `user` is present through this node's own connections.
    fn local_status(&self, user: &UserId) -> PresenceStatus {
        let mut connections = self.connections_of(user).into_iter().peekable();
        if connections.peek().is_none() {
            PresenceStatus::Offline
        } else if connections.all(|conn| self.connections.get(&conn).is_some_and(|c| c.away)) {
            PresenceStatus::Away
        } else {
            PresenceStatus::Online
        }
    }

    fn local_presence(&mut self) -> (u64, Vec<LocalPresence>) {
        self.report_version += 1;
        let version = self.report_version;
        let mut seen = HashSet::new();
        let everyone = self
            .connections
            .values()
            .filter(|c| seen.insert(c.user.id.clone()))
            .map(|c| LocalPresence {
                user: c.user.clone(),
                status: self.local_status(&c.user.id),
                version,
            })
            .collect();
        (version, everyone)
    }

    /// Tells the other nodes (when in a cluster) if `user`'s presence
    /// through this node changed.
    fn report_change(&mut self, user: &UserInfo) {
        if self.report.is_none() {
            return;
        }
        let status = self.local_status(&user.id);
        let before = self
            .reported
            .get(&user.id)
            .copied()
            .unwrap_or(PresenceStatus::Offline);
        if status == before {
            return;
        }
        if status == PresenceStatus::Offline {
            self.reported.remove(&user.id);
        } else {
            self.reported.insert(user.id.clone(), status);
        }
        self.report_version += 1;
        let change = LocalPresence {
            user: user.clone(),
            status,
            version: self.report_version,
        };
        if let Some(sink) = &self.report
            && sink.try_send(change).is_err()
        {
            tracing::warn!(
                "presence change not reported to the other nodes (the next report corrects it)"
            );
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
            mention_everyone_max_members,
            epoch,
            role,
            muted_until,
        } = registration;
        if self.shutting_down {
            let _ = outbox.push(Outgoing::Close(going_away()));
            return;
        }
        let contacts: Vec<UserId> = channels
            .iter()
            .filter(|c| c.kind == ChannelKind::Direct)
            .flat_map(|c| c.direct_with.iter().map(|u| u.id.clone()))
            .collect();
        let connected = self.presence.connect(conn, &user, &contacts);
        for channel in &channels {
            self.join_room(&channel.id, conn, Some(channel.last_seq));
        }
        let welcome = ServerMsg::Welcome {
            user: user.clone(),
            channels: channels.clone(),
            online: connected.online,
            online_count: connected.online_count,
            away: connected.away,
            max_upload_bytes,
            mention_everyone_max_members,
            blocked,
            role,
            muted_until,
            epoch,
        };
        // The queue is new and empty: the welcome fits (it is refused only
        // if it alone is over the byte bound, and then the client gets closed).
        if outbox
            .push(Outgoing::Frame(frames::text(&welcome)))
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
        if connected.first {
            self.announce_came(&user);
        } else if self.elsewhere.contains_key(&user.id) {
            self.update_away(&user);
        }
        self.report_change(&user);
    }

    /// Tells who hears about `user` that they came online.
    fn announce_came(&mut self, user: &UserInfo) {
        self.announce(
            &user.id,
            ServerMsg::UserJoined { user: user.clone() },
            ServerMsg::Presence {
                user: user.clone(),
                status: PresenceStatus::Online,
            },
        );
    }

    /// Tells who hears about `user` that they went offline.
    fn announce_left(&mut self, user: UserInfo) {
        let id = user.id.clone();
        self.announce(
            &id,
            ServerMsg::UserLeft { user: user.clone() },
            ServerMsg::Presence {
                user,
                status: PresenceStatus::Offline,
            },
        );
    }

    /// Tells those who see everyone `one_by_one`, and those who were shown
    /// `user` `to_watchers`.
    fn announce(&mut self, user: &UserId, one_by_one: ServerMsg, to_watchers: ServerMsg) {
        let audience = self.presence.audience(user);
        let failed = [
            (audience.see_all, one_by_one),
            (audience.watchers, to_watchers),
        ]
        .into_iter()
        .filter(|(targets, _)| !targets.is_empty())
        .flat_map(|(targets, message)| {
            self.push_collecting_failures(targets, &frames::text(&message))
        })
        .collect::<Vec<_>>();
        for conn in failed {
            self.remove(conn, Removal::Kicked);
        }
    }

    /// A join to a channel: one by one in small rooms, coalesced in big ones.
    fn member_joined(&mut self, channel: ChannelId, user: UserInfo) {
        let room_size = self.rooms.get(&channel).map_or(0, HashSet::len);
        if room_size <= ONLINE_PAGE {
            let targets = self.room_members(&channel, Some(&user.id));
            self.push_all(
                targets,
                &frames::text(&ServerMsg::MemberJoined { channel, user }),
            );
        } else {
            self.pending_joins.entry(channel).or_default().add(user);
        }
    }

    /// The coalesced notices of the last tick: who came and went (to the
    /// connections that do not see everyone), and joins to big channels.
    fn send_summaries(&mut self) {
        if let Some(summary) = self.presence.take_summary() {
            let targets: Vec<ConnId> = self
                .connections
                .keys()
                .copied()
                .filter(|conn| !self.presence.sees_all(*conn))
                .collect();
            self.push_all(targets, &frames::text(&summary));
        }
        for (channel, joined) in std::mem::take(&mut self.pending_joins) {
            let targets = self.room_members(&channel, None);
            let message = ServerMsg::MembersJoined {
                channel,
                users: joined.named,
                others: joined.others,
            };
            self.push_all(targets, &frames::text(&message));
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
            let user = connection.user.clone();
            for channel in &connection.channels {
                self.leave_room(channel, conn);
            }
            let last_connection = self.presence.disconnect(conn, &connection.user.id);
            if last_connection && !self.shutting_down {
                let audience = self.presence.audience(&connection.user.id);
                let one_by_one = frames::text(&ServerMsg::UserLeft {
                    user: connection.user.clone(),
                });
                let to_watchers = frames::text(&ServerMsg::Presence {
                    user: connection.user,
                    status: PresenceStatus::Offline,
                });
                for (targets, frame) in [
                    (audience.see_all, one_by_one),
                    (audience.watchers, to_watchers),
                ] {
                    pending.extend(
                        self.push_collecting_failures(targets, &frame)
                            .into_iter()
                            .map(|conn| (conn, Removal::Kicked)),
                    );
                }
            } else if !last_connection && self.elsewhere.contains_key(&user.id) {
                self.update_away(&user);
            }
            self.report_change(&user);
        }
    }

    /// Sends a stored message to its channel's room (but the sender's
    /// connection), then the sender's ack or refusal to the sender.
    fn deliver(&mut self, delivery: Delivery) {
        if delivery.to_others.is_some()
            && let Some(connection) = self.connections.get(&delivery.origin)
        {
            self.presence.touch(&connection.user.id);
        }
        if let Some(message) = &delivery.to_others {
            let recipients: Vec<ConnId> = self
                .rooms
                .get(&delivery.channel)
                .map(|room| {
                    room.iter()
                        .copied()
                        .filter(|&c| c != delivery.origin)
                        .collect()
                })
                .unwrap_or_default();
            self.push_all(recipients, &frames::text(message));
        }
        self.push_all(vec![delivery.origin], &frames::text(&delivery.to_sender));
    }

    /// The user's connections to this node (not the stand-in counting
    /// them present elsewhere).
    fn connections_of(&self, user: &UserId) -> Vec<ConnId> {
        self.presence
            .connections_of(user)
            .filter(|conn| self.connections.contains_key(conn))
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
        // What the joiner is told they loaded: the rest is theirs live.
        let after = match &announce {
            Some(ServerMsg::ChannelJoined { channel }) => Some(channel.last_seq),
            _ => None,
        };
        for conn in &conns {
            if let Some(connection) = self.connections.get_mut(conn) {
                connection.channels.insert(channel.clone());
            }
            self.join_room(&channel, *conn, after);
        }
        if let Some(message) = announce {
            self.push_all(conns, &frames::text(&message));
        }
    }

    fn unsubscribe(&mut self, user: &UserId, channel: &ChannelId, announce: ServerMsg) {
        let conns = self.connections_of(user);
        for conn in &conns {
            if let Some(connection) = self.connections.get_mut(conn) {
                connection.channels.remove(channel);
            }
            self.leave_room(channel, *conn);
        }
        self.push_all(conns, &frames::text(&announce));
    }

    /// Puts `conn` in `channel`'s room (`after`: the channel's last number
    /// as the connection loaded it, when known).
    fn join_room(&mut self, channel: &ChannelId, conn: ConnId, after: Option<Seq>) {
        let room = self.rooms.entry(channel.clone()).or_default();
        let opened = room.is_empty();
        room.insert(conn);
        if opened {
            self.report_room(channel, true, after);
        }
    }

    fn leave_room(&mut self, channel: &ChannelId, conn: ConnId) {
        let Some(room) = self.rooms.get_mut(channel) else {
            return;
        };
        room.remove(&conn);
        if room.is_empty() {
            self.rooms.remove(channel);
            self.report_room(channel, false, None);
        }
    }

    fn report_room(&self, channel: &ChannelId, open: bool, after: Option<Seq>) {
        if let Some(sink) = &self.room_report {
            let _ = sink.send(RoomChange {
                channel: channel.clone(),
                open,
                after,
            });
        }
    }

    fn set_away(&mut self, conn: ConnId, away: bool) {
        let Some(connection) = self.connections.get_mut(&conn) else {
            return;
        };
        connection.away = away;
        let user = connection.user.clone();
        self.update_away(&user);
        self.report_change(&user);
    }

    /// Whether `user` is away: on every connection here and elsewhere;
    /// tells who hears about them when that changed.
    fn update_away(&mut self, user: &UserInfo) {
        let all_away = self.local_status(&user.id) != PresenceStatus::Online
            && self.elsewhere.get(&user.id).is_none_or(|e| e.away);
        if self.presence.set_away(&user.id, all_away) {
            let status = if all_away {
                PresenceStatus::Away
            } else {
                PresenceStatus::Online
            };
            let message = ServerMsg::Presence {
                user: user.clone(),
                status,
            };
            self.announce(&user.id, message.clone(), message);
        }
    }

    /// Ends the user's connections whose session `matches` at once: they
    /// leave every room now, their readers stop, and their writers send a
    /// close frame (to a client that still reads) and end.
    fn revoke(&mut self, user: &UserId, sessions: &Sessions) {
        let targets: Vec<ConnId> = self
            .connections_of(user)
            .into_iter()
            .filter(|conn| {
                self.connections
                    .get(conn)
                    .is_some_and(|c| sessions.contains(&c.session_id))
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
        self.presence.everyone()
    }

    /// Queues `frame` for each target; drops the ones that are stuck or gone.
    fn push_all(&mut self, targets: Vec<ConnId>, frame: &Bytes) {
        let failed = self.push_collecting_failures(targets, frame);
        for conn in failed {
            self.remove(conn, Removal::Kicked);
        }
    }

    fn push_collecting_failures(&self, targets: Vec<ConnId>, frame: &Bytes) -> Vec<ConnId> {
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

#[cfg(test)]
mod tests {
    //! The hub on its own: connections are in-memory queues, no sockets.

    use super::*;
    use crate::realtime::outbox::{OutboxLimits, OutboxReceiver, outbox};

    fn limits(frames: usize) -> OutboxLimits {
        OutboxLimits {
            frames,
            bytes: 1 << 20,
            reply_bytes: 1 << 17,
        }
    }

    fn user(name: &str) -> UserInfo {
        UserInfo {
            id: UserId(format!("id-{name}")),
            name: name.to_owned(),
        }
    }

    fn channel(id: &str) -> ChannelInfo {
        ChannelInfo {
            id: ChannelId(id.to_owned()),
            name: id.to_owned(),
            ..ChannelInfo::default()
        }
    }

    /// One registered connection, as its socket writer would see it.
    struct Tab {
        conn: ConnId,
        queue: OutboxReceiver,
        kick: CancellationToken,
        stop_reading: CancellationToken,
    }

    impl Tab {
        /// Everything queued for this connection so far.
        fn take(&mut self) -> Vec<Outgoing> {
            std::iter::from_fn(|| self.queue.try_recv()).collect()
        }

        /// The protocol messages queued so far (close frames and pongs left out).
        fn messages(&mut self) -> Vec<ServerMsg> {
            self.take()
                .into_iter()
                .filter_map(|item| match item {
                    Outgoing::Frame(bytes) => Some(
                        serde_json::from_slice(frames::payload_of(&bytes)).expect("valid JSON"),
                    ),
                    _ => None,
                })
                .collect()
        }
    }

    struct Harness {
        hub: HubHandle,
        next: ConnId,
    }

    impl Harness {
        fn new() -> Self {
            let (hub, _task) = HubHandle::start(&tokio::runtime::Handle::current(), Metrics::new());
            Self { hub, next: 1 }
        }

        async fn connect(&mut self, who: &UserInfo, session: &str, rooms: &[&str]) -> Tab {
            self.connect_with(who, session, rooms, 64).await
        }

        async fn connect_with(
            &mut self,
            who: &UserInfo,
            session: &str,
            rooms: &[&str],
            frames: usize,
        ) -> Tab {
            let conn = self.next;
            self.next += 1;
            let (outbox, queue) = outbox(limits(frames), Metrics::new());
            let kick = CancellationToken::new();
            let stop_reading = CancellationToken::new();
            self.hub
                .connect(Registration {
                    conn,
                    user: who.clone(),
                    session_id: session.to_owned(),
                    channels: rooms.iter().map(|id| channel(id)).collect(),
                    blocked: Vec::new(),
                    outbox,
                    kick: kick.clone(),
                    stop_reading: stop_reading.clone(),
                    max_upload_bytes: 1,
                    mention_everyone_max_members: 1,
                    epoch: "test".into(),
                    role: shared::roles::Role::Member,
                    muted_until: None,
                })
                .await;
            self.settle().await;
            Tab {
                conn,
                queue,
                kick,
                stop_reading,
            }
        }

        /// Returns once the hub has handled everything sent before.
        async fn settle(&self) {
            self.hub.online().await;
        }

        async fn publish(&self, event: Event) {
            self.hub.publish(event).await;
            self.settle().await;
        }
    }

    fn typing(room: &str, who: &UserInfo) -> ServerMsg {
        ServerMsg::Typing {
            channel: ChannelId(room.to_owned()),
            user: who.clone(),
        }
    }

    fn to_room(room: &str, message: ServerMsg, except_user: Option<&UserInfo>) -> Event {
        Event::ToRoom {
            channel: ChannelId(room.to_owned()),
            message,
            except_user: except_user.map(|u| u.id.clone()),
        }
    }

    #[tokio::test]
    async fn a_new_connection_gets_welcome_first_and_others_learn_it_came_online() {
        let mut hub = Harness::new();
        let (alice, bob) = (user("alice"), user("bob"));
        let mut a = hub.connect(&alice, "s1", &["general"]).await;
        let mut b = hub.connect(&bob, "s2", &["general"]).await;
        let seen = b.messages();
        let ServerMsg::Welcome { online, .. } = &seen[0] else {
            panic!("expected welcome first, got {seen:?}");
        };
        assert_eq!(online, &vec![alice.clone(), bob.clone()]);
        let seen = a.messages();
        assert!(matches!(seen[0], ServerMsg::Welcome { .. }));
        assert_eq!(seen[1..], [ServerMsg::UserJoined { user: bob.clone() }]);
        // A second tab of someone already online is not news.
        let _b2 = hub.connect(&bob, "s2", &["general"]).await;
        assert!(a.messages().is_empty());
    }

    #[tokio::test]
    async fn room_messages_reach_its_members_but_the_excepted_user() {
        let mut hub = Harness::new();
        let (alice, bob, carol) = (user("alice"), user("bob"), user("carol"));
        let mut a = hub.connect(&alice, "s1", &["dev"]).await;
        let mut b = hub.connect(&bob, "s2", &["dev"]).await;
        let mut c = hub.connect(&carol, "s3", &["general"]).await;
        for tab in [&mut a, &mut b, &mut c] {
            tab.messages();
        }
        hub.publish(to_room("dev", typing("dev", &alice), Some(&alice)))
            .await;
        assert!(a.messages().is_empty());
        assert_eq!(b.messages(), [typing("dev", &alice)]);
        assert!(c.messages().is_empty());
    }

    #[tokio::test]
    async fn a_user_is_reached_on_every_tab_but_the_excepted_one() {
        let mut hub = Harness::new();
        let alice = user("alice");
        let mut first = hub.connect(&alice, "s1", &[]).await;
        let mut second = hub.connect(&alice, "s2", &[]).await;
        first.messages();
        second.messages();
        let read = ServerMsg::ReadUpTo {
            channel: ChannelId("dev".into()),
            seq: 3,
        };
        hub.publish(Event::ToUser {
            user: alice.id.clone(),
            message: read.clone(),
            except_conn: Some(first.conn),
        })
        .await;
        assert!(first.messages().is_empty());
        assert_eq!(second.messages(), [read]);
    }

    #[tokio::test]
    async fn a_delivery_acks_the_sender_and_broadcasts_to_the_others() {
        let mut hub = Harness::new();
        let (alice, bob) = (user("alice"), user("bob"));
        let mut a = hub.connect(&alice, "s1", &["dev"]).await;
        let mut a2 = hub.connect(&alice, "s1", &["dev"]).await;
        let mut b = hub.connect(&bob, "s2", &["dev"]).await;
        for tab in [&mut a, &mut a2, &mut b] {
            tab.messages();
        }
        let (ack, message) = (typing("ack", &alice), typing("dev", &alice));
        hub.publish(Event::Deliver(vec![Delivery {
            origin: a.conn,
            channel: ChannelId("dev".into()),
            to_sender: ack.clone(),
            to_others: Some(message.clone()),
        }]))
        .await;
        assert_eq!(a.messages(), [ack]);
        // The sender's other tab shows the message like everyone else.
        assert_eq!(a2.messages(), std::slice::from_ref(&message));
        assert_eq!(b.messages(), [message]);
    }

    #[tokio::test]
    async fn unsubscribed_users_hear_nothing_more_from_the_room() {
        let mut hub = Harness::new();
        let (alice, bob) = (user("alice"), user("bob"));
        let mut a = hub.connect(&alice, "s1", &["dev"]).await;
        let mut b = hub.connect(&bob, "s2", &[]).await;
        hub.publish(Event::Subscribe {
            user: bob.id.clone(),
            channel: ChannelId("dev".into()),
            announce: Some(typing("joined", &bob)),
        })
        .await;
        a.messages();
        assert_eq!(b.messages().last(), Some(&typing("joined", &bob)));
        hub.publish(to_room("dev", typing("dev", &alice), None))
            .await;
        assert_eq!(b.messages(), [typing("dev", &alice)]);
        hub.publish(Event::Unsubscribe {
            user: bob.id.clone(),
            channel: ChannelId("dev".into()),
            announce: typing("left", &bob),
        })
        .await;
        hub.publish(to_room("dev", typing("dev", &alice), None))
            .await;
        assert_eq!(b.messages(), [typing("left", &bob)]);
        assert_eq!(a.messages(), [typing("dev", &alice), typing("dev", &alice)]);
    }

    #[tokio::test]
    async fn revoking_a_session_closes_only_its_sockets_and_stops_their_reading() {
        let mut hub = Harness::new();
        let alice = user("alice");
        let mut phone = hub.connect(&alice, "phone", &["dev"]).await;
        let mut laptop = hub.connect(&alice, "laptop", &["dev"]).await;
        phone.take();
        laptop.take();
        hub.publish(Event::CloseSessions {
            user: alice.id.clone(),
            sessions: Sessions::One("phone".into()),
        })
        .await;
        assert!(phone.stop_reading.is_cancelled());
        assert!(matches!(
            phone.take().as_slice(),
            [Outgoing::Close(reason)] if reason.code == CloseCode::Other(CLOSE_SIGNED_OUT)
        ));
        hub.publish(to_room("dev", typing("dev", &alice), None))
            .await;
        assert!(phone.take().is_empty());
        assert_eq!(laptop.messages(), [typing("dev", &alice)]);
        assert!(!laptop.stop_reading.is_cancelled());
        // Everywhere but the laptop (a password change made there).
        hub.publish(Event::CloseSessions {
            user: alice.id.clone(),
            sessions: Sessions::AllBut(Some("laptop".into())),
        })
        .await;
        assert!(!laptop.stop_reading.is_cancelled());
        hub.publish(Event::CloseSessions {
            user: alice.id.clone(),
            sessions: Sessions::AllBut(None),
        })
        .await;
        assert!(laptop.stop_reading.is_cancelled());
        assert!(hub.hub.online().await.is_empty());
    }

    #[tokio::test]
    async fn a_connection_that_does_not_keep_up_is_dropped_and_others_hear_it_left() {
        let mut hub = Harness::new();
        let (alice, bob) = (user("alice"), user("bob"));
        let mut a = hub.connect(&alice, "s1", &["dev"]).await;
        // Room for its welcome and two more frames, and it reads nothing.
        let b = hub.connect_with(&bob, "s2", &["dev"], 3).await;
        a.messages();
        for _ in 0..3 {
            hub.publish(to_room("dev", typing("dev", &alice), Some(&alice)))
                .await;
        }
        assert!(b.kick.is_cancelled());
        assert_eq!(a.messages(), [ServerMsg::UserLeft { user: bob.clone() }]);
        assert_eq!(hub.hub.online().await, [alice]);
    }

    #[tokio::test]
    async fn someone_is_away_only_when_every_tab_is() {
        let mut hub = Harness::new();
        let (alice, bob) = (user("alice"), user("bob"));
        let mut a = hub.connect(&alice, "s1", &[]).await;
        let b1 = hub.connect(&bob, "s2", &[]).await;
        let b2 = hub.connect(&bob, "s2", &[]).await;
        a.messages();
        hub.publish(Event::SetAway {
            conn: b1.conn,
            away: true,
        })
        .await;
        assert!(a.messages().is_empty());
        hub.publish(Event::SetAway {
            conn: b2.conn,
            away: true,
        })
        .await;
        let away = ServerMsg::Presence {
            user: bob.clone(),
            status: PresenceStatus::Away,
        };
        assert_eq!(a.messages(), [away]);
        assert_eq!(
            hub.hub.presence().await.get(&bob.id),
            Some(&PresenceStatus::Away)
        );
        hub.publish(Event::SetAway {
            conn: b1.conn,
            away: false,
        })
        .await;
        let back = ServerMsg::Presence {
            user: bob.clone(),
            status: PresenceStatus::Online,
        };
        assert_eq!(a.messages(), [back]);
    }

    #[tokio::test]
    async fn shutting_down_closes_everyone_and_turns_new_connections_away() {
        let mut hub = Harness::new();
        let alice = user("alice");
        let mut a = hub.connect(&alice, "s1", &[]).await;
        a.take();
        hub.hub.shutdown().await;
        assert!(matches!(
            a.take().as_slice(),
            [Outgoing::Close(reason)] if reason.code == CloseCode::Away
        ));
        let mut late = hub.connect(&user("bob"), "s2", &[]).await;
        assert!(matches!(late.take().as_slice(), [Outgoing::Close(_)]));
    }
}

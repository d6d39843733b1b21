//! The bus on NATS. Notices go to subjects by their scope
//! ([`shared::cluster::Scope`]): `<prefix>.nodes` for every node,
//! `<prefix>.room.<channel>` and `<prefix>.user.<user>` for the nodes
//! serving that room or person. A node subscribes to the rooms and people
//! its connections are in, as the hub reports them ([`Interest`]), so a
//! node hears about its own share of the community only; past a handful of
//! nodes this is what keeps every node from reading every wake-up.
//!
//! Notices from one node reach another in the order they were published
//! (one connection each way, one task reading every subscription). When
//! the connection drops, or a subscription overflows, notices may be lost:
//! the listener says so ([`Heard::MaybeMissed`]) and the sequencer reads
//! what changed meanwhile. A new room subscription is confirmed with the
//! server before the sequencer is told ([`Heard::Followed`]), so it can
//! read what was committed before the subscription took hold.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event, RequestErrorKind, Subscriber};
use futures_util::StreamExt;
use futures_util::stream::{AbortHandle, Abortable, SelectAll};
use shared::cluster::{About, Notice, Scope};
use shared::{ChannelId, Seq, UserId};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Heard, Interest};

/// Notices buffered per subscription before NATS drops them (and the
/// listener reads the database instead).
const BUFFERED_PER_SUBSCRIPTION: usize = 4096;

/// How long a new subscription may take to be confirmed before the
/// listener goes on without the confirmation (and the longest wait for
/// published notices to leave at shutdown).
const CONFIRM_WITHIN: Duration = Duration::from_secs(5);

/// This node's end of a NATS bus; cheap to clone.
#[derive(Clone)]
pub struct NatsBus {
    client: Client,
    node: Arc<str>,
    prefix: Arc<str>,
    up: Arc<AtomicBool>,
    /// Notices were dropped since this was last taken.
    dropped: Arc<AtomicBool>,
    interest: mpsc::UnboundedSender<Interest>,
    /// What the listener takes when it starts.
    waiting: Arc<Mutex<Option<Inputs>>>,
}

struct Inputs {
    interest: mpsc::UnboundedReceiver<Interest>,
    events: mpsc::UnboundedReceiver<Event>,
}

impl NatsBus {
    /// Connects to the NATS server at `url`; the subjects of this cluster
    /// start with `prefix` (nodes of other clusters on the same server use
    /// another one).
    pub async fn connect(
        url: &str,
        node: &str,
        prefix: &str,
    ) -> Result<Self, async_nats::ConnectError> {
        let (events_tx, events) = mpsc::unbounded_channel();
        let client = ConnectOptions::new()
            .name(format!("chat node {node}"))
            .subscription_capacity(BUFFERED_PER_SUBSCRIPTION)
            .max_reconnects(None)
            .event_callback(move |event| {
                let events = events_tx.clone();
                async move {
                    let _ = events.send(event);
                }
            })
            .connect(url)
            .await?;
        let (interest, interest_rx) = mpsc::unbounded_channel();
        Ok(Self {
            client,
            node: Arc::from(node),
            prefix: Arc::from(prefix),
            // Up once the listener has its subscriptions.
            up: Arc::new(AtomicBool::new(false)),
            dropped: Arc::new(AtomicBool::new(false)),
            interest,
            waiting: Arc::new(Mutex::new(Some(Inputs {
                interest: interest_rx,
                events,
            }))),
        })
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// Tells the nodes in the notice's scope.
    pub async fn publish(&self, about: About) {
        let subject = match about.scope() {
            Scope::Nodes => self.nodes_subject(),
            Scope::Control => self.control_subject(),
            Scope::Room(channel) => self.room_subject(channel),
            Scope::User(user) => self.user_subject(user),
        };
        let json = Notice {
            node: self.node.to_string(),
            about,
        }
        .to_json();
        self.send(subject, json).await;
    }

    /// Tells every node a notice made already.
    pub async fn send_to_nodes(&self, json: &str) {
        self.send(self.nodes_subject(), json.to_owned()).await;
    }

    /// Hands a notice to the connection without waiting: while NATS is
    /// away (or the connection's queue is full) the notice is dropped,
    /// counted, and made up for with [`About::Missed`] once it can be sent
    /// ([`NatsBus::take_dropped`]). Nothing here may hold up the writer.
    async fn send(&self, subject: String, json: String) {
        if !super::fits(&json) {
            return;
        }
        let publishing = self.client.publish(subject, json.into());
        let sent = matches!(
            tokio::time::timeout(Duration::ZERO, publishing).await,
            Ok(Ok(()))
        );
        if !sent && !self.dropped.swap(true, Ordering::Relaxed) {
            tracing::warn!("notices to the other nodes are being dropped (NATS is away or slow)");
        }
    }

    /// Whether notices were dropped since the last call.
    pub fn take_dropped(&self) -> bool {
        self.dropped.swap(false, Ordering::Relaxed)
    }

    /// Waits until what was published reached the server (or a while).
    pub async fn flush(&self) {
        if !matches!(
            tokio::time::timeout(CONFIRM_WITHIN, self.client.flush()).await,
            Ok(Ok(()))
        ) {
            tracing::warn!("notices may not have reached NATS");
        }
    }

    /// What this node needs to hear about now.
    pub fn follow(&self, interest: Interest) {
        // The listener holds the receiver for as long as the bus lives.
        let _ = self.interest.send(interest);
    }

    /// Where nobody listens: requests to it confirm subscriptions.
    fn confirm_subject(&self) -> String {
        format!("{}.confirm.{}", self.prefix, token(&self.node))
    }

    fn control_subject(&self) -> String {
        format!("{}.control", self.prefix)
    }

    fn nodes_subject(&self) -> String {
        format!("{}.nodes", self.prefix)
    }

    fn room_subject(&self, channel: &ChannelId) -> String {
        format!("{}.room.{}", self.prefix, token(&channel.0))
    }

    fn user_subject(&self, user: &UserId) -> String {
        format!("{}.user.{}", self.prefix, token(&user.0))
    }

    /// Listens until the returned task is aborted (once per bus).
    pub fn listen(&self, heard: mpsc::Sender<Heard>) -> JoinHandle<()> {
        let inputs = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let listener = Listener {
            bus: self.clone(),
            heard,
            subscriptions: SelectAll::new(),
            rooms: HashMap::new(),
            users: HashMap::new(),
        };
        tokio::spawn(async move {
            match inputs {
                Some(inputs) => listener.run(inputs).await,
                None => tracing::error!("the NATS bus was listened to twice"),
            }
        })
    }
}

/// A subject token for an id: itself when it is made of letters, digits,
/// `-` and `_`; otherwise `=` and its bytes in hex (NATS gives `.`, `*`,
/// `>` and white space meanings, and ids are the server's own but opaque).
fn token(id: &str) -> String {
    let plain = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain {
        return id.to_owned();
    }
    let mut encoded = String::with_capacity(1 + id.len() * 2);
    encoded.push('=');
    for byte in id.bytes() {
        encoded.push_str(&format!("{byte:02x}"));
    }
    encoded
}

/// The listening task's state.
struct Listener {
    bus: NatsBus,
    heard: mpsc::Sender<Heard>,
    subscriptions: SelectAll<Abortable<Subscriber>>,
    rooms: HashMap<ChannelId, AbortHandle>,
    users: HashMap<UserId, AbortHandle>,
}

/// Whether the listener goes on (`false`: nobody hears any more).
type GoOn = bool;

/// Changes of interest applied at once, at most: the listener hears
/// notices between rounds.
const INTEREST_ROUND: usize = 1024;

/// Where the rooms and people of one round of interest changes end up.
#[derive(Default)]
struct Wanted {
    /// Per room: open (with the number it opened at) or closed, the last
    /// report winning.
    rooms: HashMap<ChannelId, Option<Option<Seq>>>,
    /// Everyone here, when a full list came in this round.
    everyone: Option<HashSet<UserId>>,
    /// People who came (`true`) or went, after that list.
    users: HashMap<UserId, bool>,
}

impl Wanted {
    fn add(&mut self, interest: Interest) {
        match interest {
            Interest::Room {
                channel,
                open,
                after,
            } => {
                self.rooms.insert(channel, open.then_some(after));
            }
            Interest::User { user, here } => {
                self.users.insert(user, here);
            }
            Interest::Users(users) => {
                self.everyone = Some(users.into_iter().collect());
                self.users.clear();
            }
        }
    }
}

impl Listener {
    async fn run(mut self, mut inputs: Inputs) {
        for subject in [self.bus.nodes_subject(), self.bus.control_subject()] {
            if self.subscribe(subject).await.is_none() {
                tracing::error!("could not subscribe to the other nodes' notices on NATS");
                return;
            }
        }
        self.confirm().await;
        self.bus.up.store(true, Ordering::Relaxed);
        loop {
            let go_on = tokio::select! {
                // Notices first: what is already here came before any
                // change of interest or connection read in this turn.
                biased;
                Some(message) = self.subscriptions.next() => self.hear(&message.payload).await,
                Some(event) = inputs.events.recv() => self.connection(event).await,
                Some(interest) = inputs.interest.recv() => {
                    let mut wanted = Wanted::default();
                    wanted.add(interest);
                    while wanted.rooms.len() + wanted.users.len() < INTEREST_ROUND {
                        match inputs.interest.try_recv() {
                            Ok(interest) => wanted.add(interest),
                            Err(_) => break,
                        }
                    }
                    self.follow(wanted).await
                }
                else => false,
            };
            if !go_on {
                return;
            }
        }
    }

    async fn hear(&self, payload: &[u8]) -> GoOn {
        let notice: Notice = match serde_json::from_slice(payload) {
            Ok(notice) => notice,
            Err(error) => {
                tracing::warn!(%error, "a notice on the bus could not be read");
                return true;
            }
        };
        if notice.node == *self.bus.node {
            return true;
        }
        self.heard
            .send(Heard::Notice(Box::new(notice)))
            .await
            .is_ok()
    }

    async fn connection(&self, event: Event) -> GoOn {
        match event {
            Event::Connected => {
                let was_down = !self.bus.up.swap(true, Ordering::Relaxed);
                if was_down {
                    tracing::info!("the NATS connection is back");
                    return self.heard.send(Heard::MaybeMissed).await.is_ok();
                }
            }
            Event::Disconnected | Event::Closed => {
                self.bus.up.store(false, Ordering::Relaxed);
                tracing::warn!("the NATS connection was lost; reconnecting");
            }
            Event::SlowConsumer(_) => {
                tracing::warn!("notices were dropped by NATS: reading what changed instead");
                return self.heard.send(Heard::MaybeMissed).await.is_ok();
            }
            other => tracing::info!(event = %other, "NATS"),
        }
        true
    }

    /// Subscribes to the rooms and people wanted and not followed yet (one
    /// confirmation for all), then tells the sequencer; unsubscribes from
    /// the rest. A room closed and opened again in one round keeps its
    /// subscription and its place in the sequencer.
    async fn follow(&mut self, wanted: Wanted) -> GoOn {
        let mut followed = Vec::new();
        let mut unfollowed = Vec::new();
        for (channel, open) in wanted.rooms {
            match (open, self.rooms.contains_key(&channel)) {
                (Some(after), false) => {
                    let subject = self.bus.room_subject(&channel);
                    if let Some(handle) = self.subscribe(subject).await {
                        self.rooms.insert(channel.clone(), handle);
                        followed.push((channel, after));
                    }
                }
                (None, true) => {
                    if let Some(handle) = self.rooms.remove(&channel) {
                        handle.abort();
                    }
                    unfollowed.push(channel);
                }
                _ => {}
            }
        }
        if let Some(everyone) = wanted.everyone {
            self.users.retain(|user, handle| {
                let keep = everyone.contains(user) || wanted.users.get(user) == Some(&true);
                if !keep {
                    handle.abort();
                }
                keep
            });
            for user in everyone {
                if wanted.users.get(&user) != Some(&false) {
                    self.follow_user(user).await;
                }
            }
        }
        for (user, here) in wanted.users {
            if here {
                self.follow_user(user).await;
            } else if let Some(handle) = self.users.remove(&user) {
                handle.abort();
            }
        }
        if !followed.is_empty() {
            self.confirm().await;
        }
        for (channel, after) in followed {
            if self
                .heard
                .send(Heard::Followed { channel, after })
                .await
                .is_err()
            {
                return false;
            }
        }
        for channel in unfollowed {
            if self.heard.send(Heard::Unfollowed(channel)).await.is_err() {
                return false;
            }
        }
        true
    }

    async fn follow_user(&mut self, user: UserId) {
        if !self.users.contains_key(&user) {
            let subject = self.bus.user_subject(&user);
            if let Some(handle) = self.subscribe(subject).await {
                self.users.insert(user, handle);
            }
        }
    }

    /// Subscribes (not waiting for the server: see [`Listener::confirm`]).
    /// The subscription ends when its handle is aborted.
    async fn subscribe(&mut self, subject: String) -> Option<AbortHandle> {
        let subscribing = self.bus.client.subscribe(subject.clone());
        let subscriber = match tokio::time::timeout(CONFIRM_WITHIN, subscribing).await {
            Ok(Ok(subscriber)) => subscriber,
            Ok(Err(error)) => {
                tracing::error!(%error, subject, "could not subscribe on NATS");
                return None;
            }
            Err(_) => {
                tracing::error!(subject, "subscribing on NATS took too long");
                return None;
            }
        };
        let (handle, registration) = AbortHandle::new_pair();
        self.subscriptions
            .push(Abortable::new(subscriber, registration));
        Some(handle)
    }

    /// Waits until the server has every subscription made so far: it
    /// handles a connection's commands in order, so once it answers a
    /// request sent after them (nobody answers, so it says "no
    /// responders"), they are in place. (A flush only empties this side's
    /// buffer.)
    async fn confirm(&self) {
        let confirm = self
            .bus
            .client
            .request(self.bus.confirm_subject(), Default::default());
        match tokio::time::timeout(CONFIRM_WITHIN, confirm).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) if error.kind() == RequestErrorKind::NoResponders => {}
            Ok(Err(error)) => tracing::warn!(%error, "subscriptions were not confirmed"),
            Err(_) => tracing::warn!("subscriptions were not confirmed in time"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::token;

    #[test]
    fn ids_become_subject_tokens_that_cannot_collide_or_split() {
        assert_eq!(token("general"), "general");
        assert_eq!(token("a-b_C9"), "a-b_C9");
        assert_eq!(token("a.b"), "=612e62");
        assert_eq!(token("=61"), "=3d3631");
        assert_eq!(token("*"), "=2a");
        assert_eq!(token(""), "=");
        assert!(!token("x y>z").contains(['.', ' ', '*', '>']));
    }
}

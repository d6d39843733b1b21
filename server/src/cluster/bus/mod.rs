//! The bus between nodes, in one of two kinds: PostgreSQL's
//! `LISTEN`/`NOTIFY` ([`postgres`], no engine beyond the database; every
//! node hears every notice) or NATS ([`nats`], subjects per channel and per
//! user, so a node hears only about the rooms and people it serves). Both
//! carry the same [`shared::cluster::Notice`]s and report the same
//! [`Heard`]; the rest of the cluster does not know which one runs.

pub mod nats;
pub mod postgres;

use shared::cluster::{About, MAX_NOTICE_BYTES, Notice};
use shared::{ChannelId, Seq, UserId};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use nats::NatsBus;
pub use postgres::PgBus;

/// What the listener hears.
#[derive(Debug)]
pub enum Heard {
    /// A notice from another node.
    Notice(Box<Notice>),
    /// The listening connection was lost and is back (or notices were
    /// dropped): notices sent meanwhile are gone.
    MaybeMissed,
    /// The bus now brings this node every notice about `channel`, from
    /// after sequence number `after` if that is known (see
    /// [`Interest::Room`]).
    Followed {
        channel: ChannelId,
        after: Option<Seq>,
    },
    /// Notices about `channel` no longer come to this node.
    Unfollowed(ChannelId),
}

/// What this node's connections need to hear about, for a routing bus.
#[derive(Debug, Clone)]
pub enum Interest {
    /// Someone here is in `channel`'s room (`open`), or nobody is any more.
    /// `after`: the channel's last number when the first of them loaded it
    /// (what came after that is theirs to be told).
    Room {
        channel: ChannelId,
        open: bool,
        after: Option<Seq>,
    },
    /// `user` is connected here (`here`), or no longer is.
    User { user: UserId, here: bool },
    /// Exactly these people are connected here.
    Users(Vec<UserId>),
}

/// Whether a notice fits on either bus (PostgreSQL's `NOTIFY` takes under
/// 8,000 bytes). One too large is not sent (logged): nothing this server
/// publishes comes near the limit, since messages travel as numbers.
fn fits(json: &str) -> bool {
    let fits = json.len() <= MAX_NOTICE_BYTES;
    if !fits {
        tracing::error!(
            bytes = json.len(),
            "a notice too large for the bus was dropped"
        );
    }
    fits
}

/// This node's end of the bus; cheap to clone.
#[derive(Clone)]
pub enum Bus {
    Postgres(PgBus),
    Nats(NatsBus),
}

impl Bus {
    /// Tells the other nodes that need to hear it.
    pub async fn publish(&self, about: About) {
        match self {
            Bus::Postgres(bus) => bus.publish(about).await,
            Bus::Nats(bus) => bus.publish(about).await,
        }
    }

    /// Tells every node a notice made already (see
    /// [`Notice::heartbeat`]).
    pub async fn send_to_nodes(&self, json: &str) {
        match self {
            Bus::Postgres(bus) => bus.send(json).await,
            Bus::Nats(bus) => bus.send_to_nodes(json).await,
        }
    }

    /// Tells the other nodes what this node's writer committed. On
    /// PostgreSQL the writer told them inside its transactions already.
    pub async fn publish_stored(&self, ranges: Vec<(ChannelId, Seq, Seq)>) {
        if let Bus::Nats(bus) = self {
            for range in ranges {
                bus.publish(About::Stored {
                    channels: vec![range],
                })
                .await;
            }
        }
    }

    /// Waits (briefly) until what was published has left this node.
    pub async fn flush(&self) {
        if let Bus::Nats(bus) = self {
            bus.flush().await;
        }
    }

    /// Whether notices were dropped since the last call (NATS, while away
    /// or full; PostgreSQL's `NOTIFY` waits instead).
    pub fn take_dropped(&self) -> bool {
        match self {
            Bus::Postgres(_) => false,
            Bus::Nats(bus) => bus.take_dropped(),
        }
    }

    /// Whether the bus routes notices by [`Interest`] (and so needs to be
    /// told it).
    pub fn routes(&self) -> bool {
        matches!(self, Bus::Nats(_))
    }

    /// What this node needs to hear about now (ignored by a bus that
    /// brings every notice everywhere).
    pub fn follow(&self, interest: Interest) {
        if let Bus::Nats(bus) = self {
            bus.follow(interest);
        }
    }

    /// Whether the bus connection is up (for `/healthz`).
    pub fn is_up(&self) -> bool {
        match self {
            Bus::Postgres(bus) => bus.is_up(),
            Bus::Nats(bus) => bus.is_up(),
        }
    }

    /// This node's name on the bus.
    pub fn node(&self) -> &str {
        match self {
            Bus::Postgres(bus) => bus.node(),
            Bus::Nats(bus) => bus.node(),
        }
    }

    /// Listens until the returned task is aborted, handing what other
    /// nodes publish to `heard`.
    pub fn listen(&self, heard: mpsc::Sender<Heard>) -> JoinHandle<()> {
        match self {
            Bus::Postgres(bus) => bus.listen(heard),
            Bus::Nats(bus) => bus.listen(heard),
        }
    }

    /// Which kind of bus, for logs and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Bus::Postgres(_) => "PostgreSQL LISTEN",
            Bus::Nats(_) => "NATS",
        }
    }
}

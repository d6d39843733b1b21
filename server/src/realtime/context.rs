//! What every live connection, command and HTTP route shares: the store,
//! the local hub (connections come and go through it), the fan-out events
//! are published to, the message writer, previews, budgets and metrics.

use std::sync::Arc;
use std::time::Duration;

use super::fanout::FanOut;
use super::hub::HubHandle;
use super::outbox::OutboxLimits;
use super::writer::MessageWriter;
use crate::budget::RequestBudgets;
use crate::metrics::Metrics;
use crate::preview::Previews;
use crate::store::Store;

/// Shared by every connection and route; cheap to clone.
#[derive(Clone)]
pub struct Realtime {
    pub store: Store,
    /// This node's connections: register, unregister, shut down.
    pub hub: HubHandle,
    /// Where events are published (the hub today, a bus between nodes later).
    pub fanout: Arc<dyn FanOut>,
    pub writer: MessageWriter,
    /// Bounds of each connection's outgoing queue.
    pub outbox: OutboxLimits,
    /// How long a connection's own reply may wait for the client to read
    /// before the connection is closed as stalled.
    pub stall_timeout: Duration,
    /// Link previews, when turned on.
    pub previews: Option<Previews>,
    /// Largest upload accepted, in bytes (told to clients).
    pub max_upload_bytes: u64,
    /// Largest conversation where `@channel` and `@here` notify.
    pub mention_everyone_max_members: u32,
    /// Every user's request budgets.
    pub budgets: Arc<RequestBudgets>,
    pub metrics: Metrics,
}

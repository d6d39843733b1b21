//! Several server nodes on one PostgreSQL database. Each node keeps its own
//! connections in its hub; what one node publishes reaches the others
//! through the [`bus`] as [`shared::cluster::Notice`]s. Messages travel as
//! wake-ups naming sequence numbers (the database is the log): the
//! [`sequencer`] reads them and hands each channel's messages to the hub
//! in order, filling any gap from the database, so a late or lost wake-up
//! costs latency, never a message. [`fanout::ClusterFanOut`] is the
//! `FanOut` the rest of the server publishes to in this mode.
//!
//! Architecture invariant: `cluster` depends on `store`, `realtime`'s
//! fan-out and hub handle, and `shared`; nothing but `startup` depends on it.

pub mod bus;
pub mod fanout;
pub mod sequencer;

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::realtime::hub::HubHandle;
use crate::store::Store;

/// Inputs waiting for the sequencer, and notices heard but not acted on:
/// beyond these the writer and the listener wait.
const QUEUED: usize = 4096;

/// This node's part of a cluster, running.
pub struct Cluster {
    pub fanout: Arc<fanout::ClusterFanOut>,
    pub bus: bus::PgBus,
    pub tasks: Vec<JoinHandle<()>>,
}

/// Joins the cluster when the store is shared (PostgreSQL): listens to the
/// bus and starts the sequencer. `None` on SQLite (one process).
pub fn start(store: &Store, hub: &HubHandle) -> Option<Cluster> {
    let Store::Postgres(shared) = store else {
        return None;
    };
    let bus = bus::PgBus::new(shared.pool().clone(), shared.node());
    let (to_sequencer, inputs) = mpsc::channel(QUEUED);
    let sequencer = sequencer::start(store.clone(), hub.clone(), inputs);
    let fanout = Arc::new(fanout::ClusterFanOut::new(
        hub.clone(),
        bus.clone(),
        to_sequencer,
    ));
    let (heard_tx, mut heard) = mpsc::channel(QUEUED);
    let listener = bus.listen(heard_tx);
    let hearing = tokio::spawn({
        let fanout = fanout.clone();
        async move {
            while let Some(notice) = heard.recv().await {
                fanout.hear(notice).await;
            }
        }
    });
    tracing::info!(node = shared.node(), "joined the cluster on PostgreSQL");
    Some(Cluster {
        fanout,
        bus,
        tasks: vec![listener, hearing, sequencer],
    })
}

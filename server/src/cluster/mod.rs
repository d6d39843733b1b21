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
pub mod presence;
pub mod sequencer;

use std::sync::Arc;
use std::time::Duration;

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

/// How long a starting node waits for its bus listener before it serves.
const LISTENING_WITHIN: Duration = Duration::from_secs(10);

/// Joins the cluster when the store is shared (PostgreSQL): listens to the
/// bus (and waits until it does, so the node never serves deaf) and starts
/// the sequencer. `None` on SQLite (one process).
pub async fn start(store: &Store, hub: &HubHandle) -> anyhow::Result<Option<Cluster>> {
    let Store::Postgres(shared) = store else {
        return Ok(None);
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
    let reporting = tokio::spawn(report_presence(hub.clone(), bus.clone(), fanout.clone()));
    let tasks = vec![listener, hearing, sequencer, reporting];
    let waited = tokio::time::timeout(LISTENING_WITHIN, async {
        while !bus.is_up() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    if waited.is_err() {
        for task in &tasks {
            task.abort();
        }
        anyhow::bail!(
            "could not listen to the other nodes within {} s (PostgreSQL LISTEN)",
            LISTENING_WITHIN.as_secs()
        );
    }
    tracing::info!(node = shared.node(), "joined the cluster on PostgreSQL");
    Ok(Some(Cluster { fanout, bus, tasks }))
}

/// Tells the other nodes who is connected here: each change as the hub
/// reports it, and everyone with every heartbeat; forgets silent nodes.
async fn report_presence(hub: HubHandle, bus: bus::PgBus, fanout: Arc<fanout::ClusterFanOut>) {
    let (sink, mut changes) = mpsc::channel(QUEUED);
    hub.report_presence(sink).await;
    let mut beats = tokio::time::interval(presence::HEARTBEAT);
    beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            change = changes.recv() => {
                let Some(change) = change else { return };
                bus.publish(shared::cluster::About::Presence {
                    user: change.user,
                    status: change.status,
                    version: change.version,
                })
                .await;
            }
            _ = beats.tick() => {
                let (version, everyone) = hub.local_presence().await;
                let users: Vec<_> = everyone.into_iter().map(|p| (p.user, p.status)).collect();
                for notice in shared::cluster::Notice::heartbeat(bus.node(), version, &users) {
                    bus.send(&notice).await;
                }
                fanout.expire_silent_nodes().await;
            }
        }
    }
}

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
//! fan-out and hub handle, `metrics` and `shared`; nothing but `startup`
//! depends on it.

pub mod bus;
pub mod fanout;
pub mod presence;
pub mod sequencer;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::realtime::hub::HubHandle;
use crate::store::Store;

/// Inputs waiting for the sequencer, and notices heard but not acted on:
/// beyond these the writer and the listener wait.
const QUEUED: usize = 4096;

/// This node's part of a cluster, running.
pub struct Cluster {
    pub fanout: Arc<fanout::ClusterFanOut>,
    pub bus: bus::Bus,
    pub tasks: Vec<JoinHandle<()>>,
}

/// How long a starting node waits for its bus listener before it serves.
const LISTENING_WITHIN: Duration = Duration::from_secs(10);

/// Where a cluster's notices travel besides PostgreSQL: a NATS server, and
/// the prefix of this cluster's subjects on it.
pub struct NatsSettings {
    pub url: String,
    pub prefix: String,
}

/// Joins the cluster when the store is shared (PostgreSQL): connects to
/// the bus, listens to it (and waits until it does, so the node never
/// serves deaf) and starts the sequencer. `None` on SQLite (one process).
/// With NATS, the store must have been told not to `NOTIFY`
/// ([`Store::notify_in_transactions`]).
pub async fn start(
    store: &Store,
    hub: &HubHandle,
    nats: Option<NatsSettings>,
    metrics: &Metrics,
) -> anyhow::Result<Option<Cluster>> {
    let Store::Postgres(shared) = store else {
        return Ok(None);
    };
    let bus = match nats {
        None => bus::Bus::Postgres(bus::PgBus::new(shared.pool().clone(), shared.node())),
        Some(nats) => bus::Bus::Nats(connect_nats(&nats, shared.node()).await?),
    };
    let (to_sequencer, inputs) = mpsc::channel(QUEUED);
    let sequencer = sequencer::start(store.clone(), hub.clone(), to_sequencer.downgrade(), inputs);
    let fanout = Arc::new(fanout::ClusterFanOut::new(
        hub.clone(),
        bus.clone(),
        to_sequencer,
        metrics.clone(),
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
    let mut tasks = vec![listener, hearing, sequencer, reporting];
    if bus.routes() {
        // Told before the node serves: no room opens unreported.
        let (sink, changes) = mpsc::unbounded_channel();
        hub.report_rooms(sink).await;
        tasks.push(tokio::spawn(report_rooms(changes, bus.clone())));
    }
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
            "could not listen to the other nodes within {} s ({})",
            LISTENING_WITHIN.as_secs(),
            bus.kind()
        );
    }
    tracing::info!(
        node = shared.node(),
        bus = bus.kind(),
        "joined the cluster on PostgreSQL"
    );
    Ok(Some(Cluster { fanout, bus, tasks }))
}

/// Connects to the NATS server, within the time a node waits for its bus.
async fn connect_nats(nats: &NatsSettings, node: &str) -> anyhow::Result<bus::NatsBus> {
    anyhow::ensure!(
        valid_prefix(&nats.prefix),
        "the NATS subject prefix {:?} is not made of dot-separated words",
        nats.prefix
    );
    let connecting = bus::NatsBus::connect(&nats.url, node, &nats.prefix);
    let shown = without_credentials(&nats.url);
    match tokio::time::timeout(LISTENING_WITHIN, connecting).await {
        Ok(Ok(bus)) => Ok(bus),
        Ok(Err(error)) => anyhow::bail!("could not connect to NATS at {shown}: {error}"),
        Err(_) => anyhow::bail!(
            "could not connect to NATS at {shown} within {} s",
            LISTENING_WITHIN.as_secs()
        ),
    }
}

/// A server URL to show in logs: any user name, password or token in it
/// replaced.
fn without_credentials(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("***");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(the URL given)".to_owned(),
    }
}

/// Whether `prefix` can start NATS subjects: words of letters, digits,
/// `-` and `_`, joined by dots.
fn valid_prefix(prefix: &str) -> bool {
    prefix.split('.').all(|word| {
        !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Tells a routing bus which rooms are open here, as the hub opens and
/// closes them.
async fn report_rooms(
    mut changes: mpsc::UnboundedReceiver<crate::realtime::fanout::RoomChange>,
    bus: bus::Bus,
) {
    while let Some(change) = changes.recv().await {
        bus.follow(bus::Interest::Room {
            channel: change.channel,
            open: change.open,
            after: change.after,
        });
    }
}

/// Tells the other nodes who is connected here: each change as the hub
/// reports it, and everyone with every heartbeat; forgets silent nodes.
/// A routing bus is told who is here, to bring their notices: each change,
/// and everyone with every heartbeat (correcting changes the hub could not
/// report).
async fn report_presence(hub: HubHandle, bus: bus::Bus, fanout: Arc<fanout::ClusterFanOut>) {
    let (sink, mut changes) = mpsc::channel(QUEUED);
    hub.report_presence(sink).await;
    let mut beats = tokio::time::interval(presence::HEARTBEAT);
    beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            change = changes.recv() => {
                let Some(change) = change else { return };
                bus.follow(bus::Interest::User {
                    user: change.user.id.clone(),
                    here: change.status != shared::protocol::PresenceStatus::Offline,
                });
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
                // Whatever could not be sent is made up for: the others
                // read what changed.
                if bus.take_dropped() {
                    bus.publish(shared::cluster::About::Missed).await;
                }
                for notice in shared::cluster::Notice::heartbeat(bus.node(), version, &users) {
                    bus.send_to_nodes(&notice).await;
                }
                bus.follow(bus::Interest::Users(
                    users.iter().map(|(user, _)| user.id.clone()).collect(),
                ));
                fanout.expire_silent_nodes().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::valid_prefix;

    #[test]
    fn credentials_in_a_server_url_are_not_shown() {
        use super::without_credentials;
        assert_eq!(
            without_credentials("nats://chat:s3cret@10.0.0.20:4222"),
            "nats://***@10.0.0.20:4222"
        );
        assert_eq!(
            without_credentials("nats://t0ken@10.0.0.20:4222"),
            "nats://***@10.0.0.20:4222"
        );
        assert_eq!(
            without_credentials("nats://10.0.0.20:4222"),
            "nats://10.0.0.20:4222"
        );
    }

    #[test]
    fn a_subject_prefix_is_dot_separated_plain_words() {
        assert!(valid_prefix("chat"));
        assert!(valid_prefix("acme.chat-1_prod"));
        for bad in ["", "chat.", ".chat", "a..b", "chat.>", "ch*t", "a b"] {
            assert!(!valid_prefix(bad), "{bad:?}");
        }
    }
}

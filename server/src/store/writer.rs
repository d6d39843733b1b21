//! The message writer: one task that owns every message insert. Requests from
//! all connections queue up while a transaction commits, and the next
//! transaction takes them all, so many clients cost one fsync per batch rather
//! than one per message. Only after the commit are the results handed to the
//! hub, in sequence order, to be acknowledged and broadcast.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{NewMessage, Store, Stored};
use crate::hub::{ConnId, Delivery, HubHandle};
use crate::preview::Previews;

/// Most messages in one transaction. The hub fans a whole batch out at once,
/// so connection queues must hold at least this many frames (see
/// `Settings::outbound_queue`): a healthy client is never dropped for one burst.
pub const MAX_BATCH: usize = 256;
/// Pause before the one retry of a failed batch (e.g. a busy database).
const RETRY_DELAY: Duration = Duration::from_millis(100);

/// One message to store, and the connection that sent it.
#[derive(Debug)]
pub struct WriteRequest {
    pub origin: ConnId,
    pub message: NewMessage,
}

/// The writer is shutting down and takes no more messages.
#[derive(Debug, thiserror::Error)]
#[error("the message writer has stopped")]
pub struct WriterStopped;

/// Clonable handle to the writer task.
#[derive(Clone)]
pub struct MessageWriter {
    requests: mpsc::Sender<WriteRequest>,
    stop: CancellationToken,
}

impl MessageWriter {
    /// Starts the writer task. `capacity` bounds the queue; senders wait when
    /// it is full. `max_batch` (1 to `MAX_BATCH`) caps messages per transaction.
    /// New messages with links are handed to `previews` after they are delivered.
    pub fn start(
        store: Store,
        hub: HubHandle,
        previews: Option<Previews>,
        capacity: usize,
        max_batch: usize,
    ) -> (Self, JoinHandle<()>) {
        let (requests, receiver) = mpsc::channel(capacity);
        let stop = CancellationToken::new();
        let max_batch = max_batch.clamp(1, MAX_BATCH);
        let task = tokio::spawn(run(store, hub, previews, receiver, stop.clone(), max_batch));
        (Self { requests, stop }, task)
    }

    /// Queues a message; waits while the queue is full.
    pub async fn submit(&self, request: WriteRequest) -> Result<(), WriterStopped> {
        self.requests.send(request).await.map_err(|_| WriterStopped)
    }

    /// Stops taking new messages; the task commits what is queued and ends.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

async fn run(
    store: Store,
    hub: HubHandle,
    previews: Option<Previews>,
    mut receiver: mpsc::Receiver<WriteRequest>,
    stop: CancellationToken,
    max_batch: usize,
) {
    loop {
        let first = tokio::select! {
            biased;
            request = receiver.recv() => match request {
                Some(request) => request,
                None => break,
            },
            () = stop.cancelled() => {
                // No new requests; what is already queued still gets stored below.
                receiver.close();
                match receiver.recv().await {
                    Some(request) => request,
                    None => break,
                }
            }
        };
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match receiver.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let deliveries = commit(&store, batch).await;
        let linked: Vec<_> = match &previews {
            Some(_) => deliveries
                .iter()
                .filter_map(|d| match &d.result {
                    Ok(Stored::New(message)) if message.text.contains("http") => {
                        Some(message.clone())
                    }
                    _ => None,
                })
                .collect(),
            None => Vec::new(),
        };
        hub.deliver(deliveries).await;
        if let Some(previews) = &previews {
            for message in &linked {
                previews.consider(message);
            }
        }
    }
    tracing::debug!("message writer stopped");
}

async fn commit(store: &Store, batch: Vec<WriteRequest>) -> Vec<Delivery> {
    let messages: Vec<NewMessage> = batch.iter().map(|r| r.message.clone()).collect();
    let mut outcome = store.insert_messages(&messages).await;
    if let Err(error) = &outcome {
        tracing::warn!(%error, batch = messages.len(), "storing messages failed; retrying once");
        tokio::time::sleep(RETRY_DELAY).await;
        outcome = store.insert_messages(&messages).await;
    }
    match outcome {
        Ok(stored) => batch
            .into_iter()
            .zip(stored)
            .map(|(request, stored)| Delivery {
                origin: request.origin,
                result: Ok(stored),
            })
            .collect(),
        Err(error) => {
            tracing::error!(%error, batch = messages.len(), "storing messages failed");
            batch
                .into_iter()
                .map(|request| Delivery {
                    origin: request.origin,
                    result: Err(request.message),
                })
                .collect()
        }
    }
}

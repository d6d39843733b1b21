//! The message writer: one task that owns every message insert. Requests from
//! all connections queue up while a transaction commits, and the next
//! transaction takes them all, so many clients cost one fsync per batch rather
//! than one per message. Only after the commit are the results published,
//! in sequence order, to be acknowledged and broadcast.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use std::sync::Arc;

use shared::ServerMsg;

use super::commands::delivery_frames;
use super::fanout::{ConnId, Delivery, Event, FanOut};
use crate::metrics::Metrics;
use crate::preview::Previews;
use crate::store::{Accounts, Channels, Messages, NewMessage, Store, Stored};

/// Most messages in one transaction. A whole batch is fanned out at once,
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
    /// Starts the writer task on `runtime` (the realtime core's). `capacity`
    /// bounds the queue; senders wait when it is full. `max_batch` (1 to
    /// `MAX_BATCH`) caps messages per transaction. New messages with links
    /// are handed to `previews` after they are delivered.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        parts: WriterParts,
        capacity: usize,
        max_batch: usize,
    ) -> (Self, JoinHandle<()>) {
        let (requests, receiver) = mpsc::channel(capacity);
        let stop = CancellationToken::new();
        let max_batch = max_batch.clamp(1, MAX_BATCH);
        let task = runtime.spawn(run(parts, receiver, stop.clone(), max_batch));
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

/// What the writer works with.
pub struct WriterParts {
    pub store: Store,
    pub fanout: Arc<dyn FanOut>,
    pub previews: Option<Previews>,
    pub metrics: Metrics,
}

async fn run(
    parts: WriterParts,
    mut receiver: mpsc::Receiver<WriteRequest>,
    stop: CancellationToken,
    max_batch: usize,
) {
    let WriterParts {
        store,
        fanout,
        previews,
        metrics,
    } = parts;
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
        metrics.batch_size.observe(batch.len() as f64);
        let started = std::time::Instant::now();
        let (results, unhidden) = commit(&store, batch).await;
        metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        // Whoever had hidden a conversation sees it again before its new message.
        for (channel, user) in unhidden {
            show_again(&store, &*fanout, channel, user).await;
        }
        // Threads that grew: their parents' new summaries, once per parent.
        let mut parents: Vec<(shared::ChannelId, shared::Seq)> = results
            .iter()
            .filter_map(|(_, result)| match result {
                Ok(Stored::New(message)) => {
                    Some((message.channel.clone(), message.thread.as_ref()?.root))
                }
                _ => None,
            })
            .collect();
        parents.sort();
        parents.dedup();
        let linked: Vec<_> = match &previews {
            Some(_) => results
                .iter()
                .filter_map(|(_, result)| match result {
                    Ok(Stored::New(message)) if message.text.contains("http") => {
                        Some(message.clone())
                    }
                    _ => None,
                })
                .collect(),
            None => Vec::new(),
        };
        let deliveries = results
            .into_iter()
            .map(|(origin, result)| {
                let (to_sender, to_others) = delivery_frames(&result);
                let channel = match &result {
                    Ok(stored) => stored.channel().clone(),
                    Err(message) => message.channel.clone(),
                };
                Delivery {
                    origin,
                    channel,
                    to_sender,
                    to_others,
                }
            })
            .collect();
        fanout.publish(Event::Deliver(deliveries)).await;
        for (channel, root) in parents {
            announce_parent(&store, &*fanout, channel, root).await;
        }
        if let Some(previews) = &previews {
            for message in &linked {
                previews.consider(message);
            }
        }
    }
    tracing::debug!("message writer stopped");
}

/// Tells everyone in a conversation a thread parent's new state (its
/// reply count, last reply, repliers) after replies to it were stored.
async fn announce_parent(
    store: &Store,
    fanout: &dyn FanOut,
    channel: shared::ChannelId,
    root: shared::Seq,
) {
    match store.message(&channel, root, None).await {
        Ok(Some(message)) => {
            fanout
                .to_room(channel, ServerMsg::MessageUpdated { message }, None)
                .await;
        }
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "reading a thread's parent failed"),
    }
}

/// Puts a hidden conversation back in `user`'s list, in every tab.
async fn show_again(
    store: &Store,
    fanout: &dyn FanOut,
    channel: shared::ChannelId,
    user: shared::UserId,
) {
    let info = match store.user(&user).await {
        Ok(Some(info)) => store.channel_for(&info, &channel).await,
        Ok(None) => return,
        Err(error) => Err(error),
    };
    match info {
        Ok(Some(info)) => {
            fanout
                .subscribe(
                    user,
                    channel,
                    Some(ServerMsg::ChannelJoined { channel: info }),
                )
                .await;
        }
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "showing a hidden conversation again failed"),
    }
}

/// What storing one message amounted to, for the connection that sent it.
type Outcome = (ConnId, Result<Stored, NewMessage>);

async fn commit(
    store: &Store,
    batch: Vec<WriteRequest>,
) -> (Vec<Outcome>, Vec<(shared::ChannelId, shared::UserId)>) {
    let messages: Vec<NewMessage> = batch.iter().map(|r| r.message.clone()).collect();
    let mut outcome = store.insert_messages(&messages).await;
    if let Err(error) = &outcome {
        tracing::warn!(%error, batch = messages.len(), "storing messages failed; retrying once");
        tokio::time::sleep(RETRY_DELAY).await;
        outcome = store.insert_messages(&messages).await;
    }
    match outcome {
        Ok(inserted) => (
            batch
                .into_iter()
                .zip(inserted.stored)
                .map(|(request, stored)| (request.origin, Ok(stored)))
                .collect(),
            inserted.unhidden,
        ),
        Err(error) => {
            tracing::error!(%error, batch = messages.len(), "storing messages failed");
            (
                batch
                    .into_iter()
                    .map(|request| (request.origin, Err(request.message)))
                    .collect(),
                Vec::new(),
            )
        }
    }
}

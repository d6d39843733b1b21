//! One connection's outgoing queue, bounded twice: in frames and in bytes.
//! The hub pushes without ever waiting: a connection whose queue is over
//! either bound is stuck and gets dropped (it reconnects and catches up).
//! The connection's own replies (`sync`, `history`, errors…) instead wait
//! while more than a small amount is queued, so a client that asks without
//! reading stops being read, and is closed if it stays stalled.
//! Bytes count from the moment a frame is queued until its writer has
//! handed it to the socket.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_http::ws::CloseReason;
use actix_web::web::Bytes;
use tokio::sync::{Notify, mpsc};

use crate::metrics::Metrics;

/// What a connection's writer sends to its socket.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A complete WebSocket frame (see [`super::frames`]), maybe shared
    /// with other connections.
    Frame(Bytes),
    /// The last frame.
    Close(CloseReason),
}

impl Outgoing {
    /// The bytes this item holds in memory until it is written.
    pub fn len(&self) -> usize {
        match self {
            Self::Frame(frame) => frame.len(),
            Self::Close(_) => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The bounds of one connection's queue.
#[derive(Debug, Clone, Copy)]
pub struct OutboxLimits {
    /// Frames queued at most.
    pub frames: usize,
    /// Bytes queued at most before the hub drops the connection as stuck.
    pub bytes: usize,
    /// The connection's own replies wait while more than this is queued.
    pub reply_bytes: usize,
}

/// Why a frame could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushFailure {
    /// Over a bound: the client is not keeping up.
    Stuck,
    /// The connection is already gone.
    Gone,
    /// Its own replies waited too long for the client to read.
    Stalled,
}

struct Shared {
    bytes: AtomicUsize,
    drained: Notify,
    limits: OutboxLimits,
    metrics: Metrics,
}

impl Shared {
    fn add(&self, len: usize) {
        self.bytes.fetch_add(len, Ordering::SeqCst);
        self.metrics.outbound_bytes.inc_by(len as i64);
    }

    fn sub(&self, len: usize) {
        self.bytes.fetch_sub(len, Ordering::SeqCst);
        self.metrics.outbound_bytes.dec_by(len as i64);
        self.drained.notify_waiters();
    }

    fn queued(&self) -> usize {
        self.bytes.load(Ordering::SeqCst)
    }
}

/// The sending side; cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    sender: mpsc::Sender<Outgoing>,
    shared: Arc<Shared>,
}

/// The receiving side, read by the connection's socket writer.
pub struct OutboxReceiver {
    receiver: mpsc::Receiver<Outgoing>,
    shared: Arc<Shared>,
}

/// A new queue with these bounds.
pub fn outbox(limits: OutboxLimits, metrics: Metrics) -> (Outbox, OutboxReceiver) {
    let (sender, receiver) = mpsc::channel(limits.frames.max(1));
    let shared = Arc::new(Shared {
        bytes: AtomicUsize::new(0),
        drained: Notify::new(),
        limits,
        metrics,
    });
    (
        Outbox {
            sender,
            shared: shared.clone(),
        },
        OutboxReceiver { receiver, shared },
    )
}

impl Outbox {
    /// Queues `item` now, or fails if the queue is over a bound (never waits).
    pub fn push(&self, item: Outgoing) -> Result<(), PushFailure> {
        let len = item.len();
        if len > 0 && self.shared.queued() + len > self.shared.limits.bytes {
            return Err(PushFailure::Stuck);
        }
        self.shared.add(len);
        match self.sender.try_send(item) {
            Ok(()) => Ok(()),
            Err(error) => {
                self.shared.sub(len);
                Err(match error {
                    mpsc::error::TrySendError::Full(_) => PushFailure::Stuck,
                    mpsc::error::TrySendError::Closed(_) => PushFailure::Gone,
                })
            }
        }
    }

    /// Queues one of the connection's own replies, first waiting (up to
    /// `patience`) until at most `reply_bytes` are queued.
    pub async fn push_reply(&self, item: Outgoing, patience: Duration) -> Result<(), PushFailure> {
        let waited = tokio::time::timeout(patience, async {
            loop {
                let drained = self.shared.drained.notified();
                tokio::pin!(drained);
                drained.as_mut().enable();
                if self.shared.queued() <= self.shared.limits.reply_bytes {
                    break;
                }
                drained.await;
            }
            let len = item.len();
            self.shared.add(len);
            let sent = self.sender.send(item).await;
            if sent.is_err() {
                self.shared.sub(len);
            }
            sent.map_err(|_| PushFailure::Gone)
        })
        .await;
        waited.unwrap_or(Err(PushFailure::Stalled))
    }

    /// Bytes queued now.
    pub fn queued_bytes(&self) -> usize {
        self.shared.queued()
    }
}

impl OutboxReceiver {
    /// The next item; `None` once every sender is gone and the queue is empty.
    pub async fn recv(&mut self) -> Option<Outgoing> {
        self.receiver.recv().await
    }

    /// The next item, when one is queued (for the socket writer's stream).
    pub fn poll_recv(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Outgoing>> {
        self.receiver.poll_recv(cx)
    }

    /// The next item if one is queued now.
    pub fn try_recv(&mut self) -> Option<Outgoing> {
        self.receiver.try_recv().ok()
    }

    /// Call after an item of `len` bytes has been handed to the socket.
    pub fn written(&self, len: usize) {
        self.shared.sub(len);
    }
}

impl Drop for OutboxReceiver {
    fn drop(&mut self) {
        // Nothing more gets in; what is left will never be written.
        self.receiver.close();
        while let Ok(item) = self.receiver.try_recv() {
            self.shared.sub(item.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: usize) -> Outgoing {
        Outgoing::Frame(Bytes::from("x".repeat(len)))
    }

    fn limits() -> OutboxLimits {
        OutboxLimits {
            frames: 100,
            bytes: 1_000,
            reply_bytes: 300,
        }
    }

    #[tokio::test]
    async fn pushes_over_the_byte_bound_are_refused() {
        let metrics = Metrics::new();
        let (outbox, mut receiver) = outbox(limits(), metrics.clone());
        assert_eq!(outbox.push(frame(600)), Ok(()));
        assert_eq!(outbox.push(frame(600)), Err(PushFailure::Stuck));
        assert_eq!(outbox.queued_bytes(), 600);
        let item = receiver.recv().await.unwrap();
        receiver.written(item.len());
        assert_eq!(outbox.queued_bytes(), 0);
        assert_eq!(metrics.outbound_bytes.get(), 0);
    }

    #[tokio::test]
    async fn replies_wait_for_the_queue_to_drain_and_give_up_when_stalled() {
        let (outbox, mut receiver) = outbox(limits(), Metrics::new());
        outbox.push(frame(500)).unwrap();
        let patience = Duration::from_millis(50);
        assert_eq!(
            outbox.push_reply(frame(10), patience).await,
            Err(PushFailure::Stalled)
        );
        let waiting = {
            let outbox = outbox.clone();
            tokio::spawn(async move { outbox.push_reply(frame(10), Duration::from_secs(10)).await })
        };
        let item = receiver.recv().await.unwrap();
        receiver.written(item.len());
        assert_eq!(waiting.await.unwrap(), Ok(()));
    }

    #[tokio::test]
    async fn bytes_left_behind_are_uncounted_when_the_connection_ends() {
        let metrics = Metrics::new();
        let (outbox, receiver) = outbox(limits(), metrics.clone());
        outbox.push(frame(100)).unwrap();
        drop(receiver);
        assert_eq!(metrics.outbound_bytes.get(), 0);
        assert_eq!(outbox.push(frame(1)), Err(PushFailure::Gone));
    }
}

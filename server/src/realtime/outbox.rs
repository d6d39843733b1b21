//! One connection's outgoing queue, bounded twice: in frames and in bytes.
//! The hub pushes without ever waiting: a connection whose queue is over
//! either bound is stuck and gets dropped (it reconnects and catches up).
//! The connection's own replies (`sync`, `history`, errors…) instead wait
//! while more than a small amount is queued, so a client that asks without
//! reading stops being read, and is closed if it stays stalled.
//! Bytes count from the moment a frame is queued until its writer has
//! handed it to the socket.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use actix_http::ws::CloseReason;
use actix_web::web::Bytes;
use tokio::sync::Notify;

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
    queue: Mutex<Queue>,
    bytes: AtomicUsize,
    drained: Notify,
    limits: OutboxLimits,
    metrics: Metrics,
}

/// The items themselves: a plain deque under a lock (the hub pushes from
/// its thread, the socket writer takes on the connection's), which holds
/// nothing while empty; a channel would keep a block of slots per
/// connection, idle or not.
struct Queue {
    items: VecDeque<Outgoing>,
    /// Live [`Outbox`] handles: with none left, the writer ends.
    senders: usize,
    /// The receiver is gone: nothing more gets in.
    closed: bool,
    /// The writer waiting for an item.
    waker: Option<Waker>,
}

/// An emptied queue keeps at most this many slots; a burst's larger
/// buffer goes back to the allocator.
const KEPT_SLOTS: usize = 16;

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

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The lock guards plain data and no code under it panics: a
        // poisoned lock still holds a consistent queue.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `item` if the queue is open and under its frame bound.
    fn enqueue(&self, item: Outgoing) -> Result<(), PushFailure> {
        let len = item.len();
        let waker = {
            let mut queue = self.lock();
            if queue.closed {
                return Err(PushFailure::Gone);
            }
            if queue.items.len() >= self.limits.frames {
                return Err(PushFailure::Stuck);
            }
            self.add(len);
            queue.items.push_back(item);
            queue.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Whether a reply may be queued now (few enough bytes and frames).
    fn has_room_for_reply(&self) -> bool {
        self.queued() <= self.limits.reply_bytes && self.lock().items.len() < self.limits.frames
    }
}

/// The sending side; cheap to clone.
pub struct Outbox {
    shared: Arc<Shared>,
}

impl Clone for Outbox {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        let waker = {
            let mut queue = self.shared.lock();
            queue.senders -= 1;
            if queue.senders > 0 {
                return;
            }
            queue.waker.take()
        };
        // The last sender: the writer learns that nothing more will come.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The receiving side, read by the connection's socket writer.
pub struct OutboxReceiver {
    shared: Arc<Shared>,
}

/// A new queue with these bounds.
pub fn outbox(limits: OutboxLimits, metrics: Metrics) -> (Outbox, OutboxReceiver) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue {
            items: VecDeque::new(),
            senders: 1,
            closed: false,
            waker: None,
        }),
        bytes: AtomicUsize::new(0),
        drained: Notify::new(),
        limits: OutboxLimits {
            frames: limits.frames.max(1),
            ..limits
        },
        metrics,
    });
    (
        Outbox {
            shared: shared.clone(),
        },
        OutboxReceiver { shared },
    )
}

impl Outbox {
    /// Queues `item` now, or fails if the queue is over a bound (never waits).
    pub fn push(&self, item: Outgoing) -> Result<(), PushFailure> {
        let len = item.len();
        if len > 0 && self.shared.queued() + len > self.shared.limits.bytes {
            return Err(PushFailure::Stuck);
        }
        self.shared.enqueue(item)
    }

    /// Queues one of the connection's own replies, first waiting (up to
    /// `patience`) until at most `reply_bytes` (and fewer frames than the
    /// bound) are queued.
    pub async fn push_reply(&self, item: Outgoing, patience: Duration) -> Result<(), PushFailure> {
        let waited = tokio::time::timeout(patience, async {
            loop {
                let drained = self.shared.drained.notified();
                tokio::pin!(drained);
                drained.as_mut().enable();
                if self.shared.lock().closed {
                    return Err(PushFailure::Gone);
                }
                if self.shared.has_room_for_reply() {
                    break;
                }
                drained.await;
            }
            self.shared.enqueue(item)
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
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next item, when one is queued (for the socket writer's stream).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Outgoing>> {
        let mut queue = self.shared.lock();
        if let Some(item) = queue.items.pop_front() {
            if queue.items.is_empty() && queue.items.capacity() > KEPT_SLOTS {
                queue.items = VecDeque::new();
            }
            return Poll::Ready(Some(item));
        }
        if queue.senders == 0 {
            return Poll::Ready(None);
        }
        match &mut queue.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The next item if one is queued now.
    pub fn try_recv(&mut self) -> Option<Outgoing> {
        self.shared.lock().items.pop_front()
    }

    /// Call after an item of `len` bytes has been handed to the socket.
    pub fn written(&self, len: usize) {
        self.shared.sub(len);
    }
}

impl Drop for OutboxReceiver {
    fn drop(&mut self) {
        // Nothing more gets in; what is left will never be written.
        let left = {
            let mut queue = self.shared.lock();
            queue.closed = true;
            queue.waker = None;
            std::mem::take(&mut queue.items)
        };
        for item in left {
            self.shared.sub(item.len());
        }
        // Replies waiting for room learn that there will be none.
        self.shared.drained.notify_waiters();
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

    #[tokio::test]
    async fn pushes_over_the_frame_bound_are_refused_and_the_writer_ends_with_the_last_sender() {
        let (outbox, mut receiver) = outbox(
            OutboxLimits {
                frames: 2,
                ..limits()
            },
            Metrics::new(),
        );
        let tab = outbox.clone();
        outbox.push(frame(1)).unwrap();
        tab.push(frame(1)).unwrap();
        assert_eq!(outbox.push(frame(1)), Err(PushFailure::Stuck));
        drop(outbox);
        assert!(receiver.recv().await.is_some());
        drop(tab);
        // What was queued still comes out, then the end.
        assert!(receiver.recv().await.is_some());
        assert!(receiver.recv().await.is_none());
    }

    #[tokio::test]
    async fn an_emptied_queue_gives_a_burst_s_memory_back() {
        let (outbox, mut receiver) = outbox(limits(), Metrics::new());
        for _ in 0..100 {
            outbox.push(frame(1)).unwrap();
        }
        while receiver.try_recv().is_some() {}
        outbox.push(frame(1)).unwrap();
        assert!(receiver.recv().await.is_some());
        assert!(receiver.shared.lock().items.capacity() <= KEPT_SLOTS);
    }
}

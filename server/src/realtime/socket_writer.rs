//! The only writer to a connection's socket: the body of the upgrade
//! response, a stream of complete frames taken from the connection's
//! [`OutboxReceiver`]. Frames were encoded once when they were queued (a
//! broadcast's bytes are shared by every recipient), so writing is handing
//! them on; actix-http takes everything ready per wake into its write
//! buffer and writes it in one go. It also sends the heartbeat pings, and
//! ends the connection after a close frame, when the queue is closed, or
//! when the connection is kicked; dropped (the client went away), it kicks
//! the connection so the reader stops too.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_http::ws::{CloseCode, CloseReason};
use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::time::{Interval, MissedTickBehavior, interval_at};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::frames;
use super::outbox::{OutboxReceiver, Outgoing};
use crate::connection_limits::ConnectionSlot;

/// How often the server pings an idle client.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);

pub struct SocketWriter {
    queue: OutboxReceiver,
    heartbeat: Interval,
    kick: CancellationToken,
    kicked: Pin<Box<WaitForCancellationFutureOwned>>,
    done: bool,
    /// Counts the connection against its user's and address's limits for
    /// as long as the socket is open (until actix drops this body), not
    /// only while its reader runs.
    _slot: ConnectionSlot,
}

impl SocketWriter {
    pub fn new(queue: OutboxReceiver, kick: CancellationToken, slot: ConnectionSlot) -> Self {
        let start = tokio::time::Instant::now() + HEARTBEAT_INTERVAL;
        let mut heartbeat = interval_at(start, HEARTBEAT_INTERVAL);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            queue,
            heartbeat,
            kicked: Box::pin(kick.clone().cancelled_owned()),
            kick,
            done: false,
            _slot: slot,
        }
    }

    /// The last frame: after it the stream ends and the connection with it.
    fn finish(&mut self, reason: CloseReason) -> Poll<Option<Result<Bytes, actix_web::Error>>> {
        self.done = true;
        self.kick.cancel();
        Poll::Ready(Some(Ok(frames::close(reason))))
    }
}

impl Stream for SocketWriter {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done || this.kicked.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        match this.queue.poll_recv(cx) {
            Poll::Ready(Some(Outgoing::Frame(frame))) => {
                this.queue.written(frame.len());
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(Some(Outgoing::Close(reason))) => return this.finish(reason),
            Poll::Ready(None) => return this.finish(CloseCode::Normal.into()),
            Poll::Pending => {}
        }
        if this.heartbeat.poll_tick(cx).is_ready() {
            return Poll::Ready(Some(Ok(frames::ping())));
        }
        Poll::Pending
    }
}

impl Drop for SocketWriter {
    fn drop(&mut self) {
        // The socket is gone (or done): the reader has nothing left to do.
        self.kick.cancel();
    }
}

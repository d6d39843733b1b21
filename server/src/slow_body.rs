//! Request bodies must keep arriving: a body that pauses longer than
//! [`IDLE`], or that after [`GRACE`] averages less than [`MIN_BYTES_PER_SECOND`],
//! ends with a timeout error, so a client trickling a byte every few seconds
//! cannot hold a connection and a handler open for hours. Applied to every
//! request with a body (the WebSocket upgrade has its own heartbeat).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

/// Longest pause between two parts of a body.
pub const IDLE: Duration = Duration::from_secs(15);
/// Time before the average rate is checked.
pub const GRACE: Duration = Duration::from_secs(10);
/// Slowest average rate accepted after the grace time.
pub const MIN_BYTES_PER_SECOND: u64 = 1024;

/// Wraps a request body in the checks above.
pub fn guard(payload: Payload) -> Payload {
    let guarded: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(GuardedBody::new(payload));
    Payload::from(guarded)
}

/// Whether a body error is this module's timeout.
pub fn is_timeout(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(io) if io.kind() == io::ErrorKind::TimedOut)
}

struct GuardedBody {
    inner: Payload,
    started: Instant,
    last: Instant,
    received: u64,
    timer: Pin<Box<Sleep>>,
    done: bool,
}

impl GuardedBody {
    fn new(inner: Payload) -> Self {
        let now = Instant::now();
        let mut body = Self {
            inner,
            started: now,
            last: now,
            received: 0,
            timer: Box::pin(tokio::time::sleep_until(now + IDLE)),
            done: false,
        };
        body.reset_timer();
        body
    }

    /// The moment the body is too slow: the earlier of the idle limit and
    /// the moment the average rate falls under the minimum.
    fn deadline(&self) -> Instant {
        let rate_deadline = self.started
            + GRACE
            + Duration::from_secs_f64(self.received as f64 / MIN_BYTES_PER_SECOND as f64);
        (self.last + IDLE).min(rate_deadline)
    }

    fn reset_timer(&mut self) {
        let deadline = self.deadline();
        self.timer.as_mut().reset(deadline);
    }
}

impl Stream for GuardedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.received += chunk.len() as u64;
                self.last = Instant::now();
                self.reset_timer();
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => {
                self.done = true;
                Poll::Ready(other)
            }
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.done = true;
                    Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the request body arrived too slowly",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    fn trickle(every: Duration) -> Payload {
        let stream = futures_util::stream::unfold((), move |()| async move {
            tokio::time::sleep(every).await;
            Some((Ok::<_, PayloadError>(Bytes::from_static(b"x")), ()))
        });
        let boxed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(stream);
        Payload::from(boxed)
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickled_body_times_out_after_the_grace_time() {
        let mut body = guard(trickle(Duration::from_secs(5)));
        let started = Instant::now();
        loop {
            match body.next().await {
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    assert!(is_timeout(&error));
                    break;
                }
                None => panic!("the body should time out"),
            }
        }
        assert!(started.elapsed() <= GRACE + Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_longer_than_idle_times_out() {
        let mut body = guard(trickle(IDLE + Duration::from_secs(1)));
        assert!(is_timeout(&body.next().await.unwrap().unwrap_err()));
    }
}

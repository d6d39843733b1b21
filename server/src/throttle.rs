//! Rate limits that slow abusers down without losing anything:
//! [`TokenBucket`] paces one connection's messages (the reader waits, so order
//! is kept and nothing is refused), [`KeyedLimiter`] caps how often a key (an
//! IP address) may do something per window and says when to retry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket: `burst` tokens, refilled at `per_second`.
#[derive(Debug)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    pub fn new(burst: u32, per_second: u32) -> Self {
        let capacity = f64::from(burst.max(1));
        Self {
            capacity,
            per_second: f64::from(per_second.max(1)),
            tokens: capacity,
            updated: Instant::now(),
        }
    }

    /// Takes a token now, or says how long until one is available.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.per_second,
            ))
        }
    }

    /// Waits until a token is available and takes it.
    pub async fn take(&mut self) {
        while let Err(wait) = self.try_take(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
}

/// At most `limit` events per key in each `window`; shared across workers.
#[derive(Debug)]
pub struct KeyedLimiter {
    limit: u32,
    window: Duration,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Keys tracked before old windows are swept.
const SWEEP_AT: usize = 10_000;

impl KeyedLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for `key`; `Err(retry_after)` once over the limit.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        self.peek(key, now)?;
        self.record(key, now);
        Ok(())
    }

    /// `Err(retry_after)` if `key` is over the limit, without counting anything.
    pub fn peek(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let counts = self.lock();
        match counts.get(key) {
            Some((start, count))
                if *count >= self.limit && now.saturating_duration_since(*start) < self.window =>
            {
                Err(self
                    .window
                    .saturating_sub(now.saturating_duration_since(*start)))
            }
            _ => Ok(()),
        }
    }

    /// Counts one event (e.g. a failed sign-in) for `key`.
    pub fn record(&self, key: &str, now: Instant) {
        let mut counts = self.lock();
        if counts.len() >= SWEEP_AT {
            let window = self.window;
            counts.retain(|_, (start, _)| now.saturating_duration_since(*start) < window);
        }
        let entry = counts.entry(key.to_owned()).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Forgets `key` (e.g. after a successful sign-in).
    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, u32)>> {
        // A poisoned lock only means another thread panicked mid-update of a counter.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_paces() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(3, 10);
        for _ in 0..3 {
            assert!(bucket.try_take(start).is_ok());
        }
        let wait = bucket.try_take(start).unwrap_err();
        assert!(
            wait <= Duration::from_millis(100) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(bucket.try_take(start + Duration::from_millis(100)).is_ok());
        assert!(bucket.try_take(start + Duration::from_millis(100)).is_err());
        // Refill never exceeds the burst.
        let later = start + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(bucket.try_take(later).is_ok());
        }
        assert!(bucket.try_take(later).is_err());
    }

    #[test]
    fn keyed_limiter_counts_per_key_and_window() {
        let start = Instant::now();
        let limiter = KeyedLimiter::new(2, Duration::from_secs(60));
        assert!(limiter.check("a", start).is_ok());
        assert!(limiter.check("a", start).is_ok());
        let retry = limiter
            .check("a", start + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(retry, Duration::from_secs(50));
        assert!(
            limiter.check("b", start).is_ok(),
            "other keys are independent"
        );
        assert!(
            limiter.check("a", start + Duration::from_secs(60)).is_ok(),
            "a new window"
        );
    }

    #[test]
    fn failures_are_counted_only_when_recorded_and_forgotten_on_success() {
        let start = Instant::now();
        let limiter = KeyedLimiter::new(2, Duration::from_secs(900));
        assert!(limiter.peek("alice", start).is_ok());
        limiter.record("alice", start);
        assert!(limiter.peek("alice", start).is_ok());
        limiter.record("alice", start);
        assert!(limiter.peek("alice", start).is_err());
        limiter.forget("alice");
        assert!(limiter.peek("alice", start).is_ok());
    }
}

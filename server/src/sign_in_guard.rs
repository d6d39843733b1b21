//! Guessing passwords costs the guesser, never the owner. Every sign-in
//! attempt is counted *before* its password is hashed (and refunded when it
//! succeeds), so a burst of concurrent guesses cannot run more hashes than
//! the budget allows:
//!
//! - per address: a budget of attempts (burst, then one every few seconds);
//! - per name *and* address: after a few failures, a delay that doubles with
//!   each further failure, up to 15 minutes: a guesser slows only itself;
//! - per name from everywhere: after many failures, a short delay (at most a
//!   few seconds), so guesses spread over many addresses stay slow while the
//!   owner is never locked out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::budget::Budget;

/// Failures free of any delay, per name and address.
const FREE_FAILURES_PER_ADDRESS: u32 = 5;
/// Longest delay a name and address can earn.
const MAX_DELAY_PER_ADDRESS: Duration = Duration::from_secs(15 * 60);
/// Failures (from all addresses) free of any delay, per name.
const FREE_FAILURES_PER_NAME: u32 = 20;
/// Longest delay anyone can impose on a name for everyone.
const MAX_DELAY_PER_NAME: Duration = Duration::from_secs(5);
/// Failures older than this are forgotten.
const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);
/// Entries kept before old ones are swept.
const SWEEP_AT: usize = 10_000;

/// Counts sign-in attempts; see the module documentation.
pub struct SignInGuard {
    per_address: Budget,
    failures: Mutex<Failures>,
}

#[derive(Default)]
struct Failures {
    by_name_and_address: HashMap<(String, String), Count>,
    by_name: HashMap<String, Count>,
}

#[derive(Debug, Clone, Copy)]
struct Count {
    failures: u32,
    last: Instant,
}

/// An admitted attempt, counted as a failure unless [`Attempt::succeeded`] is called.
#[must_use = "an attempt counts as failed unless it succeeds"]
pub struct Attempt {
    guard: Arc<SignInGuard>,
    name: String,
    address: String,
}

impl SignInGuard {
    /// `attempts_burst` attempts at once per address, then one every `attempt_every`.
    pub fn new(attempts_burst: u32, attempt_every: Duration) -> Arc<Self> {
        Arc::new(Self {
            per_address: Budget::every(attempts_burst, attempt_every),
            failures: Mutex::new(Failures::default()),
        })
    }

    /// Admits an attempt for `name` from `address` (counted as a failure
    /// until it succeeds), or says how long to wait.
    pub fn admit(self: &Arc<Self>, name: &str, address: &str) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let pair = (name.to_owned(), address.to_owned());
        {
            let failures = self.lock();
            let wait = delay_left(
                failures.by_name_and_address.get(&pair),
                FREE_FAILURES_PER_ADDRESS,
                MAX_DELAY_PER_ADDRESS,
                now,
            )
            .max(delay_left(
                failures.by_name.get(name),
                FREE_FAILURES_PER_NAME,
                MAX_DELAY_PER_NAME,
                now,
            ));
            if !wait.is_zero() {
                return Err(wait);
            }
        }
        self.per_address.check(address)?;
        let mut failures = self.lock();
        if failures.by_name.len() > SWEEP_AT || failures.by_name_and_address.len() > SWEEP_AT {
            failures
                .by_name
                .retain(|_, count| now.duration_since(count.last) < FAILURE_MEMORY);
            failures
                .by_name_and_address
                .retain(|_, count| now.duration_since(count.last) < FAILURE_MEMORY);
        }
        bump(
            failures
                .by_name_and_address
                .entry(pair)
                .or_insert(fresh(now)),
            now,
        );
        bump(
            failures
                .by_name
                .entry(name.to_owned())
                .or_insert(fresh(now)),
            now,
        );
        Ok(Attempt {
            guard: self.clone(),
            name: name.to_owned(),
            address: address.to_owned(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Failures> {
        // A poisoned lock only means a panic mid-update of a counter.
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn sweep(&self) {
        self.per_address.sweep();
    }
}

impl Attempt {
    /// The attempt never got to check a password (the server was busy): it
    /// does not count.
    pub fn cancelled(self) {
        let mut failures = self.guard.lock();
        let pair = (self.name.clone(), self.address.clone());
        if let Some(count) = failures.by_name_and_address.get_mut(&pair) {
            count.failures = count.failures.saturating_sub(1);
        }
        if let Some(count) = failures.by_name.get_mut(&self.name) {
            count.failures = count.failures.saturating_sub(1);
        }
    }

    /// The password was right: this attempt, and the failures before it from
    /// this address, are forgiven.
    pub fn succeeded(self) {
        let mut failures = self.guard.lock();
        failures
            .by_name_and_address
            .remove(&(self.name.clone(), self.address.clone()));
        if let Some(count) = failures.by_name.get_mut(&self.name) {
            count.failures = count.failures.saturating_sub(1);
        }
    }
}

fn fresh(now: Instant) -> Count {
    Count {
        failures: 0,
        last: now,
    }
}

fn bump(count: &mut Count, now: Instant) {
    if now.duration_since(count.last) >= FAILURE_MEMORY {
        count.failures = 0;
    }
    count.failures += 1;
    count.last = now;
}

/// How much longer to wait after `count` failures: nothing for the first
/// `free`, then 1 s, 2 s, 4 s… since the last one, at most `max`.
fn delay_left(count: Option<&Count>, free: u32, max: Duration, now: Instant) -> Duration {
    let Some(count) = count else {
        return Duration::ZERO;
    };
    let since = now.duration_since(count.last);
    if count.failures < free || since >= FAILURE_MEMORY {
        return Duration::ZERO;
    }
    let doublings = (count.failures - free).min(20);
    let delay = Duration::from_secs(1u64 << doublings).min(max);
    delay.saturating_sub(since)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guesser_slows_itself_while_the_owner_gets_in() {
        let guard = SignInGuard::new(100, Duration::from_millis(1));
        for _ in 0..FREE_FAILURES_PER_ADDRESS {
            drop(guard.admit("alice", "attacker").unwrap());
        }
        let wait = guard.admit("alice", "attacker").err().unwrap();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        // The owner, elsewhere, is not delayed.
        guard.admit("alice", "owner").unwrap().succeeded();
    }

    #[test]
    fn concurrent_attempts_are_counted_before_they_finish() {
        let guard = SignInGuard::new(100, Duration::from_millis(1));
        // Held, not yet finished: they still count.
        let held: Vec<_> = (0..FREE_FAILURES_PER_ADDRESS)
            .map(|_| guard.admit("bob", "a").unwrap())
            .collect();
        assert!(guard.admit("bob", "a").is_err());
        drop(held);
    }

    #[test]
    fn the_per_address_budget_is_spent_before_hashing() {
        let guard = SignInGuard::new(3, Duration::from_secs(60));
        for name in ["a", "b", "c"] {
            drop(guard.admit(name, "x").unwrap());
        }
        assert!(guard.admit("d", "x").is_err());
        assert!(guard.admit("d", "y").is_ok());
    }

    #[test]
    fn a_name_attacked_from_everywhere_is_delayed_a_little_for_everyone() {
        let guard = SignInGuard::new(100, Duration::from_millis(1));
        for i in 0..FREE_FAILURES_PER_NAME {
            drop(guard.admit("carol", &format!("address {i}")).unwrap());
        }
        let wait = guard.admit("carol", "owner").err().unwrap();
        assert!(wait <= MAX_DELAY_PER_NAME);
    }
}

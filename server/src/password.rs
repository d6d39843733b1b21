//! Password hashing with argon2id at OWASP's recommended parameters
//! (19 MiB memory, 2 iterations, 1 lane). Hashing is slow on purpose, so it
//! runs on blocking threads through [`Hashing`], which lets only a few run
//! at once and answers "busy" at once when too many are waiting: a flood of
//! sign-ins cannot take every core or gigabytes of memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::metrics::Metrics;

/// How long a request waits for a hashing slot before it is told to retry.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Too many hashes are running and waiting: try again shortly.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("password checks are busy")]
pub struct Busy;

/// Runs password hashes on blocking threads, `concurrent` at a time, with at
/// most `max_waiting` more waiting.
#[derive(Clone)]
pub struct Hashing {
    slots: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    metrics: Metrics,
}

impl Hashing {
    pub fn new(concurrent: usize, max_waiting: usize, metrics: Metrics) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(concurrent.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting,
            metrics,
        }
    }

    /// Runs `work` (a hash or a verification) when a slot is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        let slot = tokio::time::timeout(MAX_WAIT, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let Ok(Ok(slot)) = slot else {
            return Err(Busy);
        };
        self.metrics.password_hashes.inc();
        let result = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            work()
        })
        .await;
        result.map_err(|_| Busy)
    }
}

/// OWASP: m=19456 KiB, t=2, p=1.
fn hasher() -> Argon2<'static> {
    // These constants are within argon2's valid ranges.
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system provides randomness");
    let salt = SaltString::encode_b64(&salt)?;
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches `stored`. An unreadable hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real check, for names without a password, so
/// the answer's timing does not tell which names exist.
pub fn verify_dummy(password: &str) {
    use std::sync::OnceLock;
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("dummy password for timing").unwrap_or_default());
    let _ = verify(password, stored);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let first = hash("correct horse battery").unwrap();
        let second = hash("correct horse battery").unwrap();
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify("correct horse battery", &first));
        assert!(!verify("correct horse battery!", &first));
        assert!(!verify("anything", "not a hash"));
    }
}

//! Password hashing with argon2id at OWASP's recommended parameters
//! (19 MiB memory, 2 iterations, 1 lane). Hashing is slow on purpose, so it
//! runs through [`Hashing`]: a few long-lived threads and a short queue.
//! A flood of sign-ins cannot take every core or gigabytes of memory: more
//! requests than the queue holds are told "busy, retry" at once, and since
//! only those threads ever hash, only their memory arenas ever hold
//! argon2's 19 MiB blocks.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::oneshot;

use crate::metrics::Metrics;

/// How long a request waits for its hash before it is told to retry.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Too many hashes are running and waiting: try again shortly.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("password checks are busy")]
pub struct Busy;

type Job = Box<dyn FnOnce() + Send>;

/// Runs password hashes on `threads` dedicated threads, with at most
/// `max_waiting` more queued; cheap to clone. The threads end when the last
/// clone is dropped.
#[derive(Clone)]
pub struct Hashing {
    jobs: SyncSender<Job>,
    metrics: Metrics,
}

impl Hashing {
    pub fn new(threads: usize, max_waiting: usize, metrics: Metrics) -> Self {
        let (jobs, queue) = sync_channel::<Job>(max_waiting);
        let queue = Arc::new(Mutex::new(queue));
        for number in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{number}"))
                .spawn(move || work(&queue));
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a password hashing thread");
            }
        }
        Self { jobs, metrics }
    }

    /// Runs `work` (a hash or a verification) when a thread is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let (done, result) = oneshot::channel();
        let metrics = self.metrics.clone();
        let job: Job = Box::new(move || {
            metrics.password_hashes.inc();
            let _ = done.send(work());
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => return Err(Busy),
        }
        match tokio::time::timeout(MAX_WAIT, result).await {
            Ok(Ok(value)) => Ok(value),
            _ => Err(Busy),
        }
    }
}

/// One hashing thread: takes jobs until every sender is gone.
fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        // A poisoned lock only means another hashing thread panicked.
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
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

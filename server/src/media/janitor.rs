//! Housekeeping of the files folder: uploads nobody posted within a day and
//! the files of deleted messages are forgotten, and bytes no row refers to
//! any more are removed from disk. Runs shortly after start and then hourly.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::storage::FileStore;
use crate::random::now_millis;
use crate::store::{Store, StoreError};

/// How long an upload may wait to be posted.
pub const UNPOSTED_GRACE: Duration = Duration::from_secs(24 * 60 * 60);
const FIRST_SWEEP: Duration = Duration::from_secs(60);
const EVERY: Duration = Duration::from_secs(60 * 60);

/// Starts the hourly sweep.
pub fn start(store: Store, files: FileStore) -> JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(FIRST_SWEEP).await;
        let mut every = tokio::time::interval(EVERY);
        loop {
            every.tick().await;
            let cutoff = now_millis() - UNPOSTED_GRACE.as_millis() as i64;
            match sweep(&store, &files, cutoff).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "removed unused files"),
                Err(error) => tracing::warn!(%error, "sweeping the files folder failed"),
            }
        }
    })
}

/// One sweep: unposted uploads older than `unposted_before` (ms since the
/// epoch) and files of deleted messages go; returns how many stored
/// contents were removed from disk.
pub async fn sweep(
    store: &Store,
    files: &FileStore,
    unposted_before: i64,
) -> Result<usize, StoreError> {
    let _content = files.lock().await;
    let unreferenced = store.sweep_files(unposted_before).await?;
    let mut removed = 0;
    for sha256 in &unreferenced {
        match files.remove(sha256).await {
            Ok(()) => removed += 1,
            Err(error) => tracing::warn!(%error, %sha256, "removing a stored file failed"),
        }
    }
    Ok(removed)
}

//! Periodic upkeep that is not about files: budgets forget keys that are
//! quiet again (so their memory stays bounded by recent activity), and
//! sessions unused for longer than the idle limit, cached link previews
//! older than a day and (several nodes) old shared counts are deleted, a
//! batch at a time.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::budget::{Budget, RequestBudgets};
use crate::random::now_millis;
use crate::sign_in_guard::SignInGuard;
use crate::store::{Accounts, LinkCache, Store, StoreError};

const BUDGET_SWEEP: Duration = Duration::from_secs(60);
const SESSION_SWEEP: Duration = Duration::from_secs(60 * 60);
/// Rows deleted per statement.
const BATCH: u32 = 1_000;
/// How long a cached link preview is kept.
const PREVIEW_CACHE: Duration = Duration::from_secs(24 * 60 * 60);

/// What housekeeping looks after.
pub struct Upkeep {
    pub store: Store,
    pub session_idle: Duration,
    pub requests: Arc<RequestBudgets>,
    pub sign_in: Arc<SignInGuard>,
    pub budgets: Vec<Arc<Budget>>,
}

/// Starts the periodic upkeep.
pub fn start(upkeep: Upkeep) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(BUDGET_SWEEP);
        let mut minutes = 0u64;
        loop {
            every_minute.tick().await;
            upkeep.requests.sweep();
            upkeep.sign_in.sweep();
            for budget in &upkeep.budgets {
                budget.sweep();
            }
            if minutes.is_multiple_of(SESSION_SWEEP.as_secs() / BUDGET_SWEEP.as_secs()) {
                sweep_old_rows(&upkeep).await;
            }
            minutes += 1;
        }
    })
}

/// Deletes idle sessions and stale cached previews, a batch at a time (on
/// one node of several: the one that claims the hour's sweep).
async fn sweep_old_rows(upkeep: &Upkeep) {
    match upkeep.store.claim_job("row sweep", SESSION_SWEEP).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(error) => {
            tracing::warn!(%error, "could not claim the sweep of old rows");
            return;
        }
    }
    let now = now_millis();
    let idle_cutoff = now - millis(upkeep.session_idle);
    let stale_cutoff = now - millis(PREVIEW_CACHE);
    let sessions = in_batches(|| upkeep.store.delete_idle_sessions(idle_cutoff, BATCH)).await;
    // Shared counts (several nodes) are per minute: an hour back is plenty.
    if let Err(error) = upkeep
        .store
        .forget_shared_counts(now - 60 * 60 * 1000)
        .await
    {
        tracing::warn!(%error, "forgetting old shared counts failed");
    }
    let previews = in_batches(|| upkeep.store.forget_cached_previews(stale_cutoff, BATCH)).await;
    if sessions + previews > 0 {
        tracing::info!(
            sessions,
            previews,
            "swept idle sessions and stale link previews"
        );
    }
}

/// Runs `delete` until a batch comes back short; returns how many rows went.
async fn in_batches<F, Fut>(mut delete: F) -> u64
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, StoreError>>,
{
    let mut total = 0;
    loop {
        match delete().await {
            Ok(deleted) => {
                total += deleted;
                if deleted < u64::from(BATCH) {
                    return total;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => {
                tracing::warn!(%error, "housekeeping failed");
                return total;
            }
        }
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

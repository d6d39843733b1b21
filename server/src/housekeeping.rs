//! Periodic upkeep that is not about files: budgets forget keys that are
//! quiet again (so their memory stays bounded by recent activity), and
//! sessions unused for longer than the idle limit are deleted, a batch at a time.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::budget::{Budget, RequestBudgets};
use crate::random::now_millis;
use crate::sign_in_guard::SignInGuard;
use crate::store::Store;

const BUDGET_SWEEP: Duration = Duration::from_secs(60);
const SESSION_SWEEP: Duration = Duration::from_secs(60 * 60);
/// Sessions deleted per statement.
const SESSION_BATCH: u32 = 1_000;

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
                delete_idle_sessions(&upkeep).await;
            }
            minutes += 1;
        }
    })
}

async fn delete_idle_sessions(upkeep: &Upkeep) {
    let cutoff = now_millis() - i64::try_from(upkeep.session_idle.as_millis()).unwrap_or(i64::MAX);
    loop {
        match upkeep
            .store
            .delete_idle_sessions(cutoff, SESSION_BATCH)
            .await
        {
            Ok(deleted) if deleted >= u64::from(SESSION_BATCH) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(0) => return,
            Ok(deleted) => {
                tracing::info!(deleted, "ended sessions unused for too long");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "ending idle sessions failed");
                return;
            }
        }
    }
}

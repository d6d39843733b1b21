//! Sign-ups committed together: names picked at about the same moment go
//! into one write transaction, one sync to disk for all of them. A crowd
//! arriving at once (a launch, a link shared in a big community, every
//! client of a bench) then costs a few commits instead of one each, and
//! sign-ups never hold the pool's connections while they wait their turn
//! for SQLite's write lock.

use shared::validate::Username;
use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;
use crate::store::{Accounts, NewAccount, SessionUser, Store, StoreError};

/// Sign-ups per transaction at most.
const MAX_BATCH: usize = 256;
/// Sign-ups waiting for a transaction at most; beyond it callers wait.
const QUEUE: usize = 4_096;

/// One sign-up and where its outcome goes.
struct Request {
    account: NewAccount,
    reply: oneshot::Sender<Result<SessionUser, StoreError>>,
}

/// Handle to the sign-up writer task; cheap to clone.
#[derive(Clone)]
pub struct SignupWriter {
    requests: mpsc::Sender<Request>,
}

impl SignupWriter {
    /// Starts the task on `runtime`; it ends when every handle is gone.
    pub fn start(runtime: &tokio::runtime::Handle, store: Store, metrics: Metrics) -> Self {
        let (requests, receiver) = mpsc::channel(QUEUE);
        runtime.spawn(run(store, metrics, receiver));
        Self { requests }
    }

    /// Creates a user with a first session, in the default channel, once
    /// the transaction it joined is committed.
    pub async fn create(
        &self,
        name: Username,
        token_hash: String,
    ) -> Result<SessionUser, StoreError> {
        let (reply, outcome) = oneshot::channel();
        let request = Request {
            account: NewAccount { name, token_hash },
            reply,
        };
        let stopped = || StoreError::BatchFailed("the server is stopping".into());
        self.requests.send(request).await.map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

async fn run(store: Store, metrics: Metrics, mut requests: mpsc::Receiver<Request>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while requests.recv_many(&mut batch, MAX_BATCH).await > 0 {
        metrics.signup_batch_size.observe(batch.len() as f64);
        let (accounts, replies): (Vec<_>, Vec<_>) = batch
            .drain(..)
            .map(|request| (request.account, request.reply))
            .unzip();
        match store.create_accounts(&accounts).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::error!(%error, sign_ups = accounts.len(), "could not store sign-ups");
                for reply in replies {
                    let _ = reply.send(Err(StoreError::BatchFailed(error.to_string())));
                }
            }
        }
    }
}

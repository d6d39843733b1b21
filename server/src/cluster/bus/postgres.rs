//! The bus on PostgreSQL's `LISTEN`/`NOTIFY`, on one channel
//! ([`crate::store::postgres::NOTICES`]). Publishing is a `NOTIFY` through
//! the pool (the writer's own notices go out inside its transactions, see
//! the store); listening is one dedicated connection per node, never in a
//! transaction. Every node hears every notice. When that connection is
//! lost, notices may have been missed: the listener says so
//! ([`Heard::MaybeMissed`]) once it is back, and the sequencer reads what
//! changed meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use shared::cluster::{About, Notice};
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::Heard;
use crate::store::postgres::NOTICES;

/// This node's end of the bus; cheap to clone.
#[derive(Clone)]
pub struct PgBus {
    pool: PgPool,
    node: Arc<str>,
    listening: Arc<AtomicBool>,
}

impl PgBus {
    pub fn new(pool: PgPool, node: &str) -> Self {
        Self {
            pool,
            node: Arc::from(node),
            listening: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether the listening connection is up (for `/healthz`).
    pub fn is_up(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    /// Tells the other nodes.
    pub async fn publish(&self, about: About) {
        let json = Notice {
            node: self.node.to_string(),
            about,
        }
        .to_json();
        self.send(&json).await;
    }

    /// This node's name on the bus.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Sends a notice made already (see [`Notice::heartbeat`]).
    pub async fn send(&self, json: &str) {
        if !super::fits(json) {
            return;
        }
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(NOTICES)
            .bind(json)
            .execute(&self.pool)
            .await;
        if let Err(error) = sent {
            tracing::warn!(%error, "could not publish a notice to the other nodes");
        }
    }

    /// Listens until the returned task is aborted, handing what other
    /// nodes publish to `heard` (in the order the database committed it).
    pub fn listen(&self, heard: mpsc::Sender<Heard>) -> JoinHandle<()> {
        let bus = self.clone();
        tokio::spawn(async move {
            loop {
                match bus.listen_once(&heard).await {
                    Ok(()) => return, // nobody hears any more
                    Err(error) => {
                        bus.listening.store(false, Ordering::Relaxed);
                        tracing::warn!(%error, "the bus listener lost its connection; reconnecting");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        })
    }

    /// One listening connection, until it fails (`Err`) or `heard` closes.
    async fn listen_once(&self, heard: &mpsc::Sender<Heard>) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        // Reconnecting is this loop's job, so a loss is never silent.
        listener.ignore_pool_close_event(true);
        listener.listen(NOTICES).await?;
        let was_down = !self.listening.swap(true, Ordering::Relaxed);
        if was_down && heard.send(Heard::MaybeMissed).await.is_err() {
            return Ok(());
        }
        loop {
            // `None`: the connection was lost (sqlx would reconnect quietly).
            let Some(notification) = listener.try_recv().await? else {
                return Err(sqlx::Error::Protocol(
                    "the listening connection closed".into(),
                ));
            };
            let notice: Notice = match serde_json::from_str(notification.payload()) {
                Ok(notice) => notice,
                Err(error) => {
                    tracing::warn!(%error, "a notice on the bus could not be read");
                    continue;
                }
            };
            if notice.node == *self.node {
                continue;
            }
            if heard.send(Heard::Notice(Box::new(notice))).await.is_err() {
                return Ok(());
            }
        }
    }
}

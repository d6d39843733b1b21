//! Prometheus metrics: what the server is doing and what it refuses. One
//! registry per application (tests run several in one process). Served as
//! text at `/metrics` on a separate listener (`--metrics-addr`) that is off
//! unless asked for, so it is never public by accident.

use std::sync::{Arc, Mutex};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A label set with one label.
type Label = [(&'static str, &'static str); 1];

/// Every metric, cheap to clone (each handle shares its value).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    /// WebSocket connections open now.
    pub connections: Gauge,
    pub connections_opened: Counter,
    /// Frames queued for connections (broadcasts count once per recipient).
    pub deliveries: Counter,
    /// Bytes queued for all connections and not yet written to their sockets.
    pub outbound_bytes: Gauge,
    /// Connections the server closed, by reason (stuck, stalled, revoked…).
    kicks: Family<Label, Counter>,
    /// Requests refused, by reason (rate_limited, busy, too_large, host…).
    refusals: Family<Label, Counter>,
    /// Messages per write transaction.
    pub batch_size: Histogram,
    /// Sign-ups per write transaction.
    pub signup_batch_size: Histogram,
    /// Seconds from BEGIN to COMMIT of a write batch.
    pub commit_seconds: Histogram,
    /// Link preview fetches, by outcome.
    preview_fetches: Family<Label, Counter>,
    /// argon2 hashes and verifications run.
    pub password_hashes: Counter,
    /// Images decoded and prepared (uploads and previews).
    pub image_preparations: Counter,
    /// Notices heard from the other nodes of a cluster.
    pub bus_notices: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let metrics = Self {
            registry: Arc::new(Mutex::new(Registry::with_prefix("chat"))),
            connections: Gauge::default(),
            connections_opened: Counter::default(),
            deliveries: Counter::default(),
            outbound_bytes: Gauge::default(),
            kicks: Family::default(),
            refusals: Family::default(),
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 9)),
            signup_batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 9)),
            commit_seconds: Histogram::new(exponential_buckets(0.000_25, 2.0, 14)),
            preview_fetches: Family::default(),
            password_hashes: Counter::default(),
            image_preparations: Counter::default(),
            bus_notices: Counter::default(),
        };
        {
            let mut registry = metrics.lock();
            registry.register(
                "connections",
                "WebSocket connections open now",
                metrics.connections.clone(),
            );
            registry.register(
                "connections_opened",
                "WebSocket connections opened",
                metrics.connections_opened.clone(),
            );
            registry.register(
                "deliveries",
                "Frames queued for connections, once per recipient",
                metrics.deliveries.clone(),
            );
            registry.register(
                "outbound_queued_bytes",
                "Bytes queued for connections and not yet written to their sockets",
                metrics.outbound_bytes.clone(),
            );
            registry.register(
                "kicks",
                "Connections closed by the server, by reason",
                metrics.kicks.clone(),
            );
            registry.register(
                "refusals",
                "Requests refused, by reason",
                metrics.refusals.clone(),
            );
            registry.register(
                "writer_batch_size",
                "Messages per write transaction",
                metrics.batch_size.clone(),
            );
            registry.register(
                "signup_batch_size",
                "Sign-ups per write transaction",
                metrics.signup_batch_size.clone(),
            );
            registry.register(
                "writer_commit_seconds",
                "Time from BEGIN to COMMIT of a message batch",
                metrics.commit_seconds.clone(),
            );
            registry.register(
                "preview_fetches",
                "Link preview fetches, by outcome",
                metrics.preview_fetches.clone(),
            );
            registry.register(
                "password_hashes",
                "argon2 hashes and verifications run",
                metrics.password_hashes.clone(),
            );
            registry.register(
                "image_preparations",
                "Images decoded and prepared (uploads and link previews)",
                metrics.image_preparations.clone(),
            );
            registry.register(
                "bus_notices",
                "Notices heard from the other nodes (on NATS, only those about rooms and people served here)",
                metrics.bus_notices.clone(),
            );
        }
        metrics
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A poisoned lock only means a panic while registering; the registry is intact.
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The server closed a connection for `reason`.
    pub fn kicked(&self, reason: &'static str) {
        self.kicks.get_or_create(&[("reason", reason)]).inc();
    }

    /// A request was refused for `reason`.
    pub fn refused(&self, reason: &'static str) {
        self.refusals.get_or_create(&[("reason", reason)]).inc();
    }

    /// A link preview fetch ended with `outcome`.
    pub fn preview_fetched(&self, outcome: &'static str) {
        self.preview_fetches
            .get_or_create(&[("outcome", outcome)])
            .inc();
    }

    /// The Prometheus text format of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.lock());
        text
    }
}

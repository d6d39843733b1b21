//! Everything a live connection needs, and nothing else:
//!
//! - [`connection`]: one socket: a reader task that hands whole client
//!   messages to the dispatch, and queues the answers.
//! - [`socket_writer`]: the only writer to a socket, the upgrade response's
//!   body: complete frames from the connection's queue, and heartbeats.
//! - [`frames`]: WebSocket framing, once per message (a broadcast's frame is
//!   shared by every recipient) and whole client messages.
//! - [`commands`]: the one dispatch of client requests (one `match` over
//!   `ClientMsg`), each command in one place, refusals in one wording.
//! - [`writer`]: the message writer: batches posts into one transaction,
//!   and publishes acks and broadcasts only after the commit.
//! - [`hub`]: this node's connections, indexed by user, their rooms and
//!   presence; fans frames out to bounded [`outbox`] queues.
//! - [`presence`]: who is online and who hears about whom (everyone one by
//!   one up to a page of people; beyond, what each connection was shown,
//!   plus coalesced summaries), the hub's bookkeeping, without queues.
//! - [`fanout`]: the trait and events through which everything publishes
//!   (the hub today, a bus between nodes later).
//! - [`context`]: what connections, commands and routes share.
//!
//! Dependency rules: `hub` depends on `fanout`, `frames`, `outbox`,
//! `presence`, `metrics` and `shared` only (no store, no wording); commands publish only
//! through [`fanout::FanOut`].

pub mod commands;
pub mod connection;
pub mod context;
pub mod fanout;
pub mod frames;
pub mod hub;
pub mod outbox;
pub mod presence;
pub mod socket_writer;
pub mod writer;

pub use context::Realtime;

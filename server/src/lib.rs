//! The chat server as a library: `main.rs` only parses settings and calls
//! [`startup::Application`]; integration tests drive the same code on port 0.

pub mod auth;
pub mod budget;
pub mod client_address;
pub mod cluster;
pub mod connection_limits;
pub mod core_runtime;
pub mod error;
pub mod housekeeping;
pub mod media;
pub mod memory;
pub mod metrics;
pub mod password;
pub mod preview;
pub mod random;
pub mod realtime;
pub mod routes;
pub mod settings;
pub mod sign_in_guard;
pub mod signup_writer;
pub mod slow_body;
pub mod startup;
pub mod store;
pub mod telemetry;

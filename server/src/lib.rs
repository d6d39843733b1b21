//! The chat server as a library: `main.rs` only parses settings and calls
//! [`startup::Application`]; integration tests drive the same code on port 0.

pub mod auth;
pub mod commands;
pub mod connection;
pub mod error;
pub mod hub;
pub mod media;
pub mod password;
pub mod preview;
pub mod random;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod throttle;

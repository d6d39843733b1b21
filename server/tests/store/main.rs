//! Store conformance: the same checks run against every dialect (SQLite in
//! a temporary file, PostgreSQL in a fresh database of the cluster that
//! `cargo xtask test` starts and names in `CHAT_TEST_POSTGRES_URL`), so the
//! dialects cannot drift apart. Each aggregate has its own file.

mod accounts;
mod channels;
mod dialects;
mod epoch;
mod files;
mod jobs;
mod link_cache;
mod messages;
mod moderation;
#[path = "../support/postgres.rs"]
mod postgres;

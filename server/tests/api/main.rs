//! Black-box tests of the server over real sockets: each test starts the real
//! application on a random loopback port with a fresh SQLite database, or
//! with a fresh PostgreSQL database when `CHAT_TEST_API_ON_POSTGRES` is set
//! (`cargo xtask test` runs them both ways).

mod helpers;
#[path = "../support/pages.rs"]
mod pages;
#[path = "../support/postgres.rs"]
mod postgres;
#[path = "../support/s3.rs"]
mod s3;
#[path = "../support/text_frames.rs"]
mod text_frames;

mod accounts;
mod bad_input;
mod changes;
mod channels;
mod chat;
mod community;
mod crowd;
mod custom_emoji;
mod database;
mod history;
mod hostile_accounts;
mod hostile_channels;
mod hostile_http;
mod hostile_sockets;
mod http;
mod limits;
mod mentions;
mod moderation;
mod pins;
mod presence;
mod previews;
mod raw_socket;
mod search;
mod security;
mod slow_client;
mod threads;
mod uploads;

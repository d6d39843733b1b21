//! Black-box tests of the server over real sockets: each test starts the real
//! application on a random loopback port with a fresh SQLite database.

mod helpers;
#[path = "../support/text_frames.rs"]
mod text_frames;

mod accounts;
mod bad_input;
mod changes;
mod channels;
mod chat;
mod crowd;
mod database;
mod history;
mod hostile_accounts;
mod hostile_channels;
mod hostile_http;
mod hostile_sockets;
mod http;
mod limits;
mod presence;
mod previews;
mod raw_socket;
mod security;
mod slow_client;
mod uploads;

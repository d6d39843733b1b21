//! Command-line flags with environment-variable fallbacks.

use std::path::{Path, PathBuf};

use clap::Parser;

/// Self-hosted real-time chat: one process serves the web app, the WebSocket and the API.
#[derive(Debug, Clone, Parser)]
#[command(name = "server", version, about)]
pub struct Settings {
    /// Address to listen on (use port 0 for any free port).
    #[arg(long, env = "CHAT_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,

    /// Database URL; an SQLite file (and its folder) is created if missing.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/chat.db")]
    pub database_url: String,

    /// Folder with the compiled client (index.html and its assets).
    #[arg(long, env = "CHAT_STATIC_DIR", default_value = "client/dist")]
    pub static_dir: PathBuf,

    /// Extra origins allowed to open the WebSocket besides the server's own
    /// (comma-separated), e.g. `http://127.0.0.1:8081` for `trunk serve`.
    #[arg(
        long = "allowed-origin",
        env = "CHAT_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CHAT_WORKERS")]
    pub workers: Option<usize>,

    /// Frames queued for one connection before it counts as stuck and is
    /// disconnected (at least 256, the largest burst one database commit makes).
    #[arg(long, env = "CHAT_OUTBOUND_QUEUE", default_value_t = 1024)]
    pub outbound_queue: usize,

    /// Messages one connection may send at once before it is paced.
    #[arg(long, env = "CHAT_MESSAGE_BURST", default_value_t = 30)]
    pub message_burst: u32,

    /// Sustained messages per second per connection; faster senders are slowed
    /// down (their frames wait), never refused.
    #[arg(long, env = "CHAT_MESSAGES_PER_SECOND", default_value_t = 10)]
    pub messages_per_second: u32,

    /// New usernames one IP address may create per minute.
    #[arg(long, env = "CHAT_SIGNUPS_PER_MINUTE", default_value_t = 30)]
    pub signups_per_minute: u32,

    /// Most messages committed in one transaction (1 to 256); for benchmarks.
    #[arg(long, env = "CHAT_WRITE_BATCH", default_value_t = 256, hide = true)]
    pub write_batch: usize,

    /// Seconds to wait for open connections to finish on shutdown.
    #[arg(long, env = "CHAT_SHUTDOWN_TIMEOUT", default_value_t = 10)]
    pub shutdown_timeout: u64,
}

impl Settings {
    /// Defaults for everything, as if no flag or variable had been given.
    pub fn defaults() -> Self {
        Self::parse_from(["server"])
    }

    /// A throwaway server (tests): any free loopback port, its database in
    /// `data_dir`, the client from `static_dir`, two workers, quick shutdown.
    pub fn ephemeral(data_dir: &Path, static_dir: PathBuf) -> Self {
        let mut settings = Self::defaults();
        settings.addr = "127.0.0.1:0".into();
        settings.database_url = format!("sqlite://{}/chat.db", data_dir.display());
        settings.static_dir = static_dir;
        settings.allowed_origins = vec![];
        settings.workers = Some(2);
        settings.shutdown_timeout = 3;
        settings
    }
}

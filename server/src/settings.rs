//! Command-line flags with environment-variable fallbacks.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use ipnet::IpNet;

use crate::budget::RequestLimits;

/// Self-hosted real-time chat: one process serves the web app, the WebSocket and the API.
#[derive(Debug, Clone, Parser)]
#[command(name = "server", version, about)]
pub struct Settings {
    /// Something to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on (use port 0 for any free port).
    #[arg(long, env = "CHAT_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,

    /// Database URL: `sqlite://PATH` (one process; the file and its folder
    /// are created if missing) or `postgres://USER@HOST/DATABASE` (several
    /// server nodes may share it).
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/chat.db")]
    pub database_url: String,

    /// This node's name among the nodes sharing a PostgreSQL database
    /// (random when not given).
    #[arg(long, env = "CHAT_NODE_ID")]
    pub node_id: Option<String>,

    /// NATS server for the nodes' notices (e.g. `nats://127.0.0.1:4222`);
    /// without it, nodes on PostgreSQL use its `LISTEN`/`NOTIFY`.
    #[arg(long, env = "CHAT_NATS_URL")]
    pub nats_url: Option<String>,

    /// First part of every NATS subject this cluster uses: clusters
    /// sharing a NATS server need different ones.
    #[arg(long, env = "CHAT_NATS_PREFIX", default_value = "chat")]
    pub nats_prefix: String,

    /// S3-compatible bucket for uploaded files, instead of the files folder
    /// (for nodes that share no folder; uploads still arrive in the
    /// folder's `tmp/` first).
    #[arg(long, env = "CHAT_FILES_BUCKET")]
    pub files_bucket: Option<String>,

    /// The bucket's service, for S3-compatible storage other than AWS
    /// (e.g. `http://127.0.0.1:9000`).
    #[arg(long, env = "CHAT_FILES_ENDPOINT")]
    pub files_endpoint: Option<String>,

    /// The bucket's region.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub files_region: String,

    /// Access key of the bucket's account.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub files_access_key_id: Option<String>,

    /// Secret key of the bucket's account.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub files_secret_access_key: Option<String>,

    /// Folder for uploaded files (stored by content hash).
    #[arg(long, env = "CHAT_FILES_DIR", default_value = "data/files")]
    pub files_dir: PathBuf,

    /// Largest upload accepted, in bytes; larger ones are refused before
    /// they are read.
    #[arg(long, env = "CHAT_MAX_UPLOAD_BYTES", default_value_t = shared::limits::DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,

    /// Mebibytes one user may upload per hour (a burst of that much, refilled
    /// evenly over the hour).
    #[arg(long, env = "CHAT_UPLOAD_MIB_PER_HOUR", default_value_t = 1024)]
    pub upload_mib_per_hour: u32,

    /// Fetch the first link of each message to show a preview card
    /// (`--link-previews false` turns it off: the server then fetches nothing).
    #[arg(long, env = "CHAT_LINK_PREVIEWS", default_value_t = true, action = clap::ArgAction::Set)]
    pub link_previews: bool,

    /// Keep the full-text search index of a SQLite database (`false` turns
    /// search off and saves its writes; turning it on again indexes what
    /// was stored meanwhile). PostgreSQL always keeps its own.
    #[arg(long, env = "CHAT_SEARCH_INDEX", default_value_t = true, action = clap::ArgAction::Set)]
    pub search_index: bool,

    /// Largest conversation in which `@channel` and `@here` notify everyone
    /// (everyone online); in a larger one they notify nobody, so one person
    /// cannot ping a whole community.
    #[arg(
        long,
        env = "CHAT_MENTION_EVERYONE_MAX_MEMBERS",
        default_value_t = 1_000
    )]
    pub mention_everyone_max_members: u32,

    /// Addresses the preview fetcher may connect to although they are not
    /// public (comma-separated), e.g. `127.0.0.2` for a local test page server.
    #[arg(
        long = "preview-allow-address",
        env = "CHAT_PREVIEW_ALLOW_ADDRESSES",
        value_delimiter = ','
    )]
    pub preview_allowed_addresses: Vec<IpAddr>,

    /// Host names the preview fetcher resolves by this table instead of DNS,
    /// as `name=address` (comma-separated); for tests.
    #[arg(long = "preview-resolve", env = "CHAT_PREVIEW_RESOLVE", value_delimiter = ',', value_parser = parse_host_override, hide = true)]
    pub preview_resolve: Vec<(String, IpAddr)>,

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

    /// Bytes queued for one connection before it counts as stuck and is
    /// disconnected. Its own replies wait while more than an eighth of this is queued.
    #[arg(long, env = "CHAT_OUTBOUND_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub outbound_bytes: usize,

    /// Seconds a connection's replies may wait for the client to read before
    /// the connection is closed as stalled.
    #[arg(long, env = "CHAT_STALLED_CLIENT_TIMEOUT", default_value_t = 30)]
    pub stalled_client_timeout: u64,

    /// Messages one user may send at once (all their connections together)
    /// before they are paced.
    #[arg(long, env = "CHAT_MESSAGE_BURST", default_value_t = 30)]
    pub message_burst: u32,

    /// Sustained messages per second per user; faster senders are slowed
    /// down (their frames wait), never refused.
    #[arg(long, env = "CHAT_MESSAGES_PER_SECOND", default_value_t = 10)]
    pub messages_per_second: u32,

    /// WebSocket connections one user may have open at once.
    #[arg(long, env = "CHAT_MAX_CONNECTIONS_PER_USER", default_value_t = 20)]
    pub max_connections_per_user: usize,

    /// WebSocket connections one address (IPv6: one /64) may have open at once.
    #[arg(long, env = "CHAT_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 200)]
    pub max_connections_per_address: usize,

    /// New usernames one IP address may create per minute.
    #[arg(long, env = "CHAT_SIGNUPS_PER_MINUTE", default_value_t = 30)]
    pub signups_per_minute: u32,

    /// Password sign-in attempts one address may make at once; after that,
    /// one every `--sign-in-attempt-interval` seconds.
    #[arg(long, env = "CHAT_SIGN_IN_BURST", default_value_t = 10)]
    pub sign_in_burst: u32,

    /// Seconds between further sign-in attempts from one address.
    #[arg(long, env = "CHAT_SIGN_IN_ATTEMPT_INTERVAL", default_value_t = 6)]
    pub sign_in_attempt_interval: u64,

    /// Password hashes computed at once (each takes 19 MiB and a core for
    /// about 50 ms); 8 more may wait, further requests are told to retry.
    #[arg(long, env = "CHAT_PASSWORD_CHECKS", default_value_t = 2)]
    pub password_checks: usize,

    /// Days a session may go unused before it ends.
    #[arg(long, env = "CHAT_SESSION_IDLE_DAYS", default_value_t = 30)]
    pub session_idle_days: u64,

    /// Addresses or networks of reverse proxies whose `X-Forwarded-For`
    /// names the client (comma-separated, e.g. `127.0.0.1,10.0.0.0/8`).
    /// Without it, the client is the socket's peer.
    #[arg(
        long = "trusted-proxy",
        env = "CHAT_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_network
    )]
    pub trusted_proxies: Vec<IpNet>,

    /// The addresses people open the chat at, e.g. `https://chat.example.org`
    /// (comma-separated). Requests for other host names are refused (DNS
    /// rebinding); IP addresses and `localhost` are always accepted.
    #[arg(
        long = "public-origin",
        env = "CHAT_PUBLIC_ORIGINS",
        value_delimiter = ','
    )]
    pub public_origins: Vec<String>,

    /// Serve Prometheus metrics at `/metrics` on this address (e.g.
    /// `127.0.0.1:9100`); off unless given.
    #[arg(long, env = "CHAT_METRICS_ADDR")]
    pub metrics_addr: Option<String>,

    /// Log format on stderr.
    #[arg(long, env = "CHAT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Per-user budgets of the other kinds of request (edits, reactions,
    /// presence…): not flags, see SECURITY.md; tests raise them.
    #[arg(skip = RequestLimits::default())]
    pub request_limits: RequestLimits,

    /// Most messages committed in one transaction (1 to 256); for benchmarks.
    #[arg(long, env = "CHAT_WRITE_BATCH", default_value_t = 256, hide = true)]
    pub write_batch: usize,

    /// Seconds to wait for open connections to finish on shutdown.
    #[arg(long, env = "CHAT_SHUTDOWN_TIMEOUT", default_value_t = 10)]
    pub shutdown_timeout: u64,
}

/// Commands besides serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Writes a consistent copy of the database to PATH while the server
    /// may keep running (SQLite `VACUUM INTO`); PATH must not exist yet.
    Backup { path: PathBuf },
    /// Gives the database a new epoch: run it after restoring a backup or
    /// a dump, before starting the server, so that clients drop what they
    /// cached from the history that was replaced.
    NewEpoch,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event (coloured on a terminal).
    Text,
    /// One JSON object per line.
    Json,
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
        settings.files_dir = data_dir.join("files");
        // Tests turn previews on where they serve pages to fetch.
        settings.link_previews = false;
        settings.static_dir = static_dir;
        settings.allowed_origins = vec![];
        settings.workers = Some(2);
        settings.shutdown_timeout = 3;
        settings
    }
}

/// `name=address`, as in curl's `--resolve`.
/// A network (`10.0.0.0/8`) or one address (`127.0.0.1`, as a /32 or /128).
fn parse_network(raw: &str) -> Result<IpNet, String> {
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{raw:?} is neither an address nor a network like 10.0.0.0/8"))
}

fn parse_host_override(raw: &str) -> Result<(String, IpAddr), String> {
    let (name, address) = raw
        .split_once('=')
        .ok_or_else(|| format!("expected name=address, got {raw:?}"))?;
    let address = address
        .parse()
        .map_err(|_| format!("{address:?} is not an IP address"))?;
    Ok((name.trim().to_ascii_lowercase(), address))
}

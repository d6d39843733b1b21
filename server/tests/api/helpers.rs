//! `TestApp`: the real server on 127.0.0.1:0 with a temporary database and a
//! stand-in client folder, plus small HTTP and WebSocket clients.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use awc::ws::{self, CloseReason, Frame};
use chat_server::settings::Settings;
use chat_server::startup::{Application, RunningApp};
use futures_util::{SinkExt, StreamExt};
use shared::api::SessionInfo;
use shared::{ChannelId, ClientMsg, ClientMsgId, ServerMsg, UserInfo};
use tempfile::TempDir;

use crate::text_frames::{TextFrames, Whole};

/// Set (to anything) to run the API tests against PostgreSQL: each app
/// gets a database of its own in the cluster of `CHAT_TEST_POSTGRES_URL`.
pub const ON_POSTGRES: &str = "CHAT_TEST_API_ON_POSTGRES";

/// Whether these API tests run against PostgreSQL (see [`ON_POSTGRES`]).
pub fn on_postgres() -> bool {
    std::env::var_os(ON_POSTGRES).is_some()
}

/// Set (to anything) to keep each app's files in a bucket of its own on
/// the S3-compatible server of `CHAT_TEST_S3_URL` instead of its folder.
pub const FILES_IN_BUCKET: &str = "CHAT_TEST_API_FILES_IN_BUCKET";

/// How long a test waits for a frame it expects.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(10);

pub struct TestApp {
    pub addr: SocketAddr,
    /// Where `/metrics` is served.
    pub metrics_addr: SocketAddr,
    pub settings: Settings,
    _data: TempDir,
    _static: TempDir,
    running: Option<RunningApp>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the app after `configure` adjusted the settings.
    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        chat_server::telemetry::init(chat_server::settings::LogFormat::Text, "warn");
        let data = TempDir::new().unwrap();
        let static_dir = TempDir::new().unwrap();
        std::fs::write(
            static_dir.path().join("index.html"),
            "<!doctype html><title>chat</title><p>test client</p>",
        )
        .unwrap();
        let mut settings = Settings::ephemeral(data.path(), static_dir.path().to_owned());
        if on_postgres() {
            settings.database_url = crate::postgres::fresh_database().await;
        }
        if std::env::var_os(FILES_IN_BUCKET).is_some() {
            crate::s3::bucket_settings(&mut settings, &crate::s3::fresh_bucket().await);
        }
        // Tests that flood on purpose should not wait for the production pace;
        // `limits.rs` tests the pacing itself.
        settings.message_burst = 10_000;
        settings.messages_per_second = 10_000;
        settings.request_limits = chat_server::budget::RequestLimits::generous();
        settings.metrics_addr = Some("127.0.0.1:0".into());
        configure(&mut settings);
        let mut app = Self {
            addr: "127.0.0.1:0".parse().unwrap(),
            metrics_addr: "127.0.0.1:0".parse().unwrap(),
            settings,
            _data: data,
            _static: static_dir,
            running: None,
        };
        app.start().await;
        app
    }

    async fn start(&mut self) {
        let running = Application::build(self.settings.clone())
            .await
            .unwrap()
            .spawn();
        self.addr = running.local_addr();
        if let Some(metrics) = running.metrics_addr() {
            self.metrics_addr = metrics;
        }
        self.running = Some(running);
    }

    /// Stops the server the way SIGTERM does and waits until it has stopped.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            tokio::time::timeout(Duration::from_secs(30), running.stop())
                .await
                .expect("server stops in time")
                .unwrap();
        }
    }

    /// Stops and starts again on the same database (on a new port).
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    /// The app's stored files, as the janitor sees them (in its bucket,
    /// when it has one).
    pub fn file_store(&self) -> chat_server::media::storage::FileStore {
        use chat_server::media::objects;
        let files = chat_server::media::storage::FileStore::existing(&self.settings.files_dir);
        match objects::Bucket::from_settings(&self.settings) {
            Some(bucket) => files.in_bucket(objects::connect(&bucket).unwrap()),
            None => files,
        }
    }

    /// How many contents are stored (in the folder, or the bucket).
    pub async fn stored_files(&self) -> usize {
        match &self.settings.files_bucket {
            Some(bucket) => crate::s3::objects_in(bucket).await,
            None => walk(&self.settings.files_dir.join("sha256")),
        }
    }

    /// Whether this app's database is PostgreSQL.
    pub fn on_postgres(&self) -> bool {
        self.settings.database_url.starts_with("postgres")
    }

    /// Runs SQL statements on the app's database from outside the server
    /// (to break or age things), whichever its dialect.
    pub async fn outside_sql(&self, statements: &str) {
        self.try_outside_sql(statements).await.unwrap();
    }

    /// [`Self::outside_sql`], answering the database's refusal.
    pub async fn try_outside_sql(&self, statements: &str) -> Result<(), String> {
        let sql = sqlx::AssertSqlSafe(statements.to_owned());
        let done = if self.on_postgres() {
            let pool = sqlx::PgPool::connect(&self.settings.database_url)
                .await
                .unwrap();
            let done = sqlx::raw_sql(sql).execute(&pool).await.map(drop);
            pool.close().await;
            done
        } else {
            let pool = sqlx::SqlitePool::connect(&self.settings.database_url)
                .await
                .unwrap();
            let done = sqlx::raw_sql(sql).execute(&pool).await.map(drop);
            pool.close().await;
            done
        };
        done.map_err(|error| error.to_string())
    }

    /// A count read from the app's database from outside the server.
    pub async fn outside_count(&self, query: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(query.to_owned());
        if self.on_postgres() {
            let pool = sqlx::PgPool::connect(&self.settings.database_url)
                .await
                .unwrap();
            let count = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
            pool.close().await;
            count
        } else {
            let pool = sqlx::SqlitePool::connect(&self.settings.database_url)
                .await
                .unwrap();
            let count = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
            pool.close().await;
            count
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The value of a metric line (e.g. `chat_kicks_total{reason="stalled"}`),
    /// 0 when the server has not reported it yet.
    pub async fn metric(&self, series: &str) -> f64 {
        let body = self
            .http()
            .get(format!("http://{}/metrics", self.metrics_addr))
            .send()
            .await
            .unwrap()
            .body()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&body);
        text.lines()
            .find_map(|line| {
                let (name, value) = line.rsplit_once(' ')?;
                (name == series).then(|| value.parse().ok())?
            })
            .unwrap_or(0.0)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn http(&self) -> awc::Client {
        awc::Client::builder()
            .timeout(Duration::from_secs(10))
            .finish()
    }

    /// Picks a username; returns the user and the session token from the cookie.
    pub async fn sign_up(&self, name: &str) -> (UserInfo, String) {
        let mut response = self
            .http()
            .post(self.url("/api/session"))
            .send_json(&serde_json::json!({ "username": name }))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "sign up {name}");
        let token = response
            .cookie("chat_session")
            .expect("a session cookie")
            .value()
            .to_owned();
        let info: SessionInfo = response.json().await.unwrap();
        (info.user, token)
    }

    /// Opens a WebSocket as the holder of `token`, from the server's own origin.
    pub async fn connect(&self, token: &str) -> WsClient {
        self.try_connect(Some(&self.origin()), Some(token))
            .await
            .expect("websocket upgrade")
    }

    /// Signs up and connects; returns the client after its `welcome`.
    pub async fn user(&self, name: &str) -> (WsClient, UserInfo, String) {
        let (user, token) = self.sign_up(name).await;
        let mut client = self.connect(&token).await;
        client.welcome().await;
        (client, user, token)
    }

    pub async fn try_connect(
        &self,
        origin: Option<&str>,
        token: Option<&str>,
    ) -> Result<WsClient, StatusCode> {
        let mut request = self
            .http()
            .ws(format!("ws://{}/ws", self.addr))
            .max_frame_size(16 * 1024 * 1024);
        if let Some(origin) = origin {
            request = request.origin(origin);
        }
        if let Some(token) = token {
            request = request.cookie(Cookie::new("chat_session", token.to_owned()));
        }
        match request.connect().await {
            Ok((_, framed)) => Ok(WsClient {
                framed,
                fragments: TextFrames::default(),
                general: None,
            }),
            Err(awc::error::WsClientError::InvalidResponseStatus(status)) => Err(status),
            Err(other) => panic!("websocket connect failed: {other}"),
        }
    }
}

type Framed = actix_codec::Framed<awc::BoxedSocket, ws::Codec>;

/// A WebSocket client speaking the chat protocol.
pub struct WsClient {
    framed: Framed,
    fragments: TextFrames,
    /// The id of `general`, learnt from `welcome`.
    pub general: Option<ChannelId>,
}

/// What the server sent next, at the frame level.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one value at a time in a test; boxing would only clutter every match"
)]
pub enum Received {
    Msg(ServerMsg),
    Closed(Option<CloseReason>),
}

impl WsClient {
    pub fn general(&self) -> ChannelId {
        self.general.clone().expect("welcome received")
    }

    pub async fn send(&mut self, message: &ClientMsg) {
        let text = serde_json::to_string(message).unwrap();
        self.send_text(&text).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.framed
            .send(ws::Message::Text(text.to_owned().into()))
            .await
            .unwrap();
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.framed
            .send(ws::Message::Binary(Bytes::from(bytes)))
            .await
            .unwrap();
    }

    /// Posts `text` to `general` with a fresh client id; returns the id.
    pub async fn say(&mut self, text: &str) -> ClientMsgId {
        let client_id = new_client_id();
        self.send(&ClientMsg::Send {
            channel: self.general(),
            client_id: client_id.clone(),
            text: text.to_owned(),
            attachments: vec![],
        })
        .await;
        client_id
    }

    /// Posts and waits for the ack; returns the sequence number.
    pub async fn say_acked(&mut self, text: &str) -> i64 {
        let id = self.say(text).await;
        self.ack_for(&id).await
    }

    pub async fn ack_for(&mut self, id: &ClientMsgId) -> i64 {
        loop {
            match self.recv().await {
                ServerMsg::Ack { client_id, seq, .. } if &client_id == id => return seq,
                ServerMsg::Error {
                    client_id: Some(client_id),
                    code,
                    ..
                } if &client_id == id => panic!("message refused: {code:?}"),
                _ => {}
            }
        }
    }

    /// The next message or close, within `RECV_TIMEOUT`; ping/pong frames
    /// are skipped and fragments joined.
    pub async fn next(&mut self) -> Received {
        loop {
            let frame = tokio::time::timeout(RECV_TIMEOUT, self.framed.next())
                .await
                .expect("a frame within the timeout");
            let frame = match frame {
                None => return Received::Closed(None),
                Some(Err(error)) => panic!("websocket error: {error}"),
                Some(Ok(frame)) => frame,
            };
            match self.fragments.feed(frame) {
                Whole::Text(bytes) => {
                    let message: ServerMsg = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                        panic!("server sent non-protocol frame ({e}): {bytes:?}")
                    });
                    return Received::Msg(message);
                }
                Whole::Partial | Whole::Other(Frame::Ping(_) | Frame::Pong(_)) => {}
                Whole::Other(Frame::Close(reason)) => return Received::Closed(reason),
                Whole::Other(other) => panic!("unexpected frame {other:?}"),
            }
        }
    }

    pub async fn recv(&mut self) -> ServerMsg {
        match self.next().await {
            Received::Msg(message) => message,
            Received::Closed(reason) => panic!("connection closed: {reason:?}"),
        }
    }

    /// Skips frames until one matches.
    pub async fn recv_until<T>(&mut self, mut pick: impl FnMut(ServerMsg) -> Option<T>) -> T {
        loop {
            if let Some(found) = pick(self.recv().await) {
                return found;
            }
        }
    }

    pub async fn welcome(&mut self) -> (UserInfo, Vec<UserInfo>) {
        match self.recv().await {
            ServerMsg::Welcome {
                user,
                channels,
                online,
                ..
            } => {
                let general = channels
                    .iter()
                    .find(|c| c.name == "general")
                    .expect("general in welcome");
                self.general = Some(general.id.clone());
                (user, online)
            }
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    /// Skips frames until the next `user_joined` (a sign-up also announces the
    /// new member of `general` first).
    pub async fn online_notice(&mut self) -> UserInfo {
        self.recv_until(|m| match m {
            ServerMsg::UserJoined { user } => Some(user),
            _ => None,
        })
        .await
    }

    /// The next `channel_joined` (other frames are skipped).
    pub async fn joined(&mut self) -> shared::protocol::ChannelInfo {
        self.recv_until(|m| match m {
            ServerMsg::ChannelJoined { channel } => Some(channel),
            _ => None,
        })
        .await
    }

    /// The code of the next `error` (other frames are skipped).
    pub async fn next_error(&mut self) -> shared::ErrorCode {
        self.recv_until(|m| match m {
            ServerMsg::Error { code, .. } => Some(code),
            _ => None,
        })
        .await
    }

    /// Posts `text` to `channel`; its sequence number, or the refusal.
    pub async fn post_to(
        &mut self,
        channel: &ChannelId,
        text: &str,
    ) -> Result<i64, shared::ErrorCode> {
        let id = new_client_id();
        self.send(&ClientMsg::Send {
            channel: channel.clone(),
            client_id: id.clone(),
            text: text.into(),
            attachments: vec![],
        })
        .await;
        self.recv_until(|m| match m {
            ServerMsg::Ack { client_id, seq, .. } if client_id == id => Some(Ok(seq)),
            ServerMsg::Error {
                client_id: Some(client_id),
                code,
                ..
            } if client_id == id => Some(Err(code)),
            _ => None,
        })
        .await
    }

    /// Waits until the server closes the connection; returns its close reason.
    pub async fn closed(&mut self) -> Option<CloseReason> {
        loop {
            if let Received::Closed(reason) = self.next().await {
                return reason;
            }
        }
    }

    /// Closes the connection from this side.
    pub async fn close(mut self) {
        let _ = self.framed.send(ws::Message::Close(None)).await;
        // Wait for the server's close so the hub has seen us go.
        let _ = tokio::time::timeout(RECV_TIMEOUT, async {
            while let Some(frame) = self.framed.next().await {
                if matches!(frame, Ok(Frame::Close(_)) | Err(_)) {
                    break;
                }
            }
        })
        .await;
    }

    /// Creates a channel (topic "all about NAME") and waits until it is joined.
    pub async fn create_channel(
        &mut self,
        name: &str,
        private: bool,
    ) -> shared::protocol::ChannelInfo {
        self.send(&ClientMsg::CreateChannel {
            name: name.into(),
            topic: format!("all about {name}"),
            private,
        })
        .await;
        self.recv_until(|m| match m {
            ServerMsg::ChannelJoined { channel } => Some(channel),
            _ => None,
        })
        .await
    }

    /// Asserts that no chat frame arrives within `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Ok(frame) = tokio::time::timeout(wait, self.framed.next()).await {
            match frame {
                Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => {}
                other => panic!("expected no frame, got {other:?}"),
            }
        }
    }
}

/// The `Cookie` header of a signed-in browser.
pub fn session_cookie(token: &str) -> (actix_web::http::header::HeaderName, String) {
    (
        actix_web::http::header::COOKIE,
        format!("chat_session={token}"),
    )
}

pub fn new_client_id() -> ClientMsgId {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    ClientMsgId::parse(&format!("t{nanos:x}-{n}")).unwrap()
}

/// Files under `folder`, recursively.
fn walk(folder: &std::path::Path) -> usize {
    std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

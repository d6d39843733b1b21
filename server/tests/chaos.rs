//! Chaos: the real server binary is killed with SIGKILL at random moments
//! while clients post over the real protocol (and reconnect, resend what was
//! not acknowledged, and catch up, as the web client does), then stopped with
//! SIGTERM under load. Afterwards every acknowledged message is stored
//! exactly once under the sequence number it was acknowledged with, every
//! sent message is stored exactly once, each channel's sequence numbers are
//! gapless, and every client's view equals the database.
//!
//! The same clients and checks run against two server processes on one
//! PostgreSQL database behind HAProxy, one node at a time killed and
//! restarted while the other serves.
//!
//! `CHAT_CHAOS_KILLS` sets the number of kills (10 here; `cargo xtask chaos`
//! runs 50). Loopback only, bounded in time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::cookie::Cookie;
use awc::ws::{self, Frame};
use futures_util::{SinkExt, StreamExt};
use shared::api::SessionInfo;
use shared::{ChannelId, ClientMsg, ClientMsgId, Seq, ServerMsg};
use sqlx::sqlite::SqlitePool;
use tempfile::TempDir;
use text_frames::{TextFrames, Whole};

#[path = "support/postgres.rs"]
mod postgres;
#[path = "support/text_frames.rs"]
mod text_frames;

const CLIENTS: usize = 6;
/// Unacknowledged messages a client keeps in flight at most.
const IN_FLIGHT: usize = 8;

/// The server process and where it listens; killed if the test ends early.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Everything a server start needs, kept across restarts.
struct Setup {
    data: TempDir,
    static_dir: TempDir,
    database_url: String,
}

impl Setup {
    /// One process on a SQLite file.
    fn sqlite() -> Self {
        let data = TempDir::new().unwrap();
        let database_url = format!("sqlite://{}/chat.db", data.path().display());
        Self::with_database(data, database_url)
    }

    /// Nodes on a fresh PostgreSQL database.
    async fn postgres() -> Self {
        Self::with_database(TempDir::new().unwrap(), postgres::fresh_database().await)
    }

    fn with_database(data: TempDir, database_url: String) -> Self {
        let static_dir = TempDir::new().unwrap();
        std::fs::write(
            static_dir.path().join("index.html"),
            "<!doctype html><title>chat</title>",
        )
        .unwrap();
        Self {
            data,
            static_dir,
            database_url,
        }
    }

    /// Starts the binary on any free port.
    fn start(&self) -> Server {
        self.start_on("127.0.0.1:0", &[])
    }

    /// Starts node `name` of a cluster on `port`, behind a proxy on loopback.
    fn start_node(&self, port: u16, name: &str) -> Server {
        let addr = format!("127.0.0.1:{port}");
        let extra = ["--node-id", name, "--trusted-proxy", "127.0.0.1"];
        self.start_on(&addr, &extra)
    }

    /// Starts the binary on `addr` (with `extra` flags) and waits until it
    /// says where it listens.
    fn start_on(&self, addr: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["--addr", addr, "--database-url"])
            .arg(&self.database_url)
            .args(extra)
            .arg("--files-dir")
            .arg(self.data.path().join("files"))
            .arg("--static-dir")
            .arg(self.static_dir.path())
            .args([
                "--link-previews",
                "false",
                "--shutdown-timeout",
                "5",
                "--message-burst",
                "100000",
                "--messages-per-second",
                "100000",
                "--workers",
                "2",
            ])
            .env("RUST_LOG", "warn,server=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let stderr = child.stderr.take().unwrap();
        let (found, address) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading, so the server never blocks on a full pipe.
            let mut said = Vec::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let addr = line[at + "listening on http://".len()..].trim().to_owned();
                    let _ = found.send(Ok(addr));
                } else if said.len() < 20 {
                    said.push(line);
                }
            }
            let _ = found.send(Err(said.join("\n")));
        });
        let addr = match address.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(addr)) => addr,
            Ok(Err(said)) => panic!("the server stopped before listening:\n{said}"),
            Err(_) => panic!("the server did not say where it listens in 30 s"),
        };
        Server { child, addr }
    }
}

impl Server {
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for a clean exit.
    fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "a clean exit after SIGTERM: {status}");
                return;
            }
            assert!(Instant::now() < deadline, "the server stops after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A small deterministic random source (the seed is printed).
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// What one client sent, was told, and holds.
#[derive(Default)]
struct Ledger {
    /// Every message it ever sent: id -> (channel, text).
    sent: HashMap<ClientMsgId, (ChannelId, String)>,
    /// Acknowledged: id -> seq.
    acked: HashMap<ClientMsgId, Seq>,
    /// What it holds of each channel: seq -> (client id, text).
    held: HashMap<ChannelId, BTreeMap<Seq, (ClientMsgId, String)>>,
}

impl Ledger {
    fn unacked(&self) -> Vec<ClientMsgId> {
        let mut ids: Vec<_> = self
            .sent
            .keys()
            .filter(|id| !self.acked.contains_key(*id))
            .cloned()
            .collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        ids
    }
}

type Framed = actix_codec::Framed<awc::BoxedSocket, ws::Codec>;

/// One client: posts until told to stop, reconnecting to wherever the
/// server is now, resending the unacknowledged, catching up after each
/// reconnect; ends when everything it sent is acknowledged and caught up.
async fn client(
    number: usize,
    token: String,
    address: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    ledger: Arc<Mutex<Ledger>>,
) {
    let mut counter = 0;
    let mut random = Random(number as u64 * 7919 + 1);
    loop {
        let addr = address.lock().unwrap().clone();
        let connected = awc::Client::builder()
            .timeout(Duration::from_secs(5))
            .finish()
            .ws(format!("ws://{addr}/ws"))
            .origin(format!("http://{addr}"))
            .cookie(Cookie::new("chat_session", token.clone()))
            .max_frame_size(16 * 1024 * 1024)
            .connect()
            .await;
        let Ok((_, mut framed)) = connected else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Some(channels) = welcome(&mut framed).await else {
            continue;
        };
        // Catch up on every channel, then resend what is not acknowledged.
        let mut caught_up: HashSet<ChannelId> = HashSet::new();
        let mut fragments = TextFrames::default();
        let mut ok = true;
        for channel in &channels {
            let after = last_held(&ledger, channel);
            ok &= send(&mut framed, &sync(channel, after)).await;
        }
        let unacked: Vec<_> = {
            let ledger = ledger.lock().unwrap();
            ledger
                .unacked()
                .into_iter()
                .map(|id| (ledger.sent[&id].clone(), id))
                .collect()
        };
        for ((channel, text), id) in unacked {
            ok &= send(&mut framed, &post(&channel, &id, &text)).await;
        }
        while ok {
            let done = stop.load(Ordering::SeqCst)
                && ledger.lock().unwrap().unacked().is_empty()
                && caught_up.len() == channels.len();
            if done {
                let _ = framed.send(ws::Message::Close(None)).await;
                return;
            }
            let in_flight = ledger.lock().unwrap().unacked().len();
            if !stop.load(Ordering::SeqCst) && in_flight < IN_FLIGHT {
                counter += 1;
                let channel = channels[random.below(channels.len() as u64) as usize].clone();
                let id = ClientMsgId::parse(&format!("c{number}-{counter}")).unwrap();
                let text = format!("client {number} message {counter}");
                ledger
                    .lock()
                    .unwrap()
                    .sent
                    .insert(id.clone(), (channel.clone(), text.clone()));
                ok &= send(&mut framed, &post(&channel, &id, &text)).await;
            }
            let frame = match tokio::time::timeout(Duration::from_millis(20), framed.next()).await {
                Err(_) => continue,
                Ok(Some(Ok(frame))) => frame,
                // Closed or broken: the server went away; reconnect.
                Ok(Some(Err(_)) | None) => break,
            };
            match fragments.feed(frame) {
                Whole::Text(bytes) => {
                    let Ok(message) = serde_json::from_slice::<ServerMsg>(&bytes) else {
                        panic!("not a protocol frame: {bytes:?}");
                    };
                    if let Some(next) = absorb(&ledger, message, &mut caught_up) {
                        ok &= send(&mut framed, &next).await;
                    }
                }
                Whole::Other(Frame::Ping(payload)) => {
                    ok &= framed.send(ws::Message::Pong(payload)).await.is_ok();
                }
                Whole::Other(Frame::Close(_)) => break,
                Whole::Partial | Whole::Other(_) => {}
            }
        }
    }
}

async fn welcome(framed: &mut Framed) -> Option<Vec<ChannelId>> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), framed.next()).await {
            Ok(Some(Ok(Frame::Text(bytes)))) => {
                if let Ok(ServerMsg::Welcome { channels, .. }) = serde_json::from_slice(&bytes) {
                    let mut ids: Vec<ChannelId> = channels.into_iter().map(|c| c.id).collect();
                    ids.sort_by(|a, b| a.0.cmp(&b.0));
                    return Some(ids);
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => return None,
        }
    }
}

fn last_held(ledger: &Mutex<Ledger>, channel: &ChannelId) -> Option<Seq> {
    ledger
        .lock()
        .unwrap()
        .held
        .get(channel)
        .and_then(|held| held.keys().next_back().copied())
}

fn sync(channel: &ChannelId, after: Option<Seq>) -> ClientMsg {
    ClientMsg::Sync {
        channel: channel.clone(),
        after_seq: Some(after.unwrap_or(0)),
        after_change: None,
    }
}

fn post(channel: &ChannelId, id: &ClientMsgId, text: &str) -> ClientMsg {
    ClientMsg::Send {
        channel: channel.clone(),
        client_id: id.clone(),
        text: text.to_owned(),
        attachments: vec![],
    }
}

async fn send(framed: &mut Framed, message: &ClientMsg) -> bool {
    let text = serde_json::to_string(message).unwrap();
    framed.send(ws::Message::Text(text.into())).await.is_ok()
}

/// Takes in one frame; returns a follow-up request (the next catch-up page).
fn absorb(
    ledger: &Mutex<Ledger>,
    message: ServerMsg,
    caught_up: &mut HashSet<ChannelId>,
) -> Option<ClientMsg> {
    let mut ledger = ledger.lock().unwrap();
    match message {
        ServerMsg::Ack {
            channel,
            client_id,
            seq,
            ..
        } => {
            if let Some(previous) = ledger.acked.insert(client_id.clone(), seq) {
                assert_eq!(previous, seq, "acknowledged twice with different numbers");
            }
            let text = ledger.sent[&client_id].1.clone();
            ledger
                .held
                .entry(channel)
                .or_default()
                .insert(seq, (client_id, text));
            None
        }
        ServerMsg::Message { message } => {
            ledger
                .held
                .entry(message.channel)
                .or_default()
                .insert(message.seq, (message.client_id, message.text));
            None
        }
        ServerMsg::Synced {
            channel,
            messages,
            complete,
            ..
        } => {
            let last = messages.last().map(|m| m.seq);
            let held = ledger.held.entry(channel.clone()).or_default();
            for message in messages {
                held.insert(message.seq, (message.client_id, message.text));
            }
            if complete {
                caught_up.insert(channel);
                None
            } else {
                Some(sync(&channel, last))
            }
        }
        ServerMsg::Error { code, .. } => {
            // Only the retryable kind (the database or writer went away
            // mid-kill); the client resends after reconnecting.
            assert!(code.is_retryable(), "refused: {code:?}");
            None
        }
        _ => None,
    }
}

/// Connects once more and catches up on every channel after what is held.
async fn final_catch_up(addr: &str, token: &str, ledger: &Mutex<Ledger>) {
    let (_, mut framed) = awc::Client::default()
        .ws(format!("ws://{addr}/ws"))
        .origin(format!("http://{addr}"))
        .cookie(Cookie::new("chat_session", token.to_owned()))
        .max_frame_size(16 * 1024 * 1024)
        .connect()
        .await
        .unwrap();
    let channels = welcome(&mut framed).await.unwrap();
    for channel in &channels {
        assert!(send(&mut framed, &sync(channel, last_held(ledger, channel))).await);
    }
    let mut caught_up = HashSet::new();
    let mut fragments = TextFrames::default();
    while caught_up.len() < channels.len() {
        match tokio::time::timeout(Duration::from_secs(10), framed.next()).await {
            Ok(Some(Ok(frame))) => {
                if let Whole::Text(bytes) = fragments.feed(frame) {
                    let message: ServerMsg = serde_json::from_slice(&bytes).unwrap();
                    if let Some(next) = absorb(ledger, message, &mut caught_up) {
                        assert!(send(&mut framed, &next).await);
                    }
                }
            }
            other => panic!("the final catch-up ended early: {other:?}"),
        }
    }
    let _ = framed.send(ws::Message::Close(None)).await;
}

async fn sign_up(addr: &str, name: &str) -> String {
    let mut response = awc::Client::default()
        .post(format!("http://{addr}/api/session"))
        .send_json(&serde_json::json!({ "username": name }))
        .await
        .unwrap();
    assert!(response.status().is_success(), "sign up {name}");
    let token = response.cookie("chat_session").unwrap().value().to_owned();
    let _: SessionInfo = response.json().await.unwrap();
    token
}

fn kills_and_seed() -> (u32, Random) {
    let kills: u32 = std::env::var("CHAT_CHAOS_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("chaos seed {seed}, {kills} kills");
    (kills, Random(seed))
}

/// Signs up the clients at `addr`, all in #general and #chaos; their tokens.
async fn prepare(addr: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for n in 0..CLIENTS {
        tokens.push(sign_up(addr, &format!("client{n}")).await);
    }
    let (_, mut framed) = awc::Client::default()
        .ws(format!("ws://{addr}/ws"))
        .origin(format!("http://{addr}"))
        .cookie(Cookie::new("chat_session", tokens[0].clone()))
        .connect()
        .await
        .unwrap();
    welcome(&mut framed).await.unwrap();
    send(
        &mut framed,
        &ClientMsg::CreateChannel {
            name: "chaos".into(),
            topic: String::new(),
            private: false,
        },
    )
    .await;
    let mut chaos = None;
    while chaos.is_none() {
        if let Some(Ok(Frame::Text(bytes))) = framed.next().await
            && let Ok(ServerMsg::ChannelJoined { channel }) = serde_json::from_slice(&bytes)
        {
            chaos = Some(channel.id);
        }
    }
    for token in &tokens[1..] {
        let (_, mut other) = awc::Client::default()
            .ws(format!("ws://{addr}/ws"))
            .origin(format!("http://{addr}"))
            .cookie(Cookie::new("chat_session", token.clone()))
            .connect()
            .await
            .unwrap();
        welcome(&mut other).await.unwrap();
        send(
            &mut other,
            &ClientMsg::JoinChannel {
                channel: chaos.clone().unwrap(),
            },
        )
        .await;
        loop {
            if let Some(Ok(Frame::Text(bytes))) = other.next().await
                && let Ok(ServerMsg::ChannelJoined { .. }) = serde_json::from_slice(&bytes)
            {
                break;
            }
        }
    }
    tokens
}

/// The clients, posting through whatever `address` says until `stop`.
struct Load {
    address: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    ledgers: Vec<Arc<Mutex<Ledger>>>,
    clients: Vec<actix_web::rt::task::JoinHandle<()>>,
}

impl Load {
    fn start(tokens: &[String], addr: &str) -> Self {
        let address = Arc::new(Mutex::new(addr.to_owned()));
        let stop = Arc::new(AtomicBool::new(false));
        let ledgers: Vec<Arc<Mutex<Ledger>>> = (0..CLIENTS).map(|_| Arc::default()).collect();
        let clients = tokens
            .iter()
            .enumerate()
            .map(|(n, token)| {
                actix_web::rt::spawn(client(
                    n,
                    token.clone(),
                    address.clone(),
                    stop.clone(),
                    ledgers[n].clone(),
                ))
            })
            .collect();
        Self {
            address,
            stop,
            ledgers,
            clients,
        }
    }

    /// Stops posting, waits until everything is acknowledged and caught
    /// up, then catches up once more at `addr` (others may have posted
    /// after a client's last catch-up, as a client finds when it next
    /// connects).
    async fn finish(self, tokens: &[String], addr: &str) -> Vec<Arc<Mutex<Ledger>>> {
        self.stop.store(true, Ordering::SeqCst);
        for client in self.clients {
            tokio::time::timeout(Duration::from_secs(120), client)
                .await
                .expect("every client gets everything acknowledged and catches up")
                .unwrap();
        }
        for (token, ledger) in tokens.iter().zip(&self.ledgers) {
            final_catch_up(addr, token, ledger).await;
        }
        self.ledgers
    }
}

/// Every stored message as (channel, seq, client id, text), by channel and seq.
async fn stored_rows(database_url: &str) -> Vec<(String, Seq, String, String)> {
    let sql = "SELECT channel_id, seq, client_id, body FROM messages ORDER BY channel_id, seq";
    if database_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(database_url).await.unwrap();
        let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = SqlitePool::connect(database_url).await.unwrap();
        let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    }
}

/// Every acknowledged message is stored once under the number it was
/// acknowledged with, every sent one once, numbers are gapless, and every
/// client's view equals the database; the number of messages sent.
async fn check(database_url: &str, ledgers: &[Arc<Mutex<Ledger>>]) -> usize {
    let mut stored: HashMap<ChannelId, BTreeMap<Seq, (ClientMsgId, String)>> = HashMap::new();
    let mut by_id: HashMap<String, (ChannelId, Seq)> = HashMap::new();
    for (channel, seq, id, text) in stored_rows(database_url).await {
        let channel = ChannelId(channel);
        assert!(
            by_id.insert(id.clone(), (channel.clone(), seq)).is_none(),
            "{id} stored twice"
        );
        stored
            .entry(channel)
            .or_default()
            .insert(seq, (ClientMsgId::parse(&id).unwrap(), text));
    }
    for (channel, messages) in &stored {
        let seqs: Vec<Seq> = messages.keys().copied().collect();
        let gapless: Vec<Seq> = (1..=seqs.len() as Seq).collect();
        assert_eq!(seqs, gapless, "gapless numbers in {}", channel.0);
    }
    let mut total_sent = 0;
    for ledger in ledgers {
        let ledger = ledger.lock().unwrap();
        total_sent += ledger.sent.len();
        for (id, (channel, text)) in &ledger.sent {
            let (stored_channel, seq) = by_id
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{} was sent but never stored", id.as_str()));
            assert_eq!(stored_channel, channel);
            assert_eq!(ledger.acked.get(id), Some(seq), "acked as stored");
            assert_eq!(&stored[channel][seq].1, text);
        }
        for (channel, held) in &ledger.held {
            let differences: Vec<_> = stored[channel]
                .iter()
                .filter(|(seq, message)| held.get(seq) != Some(message))
                .map(|(seq, message)| (*seq, held.get(seq).cloned(), message.clone()))
                .chain(
                    held.iter()
                        .filter(|(seq, _)| !stored[channel].contains_key(seq))
                        .map(|(seq, message)| (*seq, Some(message.clone()), message.clone())),
                )
                .take(10)
                .collect();
            assert!(
                differences.is_empty(),
                "a client's view equals the database; (seq, held, stored): {differences:?}"
            );
        }
    }
    assert_eq!(total_sent, by_id.len(), "nothing stored that nobody sent");
    assert!(total_sent > 0);
    total_sent
}

#[actix_web::test]
async fn nothing_acknowledged_is_lost_or_doubled_across_kills_and_a_sigterm() {
    let (kills, mut random) = kills_and_seed();
    let setup = Setup::sqlite();
    let mut server = setup.start();
    let tokens = prepare(&server.addr).await;
    let load = Load::start(&tokens, &server.addr);
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(150 + random.below(500))).await;
        server.kill();
        server = setup.start();
        *load.address.lock().unwrap() = server.addr.clone();
    }
    // A clean stop while everyone is posting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.terminate();
    server = setup.start();
    *load.address.lock().unwrap() = server.addr.clone();
    let ledgers = load.finish(&tokens, &server.addr).await;
    server.terminate();
    let total_sent = check(&setup.database_url, &ledgers).await;
    println!("{total_sent} messages over {kills} kills and a SIGTERM");
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// HAProxy with the README's configuration (`deploy/haproxy.cfg`), its
/// addresses replaced by loopback ports; stopped when dropped.
struct Proxy {
    child: Child,
    addr: String,
    _config: TempDir,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    async fn start(nodes: [u16; 2]) -> Self {
        let port = free_port();
        let mut config = include_str!("../../deploy/haproxy.cfg").to_owned();
        for (from, to) in [
            ("127.0.0.1:8080", port),
            ("127.0.0.1:8081", nodes[0]),
            ("127.0.0.1:8082", nodes[1]),
        ] {
            assert!(config.contains(from), "deploy/haproxy.cfg names {from}");
            config = config.replace(from, &format!("127.0.0.1:{to}"));
        }
        let folder = TempDir::new().unwrap();
        let path = folder.path().join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let binary = ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy", "haproxy"]
            .into_iter()
            .find(|candidate| Command::new(candidate).arg("-v").output().is_ok())
            .expect(
                "this test needs HAProxy: run it through `cargo xtask test`, which installs \
                 Debian's haproxy package when missing",
            );
        let child = Command::new(binary)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy starts");
        let proxy = Self {
            child,
            addr: format!("127.0.0.1:{port}"),
            _config: folder,
        };
        // Up when it answers for a node.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let answer = awc::Client::default()
                .get(format!("http://{}/healthz", proxy.addr))
                .send()
                .await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(Instant::now() < deadline, "haproxy serves the nodes");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        proxy
    }
}

#[actix_web::test]
async fn two_nodes_behind_haproxy_lose_nothing_when_either_is_killed() {
    let (kills, mut random) = kills_and_seed();
    let kills = kills.div_ceil(2);
    let setup = Setup::postgres().await;
    let ports = [free_port(), free_port()];
    let names = ["one", "two"];
    let mut nodes = [0, 1].map(|n| Some(setup.start_node(ports[n], names[n])));
    let proxy = Proxy::start(ports).await;
    let tokens = prepare(&proxy.addr).await;
    let load = Load::start(&tokens, &proxy.addr);
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(300 + random.below(700))).await;
        let victim = random.below(2) as usize;
        nodes[victim].take().unwrap().kill();
        // Its clients reconnect through the proxy to the other node.
        tokio::time::sleep(Duration::from_millis(200 + random.below(800))).await;
        nodes[victim] = Some(setup.start_node(ports[victim], names[victim]));
    }
    // A clean stop of one node while everyone is posting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    nodes[0].take().unwrap().terminate();
    nodes[0] = Some(setup.start_node(ports[0], names[0]));
    let ledgers = load.finish(&tokens, &proxy.addr).await;
    for node in nodes.into_iter().flatten() {
        node.terminate();
    }
    drop(proxy);
    let total_sent = check(&setup.database_url, &ledgers).await;
    println!("{total_sent} messages through two nodes over {kills} kills and a SIGTERM");
}

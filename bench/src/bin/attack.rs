//! Hostile-user scenarios for before/after figures of the security fixes:
//! each one plays one finding against a running server and prints one line
//! per measurement (`LABEL SCENARIO: key=value ...`). Loopback only; every
//! scenario is bounded in count and time.
//!
//! - `preview`: a page built to be slow to scan (served here on 127.0.0.2)
//!   is linked by one user while another posts a probe every 100 ms; reports
//!   the probes' worst send→ack latency.
//! - `history`: a socket that never reads asks for big history pages;
//!   reports the server's memory growth and whether it closed the socket.
//! - `sign-in`: a burst of concurrent wrong sign-ins; reports server CPU,
//!   peak memory growth, answers and (with `--metrics-addr`) hashes run.
//! - `reactions`: as many different reactions as possible on one message;
//!   reports what an observer of the channel received.
//! - `presence`: an away/back flood while another user's tab does not
//!   read; reports what that tab got and whether it was dropped.
//! - `gif-bomb`: a small GIF with a huge canvas and 2,000 frames.
//! - `uploads`: concurrent uploads of a large noisy PNG; peak memory growth.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::cookie::Cookie;
use actix_web::rt::spawn;
use awc::ws::{Frame, Message};
use bench::{Framed, Reassembler, cpu_seconds, general_from_welcome, open_socket};
use clap::{Parser, ValueEnum};
use futures_util::stream::{FuturesUnordered, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use shared::{ChannelId, ClientMsg, ClientMsgId};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::{sleep, timeout, timeout_at};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Preview,
    History,
    SignIn,
    Reactions,
    Presence,
    GifBomb,
    Uploads,
}

#[derive(Parser)]
struct Args {
    /// Chat server address; must be a loopback address.
    #[arg(long)]
    addr: SocketAddr,
    /// The server's pid, to read its CPU time and memory from /proc.
    #[arg(long)]
    server_pid: u32,
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// Printed first on every result line (e.g. `old` or `new`).
    #[arg(long, default_value = "server")]
    label: String,
    /// The server's `--metrics-addr` (new servers only), for counters.
    #[arg(long)]
    metrics_addr: Option<SocketAddr>,

    /// preview: where the crafted page is served (loopback, e.g. 127.0.0.2:0).
    #[arg(long, default_value = "127.0.0.2:0")]
    page_addr: SocketAddr,
    /// preview: the text repeated to make the page.
    #[arg(long, default_value = "<")]
    page_pattern: String,
    /// preview: page size in bytes.
    #[arg(long, default_value_t = 200 * 1024)]
    page_bytes: usize,
    /// preview: seconds of probing after the link is posted (less if the
    /// preview arrives first).
    #[arg(long, default_value_t = 60)]
    window_secs: u64,
    /// Upper bound on any scenario's waiting, in seconds.
    #[arg(long, default_value_t = 90)]
    cap_secs: u64,

    /// history: messages seeded into #general (4,000 × 'é' each).
    #[arg(long, default_value_t = 200)]
    seed_messages: usize,
    /// history: requests sent by the socket that never reads.
    #[arg(long, default_value_t = 400)]
    requests: usize,
    /// history: sockets that never read, each sending `--requests`.
    #[arg(long, default_value_t = 1)]
    sockets: usize,
    /// history: sockets each user opens (the server allows 20).
    #[arg(long, default_value_t = 10)]
    sockets_per_user: usize,
    /// history: times the same users open `--sockets` more sockets, a
    /// watch period apart (sockets the server gave up on but did not close
    /// may no longer count against the per-user cap).
    #[arg(long, default_value_t = 1)]
    waves: usize,
    /// history: seconds memory is watched; closing is watched twice as long.
    #[arg(long, default_value_t = 20)]
    watch_secs: u64,

    /// sign-in: concurrent wrong sign-ins.
    #[arg(long, default_value_t = 120)]
    attempts: usize,
    /// sign-in: every attempt names a different (unknown) user instead of
    /// the one who has a password.
    #[arg(long)]
    distinct_names: bool,
    /// sign-in: spread the attempts over this many loopback source
    /// addresses (127.0.0.10 and up), as a guesser with many addresses would.
    #[arg(long, default_value_t = 1)]
    source_addresses: usize,
    /// sign-in: keep `--attempts` in flight for this many seconds (each
    /// answer is followed by a new attempt) instead of one burst.
    #[arg(long, default_value_t = 0)]
    sustain_secs: u64,

    /// reactions: people reacting (the author is the first).
    #[arg(long, default_value_t = 1)]
    reactors: usize,
    /// reactions: reactions tried, in all.
    #[arg(long, default_value_t = 1500)]
    reaction_attempts: usize,
    /// reactions: every reactor goes through the same 20 emoji (instead of
    /// each attempt using a new one).
    #[arg(long)]
    shared_emoji: bool,
    /// reactions: each reactor joins, reacts, waits for the answers and
    /// leaves before the next one starts (few sockets open at once).
    #[arg(long)]
    one_at_a_time: bool,
    /// reactions: seconds before giving up on unanswered attempts.
    #[arg(long, default_value_t = 60)]
    reaction_secs: u64,

    /// presence: away/back toggles sent.
    #[arg(long, default_value_t = 100_000)]
    toggles: usize,
    /// presence: seconds the flood may last.
    #[arg(long, default_value_t = 20)]
    flood_secs: u64,

    /// uploads: concurrent uploads.
    #[arg(long, default_value_t = 20)]
    uploads: usize,
    /// uploads: send raw noise (stored as a plain file) instead of a PNG.
    #[arg(long)]
    upload_raw: bool,
    /// uploads: approximate size of the noisy PNG.
    #[arg(long, default_value_t = 20_000_000)]
    upload_bytes: usize,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for (what, addr) in [
        ("--addr", Some(args.addr)),
        ("--page-addr", Some(args.page_addr)),
    ]
    .into_iter()
    .chain([("--metrics-addr", args.metrics_addr)])
    {
        if let Some(addr) = addr {
            bench::loopback_only(addr).map_err(|e| e.context(what))?;
        }
    }
    let connector = awc::Connector::new().limit(0);
    let http = awc::Client::builder()
        .connector(connector)
        .timeout(Duration::from_secs(args.cap_secs + 30))
        .finish();
    let out = Report {
        label: args.label.clone(),
    };
    match args.scenario {
        Scenario::Preview => preview(&args, &http, &out).await,
        Scenario::History => history(&args, &http, &out).await,
        Scenario::SignIn => sign_in(&args, &http, &out).await,
        Scenario::Reactions => reactions(&args, &http, &out).await,
        Scenario::Presence => presence(&args, &http, &out).await,
        Scenario::GifBomb => gif_bomb(&args, &http, &out).await,
        Scenario::Uploads => uploads(&args, &http, &out).await,
    }
}

/// Prints one result line per measurement.
struct Report {
    label: String,
}

impl Report {
    fn line(&self, scenario: &str, fields: &[(&str, String)]) {
        let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("{} {scenario}: {}", self.label, fields.join(" "));
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn mib(kb: i64) -> String {
    format!("{:.1}", kb as f64 / 1024.0)
}

// ---------------------------------------------------------------- /proc

/// A `kB` field of /proc/PID/status (VmRSS, VmHWM).
fn status_kb(pid: u32, field: &str) -> i64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)?
                    .strip_prefix(':')?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(-1)
}

/// File descriptors the process has open.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count())
}

/// Resets VmHWM to the current RSS, so the next peak is this run's own.
fn reset_peak(pid: u32) {
    if std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_err() {
        eprintln!("cannot reset /proc/{pid}'s peak RSS; VmHWM includes earlier peaks");
    }
}

/// Samples VmRSS every 50 ms in the background; keeps the largest.
struct RssWatch {
    max_kb: Rc<Cell<i64>>,
    stop: Rc<Cell<bool>>,
}

impl RssWatch {
    fn start(pid: u32) -> Self {
        let max_kb = Rc::new(Cell::new(status_kb(pid, "VmRSS")));
        let stop = Rc::new(Cell::new(false));
        let (max, done) = (max_kb.clone(), stop.clone());
        spawn(async move {
            while !done.get() {
                max.set(max.get().max(status_kb(pid, "VmRSS")));
                sleep(Duration::from_millis(50)).await;
            }
        });
        Self { max_kb, stop }
    }

    fn max_kb(&self) -> i64 {
        self.max_kb.get()
    }
}

impl Drop for RssWatch {
    fn drop(&mut self) {
        self.stop.set(true);
    }
}

/// The server side of the TCP connection between `server_port` and
/// `client_port`, from /proc/net/tcp: its state and bytes not yet
/// acknowledged by the client. `None`: the server no longer has it.
fn server_side(server_port: u16, client_port: u16) -> Option<(&'static str, u64)> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let port = |field: &str| u16::from_str_radix(field.rsplit(':').next()?, 16).ok();
        if port(fields.get(1)?)? != server_port || port(fields.get(2)?)? != client_port {
            return None;
        }
        let state = match *fields.get(3)? {
            "01" => "ESTABLISHED",
            "04" => "FIN_WAIT1",
            "05" => "FIN_WAIT2",
            "06" => "TIME_WAIT",
            "07" => "CLOSE",
            "08" => "CLOSE_WAIT",
            "09" => "LAST_ACK",
            "0B" => "CLOSING",
            _ => "OTHER",
        };
        let tx_queue = u64::from_str_radix(fields.get(4)?.split(':').next()?, 16).ok()?;
        Some((state, tx_queue))
    })
}

/// The sum of a metric's samples on the server's `/metrics`.
async fn metric(http: &awc::Client, metrics: Option<SocketAddr>, name: &str) -> Option<f64> {
    let metrics = metrics?;
    let mut response = http
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .ok()?;
    let body = response.body().await.ok()?;
    let text = String::from_utf8_lossy(&body);
    let mut total = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(name)
            && (rest.starts_with(' ') || rest.starts_with('{'))
            && let Some(value) = rest.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok())
        {
            *total.get_or_insert(0.0) += value;
        }
    }
    total
}

/// Every sample of a metric, as `labels=value` pairs.
async fn metric_lines(http: &awc::Client, metrics: Option<SocketAddr>, name: &str) -> String {
    let Some(metrics) = metrics else {
        return "n/a".into();
    };
    let Ok(mut response) = http.get(format!("http://{metrics}/metrics")).send().await else {
        return "n/a".into();
    };
    let Ok(body) = response.body().await else {
        return "n/a".into();
    };
    let text = String::from_utf8_lossy(&body);
    let samples: Vec<String> = text
        .lines()
        .filter(|line| line.starts_with(name))
        .map(|line| line[name.len()..].replace(' ', "="))
        .collect();
    if samples.is_empty() {
        "none".into()
    } else {
        samples.join(",")
    }
}

// ---------------------------------------------------------------- chat clients

/// A user who picked a name and has a socket open in #general.
struct Chat {
    token: String,
    framed: Framed,
    general: ChannelId,
}

/// Signs up `name` (unique per run) and opens a socket.
async fn join(http: &awc::Client, addr: SocketAddr, name: &str) -> anyhow::Result<Chat> {
    let token = sign_up_token(http, addr, name).await?;
    let mut framed = open_socket(http, addr, Some(&token)).await?;
    let general = general_from_welcome(&mut framed).await?;
    Ok(Chat {
        token,
        framed,
        general,
    })
}

/// Picks a name; returns the session token. (Like `bench::sign_up`, with
/// the Origin header old and new servers both accept.)
async fn sign_up_token(http: &awc::Client, addr: SocketAddr, name: &str) -> anyhow::Result<String> {
    let response = http
        .post(format!("http://{addr}/api/session"))
        .insert_header(("Origin", format!("http://{addr}")))
        .send_json(&json!({ "username": name }))
        .await
        .map_err(|e| anyhow::anyhow!("sign up {name}: {e}"))?;
    anyhow::ensure!(
        response.status().as_u16() == 201,
        "sign up {name}: {}",
        response.status()
    );
    Ok(response
        .cookie("chat_session")
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))?
        .value()
        .to_owned())
}

/// A name nobody has picked yet on this server.
fn unique(prefix: &str, n: usize) -> String {
    format!("{prefix}{n}x{}", std::process::id() % 100_000)
}

fn send_frame(channel: &ChannelId, client_id: &str, text: String) -> anyhow::Result<Message> {
    let message = ClientMsg::Send {
        channel: channel.clone(),
        client_id: ClientMsgId::parse(client_id)?,
        text,
        attachments: vec![],
    };
    Ok(Message::Text(serde_json::to_string(&message)?.into()))
}

/// The `type` of a server frame, and the frame as JSON.
fn parse(bytes: &[u8]) -> (String, Value) {
    let value: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let kind = value["type"].as_str().unwrap_or("?").to_owned();
    (kind, value)
}

/// Reads and drops everything a client socket receives, answering pings,
/// until the socket closes.
fn drain(mut framed: Framed) {
    spawn(async move {
        while let Some(frame) = framed.next().await {
            match frame {
                Ok(Frame::Ping(payload)) => {
                    let _ = framed.send(Message::Pong(payload)).await;
                }
                Ok(Frame::Close(_)) | Err(_) => break,
                _ => {}
            }
        }
    });
}

/// Reads frames for `wait` without answering (drops presence notices and the like).
async fn skip_frames(framed: &mut Framed, wait: Duration) {
    while let Ok(Some(_)) = timeout(wait, framed.next()).await {}
}

/// Posts `text` and waits for its ack; returns the message's seq.
async fn post_acked(chat: &mut Chat, client_id: &str, text: String) -> anyhow::Result<i64> {
    chat.framed
        .send(send_frame(&chat.general, client_id, text)?)
        .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut texts = Reassembler::default();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = timeout(left, chat.framed.next())
            .await
            .map_err(|_| anyhow::anyhow!("no ack for {client_id}"))?;
        let Some(Ok(frame)) = frame else {
            anyhow::ensure!(frame.is_some(), "socket closed before the ack");
            continue;
        };
        let Some(bytes) = texts.text(frame) else {
            continue;
        };
        let (kind, value) = parse(&bytes);
        if kind == "ack" && value["client_id"] == client_id {
            return value["seq"]
                .as_i64()
                .ok_or_else(|| anyhow::anyhow!("ack without seq"));
        }
        if kind == "error" && value["client_id"] == client_id {
            anyhow::bail!("post refused: {value}");
        }
    }
}

// ---------------------------------------------------------------- raw sockets

/// Opens a WebSocket by hand with a receive buffer of `recv_buffer` bytes
/// (a client that can stop reading without the kernel hiding it).
async fn raw_socket(addr: SocketAddr, token: &str, recv_buffer: u32) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(recv_buffer)?;
    let mut stream = socket.connect(addr).await?;
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Origin: http://{addr}\r\nCookie: chat_session={token}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await?;
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    anyhow::ensure!(head.starts_with("HTTP/1.1 101"), "upgrade refused: {head}");
    Ok(stream)
}

/// One masked text frame, as a client must send it.
fn text_frame(text: &str) -> Vec<u8> {
    let payload = text.as_bytes();
    let mask = [0x12, 0x34, 0x56, 0x78];
    let mut frame = vec![0x81];
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | len as u8),
        len @ 126..=65535 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// What a raw socket received: frames by type, bytes, and how it ended.
#[derive(Default)]
struct Received {
    bytes: u64,
    frames: BTreeMap<String, usize>,
    close_code: Option<u16>,
    eof: bool,
    error: Option<String>,
}

/// Reads server frames (unmasked) until the socket ends, a close frame,
/// nothing for `idle`, or `deadline`.
async fn read_raw(
    stream: &mut (impl AsyncRead + Unpin),
    idle: Duration,
    deadline: tokio::time::Instant,
) -> Received {
    let mut received = Received::default();
    let mut buffer: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        // Take every complete frame out of the buffer.
        loop {
            if buffer.len() < 2 {
                break;
            }
            let opcode = buffer[0] & 0x0f;
            let (len, header) = match buffer[1] & 0x7f {
                126 if buffer.len() >= 4 => {
                    (u16::from_be_bytes([buffer[2], buffer[3]]) as usize, 4)
                }
                127 if buffer.len() >= 10 => {
                    let mut len = [0u8; 8];
                    len.copy_from_slice(&buffer[2..10]);
                    (u64::from_be_bytes(len) as usize, 10)
                }
                126 | 127 => break,
                len => (len as usize, 2),
            };
            if buffer.len() < header + len {
                break;
            }
            let payload = &buffer[header..header + len];
            let kind = match opcode {
                0x1 => parse(payload).0,
                0x0 => "continuation".into(),
                0x2 => "binary".into(),
                0x8 => {
                    received.close_code = Some(if len >= 2 {
                        u16::from_be_bytes([payload[0], payload[1]])
                    } else {
                        1005
                    });
                    "close".into()
                }
                0x9 => "ping".into(),
                0xA => "pong".into(),
                _ => "other".into(),
            };
            *received.frames.entry(kind).or_default() += 1;
            buffer.drain(..header + len);
            if received.close_code.is_some() {
                return received;
            }
        }
        let wait = (tokio::time::Instant::now() + idle).min(deadline);
        match timeout_at(wait, stream.read(&mut chunk)).await {
            Ok(Ok(0)) => {
                received.eof = true;
                return received;
            }
            Ok(Ok(n)) => {
                received.bytes += n as u64;
                buffer.extend_from_slice(&chunk[..n]);
            }
            Ok(Err(error)) => {
                received.error = Some(error.kind().to_string().replace(' ', "_"));
                return received;
            }
            Err(_) => return received,
        }
    }
}

fn frames_summary(frames: &BTreeMap<String, usize>) -> String {
    if frames.is_empty() {
        return "none".into();
    }
    frames
        .iter()
        .map(|(kind, n)| format!("{kind}:{n}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn ended(received: &Received) -> String {
    match (&received.close_code, received.eof, &received.error) {
        (Some(code), _, _) => format!("close_frame_{code}"),
        (None, true, _) => "eof".into(),
        (None, false, Some(error)) => error.clone(),
        (None, false, None) => "open".into(),
    }
}

// ---------------------------------------------------------------- 1. preview

/// Serves `body` as text/html to every request, and notes when each came.
async fn serve_page(
    addr: SocketAddr,
    body: Vec<u8>,
) -> anyhow::Result<(SocketAddr, Rc<RefCell<Vec<Instant>>>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let requests = Rc::new(RefCell::new(Vec::new()));
    let body = Rc::new(body);
    let seen = requests.clone();
    spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (body, seen) = (body.clone(), seen.clone());
            spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match timeout(Duration::from_secs(5), stream.read(&mut byte)).await {
                        Ok(Ok(1)) => head.push(byte[0]),
                        _ => return,
                    }
                }
                seen.borrow_mut().push(Instant::now());
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Ok((bound, requests))
}

async fn preview(args: &Args, http: &awc::Client, out: &Report) -> anyhow::Result<()> {
    let pattern = args.page_pattern.as_bytes();
    anyhow::ensure!(!pattern.is_empty(), "--page-pattern is empty");
    let body: Vec<u8> = pattern
        .iter()
        .copied()
        .cycle()
        .take(args.page_bytes)
        .collect();
    let (page_addr, page_requests) = serve_page(args.page_addr, body).await?;

    let mut poster = join(http, args.addr, &unique("poster", 0)).await?;
    let prober = join(http, args.addr, &unique("prober", 0)).await?;
    skip_frames(&mut poster.framed, Duration::from_millis(300)).await;
    let general = prober.general.clone();
    let (mut sink, mut stream) = prober.framed.split();
    skip_frames_split(&mut stream, Duration::from_millis(300)).await;

    let sent: Rc<RefCell<HashMap<String, Instant>>> = Rc::default();
    let stop_probing = Rc::new(Cell::new(false));
    let probes_sent = Rc::new(Cell::new(0usize));
    let prober_task = {
        let (sent, stop, count) = (sent.clone(), stop_probing.clone(), probes_sent.clone());
        spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            let mut n = 0;
            while !stop.get() {
                tick.tick().await;
                let id = format!("probe-{n}");
                let Ok(frame) = send_frame(&general, &id, format!("probe {n}")) else {
                    break;
                };
                sent.borrow_mut().insert(id, Instant::now());
                if sink.send(frame).await.is_err() {
                    break;
                }
                n += 1;
                count.set(n);
            }
            sink
        })
    };

    // A second of probes before the link (read like the rest), then the link.
    let posted: Rc<Cell<Option<Instant>>> = Rc::default();
    {
        let posted = posted.clone();
        let link = format!("http://{page_addr}/page.html");
        let message = send_frame(&poster.general, "link-1", format!("look at {link}"))?;
        let mut framed = poster.framed;
        spawn(async move {
            sleep(Duration::from_secs(1)).await;
            posted.set(Some(Instant::now()));
            if framed.send(message).await.is_ok() {
                drain(framed);
            }
        });
    }

    let window = Duration::from_secs(args.window_secs);
    let cap = Duration::from_secs(args.cap_secs);
    let mut latencies: Vec<(Duration, Instant)> = Vec::new();
    let mut preview_at: Option<Duration> = None;
    let mut link_seq: Option<i64> = None;
    let mut closed = false;
    let mut texts = Reassembler::default();
    loop {
        let since = posted.get().map_or(Duration::ZERO, |at| at.elapsed());
        // Probing ends at the window, or 2 s after the preview (10 s at least).
        let window_over = since >= window
            || preview_at.is_some_and(|at| {
                since >= (at + Duration::from_secs(2)).max(Duration::from_secs(10))
            });
        if window_over && !stop_probing.get() {
            stop_probing.set(true);
        }
        if (window_over && sent.borrow().is_empty()) || since >= cap {
            break;
        }
        let frame = match timeout(Duration::from_millis(100), stream.next()).await {
            Err(_) => continue,
            Ok(None) | Ok(Some(Err(_))) => {
                closed = true;
                break;
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Some(bytes) = texts.text(frame) else {
            continue;
        };
        let (kind, value) = parse(&bytes);
        match kind.as_str() {
            "ack" => {
                let id = value["client_id"].as_str().unwrap_or_default();
                if let Some(at) = sent.borrow_mut().remove(id) {
                    latencies.push((at.elapsed(), at));
                }
            }
            "message" if value["message"]["client_id"] == "link-1" => {
                link_seq = value["message"]["seq"].as_i64();
            }
            "message_updated"
                if link_seq.is_some()
                    && value["message"]["seq"].as_i64() == link_seq
                    && !value["message"]["preview"].is_null() =>
            {
                preview_at.get_or_insert(posted.get().map_or(Duration::ZERO, |at| at.elapsed()));
            }
            _ => {}
        }
    }
    stop_probing.set(true);
    let posted_at = posted.get().unwrap_or_else(Instant::now);
    let elapsed = posted_at.elapsed();
    drop(prober_task);

    // Only probes sent after the link count (the first second is a baseline).
    let after: Vec<Duration> = latencies
        .iter()
        .filter(|(_, at)| *at >= posted_at)
        .map(|(latency, _)| *latency)
        .collect();
    let before_max = latencies
        .iter()
        .filter(|(_, at)| *at < posted_at)
        .map(|(latency, _)| *latency)
        .max()
        .unwrap_or_default();
    let mut sorted = after.clone();
    sorted.sort();
    let unacked: Vec<Duration> = sent.borrow().values().map(|at| at.elapsed()).collect();
    let oldest_unacked = unacked.iter().max().copied();
    let worst = sorted
        .last()
        .copied()
        .unwrap_or_default()
        .max(oldest_unacked.unwrap_or_default());
    let fetched = page_requests
        .borrow()
        .first()
        .map(|at| secs(at.saturating_duration_since(posted_at)))
        .unwrap_or_else(|| "never".into());
    out.line(
        "preview",
        &[
            (
                "page",
                format!("{:?}x{}B", args.page_pattern, args.page_bytes),
            ),
            (
                "max_ack_latency_s",
                if oldest_unacked.is_some() {
                    format!(">{}", secs(worst))
                } else {
                    secs(worst)
                },
            ),
            (
                "p50_ack_latency_s",
                secs(sorted.get(sorted.len() / 2).copied().unwrap_or_default()),
            ),
            (
                "probes_over_1s",
                (after.iter().filter(|l| l.as_secs_f64() > 1.0).count() + unacked.len())
                    .to_string(),
            ),
            ("baseline_max_s", secs(before_max)),
            ("probes", probes_sent.get().to_string()),
            ("acked_after_link", after.len().to_string()),
            ("unacked", unacked.len().to_string()),
            ("page_fetched_at_s", fetched),
            ("page_requests", page_requests.borrow().len().to_string()),
            (
                "preview_at_s",
                preview_at.map(secs).unwrap_or_else(|| "none".into()),
            ),
            ("observed_s", secs(elapsed)),
            ("timed_out", (elapsed >= cap).to_string()),
            ("prober_closed", closed.to_string()),
        ],
    );
    Ok(())
}

async fn skip_frames_split(stream: &mut SplitStream<Framed>, wait: Duration) {
    while let Ok(Some(_)) = timeout(wait, stream.next()).await {}
}

// ---------------------------------------------------------------- 2. history

async fn history(args: &Args, http: &awc::Client, out: &Report) -> anyhow::Result<()> {
    let pid = args.server_pid;
    let mut seeder = join(http, args.addr, &unique("seeder", 0)).await?;
    skip_frames(&mut seeder.framed, Duration::from_millis(200)).await;
    let seeding = Instant::now();
    let text = "é".repeat(4000);
    for n in 0..args.seed_messages {
        seeder
            .framed
            .send(send_frame(
                &seeder.general,
                &format!("seed-{n}"),
                text.clone(),
            )?)
            .await?;
    }
    let mut acks = 0;
    while acks < args.seed_messages {
        let frame = timeout(Duration::from_secs(60), seeder.framed.next())
            .await
            .map_err(|_| anyhow::anyhow!("seeding: {acks} acks"))?;
        match frame {
            Some(Ok(Frame::Text(bytes))) if parse(&bytes).0 == "ack" => acks += 1,
            Some(Ok(Frame::Text(bytes))) if parse(&bytes).0 == "error" => {
                anyhow::bail!("seeding refused: {}", String::from_utf8_lossy(&bytes))
            }
            Some(Ok(_)) => {}
            _ => anyhow::bail!("seeding: socket closed after {acks} acks"),
        }
    }
    let seeded_in = seeding.elapsed();
    let general = seeder.general.clone();
    drain(seeder.framed);

    // Sockets that never read, `--sockets-per-user` per user.
    let per_user = args.sockets_per_user.max(1);
    let mut tokens = Vec::new();
    for user in 0..args.sockets.div_ceil(per_user) {
        tokens.push(sign_up_token(http, args.addr, &unique("hoarder", user)).await?);
    }
    let request = json!({
        "type": "history",
        "channel": general.0,
        "before_seq": i64::MAX,
        "limit": 200,
    })
    .to_string();
    let frame = text_frame(&request);
    sleep(Duration::from_millis(500)).await;
    let fds_before = open_fds(pid);
    let rss_before = status_kb(pid, "VmRSS");
    reset_peak(pid);
    let watch = RssWatch::start(pid);
    let started = Instant::now();
    let watch_for = Duration::from_secs(args.watch_secs);
    let mut stuck: Vec<(TcpStream, u16)> = Vec::new();
    let mut closed_at: Vec<Option<Duration>> = Vec::new();
    let mut sent = 0;
    let mut sent_in = Duration::ZERO;
    let mut at_watch = None;
    let mut waves = Vec::new();
    for wave in 0..args.waves.max(1) {
        // Each wave: the same users open `--sockets` more sockets and ask.
        let wave_start = started.elapsed();
        let (mut opened, mut refused) = (0, 0);
        for n in 0..args.sockets {
            let mut socket = match raw_socket(args.addr, &tokens[n / per_user], 4096).await {
                Ok(socket) => socket,
                Err(_) => {
                    refused += 1;
                    continue;
                }
            };
            opened += 1;
            for _ in 0..args.requests {
                match timeout(Duration::from_secs(5), socket.write_all(&frame)).await {
                    Ok(Ok(())) => sent += 1,
                    _ => break,
                }
            }
            let port = socket.local_addr()?.port();
            stuck.push((socket, port));
            closed_at.push(None);
        }
        if wave == 0 {
            sent_in = started.elapsed();
        }
        // Memory for `watch_secs` a wave; after the last, closing is
        // watched as long again.
        let last = wave + 1 == args.waves.max(1);
        let until = wave_start + watch_for * if last { 2 } else { 1 };
        while started.elapsed() < until {
            for ((_, port), closed) in stuck.iter().zip(closed_at.iter_mut()) {
                if closed.is_none()
                    && !matches!(
                        server_side(args.addr.port(), *port),
                        Some(("ESTABLISHED", _))
                    )
                {
                    *closed = Some(started.elapsed());
                }
            }
            if at_watch.is_none() && started.elapsed() >= watch_for {
                at_watch = Some((
                    status_kb(pid, "VmRSS"),
                    status_kb(pid, "VmHWM"),
                    watch.max_kb(),
                ));
            }
            if last && at_watch.is_some() && closed_at.iter().all(Option::is_some) {
                break;
            }
            sleep(Duration::from_millis(100)).await;
        }
        let still_open = stuck
            .iter()
            .filter(|(_, port)| {
                matches!(
                    server_side(args.addr.port(), *port),
                    Some(("ESTABLISHED", _))
                )
            })
            .count();
        waves.push(format!(
            "w{}:opened_{opened}_refused_{refused}_open_{still_open}_rss+{}",
            wave + 1,
            mib(status_kb(pid, "VmRSS") - rss_before)
        ));
    }
    let rss_end = status_kb(pid, "VmRSS");
    let (rss_at_watch, hwm_at_watch, max_at_watch) =
        at_watch.unwrap_or((rss_end, status_kb(pid, "VmHWM"), watch.max_kb()));
    let mut states: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
    for (_, port) in &stuck {
        let (state, unsent) = server_side(args.addr.port(), *port).unwrap_or(("gone", 0));
        let entry = states.entry(state).or_default();
        entry.0 += 1;
        entry.1 += unsent;
    }
    let closed: Vec<Duration> = closed_at.iter().flatten().copied().collect();
    let kicks = metric_lines(http, args.metrics_addr, "chat_kicks_total").await;
    out.line(
        "history",
        &[
            (
                "seeded",
                format!("{}x8000B_in_{}s", args.seed_messages, secs(seeded_in)),
            ),
            ("sockets", stuck.len().to_string()),
            (
                "requests_sent",
                format!("{sent}/{}", args.requests * stuck.len()),
            ),
            ("sent_in_s", secs(sent_in)),
            ("rss_before_mib", mib(rss_before)),
            ("rss_growth_mib", mib(rss_at_watch - rss_before)),
            ("max_rss_growth_mib", mib(max_at_watch - rss_before)),
            ("hwm_growth_mib", mib(hwm_at_watch - rss_before)),
            ("watch_s", args.watch_secs.to_string()),
            (
                "closed",
                format!(
                    "{}/{}{}",
                    closed.len(),
                    stuck.len(),
                    match (closed.iter().min(), closed.iter().max()) {
                        (Some(first), Some(last)) =>
                            format!("_between_{}s_and_{}s", secs(*first), secs(*last)),
                        _ => format!("_within_{}s", args.watch_secs * 2),
                    }
                ),
            ),
            (
                "server_side_at_end",
                states
                    .iter()
                    .map(|(state, (n, unsent))| format!("{state}:{n}(unsent_{unsent}B)"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ("rss_end_growth_mib", mib(rss_end - rss_before)),
            ("end_s", secs(started.elapsed())),
            ("fds", format!("{fds_before}->{}", open_fds(pid))),
            ("kicks", kicks),
            ("waves", waves.join(",")),
        ],
    );
    drop(stuck);
    Ok(())
}

// ---------------------------------------------------------------- 3. sign-in

async fn sign_in(args: &Args, http: &awc::Client, out: &Report) -> anyhow::Result<()> {
    let pid = args.server_pid;
    let origin = format!("http://{}", args.addr);
    let owner = unique("owner", 0);
    let token = sign_up_token(http, args.addr, &owner).await?;
    let mut response = http
        .put(format!("http://{}/api/password", args.addr))
        .insert_header(("Origin", origin.clone()))
        .cookie(Cookie::new("chat_session", token))
        .send_json(&json!({ "password": "correct horse battery staple" }))
        .await
        .map_err(|e| anyhow::anyhow!("set password: {e}"))?;
    anyhow::ensure!(
        response.status().is_success(),
        "set password: {} {:?}",
        response.status(),
        response.body().await
    );
    sleep(Duration::from_millis(500)).await;

    let hashes_before = metric(http, args.metrics_addr, "chat_password_hashes_total").await;
    let rss_before = status_kb(pid, "VmRSS");
    reset_peak(pid);
    let watch = RssWatch::start(pid);
    let cpu_before = cpu_seconds(pid);
    // Clients bound to other loopback source addresses (127.0.0.10, .11, …).
    anyhow::ensure!(
        args.source_addresses <= 200,
        "--source-addresses: at most 200"
    );
    let clients: Vec<awc::Client> =
        (0..args.source_addresses.max(1))
            .map(|n| {
                let mut connector = awc::Connector::new().limit(0);
                if args.source_addresses > 1 {
                    connector = connector.local_address(std::net::IpAddr::V4(
                        std::net::Ipv4Addr::new(127, 0, 0, 10 + n as u8),
                    ));
                }
                awc::Client::builder()
                    .connector(connector)
                    .timeout(Duration::from_secs(args.cap_secs + 30))
                    .finish()
            })
            .collect();
    let started = Instant::now();
    let attempt = |n: usize| {
        let username = if args.distinct_names {
            unique("guess", n)
        } else {
            owner.clone()
        };
        let request = clients[n % clients.len()]
            .post(format!("http://{}/api/sign-in", args.addr))
            .insert_header(("Origin", origin.clone()));
        async move {
            let answer = request
                .send_json(
                    &json!({ "username": username, "password": format!("wrong password {n}") }),
                )
                .await;
            (answer.map(|r| r.status().as_u16()), Instant::now())
        }
    };
    let mut running: FuturesUnordered<_> = (0..args.attempts).map(attempt).collect();
    // With --sustain-secs, every answer is followed by a new attempt until then.
    let sustain = Duration::from_secs(args.sustain_secs);
    let mut issued = args.attempts;
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut last = started;
    while let Some((status, at)) = running.next().await {
        let key = match status {
            Ok(code) => code.to_string(),
            Err(error) => format!("error({error})").replace(' ', "_"),
        };
        *statuses.entry(key).or_default() += 1;
        last = last.max(at);
        if started.elapsed() < sustain {
            running.push(attempt(issued));
            issued += 1;
        }
    }
    let wall = last - started;
    // Hashing threads may still be finishing abandoned work.
    sleep(Duration::from_millis(500)).await;
    let cpu_after = cpu_seconds(pid);
    let hwm = status_kb(pid, "VmHWM");
    let rss_after = status_kb(pid, "VmRSS");
    let hashes_after = metric(http, args.metrics_addr, "chat_password_hashes_total").await;
    let refusals = metric_lines(http, args.metrics_addr, "chat_refusals_total").await;
    out.line(
        &format!(
            "sign-in({},{}_source_address{}{})",
            if args.distinct_names {
                "distinct_names"
            } else {
                "one_name"
            },
            args.source_addresses.max(1),
            if args.source_addresses > 1 { "es" } else { "" },
            if args.sustain_secs > 0 {
                format!(",sustained_{}s", args.sustain_secs)
            } else {
                String::new()
            }
        ),
        &[
            ("attempts", issued.to_string()),
            (
                "answers",
                statuses
                    .iter()
                    .map(|(status, n)| format!("{status}:{n}"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ("wall_s", secs(wall)),
            (
                "server_cpu_s",
                match (cpu_before, cpu_after) {
                    (Some(before), Some(after)) => format!("{:.2}", after - before),
                    _ => "n/a".into(),
                },
            ),
            ("hwm_growth_mib", mib(hwm - rss_before)),
            ("max_rss_growth_mib", mib(watch.max_kb() - rss_before)),
            ("rss_after_growth_mib", mib(rss_after - rss_before)),
            (
                "password_hashes",
                match (hashes_before, hashes_after) {
                    (Some(before), Some(after)) => format!("{}", after - before),
                    _ => "n/a".into(),
                },
            ),
            ("refusals", refusals),
        ],
    );
    Ok(())
}

// ---------------------------------------------------------------- 4. reactions

/// What the observer of the reacted-to message received.
#[derive(Default)]
struct Seen {
    bytes: u64,
    updates: usize,
    last_update: usize,
    max_update: usize,
    reactions: usize,
    /// Why the observer's socket ended, if it did.
    closed: Option<String>,
}

/// Reads the observer's socket into `seen` until it ends or `stop` is set.
fn observe(mut framed: Framed, seq: i64, seen: Rc<RefCell<Seen>>, stop: Rc<Cell<bool>>) {
    spawn(async move {
        let mut texts = Reassembler::default();
        while !stop.get() {
            let frame = match timeout(Duration::from_millis(100), framed.next()).await {
                Err(_) => continue,
                Ok(Some(Ok(frame))) => frame,
                Ok(Some(Err(error))) => {
                    seen.borrow_mut().closed = Some(format!("error({error})").replace(' ', "_"));
                    break;
                }
                Ok(None) => {
                    seen.borrow_mut().closed = Some("eof".into());
                    break;
                }
            };
            match frame {
                Frame::Ping(payload) => {
                    let _ = framed.send(Message::Pong(payload)).await;
                }
                Frame::Close(reason) => {
                    seen.borrow_mut().closed = Some(format!(
                        "close_frame_{}",
                        reason.map_or(1005, |r| u16::from(r.code))
                    ));
                    break;
                }
                frame => {
                    let Some(text) = texts.text(frame) else {
                        continue;
                    };
                    let mut seen = seen.borrow_mut();
                    seen.bytes += text.len() as u64;
                    let (kind, value) = parse(&text);
                    if kind == "message_updated" && value["message"]["seq"].as_i64() == Some(seq) {
                        seen.updates += 1;
                        seen.last_update = text.len();
                        seen.max_update = seen.max_update.max(text.len());
                        seen.reactions = value["message"]["reactions"]
                            .as_array()
                            .map(|r| {
                                r.iter()
                                    .map(|reaction| {
                                        // Newer servers send a count and only the first names.
                                        let names =
                                            reaction["users"].as_array().map_or(0, Vec::len);
                                        names.max(reaction["count"].as_u64().unwrap_or(0) as usize)
                                    })
                                    .sum()
                            })
                            .unwrap_or(0);
                    }
                }
            }
        }
    });
}

fn react_frame(channel: &ChannelId, seq: i64, emoji: String) -> anyhow::Result<Message> {
    let react = ClientMsg::React {
        channel: channel.clone(),
        seq,
        emoji,
        add: true,
    };
    Ok(Message::Text(serde_json::to_string(&react)?.into()))
}

/// Counts the error frames a reactor gets, by code, until its socket ends.
fn count_errors(mut stream: SplitStream<Framed>, errors: Rc<RefCell<BTreeMap<String, usize>>>) {
    spawn(async move {
        let mut texts = Reassembler::default();
        while let Some(frame) = stream.next().await {
            match frame {
                Ok(Frame::Close(_)) | Err(_) => break,
                Ok(frame) => {
                    let Some(bytes) = texts.text(frame) else {
                        continue;
                    };
                    let (kind, value) = parse(&bytes);
                    if kind == "error" {
                        let code = value["code"].as_str().unwrap_or("?").to_owned();
                        *errors.borrow_mut().entry(code).or_default() += 1;
                    }
                }
            }
        }
    });
}

async fn reactions(args: &Args, http: &awc::Client, out: &Report) -> anyhow::Result<()> {
    anyhow::ensure!(args.reactors >= 1, "--reactors must be at least 1");
    let mut author = join(http, args.addr, &unique("reactor", 0)).await?;
    let observer = join(http, args.addr, &unique("observer", 0)).await?;
    let seq = post_acked(&mut author, "hello-1", "hello".into()).await?;
    // Everyone else joins now (all at once) or later, one at a time.
    let mut people = vec![author];
    if !args.one_at_a_time {
        for n in 1..args.reactors {
            people.push(join(http, args.addr, &unique("reactor", n)).await?);
        }
    }
    for person in people.iter_mut() {
        skip_frames(&mut person.framed, Duration::from_millis(100)).await;
    }
    let seen: Rc<RefCell<Seen>> = Rc::default();
    let stop = Rc::new(Cell::new(false));
    {
        let mut observer = observer;
        skip_frames(&mut observer.framed, Duration::from_millis(300)).await;
        observe(observer.framed, seq, seen.clone(), stop.clone());
    }

    let emoji: Vec<&'static str> = emojis::iter().map(|e| e.as_str()).collect();
    let mut attempts = vec![Vec::new(); args.reactors];
    for n in 0..args.reaction_attempts {
        let person = n % args.reactors;
        let pick = if args.shared_emoji {
            emoji[(n / args.reactors) % 20]
        } else {
            emoji[n % emoji.len()]
        };
        attempts[person].push(pick.to_owned());
    }

    let errors: Rc<RefCell<BTreeMap<String, usize>>> = Rc::default();
    let answered = |seen: &Seen, errors: &BTreeMap<String, usize>| {
        seen.updates + errors.values().sum::<usize>()
    };
    let started = Instant::now();
    let limit = Duration::from_secs(args.reaction_secs);
    let mut keep_open = Vec::new();
    let mut people = people.into_iter();
    let mut expected = 0;
    for (n, picks) in attempts.into_iter().enumerate() {
        if started.elapsed() >= limit || seen.borrow().closed.is_some() {
            break;
        }
        let person = match people.next() {
            Some(person) => person,
            None => join(http, args.addr, &unique("reactor", n)).await?,
        };
        let channel = person.general.clone();
        let (mut sink, stream) = person.framed.split();
        count_errors(stream, errors.clone());
        expected += picks.len();
        if args.one_at_a_time {
            for pick in picks {
                sink.send(react_frame(&channel, seq, pick)?).await?;
            }
            // This person's reactions are answered before the next one starts.
            while answered(&seen.borrow(), &errors.borrow()) < expected
                && started.elapsed() < limit
                && seen.borrow().closed.is_none()
            {
                sleep(Duration::from_millis(5)).await;
            }
            let _ = sink.close().await;
        } else {
            keep_open.push(spawn(async move {
                for pick in picks {
                    let Ok(frame) = react_frame(&channel, seq, pick) else {
                        break;
                    };
                    if sink.send(frame).await.is_err() {
                        break;
                    }
                }
                // Stays open until the scenario ends.
                sleep(Duration::from_secs(3600)).await;
                drop(sink);
            }));
        }
    }
    let mut done_at = None;
    while started.elapsed() < limit && seen.borrow().closed.is_none() {
        if answered(&seen.borrow(), &errors.borrow()) >= args.reaction_attempts {
            // Let anything still on its way arrive.
            let at = *done_at.get_or_insert_with(Instant::now);
            if at.elapsed() > Duration::from_secs(1) {
                break;
            }
        }
        sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    stop.set(true);
    for task in keep_open {
        task.abort();
    }
    let seen = seen.borrow();
    let errors = errors.borrow();
    out.line(
        &format!(
            "reactions({}_reactor{},{}_emoji{})",
            args.reactors,
            if args.reactors == 1 { "" } else { "s" },
            if args.shared_emoji {
                "the_same_20"
            } else {
                "new"
            },
            if args.one_at_a_time {
                ",one_at_a_time"
            } else {
                ""
            }
        ),
        &[
            ("attempts", args.reaction_attempts.to_string()),
            ("answered", answered(&seen, &errors).to_string()),
            ("reactions_on_message", seen.reactions.to_string()),
            ("observer_bytes", seen.bytes.to_string()),
            (
                "observer_mib",
                format!("{:.2}", seen.bytes as f64 / 1048576.0),
            ),
            ("updates_received", seen.updates.to_string()),
            ("last_update_bytes", seen.last_update.to_string()),
            ("max_update_bytes", seen.max_update.to_string()),
            (
                "errors",
                if errors.is_empty() {
                    "none".into()
                } else {
                    errors
                        .iter()
                        .map(|(code, n)| format!("{code}:{n}"))
                        .collect::<Vec<_>>()
                        .join(",")
                },
            ),
            ("elapsed_s", secs(elapsed)),
            ("timed_out", (elapsed >= limit).to_string()),
            (
                "observer_dropped",
                seen.closed.clone().unwrap_or_else(|| "no".into()),
            ),
        ],
    );
    Ok(())
}

// ---------------------------------------------------------------- 5. presence

async fn presence(args: &Args, http: &awc::Client, out: &Report) -> anyhow::Result<()> {
    // The observer: a tab busy elsewhere, not reading its socket.
    let observer_token = sign_up_token(http, args.addr, &unique("busytab", 0)).await?;
    let mut observer = raw_socket(args.addr, &observer_token, 4096).await?;
    let observer_port = observer.local_addr()?.port();
    // The attacker reads (and drops) what it gets, so only others can be stuck.
    let attacker_token = sign_up_token(http, args.addr, &unique("toggler", 0)).await?;
    let attacker = raw_socket(args.addr, &attacker_token, 256 * 1024).await?;
    let (mut attacker_reads, mut attacker_writes) = attacker.into_split();
    let attacker_got = Rc::new(Cell::new(0u64));
    {
        let got = attacker_got.clone();
        spawn(async move {
            let mut buffer = vec![0u8; 64 * 1024];
            while let Ok(n) = attacker_reads.read(&mut buffer).await {
                if n == 0 {
                    break;
                }
                got.set(got.get() + n as u64);
            }
        });
    }
    sleep(Duration::from_millis(500)).await;

    let frames: [Vec<u8>; 2] = [
        text_frame(r#"{"type":"set_away","away":true}"#),
        text_frame(r#"{"type":"set_away","away":false}"#),
    ];
    let chunk_frames = 100;
    let chunk: Vec<u8> = (0..chunk_frames)
        .flat_map(|n| frames[n % 2].clone())
        .collect();
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.flood_secs);
    let mut sent = 0;
    while sent < args.toggles {
        match timeout_at(deadline, attacker_writes.write_all(&chunk)).await {
            Ok(Ok(())) => sent += chunk_frames,
            _ => break,
        }
    }
    let flood = started.elapsed();
    // Give the server a moment with what it already took.
    sleep(Duration::from_millis(500)).await;
    let observer_side = server_side(args.addr.port(), observer_port);
    let read_deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let received = read_raw(&mut observer, Duration::from_secs(3), read_deadline).await;
    let kicks = metric_lines(http, args.metrics_addr, "chat_kicks_total").await;
    out.line(
        "presence",
        &[
            ("toggles_sent", format!("{sent}/{}", args.toggles)),
            ("flood_s", secs(flood)),
            (
                "presence_frames",
                received
                    .frames
                    .get("presence")
                    .copied()
                    .unwrap_or(0)
                    .to_string(),
            ),
            ("observer_frames", frames_summary(&received.frames)),
            ("observer_bytes", received.bytes.to_string()),
            ("observer_ended", ended(&received)),
            (
                "observer_server_side_after_flood",
                observer_side
                    .map(|(state, tx)| format!("{state}_unsent_{tx}B"))
                    .unwrap_or_else(|| "gone".into()),
            ),
            ("attacker_received_bytes", attacker_got.get().to_string()),
            ("kicks", kicks),
        ],
    );
    drop(attacker_writes);
    Ok(())
}

// ---------------------------------------------------------------- 6. uploads

/// A GIF of 2,000 one-pixel frames on a 2000×2000 canvas (~46 KB).
fn animation_bomb() -> Vec<u8> {
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&2000u16.to_le_bytes());
    gif.extend_from_slice(&2000u16.to_le_bytes());
    // Global colour table of 2 entries, background 0, no aspect ratio.
    gif.extend_from_slice(&[0x80, 0x00, 0x00]);
    gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    for _ in 0..2000 {
        gif.extend_from_slice(&[0x21, 0xF9, 0x04, 0x00, 0x0A, 0x00, 0x00, 0x00]);
        gif.extend_from_slice(&[0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
        gif.extend_from_slice(&[0x02, 0x02, 0x44, 0x01, 0x00]);
    }
    gif.push(0x3B);
    gif
}

/// `len` bytes of xorshift noise: incompressible, reproducible.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A PNG of noise (incompressible) of about `bytes` bytes.
fn noisy_png(bytes: usize) -> anyhow::Result<Vec<u8>> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let side = ((bytes / 3) as f64).sqrt() as u32;
    let pixels = noise(side as usize * side as usize * 3);
    let mut out = Cursor::new(Vec::new());
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::NoFilter)
        .write_image(&pixels, side, side, image::ExtendedColorType::Rgb8)?;
    Ok(out.into_inner())
}

/// Signs up an uploader; returns its token and the upload URL for #general.
async fn uploader(
    http: &awc::Client,
    addr: SocketAddr,
    name: &str,
) -> anyhow::Result<(String, ChannelId)> {
    let chat = join(http, addr, name).await?;
    let general = chat.general.clone();
    let token = chat.token.clone();
    drain(chat.framed);
    Ok((token, general))
}

async fn upload(
    http: &awc::Client,
    addr: SocketAddr,
    token: &str,
    channel: &ChannelId,
    name: &str,
    body: actix_web::web::Bytes,
) -> (Result<u16, String>, String, Duration) {
    let started = Instant::now();
    let answer = http
        .post(format!(
            "http://{addr}/api/channels/{}/files?name={name}",
            channel.0
        ))
        .insert_header(("Origin", format!("http://{addr}")))
        .cookie(Cookie::new("chat_session", token.to_owned()))
        .send_body(body)
        .await;
    match answer {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let body = response.body().limit(4096).await.unwrap_or_default();
            let text: String = String::from_utf8_lossy(&body).chars().take(160).collect();
            (Ok(status), text, started.elapsed())
        }
        Err(error) => (Err(error.to_string()), String::new(), started.elapsed()),
    }
}

async fn gif_bomb(args: &Args, http: &awc::Client, out: &Report) -> anyhow::Result<()> {
    let pid = args.server_pid;
    let (token, general) = uploader(http, args.addr, &unique("bomber", 0)).await?;
    let gif = animation_bomb();
    let rss_before = status_kb(pid, "VmRSS");
    reset_peak(pid);
    let cpu_before = cpu_seconds(pid);
    let (status, body, took) = upload(
        http,
        args.addr,
        &token,
        &general,
        "bomb.gif",
        gif.clone().into(),
    )
    .await;
    let cpu_after = cpu_seconds(pid);
    out.line(
        "gif-bomb",
        &[
            ("gif_bytes", gif.len().to_string()),
            (
                "status",
                status
                    .map(|code| code.to_string())
                    .unwrap_or_else(|e| format!("error({e})").replace(' ', "_")),
            ),
            ("time_s", secs(took)),
            (
                "server_cpu_s",
                match (cpu_before, cpu_after) {
                    (Some(before), Some(after)) => format!("{:.2}", after - before),
                    _ => "n/a".into(),
                },
            ),
            ("hwm_growth_mib", mib(status_kb(pid, "VmHWM") - rss_before)),
            ("answer", format!("{body:?}").replace(' ', "_")),
        ],
    );
    Ok(())
}

async fn uploads(args: &Args, http: &awc::Client, out: &Report) -> anyhow::Result<()> {
    let pid = args.server_pid;
    let (token, general) = uploader(http, args.addr, &unique("uploader", 0)).await?;
    let png = actix_web::web::Bytes::from(if args.upload_raw {
        noise(args.upload_bytes)
    } else {
        noisy_png(args.upload_bytes)?
    });
    let rss_before = status_kb(pid, "VmRSS");
    reset_peak(pid);
    let watch = RssWatch::start(pid);
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    let mut running = FuturesUnordered::new();
    for n in 0..args.uploads {
        let (token, general, png) = (token.clone(), general.clone(), png.clone());
        running.push(async move {
            upload(
                http,
                args.addr,
                &token,
                &general,
                &format!("noise{n}.png"),
                png,
            )
            .await
        });
    }
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut times = Vec::new();
    while let Some((status, _, took)) = running.next().await {
        let key = status
            .map(|s| s.to_string())
            .unwrap_or_else(|e| format!("error({e})").replace(' ', "_"));
        *statuses.entry(key).or_default() += 1;
        times.push(took);
    }
    let wall = started.elapsed();
    let cpu_after = cpu_seconds(pid);
    times.sort();
    out.line(
        "uploads",
        &[
            (
                "uploads",
                format!(
                    "{}x{}B_{}",
                    args.uploads,
                    png.len(),
                    if args.upload_raw { "raw" } else { "png" }
                ),
            ),
            (
                "answers",
                statuses
                    .iter()
                    .map(|(status, n)| format!("{status}:{n}"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ("wall_s", secs(wall)),
            ("p50_s", secs(times[times.len() / 2])),
            ("max_s", secs(*times.last().unwrap_or(&Duration::ZERO))),
            ("hwm_growth_mib", mib(status_kb(pid, "VmHWM") - rss_before)),
            ("max_rss_growth_mib", mib(watch.max_kb() - rss_before)),
            (
                "rss_after_growth_mib",
                mib(status_kb(pid, "VmRSS") - rss_before),
            ),
            (
                "server_cpu_s",
                match (cpu_before, cpu_after) {
                    (Some(before), Some(after)) => format!("{:.2}", after - before),
                    _ => "n/a".into(),
                },
            ),
            (
                "refusals",
                metric_lines(http, args.metrics_addr, "chat_refusals_total").await,
            ),
        ],
    );
    Ok(())
}

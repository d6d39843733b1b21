//! Durable write rate: many senders into many small conversations.
//!
//! `--target chat`: `--pairs` direct conversations of two (2,000 sockets
//! for 1,000 pairs); both people send `--messages` each as fast as acks
//! come back (a window of `--window` unacknowledged), and each reads the
//! other's. Reports messages stored and acknowledged per second, and how
//! long a message took from send to the other person. With several
//! `--addr` (nodes of a cluster), the two people of a pair are on
//! different nodes, so every message crosses between nodes.
//!
//! `--target sqlite`: the same number of rows written straight into a
//! SQLite file shaped like the chat's messages (WAL, `synchronous=FULL`), in
//! transactions of `--batch` rows, one statement each: what the disk and
//! SQLite allow at that durability. Prints one JSON line. Loopback only.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bench::{
    Framed, Reassembler, cpu_seconds, next_matching, open_socket, send, sign_up, spread_clients,
};
use clap::{Parser, ValueEnum};
use futures_util::StreamExt;
use shared::{ChannelId, ClientMsg, ClientMsgId, ServerMsg, UserId};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::Semaphore;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    Chat,
    Sqlite,
}

#[derive(Parser)]
struct Args {
    #[arg(long, value_enum)]
    target: Target,
    /// Chat server addresses (several: nodes of one cluster, people
    /// spread over them); loopback addresses only.
    #[arg(long, value_delimiter = ',')]
    addr: Vec<SocketAddr>,
    /// SQLite file for `--target sqlite` (created).
    #[arg(long)]
    db: Option<std::path::PathBuf>,
    #[arg(long, default_value_t = 1_000)]
    pairs: usize,
    /// Messages each person sends.
    #[arg(long, default_value_t = 20)]
    messages: usize,
    /// Unacknowledged messages a sender keeps in flight.
    #[arg(long, default_value_t = 5)]
    window: usize,
    /// Rows per transaction for `--target sqlite`.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    #[arg(long, default_value_t = 64)]
    sources: usize,
    /// The server processes (their CPU time is added up).
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
}

/// When this process started: send times travel in message texts as
/// microseconds since then, and the reader works out the delivery time.
static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

fn micros_now() -> u128 {
    EPOCH.get_or_init(Instant::now).elapsed().as_micros()
}

/// The server CPU seconds of all `pids`, if every one can be read.
fn cpu_of(pids: &[u32]) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|pid| cpu_seconds(*pid)).sum()
}

/// The `q`-quantile of sorted durations, in milliseconds.
fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    bench::within(300, async {
        match args.target {
            Target::Chat => chat(&args).await,
            Target::Sqlite => raw_sqlite(&args).await,
        }
    })
    .await
}

struct Person {
    framed: Framed,
    id: UserId,
}

async fn chat(args: &Args) -> anyhow::Result<serde_json::Value> {
    anyhow::ensure!(!args.addr.is_empty(), "--addr is needed");
    for addr in &args.addr {
        bench::loopback_only(*addr)?;
    }
    let addrs = Rc::new(args.addr.clone());
    let http = Rc::new(spread_clients(args.sources));
    let gate = Rc::new(Semaphore::new(256));
    let mut joining = Vec::new();
    for index in 0..2 * args.pairs {
        let (http, gate, addrs) = (http.clone(), gate.clone(), addrs.clone());
        joining.push(actix_web::rt::spawn(async move {
            let _turn = gate.acquire().await?;
            let http = &http[index % http.len()];
            // The two people of a pair (2k, 2k+1) on different nodes.
            let addr = addrs[index % addrs.len()];
            let name = format!("writer{index}x{}", std::process::id());
            let token = sign_up(http, addr, &name).await?;
            let mut framed = open_socket(http, addr, Some(&token)).await?;
            let id = next_matching(&mut framed, |m| match m {
                ServerMsg::Welcome { user, .. } => Some(user.id),
                _ => None,
            })
            .await?;
            anyhow::Ok(Person { framed, id })
        }));
    }
    let mut people = Vec::new();
    for task in joining {
        people.push(task.await??);
    }
    // Each pair opens its conversation; both learn its id.
    let mut pairs = Vec::new();
    let mut people = people.into_iter();
    while let (Some(mut a), Some(mut b)) = (people.next(), people.next()) {
        let open = ClientMsg::OpenDirect {
            users: vec![b.id.clone()],
        };
        send(&mut a.framed, &open).await?;
        let joined = |m| match m {
            ServerMsg::ChannelJoined { channel } => Some(channel.id),
            _ => None,
        };
        let channel = next_matching(&mut a.framed, joined).await?;
        next_matching(&mut b.framed, joined).await?;
        pairs.push((a, b, channel));
    }
    let cpu_before = cpu_of(&args.server_pid);
    let started = Instant::now();
    let mut senders = Vec::new();
    for (n, (a, b, channel)) in pairs.into_iter().enumerate() {
        for (side, person) in [a, b].into_iter().enumerate() {
            let (channel, messages, window) = (channel.clone(), args.messages, args.window);
            senders.push(actix_web::rt::spawn(talk(
                person, channel, n, side, messages, window,
            )));
        }
    }
    let (mut latencies, mut deliveries) = (Vec::new(), Vec::new());
    for sender in senders {
        let (acks, heard) = sender.await??;
        latencies.extend(acks);
        deliveries.extend(heard);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = match (cpu_before, cpu_of(&args.server_pid)) {
        (Some(before), Some(after)) => after - before,
        _ => f64::NAN,
    };
    latencies.sort();
    deliveries.sort();
    let stored = (2 * args.pairs * args.messages) as f64;
    Ok(serde_json::json!({
        "messages": stored,
        "nodes": args.addr.len(),
        "stored_per_sec": stored / elapsed,
        "stored_per_server_cpu_sec": stored / cpu,
        "ack_p50_ms": quantile_ms(&latencies, 0.5),
        "delivery_p50_ms": quantile_ms(&deliveries, 0.5),
        "delivery_p99_ms": quantile_ms(&deliveries, 0.99),
        "elapsed_sec": elapsed,
    }))
}

/// Sends `messages` into `channel` keeping `window` unacknowledged, and
/// reads the other person's as many; returns the send→ack times and the
/// other's send→here times.
async fn talk(
    mut person: Person,
    channel: ChannelId,
    pair: usize,
    side: usize,
    messages: usize,
    window: usize,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let mut in_flight: VecDeque<(ClientMsgId, Instant)> = VecDeque::new();
    let mut latencies = Vec::with_capacity(messages);
    let mut deliveries = Vec::with_capacity(messages);
    let (mut sent, mut acked, mut heard) = (0, 0, 0);
    let mut texts = Reassembler::default();
    while acked < messages || heard < messages {
        while sent < messages && in_flight.len() < window {
            let client_id = ClientMsgId::parse(&format!("p{pair}-s{side}-m{sent}"))?;
            let request = ClientMsg::Send {
                channel: channel.clone(),
                client_id: client_id.clone(),
                text: format!(
                    "message {sent} sent at {} µs, a sentence of ordinary length for a chat",
                    micros_now()
                ),
                attachments: vec![],
            };
            send(&mut person.framed, &request).await?;
            in_flight.push_back((client_id, Instant::now()));
            sent += 1;
        }
        let frame = tokio::time::timeout(Duration::from_secs(30), person.framed.next())
            .await
            .map_err(|_| anyhow::anyhow!("no frame for 30 s"))?
            .ok_or_else(|| anyhow::anyhow!("the socket closed"))??;
        let Some(bytes) = texts.text(frame) else {
            continue;
        };
        match serde_json::from_slice::<ServerMsg>(&bytes) {
            Ok(ServerMsg::Ack { client_id, .. }) => {
                if let Some(at) = in_flight.iter().position(|(id, _)| *id == client_id) {
                    let (_, sent_at) = in_flight.remove(at).expect("found");
                    latencies.push(sent_at.elapsed());
                    acked += 1;
                }
            }
            Ok(ServerMsg::Message { message }) if message.channel == channel => {
                heard += 1;
                let sent_at = message
                    .text
                    .split(" sent at ")
                    .nth(1)
                    .and_then(|rest| rest.split(' ').next())
                    .and_then(|micros| micros.parse::<u128>().ok());
                if let Some(sent_at) = sent_at {
                    let micros = micros_now().saturating_sub(sent_at);
                    deliveries.push(Duration::from_micros(micros as u64));
                }
            }
            Ok(ServerMsg::Error { message, .. }) => anyhow::bail!("refused: {message}"),
            _ => {}
        }
    }
    Ok((latencies, deliveries))
}

/// The same rows straight into SQLite, `--batch` per transaction.
async fn raw_sqlite(args: &Args) -> anyhow::Result<serde_json::Value> {
    let path = args
        .db
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("--db is needed"))?;
    let _ = std::fs::remove_file(path);
    let mut db = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::query(
        "CREATE TABLE messages (channel TEXT NOT NULL, seq INTEGER NOT NULL, \
         author TEXT NOT NULL, client_id TEXT NOT NULL, text TEXT NOT NULL, \
         sent_at INTEGER NOT NULL, PRIMARY KEY (channel, seq), UNIQUE (author, client_id))",
    )
    .execute(&mut db)
    .await?;
    let total = 2 * args.pairs * args.messages;
    let rows: Vec<(String, i64, String, String)> = (0..total)
        .map(|n| {
            let pair = n % args.pairs;
            (
                format!("direct-{pair}"),
                (n / args.pairs) as i64 + 1,
                format!("user-{}", n % (2 * args.pairs)),
                format!("c{n}"),
            )
        })
        .collect();
    let started = Instant::now();
    for chunk in rows.chunks(args.batch.max(1)) {
        let mut transaction = db.begin().await?;
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO messages (channel, seq, author, client_id, text, sent_at) ",
        );
        insert.push_values(chunk, |mut row, (channel, seq, author, client_id)| {
            row.push_bind(channel)
                .push_bind(seq)
                .push_bind(author)
                .push_bind(client_id)
                .push_bind("a message of the length of a sentence for a chat")
                .push_bind(0_i64);
        });
        insert.build().execute(&mut *transaction).await?;
        transaction.commit().await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    db.close().await?;
    Ok(serde_json::json!({
        "messages": total,
        "stored_per_sec": total as f64 / elapsed,
        "elapsed_sec": elapsed,
    }))
}

//! Connection storm: `--phase fresh` brings N new clients in as fast as the
//! server takes them (chat: sign up, socket, `welcome`, `sync`; baseline: a
//! socket), has a few of them post, waits until everyone is idle and reads
//! the server's memory per connection; it saves the sessions to `--state`.
//! `--phase reconnect`, run after the harness restarted the server, brings
//! the same N back at once: socket, `welcome`, `sync` from before the posts,
//! checking nobody is dropped and no message is missing. Prints one JSON line.
//!
//! Sockets come from `--sources` loopback addresses (127.0.0.2, …) so the
//! ephemeral ports last. Loopback only, bounded in count and time.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use awc::ws::{Frame, Message};
use bench::{Framed, next_matching, open_socket, sign_up};
use clap::{Parser, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use shared::{ChannelId, ClientMsg, ClientMsgId, ServerMsg};
use tokio::sync::Semaphore;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    Chat,
    Baseline,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    Fresh,
    Reconnect,
}

#[derive(Parser)]
struct Args {
    /// Server address; must be a loopback address.
    #[arg(long)]
    addr: SocketAddr,
    #[arg(long, value_enum)]
    target: Target,
    #[arg(long, value_enum, default_value = "fresh")]
    phase: Phase,
    #[arg(long, default_value_t = 10_000)]
    clients: usize,
    /// Source addresses to spread the client sockets over.
    #[arg(long, default_value_t = 64)]
    sources: usize,
    /// Clients connecting at the same time.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// Messages posted (by as many clients) once everyone is in.
    #[arg(long, default_value_t = 20)]
    posts: usize,
    /// Where the sessions are kept between the phases.
    #[arg(long)]
    state: std::path::PathBuf,
    /// The server's pid, to read its memory.
    #[arg(long)]
    server_pid: u32,
    /// Give up after this long.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

/// What the reconnect phase needs from the fresh one.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    general: ChannelId,
    /// The last message posted in the fresh phase.
    last_seq: i64,
    tokens: Vec<String>,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    bench::loopback_only(args.addr)?;
    bench::within(args.timeout_secs, async {
        match args.phase {
            Phase::Fresh => fresh(&args).await,
            Phase::Reconnect => reconnect(&args).await,
        }
    })
    .await
}

async fn fresh(args: &Args) -> anyhow::Result<serde_json::Value> {
    let http = Rc::new(bench::spread_clients(args.sources));
    let memory_before = rss_bytes(args.server_pid);
    let gate = Rc::new(Semaphore::new(args.concurrency));
    let dropped = Rc::new(Cell::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.clients);
    for index in 0..args.clients {
        let (http, gate, dropped) = (http.clone(), gate.clone(), dropped.clone());
        let (addr, target, posts) = (args.addr, args.target, args.posts);
        let name = format!("crowd{index}x{}", std::process::id());
        tasks.push(spawn_client(dropped, async move {
            let turn = gate.acquire().await?;
            let http = &http[index % http.len()];
            let (framed, session) = match target {
                Target::Chat => {
                    let token = sign_up(http, addr, &name).await?;
                    let mut framed = open_socket(http, addr, Some(&token)).await?;
                    let general = bench::general_from_welcome(&mut framed).await?;
                    sync(&mut framed, &general, None).await?;
                    let seq = if index < posts {
                        post(&mut framed, &general, index).await?
                    } else {
                        0
                    };
                    (framed, Some((token, general, seq)))
                }
                Target::Baseline => (open_socket(http, addr, None).await?, None),
            };
            drop(turn);
            anyhow::Ok((framed, session))
        }));
    }
    let mut tokens = Vec::with_capacity(args.clients);
    let mut general = None;
    let mut last_seq = 0;
    for task in tasks {
        if let Some((token, channel, seq)) = task.await?? {
            tokens.push(token);
            general = Some(channel);
            last_seq = last_seq.max(seq);
        }
    }
    let connect_secs = started.elapsed().as_secs_f64();
    // Let the notices of the storm settle before reading the memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let memory_after = rss_bytes(args.server_pid);
    if let Some(general) = general {
        let saved = Saved {
            general,
            last_seq,
            tokens,
        };
        std::fs::write(&args.state, serde_json::to_vec(&saved)?)?;
    }
    Ok(serde_json::json!({
        "clients": args.clients,
        "connect_sec": connect_secs,
        "memory_per_connection_bytes":
            (memory_after.saturating_sub(memory_before)) as f64 / args.clients as f64,
        "server_rss_bytes": memory_after,
        "dropped": dropped.get(),
    }))
}

async fn reconnect(args: &Args) -> anyhow::Result<serde_json::Value> {
    let saved: Saved = serde_json::from_slice(&std::fs::read(&args.state)?)?;
    let http = Rc::new(bench::spread_clients(args.sources));
    let gate = Rc::new(Semaphore::new(args.concurrency));
    let dropped = Rc::new(Cell::new(0));
    let from = (saved.last_seq - args.posts as i64).max(0);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(saved.tokens.len());
    for (index, token) in saved.tokens.iter().cloned().enumerate() {
        let (http, gate, dropped) = (http.clone(), gate.clone(), dropped.clone());
        let addr = args.addr;
        let general = saved.general.clone();
        tasks.push(spawn_client(dropped, async move {
            let _turn = gate.acquire().await?;
            let http = &http[index % http.len()];
            let mut framed = open_socket(http, addr, Some(&token)).await?;
            bench::general_from_welcome(&mut framed).await?;
            let seqs = sync(&mut framed, &general, Some(from)).await?;
            anyhow::Ok((framed, seqs))
        }));
    }
    let expected: Vec<i64> = (from + 1..=saved.last_seq).collect();
    let (mut gaps, mut failed) = (0, 0);
    for task in tasks {
        match task.await? {
            Ok(seqs) if seqs == expected => {}
            Ok(_) => gaps += 1,
            Err(error) => {
                failed += 1;
                if failed == 1 {
                    eprintln!("a reconnect failed: {error:#}");
                }
            }
        }
    }
    let reconnect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    Ok(serde_json::json!({
        "clients": saved.tokens.len(),
        "reconnect_sec": reconnect_secs,
        "failed": failed,
        "with_gaps": gaps,
        "dropped": dropped.get(),
    }))
}

/// Runs one client's `connect` on its own task; once connected the socket
/// stays open (see [`stay`]). The receiver gets what `connect` returned.
fn spawn_client<T: 'static>(
    dropped: Rc<Cell<usize>>,
    connect: impl Future<Output = anyhow::Result<(Framed, T)>> + 'static,
) -> tokio::sync::oneshot::Receiver<anyhow::Result<T>> {
    let (ready, joined) = tokio::sync::oneshot::channel();
    actix_web::rt::spawn(async move {
        match connect.await {
            Ok((framed, value)) => {
                let _ = ready.send(Ok(value));
                stay(framed, dropped).await;
            }
            Err(error) => {
                let _ = ready.send(Err(error));
            }
        }
    });
    joined
}

/// Catches up #general after `after_seq`; returns the seqs received.
async fn sync(
    framed: &mut Framed,
    general: &ChannelId,
    after_seq: Option<i64>,
) -> anyhow::Result<Vec<i64>> {
    let mut after = after_seq;
    let mut seqs = Vec::new();
    loop {
        let request = ClientMsg::Sync {
            channel: general.clone(),
            after_seq: after,
            after_change: None,
        };
        bench::send(framed, &request).await?;
        let (messages, complete) = next_matching(framed, |message| match message {
            ServerMsg::Synced {
                messages, complete, ..
            } => Some((messages, complete)),
            _ => None,
        })
        .await?;
        seqs.extend(messages.iter().map(|m| m.seq));
        if complete || messages.is_empty() {
            return Ok(seqs);
        }
        after = messages.last().map(|m| m.seq);
    }
}

/// Posts one message and waits for its ack; returns its seq.
async fn post(framed: &mut Framed, general: &ChannelId, n: usize) -> anyhow::Result<i64> {
    let client_id = ClientMsgId::parse(&format!("storm-{n}"))?;
    let request = ClientMsg::Send {
        channel: general.clone(),
        client_id: client_id.clone(),
        text: format!("storm message {n}"),
        attachments: vec![],
    };
    bench::send(framed, &request).await?;
    next_matching(framed, |message| match message {
        ServerMsg::Ack {
            client_id: id, seq, ..
        } if id == client_id => Some(seq),
        _ => None,
    })
    .await
}

/// Keeps a connected socket read and answers the server's pings, like an
/// idle browser tab; counts it in `dropped` if the server closes it.
async fn stay(mut framed: Framed, dropped: Rc<Cell<usize>>) {
    while let Some(frame) = framed.next().await {
        match frame {
            Ok(Frame::Ping(payload)) => {
                if framed.send(Message::Pong(payload)).await.is_err() {
                    break;
                }
            }
            Ok(Frame::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    dropped.set(dropped.get() + 1);
}

/// The resident memory of a process, from /proc/PID/status.
fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

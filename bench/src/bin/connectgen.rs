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
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use awc::ws::{Frame, Message};
use bench::{Framed, Reassembler, open_socket, sign_up};
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
    anyhow::ensure!(
        args.addr.ip().is_loopback(),
        "load tests target loopback only"
    );
    let deadline = Duration::from_secs(args.timeout_secs);
    let result = tokio::time::timeout(deadline, async {
        match args.phase {
            Phase::Fresh => fresh(&args).await,
            Phase::Reconnect => reconnect(&args).await,
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("gave up after {deadline:?}"))??;
    println!("{result}");
    Ok(())
}

/// One HTTP client per source address.
fn clients(args: &Args) -> Vec<awc::Client> {
    (0..args.sources.max(1))
        .map(|n| {
            let source = IpAddr::V4(Ipv4Addr::new(
                127,
                0,
                (2 + n / 250) as u8,
                (2 + n % 250) as u8,
            ));
            awc::Client::builder()
                .connector(awc::Connector::new().local_address(source).limit(0))
                .timeout(Duration::from_secs(30))
                .finish()
        })
        .collect()
}

async fn fresh(args: &Args) -> anyhow::Result<serde_json::Value> {
    let http = Rc::new(clients(args));
    let memory_before = rss_bytes(args.server_pid);
    let gate = Rc::new(Semaphore::new(args.concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.clients);
    for index in 0..args.clients {
        let (http, gate) = (http.clone(), gate.clone());
        let (addr, target) = (args.addr, args.target);
        let name = format!("crowd{index}x{}", std::process::id());
        tasks.push(actix_web::rt::spawn(async move {
            let _turn = gate.acquire().await?;
            let http = &http[index % http.len()];
            match target {
                Target::Chat => {
                    let token = sign_up(http, addr, &name).await?;
                    let mut framed = open_socket(http, addr, Some(&token)).await?;
                    let general = welcome(&mut framed).await?;
                    sync(&mut framed, &general, None).await?;
                    anyhow::Ok((framed, Some((token, general))))
                }
                Target::Baseline => Ok((open_socket(http, addr, None).await?, None)),
            }
        }));
    }
    let mut sockets = Vec::with_capacity(args.clients);
    let mut tokens = Vec::with_capacity(args.clients);
    let mut general = None;
    for task in tasks {
        let (framed, session) = task.await??;
        sockets.push(framed);
        if let Some((token, channel)) = session {
            tokens.push(token);
            general = Some(channel);
        }
    }
    let connect_secs = started.elapsed().as_secs_f64();

    let mut last_seq = 0;
    if let Some(general) = &general {
        for (n, framed) in sockets.iter_mut().take(args.posts).enumerate() {
            last_seq = post(framed, general, n).await?;
        }
    }
    let dropped = drain_all(sockets);
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
    let http = Rc::new(clients(args));
    let gate = Rc::new(Semaphore::new(args.concurrency));
    let from = (saved.last_seq - args.posts as i64).max(0);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(saved.tokens.len());
    for (index, token) in saved.tokens.iter().cloned().enumerate() {
        let (http, gate) = (http.clone(), gate.clone());
        let addr = args.addr;
        let general = saved.general.clone();
        tasks.push(actix_web::rt::spawn(async move {
            let _turn = gate.acquire().await?;
            let http = &http[index % http.len()];
            let mut framed = open_socket(http, addr, Some(&token)).await?;
            welcome(&mut framed).await?;
            let seqs = sync(&mut framed, &general, Some(from)).await?;
            anyhow::Ok((framed, seqs))
        }));
    }
    let mut sockets = Vec::with_capacity(tasks.len());
    let mut gaps = 0;
    let mut failed = 0;
    for task in tasks {
        match task.await? {
            Ok((framed, seqs)) => {
                let expected: Vec<i64> = (from + 1..=saved.last_seq).collect();
                if seqs != expected {
                    gaps += 1;
                }
                sockets.push(framed);
            }
            Err(error) => {
                failed += 1;
                if failed == 1 {
                    eprintln!("a reconnect failed: {error:#}");
                }
            }
        }
    }
    let reconnect_secs = started.elapsed().as_secs_f64();
    let dropped = drain_all(sockets);
    tokio::time::sleep(Duration::from_secs(3)).await;
    Ok(serde_json::json!({
        "clients": saved.tokens.len(),
        "reconnect_sec": reconnect_secs,
        "failed": failed,
        "with_gaps": gaps,
        "dropped": dropped.get(),
    }))
}

/// Reads frames up to `welcome`; returns #general.
async fn welcome(framed: &mut Framed) -> anyhow::Result<ChannelId> {
    bench::general_from_welcome(framed).await
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
        framed
            .send(Message::Text(serde_json::to_string(&request)?.into()))
            .await?;
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
    framed
        .send(Message::Text(serde_json::to_string(&request)?.into()))
        .await?;
    next_matching(framed, |message| match message {
        ServerMsg::Ack {
            client_id: id, seq, ..
        } if id == client_id => Some(seq),
        _ => None,
    })
    .await
}

async fn next_matching<T>(
    framed: &mut Framed,
    mut pick: impl FnMut(ServerMsg) -> Option<T>,
) -> anyhow::Result<T> {
    let mut texts = Reassembler::default();
    while let Some(frame) = framed.next().await {
        match frame? {
            Frame::Close(reason) => anyhow::bail!("closed: {reason:?}"),
            frame => {
                if let Some(bytes) = texts.text(frame)
                    && let Ok(message) = serde_json::from_slice(&bytes)
                    && let Some(found) = pick(message)
                {
                    return Ok(found);
                }
            }
        }
    }
    anyhow::bail!("the socket closed")
}

/// Keeps every socket read (and answers nothing); counts those the server closes.
fn drain_all(sockets: Vec<Framed>) -> Rc<Cell<usize>> {
    let dropped = Rc::new(Cell::new(0));
    for mut framed in sockets {
        let dropped = dropped.clone();
        actix_web::rt::spawn(async move {
            while let Some(frame) = framed.next().await {
                if matches!(frame, Ok(Frame::Close(_)) | Err(_)) {
                    break;
                }
            }
            dropped.set(dropped.get() + 1);
        });
    }
    dropped
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

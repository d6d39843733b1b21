//! Load generator: N clients in one room, each sending M messages per round;
//! every message is delivered to every other client. Reports deliveries per
//! second, the server's CPU per delivery, and send→ack latency. Loopback only.
//!
//! `--target chat` speaks the chat protocol (sign up, cookie, acks);
//! `--target baseline` sends raw frames to `baseline-server`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use awc::ws::{Frame, Message};
use bench::{Framed, cpu_seconds, general_from_welcome, open_socket, sign_up};
use clap::{Parser, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use shared::{ChannelId, ClientMsg, ClientMsgId};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    Chat,
    Baseline,
}

#[derive(Parser)]
struct Args {
    /// Server address; must be a loopback address.
    #[arg(long)]
    addr: std::net::SocketAddr,
    #[arg(long, value_enum)]
    target: Target,
    #[arg(long, default_value_t = 32)]
    clients: usize,
    #[arg(long, default_value_t = 50)]
    messages: usize,
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// The server's pid, to read its CPU time from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
}

struct Client {
    framed: Framed,
    channel: Option<ChannelId>,
    index: usize,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    bench::loopback_only(args.addr)?;
    let http = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut clients = Vec::new();
    for index in 0..args.clients {
        clients.push(connect(&http, &args, index).await?);
    }
    // Everyone is connected; drain presence notices before measuring.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for client in clients.iter_mut() {
        while let Ok(Some(_)) =
            tokio::time::timeout(Duration::from_millis(5), client.framed.next()).await
        {}
    }

    let latencies = Rc::new(RefCell::new(Vec::<Duration>::new()));
    let cpu_before = args.server_pid.and_then(cpu_seconds);
    let started = Instant::now();
    for round in 0..args.rounds {
        let mut tasks = Vec::new();
        for client in clients.drain(..) {
            let latencies = latencies.clone();
            let args_messages = args.messages;
            let expected = expected_frames(&args);
            let target = args.target;
            tasks.push(actix_web::rt::spawn(async move {
                run_round(client, round, args_messages, expected, target, latencies).await
            }));
        }
        for task in tasks {
            clients.push(task.await??);
        }
    }
    let elapsed = started.elapsed();
    let cpu_after = args.server_pid.and_then(cpu_seconds);
    clients.clear();

    let deliveries = (args.clients * args.messages * args.rounds * (args.clients - 1)) as f64;
    let mut latencies = latencies.borrow().clone();
    latencies.sort();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    let server_cpu = match (cpu_before, cpu_after) {
        (Some(before), Some(after)) => after - before,
        _ => f64::NAN,
    };
    // One line of JSON for `cargo xtask bench` to collect.
    println!(
        "{}",
        serde_json::json!({
            "deliveries_per_sec": deliveries / elapsed.as_secs_f64(),
            "deliveries_per_server_cpu_sec": deliveries / server_cpu,
            "server_cpu_percent": 100.0 * server_cpu / elapsed.as_secs_f64(),
            "latency_p50_ms": percentile(0.50),
            "latency_p99_ms": percentile(0.99),
            "elapsed_sec": elapsed.as_secs_f64(),
        })
    );
    Ok(())
}

/// Frames each client receives per round: the others' messages, plus its own
/// acks (chat) or its own echoes (baseline).
fn expected_frames(args: &Args) -> usize {
    args.clients * args.messages
}

async fn connect(http: &awc::Client, args: &Args, index: usize) -> anyhow::Result<Client> {
    let token = match args.target {
        Target::Chat => {
            let name = format!("load{index}-{}", std::process::id());
            Some(sign_up(http, args.addr, &name).await?)
        }
        Target::Baseline => None,
    };
    let mut framed = open_socket(http, args.addr, token.as_deref()).await?;
    let channel = match args.target {
        Target::Chat => Some(general_from_welcome(&mut framed).await?),
        Target::Baseline => None,
    };
    Ok(Client {
        framed,
        channel,
        index,
    })
}

/// One round for one client; hands the client back for the next round.
async fn run_round(
    mut client: Client,
    round: usize,
    messages: usize,
    expected: usize,
    target: Target,
    latencies: Rc<RefCell<Vec<Duration>>>,
) -> anyhow::Result<Client> {
    let mut sent_at = Vec::with_capacity(messages);
    for n in 0..messages {
        let id = format!("c{}-r{round}-m{n}", client.index);
        let text = match target {
            Target::Chat => serde_json::to_string(&ClientMsg::Send {
                channel: client.channel.clone().expect("welcome"),
                client_id: ClientMsgId::parse(&id)?,
                text: format!("message {n} of round {round}, a sentence of ordinary length"),
                attachments: vec![],
            })?,
            Target::Baseline => format!(
                r#"{{"id":"{id}","text":"message {n} of round {round}, a sentence of ordinary length"}}"#
            ),
        };
        sent_at.push((id, Instant::now()));
        client.framed.send(Message::Text(text.into())).await?;
    }
    let own_prefix = format!("c{}-r{round}-", client.index);
    let mut received = 0;
    while received < expected {
        let frame = tokio::time::timeout(Duration::from_secs(30), client.framed.next())
            .await
            .map_err(|_| anyhow::anyhow!("no frame for 30 s ({received}/{expected})"))?;
        let Some(Ok(Frame::Text(bytes))) = frame else {
            continue;
        };
        received += 1;
        // Latency of our own messages: send -> ack (chat) or send -> echo (baseline).
        let text = String::from_utf8_lossy(&bytes);
        if let Some(start) = text.find(&own_prefix) {
            let rest = &text[start..];
            let end = rest.find('"').unwrap_or(rest.len());
            let id = &rest[..end];
            let is_own = match target {
                Target::Chat => text.contains("\"type\":\"ack\""),
                Target::Baseline => true,
            };
            if is_own && let Some((_, at)) = sent_at.iter().find(|(sent, _)| sent == id) {
                latencies.borrow_mut().push(at.elapsed());
            }
        }
    }
    Ok(client)
}

//! History pages from a long channel: `--seed N` first posts N messages
//! into #general (one client, many in flight), then `--requests` pages of
//! 50 are asked for over the socket one after another, each from a random
//! place in the channel, and their round trips reported (p50, p99). The
//! requests rotate over `--readers` people so that none of them runs into
//! the per-person read budget (300 at once, then 50 a second): this
//! measures the server, not its flood protection. Run it
//! alone for the idle figure, beside `writegen` for the figure under load.
//! Prints one JSON line. Loopback only.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bench::{Framed, next_matching, open_socket, send, sign_up};
use clap::Parser;
use shared::{ChannelId, ClientMsg, ClientMsgId, ServerMsg};

#[derive(Parser)]
struct Args {
    /// Chat server address; must be a loopback address.
    #[arg(long)]
    addr: SocketAddr,
    /// Messages to post into #general first (0: the channel is already long).
    #[arg(long, default_value_t = 0)]
    seed: usize,
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    /// Messages per page.
    #[arg(long, default_value_t = 50)]
    page: u32,
    /// People asking, in turn.
    #[arg(long, default_value_t = 10)]
    readers: usize,
    /// Searches to ask after the pages (0: none), a mix of common, rare,
    /// phrase, prefix and filtered queries over the seeded words.
    #[arg(long, default_value_t = 0)]
    searches: usize,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    bench::loopback_only(args.addr)?;
    bench::within(1_800, run(&args)).await
}

async fn run(args: &Args) -> anyhow::Result<serde_json::Value> {
    let http = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let join = |name: String| {
        let http = &http;
        async move {
            let token = sign_up(http, args.addr, &name).await?;
            let mut framed = open_socket(http, args.addr, Some(&token)).await?;
            let (general, last_seq) = next_matching(&mut framed, |m| match m {
                ServerMsg::Welcome { channels, .. } => channels
                    .into_iter()
                    .find(|c| c.name == shared::protocol::DEFAULT_CHANNEL)
                    .map(|c| (c.id, c.last_seq)),
                _ => None,
            })
            .await?;
            anyhow::Ok((framed, general, last_seq))
        }
    };
    let pid = std::process::id();
    // The seeder posts before the readers come, so they are not sent it all.
    let (mut seeder, general, mut last_seq) = join(format!("seeder{pid}")).await?;
    let seeding = Instant::now();
    if args.seed > 0 {
        last_seq = seed(&mut seeder, &general, args.seed).await?;
    }
    drop(seeder);
    let seed_secs = seeding.elapsed().as_secs_f64();
    let mut readers = Vec::new();
    for n in 0..args.readers.max(1) {
        readers.push(join(format!("historian{n}x{pid}")).await?.0);
    }
    anyhow::ensure!(last_seq > i64::from(args.page), "the channel is too short");
    let mut random = fastrand(last_seq as u64);
    let mut times = Vec::with_capacity(args.requests);
    for request in 0..args.requests {
        let framed = &mut readers[request % args.readers.max(1)];
        let before_seq =
            i64::from(args.page) + 1 + (random() % (last_seq as u64 - u64::from(args.page))) as i64;
        let asked = Instant::now();
        send(
            framed,
            &ClientMsg::History {
                channel: general.clone(),
                before_seq,
                limit: Some(args.page),
            },
        )
        .await?;
        let got = next_matching(framed, |m| match m {
            ServerMsg::History { messages, .. } => Some(messages.len()),
            _ => None,
        })
        .await?;
        times.push(asked.elapsed());
        anyhow::ensure!(got == args.page as usize, "a page of {got}");
    }
    // Searchers of their own, each asking fewer than its budget's burst
    // (20): this measures the search, not the flood protection.
    let mut searchers = Vec::new();
    for n in 0..args.searches.div_ceil(16) {
        searchers.push(join(format!("searcher{n}x{pid}")).await?.0);
    }
    let seeded = (last_seq as usize / 2).max(1);
    let searched = search(
        &mut searchers,
        args.searches,
        seeded,
        &format!("seeder{pid}"),
    )
    .await?;
    Ok(serde_json::json!({
        "channel_messages": last_seq,
        "seed_sec": seed_secs,
        "history_p50_ms": percentile(&mut times, 0.50),
        "history_p99_ms": percentile(&mut times, 0.99),
        "requests": times.len(),
        "searches": searched.len(),
        "search_p50_ms": percentile(&mut searched.clone(), 0.50),
        "search_p99_ms": percentile(&mut searched.clone(), 0.99),
    }))
}

/// Milliseconds at percentile `p` of `times` (sorted here); NaN when empty.
fn percentile(times: &mut [Duration], p: f64) -> f64 {
    times.sort();
    match times.len() {
        0 => f64::NAN,
        len => times[((len as f64 * p) as usize).min(len - 1)].as_secs_f64() * 1000.0,
    }
}

/// Words the seeded messages carry, by how often they occur: one in ten
/// messages, one in a thousand, and one in a hundred thousand.
fn seeded_words(n: usize) -> String {
    format!(
        "{} {} {}",
        COMMON[n % COMMON.len()],
        word("topic", n % 1_000),
        word("rare", n % 100_000)
    )
}

const COMMON: [&str; 10] = [
    "deploy", "review", "lunch", "meeting", "release", "bug", "design", "test", "coffee", "ticket",
];

/// A made-up word per number (`topicqb`), so the index sees distinct words.
fn word(stem: &str, mut n: usize) -> String {
    let mut out = stem.to_string();
    loop {
        out.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return out;
        }
    }
}

/// Asks `count` searches, rotating over the readers and over a mix of
/// queries; every answer must be a page of results. Returns round trips.
/// Only words of the first `seeded` messages are asked for.
async fn search(
    readers: &mut [Framed],
    count: usize,
    seeded: usize,
    seeder: &str,
) -> anyhow::Result<Vec<Duration>> {
    let mut random = fastrand(count as u64 + 7);
    let mut times = Vec::with_capacity(count);
    for request in 0..count {
        let r = random() as usize % seeded;
        let query = match request % 8 {
            0 => COMMON[r % COMMON.len()].to_string(),
            1 => word("topic", r % 1_000),
            2 => word("rare", r % 100_000),
            3 => format!("\"history message\" {}", word("topic", r % 1_000)),
            4 => format!("{} {}", COMMON[r % COMMON.len()], word("topic", r % 1_000)),
            5 => format!("in:#general {}", COMMON[r % COMMON.len()]),
            6 => format!("from:@{seeder} {}", word("topic", r % 1_000)),
            // Typing: the last word as a prefix.
            _ => word("topic", r % 1_000).chars().take(7).collect(),
        };
        let framed = &mut readers[request % readers.len()];
        let asked = Instant::now();
        send(
            framed,
            &ClientMsg::Search {
                query: query.clone(),
                before: None,
            },
        )
        .await?;
        let answer = next_matching(framed, |m| match m {
            ServerMsg::SearchResults { results, .. } => Some(Ok(results.len())),
            ServerMsg::Error { message, .. } => Some(Err(message)),
            _ => None,
        })
        .await?;
        times.push(asked.elapsed());
        let found = answer.map_err(|refused| anyhow::anyhow!("{query:?} refused: {refused}"))?;
        anyhow::ensure!(found > 0, "nothing found for {query:?}");
    }
    Ok(times)
}

/// Posts `count` messages keeping many in flight; returns the last seq.
async fn seed(framed: &mut Framed, general: &ChannelId, count: usize) -> anyhow::Result<i64> {
    const WINDOW: usize = 512;
    let mut in_flight = VecDeque::new();
    let mut last = 0;
    for n in 0..count {
        let client_id = ClientMsgId::parse(&format!("h{n}"))?;
        let request = ClientMsg::Send {
            channel: general.clone(),
            client_id: client_id.clone(),
            text: format!(
                "history message {n}: {}, an ordinary sentence",
                seeded_words(n)
            ),
            attachments: vec![],
        };
        send(framed, &request).await?;
        in_flight.push_back(client_id);
        while in_flight.len() >= WINDOW || (n + 1 == count && !in_flight.is_empty()) {
            let answer = next_matching(framed, |m| match m {
                ServerMsg::Ack { client_id, seq, .. } => Some(Ok((client_id, seq))),
                ServerMsg::Error { message, .. } => Some(Err(message)),
                _ => None,
            })
            .await?;
            let (id, seq) = answer.map_err(|refused| anyhow::anyhow!("refused: {refused}"))?;
            in_flight.retain(|pending| *pending != id);
            last = last.max(seq);
        }
    }
    Ok(last)
}

/// A small xorshift generator (no dependency for a benchmark's dice).
fn fastrand(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

//! Upload load generator: posts the same payload `--count` times,
//! `--concurrency` at a time, and reports megabytes per second, the server's
//! CPU per megabyte and request latency. Loopback only.
//!
//! `--target chat` signs up and uploads into `#general`
//! (`POST /api/channels/{id}/files`); `--target baseline` posts to
//! `baseline-server`'s `/upload`, which only writes the body to disk.
//! `--payload file` is incompressible bytes (stored as a download);
//! `--payload photo` is a 12-megapixel JPEG (checked, stripped, thumbnailed).

use std::io::Cursor;
use std::time::{Duration, Instant};

use actix_web::cookie::Cookie;
use bench::{cpu_seconds, general_from_welcome, open_socket, sign_up};
use clap::{Parser, ValueEnum};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    Chat,
    Baseline,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Payload {
    File,
    Photo,
}

#[derive(Parser)]
struct Args {
    /// Server address; must be a loopback address.
    #[arg(long)]
    addr: std::net::SocketAddr,
    #[arg(long, value_enum)]
    target: Target,
    #[arg(long, value_enum)]
    payload: Payload,
    #[arg(long, default_value_t = 24)]
    count: usize,
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// The server's pid, to read its CPU time from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
}

fn payload(kind: Payload) -> Vec<u8> {
    match kind {
        Payload::File => {
            // xorshift: incompressible, reproducible.
            let mut state = 0x9E37_79B9_7F4A_7C15u64;
            (0..8 * 1024 * 1024)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect()
        }
        Payload::Photo => {
            let pixels = ImageBuffer::from_fn(4000, 3000, |x, y| {
                Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
            });
            let mut out = Cursor::new(Vec::new());
            DynamicImage::ImageRgb8(pixels)
                .write_to(&mut out, ImageFormat::Jpeg)
                .expect("encoding the test photo");
            out.into_inner()
        }
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.addr.ip().is_loopback(),
        "load tests target loopback only"
    );
    let body = actix_web::web::Bytes::from(payload(args.payload));
    let http = awc::Client::builder()
        .timeout(Duration::from_secs(120))
        .finish();
    let (url, cookie) = match args.target {
        Target::Baseline => (format!("http://{}/upload", args.addr), None),
        Target::Chat => {
            let token = sign_up(&http, args.addr, &format!("up{}", std::process::id())).await?;
            let mut socket = open_socket(&http, args.addr, Some(&token)).await?;
            let channel = general_from_welcome(&mut socket).await?.0;
            (
                format!(
                    "http://{}/api/channels/{channel}/files?name=bench.bin",
                    args.addr
                ),
                Some(token),
            )
        }
    };

    let cpu_before = args.server_pid.and_then(cpu_seconds);
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(args.count);
    let mut running = FuturesUnordered::new();
    let mut issued = 0;
    while issued < args.count || !running.is_empty() {
        while issued < args.count && running.len() < args.concurrency {
            let mut request = http.post(&url);
            if let Some(token) = &cookie {
                request = request.cookie(Cookie::new("chat_session", token.clone()));
            }
            let body = body.clone();
            running.push(async move {
                let at = Instant::now();
                let response = request.send_body(body).await;
                (at.elapsed(), response.map(|r| r.status().as_u16()))
            });
            issued += 1;
        }
        if let Some((elapsed, status)) = running.next().await {
            let status = status.map_err(|e| anyhow::anyhow!("upload: {e}"))?;
            anyhow::ensure!(status == 201, "upload answered {status}");
            latencies.push(elapsed);
        }
    }
    let elapsed = started.elapsed();
    let cpu_after = args.server_pid.and_then(cpu_seconds);
    latencies.sort();
    let megabytes = (body.len() * args.count) as f64 / 1e6;
    let server_cpu = match (cpu_before, cpu_after) {
        (Some(before), Some(after)) => after - before,
        _ => f64::NAN,
    };
    println!(
        "{}",
        serde_json::json!({
            "megabytes_per_sec": megabytes / elapsed.as_secs_f64(),
            "megabytes_per_server_cpu_sec": megabytes / server_cpu,
            "latency_p50_ms": latencies[latencies.len() / 2].as_secs_f64() * 1000.0,
            "payload_bytes": body.len(),
        })
    );
    Ok(())
}

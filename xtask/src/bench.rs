//! `cargo xtask bench [chat|uploads]`: runs the load generators against
//! minimal servers (the baselines: an actix-ws broadcast server, and an
//! upload sink that only writes the body to disk) and against the chat
//! server, in the same run, and prints medians and ratios. The server gets
//! one core and the load generator the other (`taskset`), all on loopback.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::{capture, cargo, exec, root, step};

/// Repetitions of each configuration; the median is reported.
const RUNS: usize = 3;
const CLIENTS: &str = "32";
const MESSAGES: &str = "50";
const ROUNDS: &str = "5";

struct Config {
    name: &'static str,
    baseline: bool,
    write_batch: usize,
}

/// One upload configuration: who receives what.
struct UploadConfig {
    name: &'static str,
    baseline: bool,
    payload: &'static str,
}

pub fn run(only: Option<&str>) -> Result<()> {
    let (chat, uploads) = match only {
        None => (true, true),
        Some("chat") => (true, false),
        Some("uploads") => (false, true),
        Some(other) => bail!("unknown benchmark {other:?}: expected chat or uploads"),
    };
    step("building the server and the load generator (release)");
    exec(cargo().args([
        "build",
        "--release",
        "--package",
        "server",
        "--package",
        "bench",
    ]))?;
    let release = root().join("target/release");
    let scratch = std::env::temp_dir().join(format!("chat-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    std::fs::write(
        scratch.join("index.html"),
        "<!doctype html><title>bench</title>",
    )?;
    let pinning = capture(Command::new("taskset").arg("--version")).is_ok();
    if !pinning {
        println!("(taskset not found: processes are not pinned to cores)");
    }

    if chat {
        let results = chat_runs(&release, &scratch, pinning)?;
        report(&results);
    }
    if uploads {
        let results = upload_runs(&release, &scratch, pinning)?;
        report_uploads(&results);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

fn chat_runs(
    release: &Path,
    scratch: &Path,
    pinning: bool,
) -> Result<Vec<(&'static str, Vec<Value>)>> {
    let configs = [
        Config {
            name: "baseline: minimal actix-ws broadcast",
            baseline: true,
            write_batch: 0,
        },
        Config {
            name: "chat server (batched durable writes)",
            baseline: false,
            write_batch: 256,
        },
        Config {
            name: "chat server (one commit per message)",
            baseline: false,
            write_batch: 1,
        },
    ];
    let mut results: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for config in &configs {
        let mut runs = Vec::new();
        for run in 0..RUNS {
            step(&format!("{} — run {}/{RUNS}", config.name, run + 1));
            let port = free_port()?;
            let addr = format!("127.0.0.1:{port}");
            let mut server = if config.baseline {
                spawn(
                    pinned(pinning, "1", &release.join("baseline-server")).args([
                        "--addr",
                        &addr,
                        "--workers",
                        "1",
                    ]),
                )?
            } else {
                spawn_chat(
                    release,
                    scratch,
                    pinning,
                    &addr,
                    &format!("run-{}-{run}", config.write_batch),
                    config.write_batch,
                )?
            };
            let outcome = wait_for_port(port).and_then(|()| {
                let output = capture(
                    pinned(pinning, "0", &release.join("loadgen"))
                        .args(["--addr", &addr])
                        .args([
                            "--target",
                            if config.baseline { "baseline" } else { "chat" },
                        ])
                        .args([
                            "--clients",
                            CLIENTS,
                            "--messages",
                            MESSAGES,
                            "--rounds",
                            ROUNDS,
                        ])
                        .args(["--server-pid", &server.id().to_string()]),
                )?;
                let line = output.lines().last().unwrap_or_default();
                serde_json::from_str::<Value>(line)
                    .with_context(|| format!("loadgen printed {output:?}"))
            });
            let _ = server.kill();
            let _ = server.wait();
            let result = outcome?;
            println!("{result}");
            runs.push(result);
        }
        results.push((config.name, runs));
    }
    Ok(results)
}

/// The chat server on `addr` with its data in `scratch`, flood limits lifted.
fn spawn_chat(
    release: &Path,
    scratch: &Path,
    pinning: bool,
    addr: &str,
    name: &str,
    write_batch: usize,
) -> Result<Child> {
    let db = scratch.join(format!("{name}.db"));
    spawn(
        pinned(pinning, "1", &release.join("server"))
            .args(["--addr", addr, "--workers", "1"])
            .arg(format!("--database-url=sqlite://{}", db.display()))
            .arg(format!(
                "--files-dir={}",
                scratch.join(format!("{name}-files")).display()
            ))
            .arg(format!("--static-dir={}", scratch.display()))
            .arg(format!("--write-batch={write_batch}"))
            .arg("--link-previews=false")
            // Measure the server, not its flood protection.
            .args([
                "--message-burst",
                "1000000",
                "--messages-per-second",
                "1000000",
                "--signups-per-minute",
                "1000000",
            ])
            .env("RUST_LOG", "warn"),
    )
}

fn upload_runs(
    release: &Path,
    scratch: &Path,
    pinning: bool,
) -> Result<Vec<(&'static str, Vec<Value>)>> {
    let configs = [
        UploadConfig {
            name: "baseline: body streamed to a file, synced (8 MiB, incompressible)",
            baseline: true,
            payload: "file",
        },
        UploadConfig {
            name: "chat server, the same file (sniff, SHA-256, store, record)",
            baseline: false,
            payload: "file",
        },
        UploadConfig {
            name: "chat server, a 12-megapixel JPEG (decode, strip, thumbnail)",
            baseline: false,
            payload: "photo",
        },
    ];
    let mut results = Vec::new();
    for config in &configs {
        let mut runs = Vec::new();
        for run in 0..RUNS {
            step(&format!("{} — run {}/{RUNS}", config.name, run + 1));
            let port = free_port()?;
            let addr = format!("127.0.0.1:{port}");
            let mut server = if config.baseline {
                spawn(
                    pinned(pinning, "1", &release.join("baseline-server")).args([
                        "--addr",
                        &addr,
                        "--workers",
                        "1",
                    ]),
                )?
            } else {
                spawn_chat(
                    release,
                    scratch,
                    pinning,
                    &addr,
                    &format!("upload-{}-{run}", config.payload),
                    256,
                )?
            };
            let outcome = wait_for_port(port).and_then(|()| {
                let output = capture(
                    pinned(pinning, "0", &release.join("uploadgen"))
                        .args(["--addr", &addr])
                        .args([
                            "--target",
                            if config.baseline { "baseline" } else { "chat" },
                        ])
                        .args(["--payload", config.payload])
                        .args(["--server-pid", &server.id().to_string()]),
                )?;
                let line = output.lines().last().unwrap_or_default();
                serde_json::from_str::<Value>(line)
                    .with_context(|| format!("uploadgen printed {output:?}"))
            });
            let _ = server.kill();
            let _ = server.wait();
            let result = outcome?;
            println!("{result}");
            runs.push(result);
        }
        results.push((config.name, runs));
    }
    Ok(results)
}

fn report_uploads(results: &[(&str, Vec<Value>)]) {
    let metrics = [
        ("megabytes_per_sec", "MB/s"),
        ("megabytes_per_server_cpu_sec", "MB per server CPU-s"),
        ("latency_p50_ms", "request p50 ms"),
    ];
    println!(
        "\n24 uploads, 4 at a time; medians of {RUNS} runs; ratio = value / baseline's value \
         (the photo is smaller than the file: compare MB/s and CPU per MB)"
    );
    let baseline: Vec<f64> = metrics
        .iter()
        .map(|(key, _)| median(&results[0].1, key))
        .collect();
    for (name, runs) in results {
        println!("\n{name}");
        for ((key, label), base) in metrics.iter().zip(&baseline) {
            let value = median(runs, key);
            println!("  {label:<30} {value:>14.1}   ratio {:.2}", value / base);
        }
    }
}

fn report(results: &[(&str, Vec<Value>)]) {
    let metrics = [
        ("deliveries_per_sec", "deliveries/s"),
        (
            "deliveries_per_server_cpu_sec",
            "deliveries per server CPU-s",
        ),
        ("latency_p50_ms", "ack/echo p50 ms"),
        ("latency_p99_ms", "ack/echo p99 ms"),
    ];
    println!(
        "\n{CLIENTS} clients x {MESSAGES} messages x {ROUNDS} rounds, every message to every other client; \
         medians of {RUNS} runs; ratio = value / baseline's value"
    );
    let baseline: Vec<f64> = metrics
        .iter()
        .map(|(key, _)| median(&results[0].1, key))
        .collect();
    for (name, runs) in results {
        println!("\n{name}");
        for ((key, label), base) in metrics.iter().zip(&baseline) {
            let value = median(runs, key);
            println!("  {label:<30} {value:>14.1}   ratio {:.2}", value / base);
        }
    }
}

fn median(runs: &[Value], key: &str) -> f64 {
    let mut values: Vec<f64> = runs.iter().filter_map(|r| r[key].as_f64()).collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn pinned(pinning: bool, core: &str, program: &Path) -> Command {
    if pinning {
        let mut command = Command::new("taskset");
        command.args(["-c", core]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn spawn(command: &mut Command) -> Result<Child> {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting a server")
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for_port(port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("the server did not listen on port {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

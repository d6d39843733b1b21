//! `cargo xtask bench`: runs the load generator against a minimal actix-ws
//! broadcast server (the baseline) and against the chat server, in the same
//! run, and prints medians and ratios. The server gets one core and the load
//! generator the other (`taskset`), everything on loopback.

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

pub fn run() -> Result<()> {
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
    let mut results: Vec<(&str, Vec<Value>)> = Vec::new();
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
                let db = scratch.join(format!("run-{}-{run}.db", config.write_batch));
                spawn(
                    pinned(pinning, "1", &release.join("server"))
                        .args(["--addr", &addr, "--workers", "1"])
                        .arg(format!("--database-url=sqlite://{}", db.display()))
                        .arg(format!("--static-dir={}", scratch.display()))
                        .arg(format!("--write-batch={}", config.write_batch))
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
    let _ = std::fs::remove_dir_all(&scratch);
    report(&results);
    Ok(())
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

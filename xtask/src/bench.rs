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
    /// Another build of the chat server to measure in the same run
    /// (`CHAT_BENCH_BEFORE`), for before/after ratios.
    before: bool,
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
    let before = std::env::var_os("CHAT_BENCH_BEFORE").map(std::path::PathBuf::from);
    let configs = [
        Config {
            name: "baseline: minimal actix-ws broadcast",
            baseline: true,
            write_batch: 0,
            before: false,
        },
        Config {
            name: "chat server, before (CHAT_BENCH_BEFORE, batched durable writes)",
            baseline: false,
            write_batch: 256,
            before: true,
        },
        Config {
            name: "chat server (batched durable writes)",
            baseline: false,
            write_batch: 256,
            before: false,
        },
        Config {
            name: "chat server (one commit per message)",
            baseline: false,
            write_batch: 1,
            before: false,
        },
    ];
    let mut results = Vec::new();
    for config in configs.iter().filter(|c| !c.before || before.is_some()) {
        let runs = repeat(
            config.name,
            |run, addr| {
                if config.baseline {
                    spawn_baseline(release, pinning, addr)
                } else {
                    let name = format!("run-{}-{}-{run}", config.write_batch, config.before);
                    let binary = match (&before, config.before) {
                        (Some(path), true) => path.clone(),
                        _ => release.join("server"),
                    };
                    spawn_chat(&binary, scratch, pinning, addr, &name, config.write_batch)
                }
            },
            |addr, server_pid| {
                let target = if config.baseline { "baseline" } else { "chat" };
                json_line(
                    pinned(pinning, "0", &release.join("loadgen"))
                        .args(["--addr", addr, "--target", target])
                        .args([
                            "--clients",
                            CLIENTS,
                            "--messages",
                            MESSAGES,
                            "--rounds",
                            ROUNDS,
                        ])
                        .args(["--server-pid", &server_pid.to_string()]),
                )
            },
        )?;
        results.push((config.name, runs));
    }
    Ok(results)
}

/// Runs one configuration `RUNS` times: a fresh server each time (started
/// by `start` with the run number and a free loopback address), measured by
/// `load` (given the address and the server's pid), which answers one JSON line.
fn repeat(
    name: &str,
    start: impl Fn(usize, &str) -> Result<Child>,
    load: impl Fn(&str, u32) -> Result<Value>,
) -> Result<Vec<Value>> {
    let mut runs = Vec::new();
    for run in 0..RUNS {
        step(&format!("{name} — run {}/{RUNS}", run + 1));
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut server = start(run, &addr)?;
        let outcome = wait_for_port(port).and_then(|()| load(&addr, server.id()));
        let _ = server.kill();
        let _ = server.wait();
        let result = outcome?;
        println!("{result}");
        runs.push(result);
    }
    Ok(runs)
}

/// Runs a load generator and reads the JSON line it ends with.
fn json_line(command: &mut Command) -> Result<Value> {
    let output = capture(command)?;
    let line = output.lines().last().unwrap_or_default();
    serde_json::from_str::<Value>(line)
        .with_context(|| format!("the load generator printed {output:?}"))
}

fn spawn_baseline(release: &Path, pinning: bool, addr: &str) -> Result<Child> {
    spawn(
        pinned(pinning, "1", &release.join("baseline-server")).args([
            "--addr",
            addr,
            "--workers",
            "1",
        ]),
    )
}

/// The chat server `binary` on `addr` with its data in `scratch`, flood limits lifted.
fn spawn_chat(
    binary: &Path,
    scratch: &Path,
    pinning: bool,
    addr: &str,
    name: &str,
    write_batch: usize,
) -> Result<Child> {
    let db = scratch.join(format!("{name}.db"));
    spawn(
        pinned(pinning, "1", binary)
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
        let runs = repeat(
            config.name,
            |run, addr| {
                if config.baseline {
                    spawn_baseline(release, pinning, addr)
                } else {
                    let name = format!("upload-{}-{run}", config.payload);
                    spawn_chat(&release.join("server"), scratch, pinning, addr, &name, 256)
                }
            },
            |addr, server_pid| {
                let target = if config.baseline { "baseline" } else { "chat" };
                json_line(
                    pinned(pinning, "0", &release.join("uploadgen"))
                        .args([
                            "--addr",
                            addr,
                            "--target",
                            target,
                            "--payload",
                            config.payload,
                        ])
                        .args(["--server-pid", &server_pid.to_string()]),
                )
            },
        )?;
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

//! `cargo xtask bench [chat|writes|history|storm|uploads|render]`: runs the load
//! generators against minimal servers (the baselines: an actix-ws broadcast
//! server, a bare tokio-tungstenite one, Bun, raw SQLite inserts, and an
//! upload sink that only writes the body to disk) and against the chat
//! server, in the same run, and prints medians and ratios. The server gets
//! one core and the load generator the other (`taskset`), all on loopback.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::{capture, cargo, exec, root, step};

/// Repetitions of each configuration; the median is reported.
pub(crate) const RUNS: usize = 3;
const CLIENTS: &str = "32";
const MESSAGES: &str = "50";
const ROUNDS: &str = "5";
/// The durable-write benchmark: conversations, and messages per person.
pub(crate) const WRITE_PAIRS: &str = "1000";
pub(crate) const WRITE_MESSAGES: &str = "20";

/// A server measured in the chat benchmark.
enum Server {
    /// The minimal actix-ws broadcast server (`baseline-server`).
    Actix,
    /// The bare tokio-tungstenite broadcast server (`tungstenite-server`).
    Tungstenite,
    /// Bun's `Bun.serve` with one pub/sub topic (`bench/bun/server.js`).
    Bun(PathBuf),
    /// A build of the chat server, with this many messages per transaction.
    Chat { binary: PathBuf, write_batch: usize },
}

struct Config {
    name: &'static str,
    server: Server,
}

/// One upload configuration: who receives what.
struct UploadConfig {
    name: &'static str,
    baseline: bool,
    payload: &'static str,
}

/// Clients in the connection storm.
const STORM_CLIENTS: usize = 10_000;

pub fn run(only: Option<&str>) -> Result<()> {
    let all = only.is_none();
    let (chat, writes, history, storm, uploads) = match only {
        None | Some("chat" | "writes" | "history" | "storm" | "uploads") => (
            all || only == Some("chat"),
            all || only == Some("writes"),
            all || only == Some("history"),
            all || only == Some("storm"),
            all || only == Some("uploads"),
        ),
        Some("smoke") => return smoke(),
        Some("cluster") => return crate::bench_cluster::run(),
        Some("render") => return render(),
        Some(other) => bail!(
            "unknown benchmark {other:?}: expected chat, writes, history, storm, uploads, \
             render, cluster or smoke"
        ),
    };
    let (release, scratch, pinning) = prepare("chat-bench")?;

    if chat {
        let results = chat_runs(&release, &scratch, pinning)?;
        report(&results);
    }
    if writes {
        let results = write_runs(&release, &scratch, pinning)?;
        report_writes(&results);
    }
    if history {
        let (idle, loaded) = history_run(
            &release,
            &scratch,
            pinning,
            (HISTORY_MESSAGES, SEARCHES),
            ("1000", "100", Duration::from_secs(8)),
        )?;
        report_history(&idle, &loaded);
    }
    if storm {
        let storm = storm_run(&release, &release, &scratch, pinning, STORM_CLIENTS)?;
        report_storm(&storm);
    }
    if uploads {
        let results = upload_runs(&release, &scratch, pinning)?;
        report_uploads(&results);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Builds the server and the load generators (release), makes a scratch
/// folder named after `name` with a stand-in client, and says whether
/// processes can be pinned to cores.
pub(crate) fn prepare(name: &str) -> Result<(PathBuf, PathBuf, bool)> {
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
    let scratch = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    std::fs::write(
        scratch.join("index.html"),
        "<!doctype html><title>bench</title>",
    )?;
    let pinning = capture(Command::new("taskset").arg("--version")).is_ok();
    if !pinning {
        println!("(taskset not found: processes are not pinned to cores)");
    }
    Ok((release, scratch, pinning))
}

fn chat_runs(
    release: &Path,
    scratch: &Path,
    pinning: bool,
) -> Result<Vec<(&'static str, Vec<Value>)>> {
    let mut configs = vec![
        Config {
            name: "baseline: minimal actix-ws broadcast",
            server: Server::Actix,
        },
        Config {
            name: "peer: bare tokio-tungstenite broadcast",
            server: Server::Tungstenite,
        },
    ];
    match bun() {
        Ok(bun) => configs.push(Config {
            name: "peer: Bun.serve pub/sub (uWebSockets)",
            server: Server::Bun(bun),
        }),
        Err(error) => println!("(Bun is not measured: {error:#})"),
    }
    if let Some(before) = std::env::var_os("CHAT_BENCH_BEFORE") {
        configs.push(Config {
            name: "chat server, before (CHAT_BENCH_BEFORE, batched durable writes)",
            server: Server::Chat {
                binary: before.into(),
                write_batch: 256,
            },
        });
    }
    configs.push(Config {
        name: "chat server (batched durable writes)",
        server: Server::Chat {
            binary: release.join("server"),
            write_batch: 256,
        },
    });
    configs.push(Config {
        name: "chat server (one commit per message)",
        server: Server::Chat {
            binary: release.join("server"),
            write_batch: 1,
        },
    });
    let mut results = Vec::new();
    for (index, config) in configs.iter().enumerate() {
        let runs = repeat(
            config.name,
            |run, addr| match &config.server {
                Server::Actix => spawn_baseline(release, pinning, addr),
                Server::Tungstenite => spawn(
                    pinned(pinning, "1", &release.join("tungstenite-server"))
                        .args(["--addr", addr]),
                ),
                Server::Bun(bun) => {
                    let port = addr.rsplit(':').next().unwrap_or("0");
                    spawn(
                        pinned(pinning, "1", bun)
                            .arg(root().join("bench/bun/server.js"))
                            .arg(port),
                    )
                }
                Server::Chat {
                    binary,
                    write_batch,
                } => {
                    let name = format!("run-{index}-{run}");
                    spawn_chat(binary, scratch, pinning, addr, &name, *write_batch)
                }
            },
            |addr, server_pid| {
                let target = match config.server {
                    Server::Chat { .. } => "chat",
                    _ => "baseline",
                };
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

/// A short run of the load generator (8 clients, one round) against a
/// debug build of the chat server and of each Rust peer, and of the
/// durable writes (10 conversations), history (300 messages), and of the
/// connection storm (40
/// clients, a restart), so the bench tools keep
/// working; `cargo xtask test` runs it. Measures nothing.
/// `cargo xtask bench render`: what one server frame (a message, a typing
/// notice) costs the page's main thread with 600 messages shown, measured in
/// headless Chromium with the client's production build by the browser test
/// that prints it (`render::`; it runs, briefly, in the test command too).
fn render() -> Result<()> {
    crate::prepare_web_tools()?;
    crate::ensure_browser()?;
    crate::build_client()?;
    step("one frame's main-thread time with 600 messages shown (headless Chromium)");
    crate::browser_tests(&["render::"], &["--nocapture"])
}

pub fn smoke() -> Result<()> {
    exec(cargo().args(["build", "--package", "server", "--package", "bench"]))?;
    let debug = root().join("target/debug");
    let scratch = std::env::temp_dir().join(format!("chat-bench-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    std::fs::write(
        scratch.join("index.html"),
        "<!doctype html><title>smoke</title>",
    )?;
    let servers: [(&str, &str); 3] = [
        ("chat", "server"),
        ("baseline", "baseline-server"),
        ("baseline", "tungstenite-server"),
    ];
    let outcome = servers.iter().try_for_each(|(target, binary)| {
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut server = if *binary == "server" {
            spawn_chat(&debug.join("server"), &scratch, false, &addr, "smoke", 256)?
        } else {
            spawn(Command::new(debug.join(binary)).args(["--addr", &addr]))?
        };
        let result = wait_for_port(port).and_then(|()| {
            json_line(
                Command::new(debug.join("loadgen"))
                    .args(["--addr", &addr, "--target", target])
                    .args(["--clients", "8", "--messages", "5", "--rounds", "1"])
                    .args(["--server-pid", &server.id().to_string()]),
            )
        });
        let _ = server.kill();
        let _ = server.wait();
        let result = result.with_context(|| format!("the bench smoke against {binary}"))?;
        anyhow::ensure!(
            result["deliveries_per_sec"]
                .as_f64()
                .is_some_and(|d| d > 0.0),
            "the bench smoke against {binary} delivered nothing: {result}"
        );
        println!("{binary}: {result}");
        Ok(())
    });
    let outcome = outcome.and_then(|()| {
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut server = spawn_chat(&debug.join("server"), &scratch, false, &addr, "writes", 256)?;
        let writegen = debug.join("writegen");
        let chat = wait_for_port(port).and_then(|()| {
            json_line(
                Command::new(&writegen)
                    .args(["--target", "chat", "--addr", &addr, "--pairs", "10"])
                    .args(["--messages", "3", "--sources", "2"]),
            )
        });
        let _ = server.kill();
        let _ = server.wait();
        let raw = json_line(
            Command::new(&writegen)
                .args(["--target", "sqlite", "--pairs", "10", "--messages", "3"])
                .arg(format!("--db={}", scratch.join("raw.db").display())),
        )?;
        let chat = chat?;
        println!("writes: {chat} {raw}");
        anyhow::ensure!(
            chat["messages"] == 60.0 && raw["messages"] == 60,
            "the writes smoke stored the wrong count: {chat} {raw}"
        );
        let (idle, loaded) = history_run(
            &debug,
            &scratch,
            false,
            (300, 40),
            ("10", "50", Duration::from_secs(1)),
        )?;
        println!("history: {idle} {loaded}");
        anyhow::ensure!(
            idle["channel_messages"].as_i64() >= Some(300)
                && idle["searches"] == 40
                && loaded["requests"] == 2000,
            "the history smoke went wrong: {idle} {loaded}"
        );
        let (fresh, reconnect, baseline) = storm_run(&debug, &debug, &scratch, false, 40)?;
        println!("storm: {fresh} {reconnect} {baseline}");
        anyhow::ensure!(
            reconnect["failed"] == 0 && reconnect["with_gaps"] == 0 && reconnect["clients"] == 40,
            "the storm smoke lost clients or messages: {reconnect}"
        );
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&scratch);
    outcome
}

/// Messages in #general for the history benchmark.
const HISTORY_MESSAGES: usize = 1_000_000;
/// Searches over them, after the pages.
const SEARCHES: usize = 800;

/// History pages of 50 from a channel of `messages`, over the socket: idle,
/// then while `writegen` writes (`messages_per_writer` each) into 1,000 DMs.
fn history_run(
    binaries: &Path,
    scratch: &Path,
    pinning: bool,
    (messages, searches): (usize, usize),
    (pairs, messages_per_writer, warmup): (&str, &str, Duration),
) -> Result<(Value, Value)> {
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let mut server = spawn_chat(
        &binaries.join("server"),
        scratch,
        pinning,
        &addr,
        "history",
        256,
    )?;
    let historygen = |seed: usize, searches: usize| {
        json_line(pinned(pinning, "0", &binaries.join("historygen")).args([
            "--addr",
            &addr,
            "--seed",
            &seed.to_string(),
            "--searches",
            &searches.to_string(),
        ]))
    };
    let outcome = wait_for_port(port).and_then(|()| {
        step(&format!(
            "history: {messages} messages into #general, then pages of 50 from anywhere \
             and {searches} searches, idle"
        ));
        let idle = historygen(messages, searches)?;
        println!("{idle}");
        step(&format!(
            "history: the same while {pairs} conversations are being written to"
        ));
        let mut writer = with_fd_limit(pinning, "0", &binaries.join("writegen"))
            .args(["--target", "chat", "--addr", &addr, "--pairs", pairs])
            .args(["--messages", messages_per_writer])
            .stdout(Stdio::null())
            .spawn()
            .context("starting writegen")?;
        // Let the writers get going first.
        std::thread::sleep(warmup);
        let loaded = historygen(0, 0);
        let _ = writer.kill();
        let _ = writer.wait();
        let loaded = loaded?;
        println!("{loaded}");
        Ok((idle, loaded))
    });
    let _ = server.kill();
    let _ = server.wait();
    outcome
}

fn report_history(idle: &Value, loaded: &Value) {
    let number = |value: &Value, key: &str| value[key].as_f64().unwrap_or(f64::NAN);
    println!(
        "\nhistory: pages of 50 from #general with {} messages, {} requests, one run",
        idle["channel_messages"], idle["requests"]
    );
    println!(
        "  idle                 p50 {:>7.2} ms   p99 {:>7.2} ms   (target p99 1 ms)",
        number(idle, "history_p50_ms"),
        number(idle, "history_p99_ms")
    );
    println!(
        "  during durable writes p50 {:>7.2} ms   p99 {:>7.2} ms   (target p99 5 ms)",
        number(loaded, "history_p50_ms"),
        number(loaded, "history_p99_ms")
    );
    println!(
        "search, {} queries (common, rare, phrase, prefix, filters), idle\n  \
         p50 {:>7.2} ms   p99 {:>7.2} ms   (target p99 50 ms)",
        idle["searches"],
        number(idle, "search_p50_ms"),
        number(idle, "search_p99_ms")
    );
}

/// Durable writes into 1,000 two-person conversations: the chat server
/// against raw SQLite inserts in batches of 100 at the same durability.
fn write_runs(
    release: &Path,
    scratch: &Path,
    pinning: bool,
) -> Result<Vec<(&'static str, Vec<Value>)>> {
    let writegen = release.join("writegen");
    let mut raw = Vec::new();
    for run in 0..RUNS {
        step(&format!(
            "baseline: raw SQLite, 100 rows per transaction, WAL, synchronous=FULL — run {}/{RUNS}",
            run + 1
        ));
        let result = json_line(
            pinned(pinning, "1", &writegen)
                .args(["--target", "sqlite", "--pairs", WRITE_PAIRS])
                .args(["--messages", WRITE_MESSAGES])
                .arg(format!("--db={}", scratch.join("raw.db").display())),
        )?;
        println!("{result}");
        raw.push(result);
    }
    let send = |addr: &str, server_pid: u32| {
        json_line(
            with_fd_limit(pinning, "0", &writegen)
                .args(["--target", "chat", "--addr", addr, "--pairs", WRITE_PAIRS])
                .args(["--messages", WRITE_MESSAGES])
                .args(["--server-pid", &server_pid.to_string()]),
        )
    };
    // The same server without its search index: what indexing costs.
    let unindexed = repeat(
        "chat server without the search index (--search-index false)",
        |run, addr| {
            let mut command = pinned(pinning, "1", &release.join("server"));
            chat_args(
                &mut command,
                scratch,
                addr,
                &format!("unindexed-{run}"),
                256,
            );
            spawn(command.args(["--search-index", "false"]))
        },
        send,
    )?;
    let chat = repeat(
        "chat server: 1,000 direct conversations, both people sending",
        |run, addr| {
            spawn_chat(
                &release.join("server"),
                scratch,
                pinning,
                addr,
                &format!("writes-{run}"),
                256,
            )
        },
        send,
    )?;
    Ok(vec![
        ("raw SQLite inserts, batches of 100", raw),
        ("chat server, no search index", unindexed),
        ("chat server, stored and acked", chat),
    ])
}

fn report_writes(results: &[(&str, Vec<Value>)]) {
    println!(
        "\ndurable writes: {WRITE_PAIRS} two-person conversations x 2 people x {WRITE_MESSAGES} \
         messages; medians of {RUNS} runs; ratio = value / raw SQLite's"
    );
    let raw = median(&results[0].1, "stored_per_sec");
    for (name, runs) in results {
        let value = median(runs, "stored_per_sec");
        println!(
            "  {name:<40} {value:>10.0} messages/s   ratio {:.2}   (target 0.5)",
            value / raw
        );
        let p50 = median(runs, "ack_p50_ms");
        if p50.is_finite() {
            println!("  {:<40} {p50:>10.1} ms ack p50", "");
        }
    }
    if let [_, (_, unindexed), (_, indexed)] = results {
        let ratio = median(indexed, "stored_per_sec") / median(unindexed, "stored_per_sec");
        println!("  with the search index / without: {ratio:.2}   (target 0.8)");
    }
}

/// The connection storm against the chat server and the actix baseline:
/// `clients` fresh connections, then (chat) a restart and all of them
/// reconnecting at once. Returns (the chat's fresh and reconnect results,
/// the baseline's fresh result).
fn storm_run(
    servers: &Path,
    tools: &Path,
    scratch: &Path,
    pinning: bool,
    clients: usize,
) -> Result<(Value, Value, Value)> {
    let state = scratch.join("storm-sessions.json");
    let connectgen = |addr: &str, target: &str, phase: &str, pid: u32| {
        json_line(
            with_fd_limit(pinning, "0", &tools.join("connectgen"))
                .args(["--addr", addr, "--target", target, "--phase", phase])
                .args(["--clients", &clients.to_string()])
                .arg(format!("--state={}", state.display()))
                .args(["--server-pid", &pid.to_string()]),
        )
    };
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    step(&format!(
        "connection storm: {clients} clients into the chat server"
    ));
    let start_chat = || {
        let mut command = with_fd_limit(pinning, "1", &servers.join("server"));
        chat_args(&mut command, scratch, &addr, "storm", 256);
        spawn(&mut command)
    };
    let mut server = start_chat()?;
    let fresh = wait_for_port(port).and_then(|()| connectgen(&addr, "chat", "fresh", server.id()));
    let _ = server.kill();
    let _ = server.wait();
    let fresh = fresh?;
    println!("{fresh}");
    step("reconnect storm: the chat server restarts and everyone comes back at once");
    let mut server = start_chat()?;
    let reconnect =
        wait_for_port(port).and_then(|()| connectgen(&addr, "chat", "reconnect", server.id()));
    let _ = server.kill();
    let _ = server.wait();
    let reconnect = reconnect?;
    println!("{reconnect}");
    step(&format!(
        "connection storm: {clients} clients into the actix baseline"
    ));
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let mut server = spawn(
        with_fd_limit(pinning, "1", &servers.join("baseline-server")).args([
            "--addr",
            &addr,
            "--workers",
            "1",
        ]),
    )?;
    let baseline =
        wait_for_port(port).and_then(|()| connectgen(&addr, "baseline", "fresh", server.id()));
    let _ = server.kill();
    let _ = server.wait();
    let baseline = baseline?;
    println!("{baseline}");
    Ok((fresh, reconnect, baseline))
}

fn report_storm((fresh, reconnect, baseline): &(Value, Value, Value)) {
    let number = |value: &Value, key: &str| value[key].as_f64().unwrap_or(f64::NAN);
    let chat_memory = number(fresh, "memory_per_connection_bytes");
    let actix_memory = number(baseline, "memory_per_connection_bytes");
    println!(
        "\nconnection storm, {} clients (sign up, socket, welcome, sync), one run",
        fresh["clients"]
    );
    println!(
        "  all connected in                {:>10.1} s   (target 10 s)",
        number(fresh, "connect_sec")
    );
    println!(
        "  restart, all reconnected in     {:>10.1} s   (target 10 s); failed {}, with gaps {}, dropped {}",
        number(reconnect, "reconnect_sec"),
        reconnect["failed"],
        reconnect["with_gaps"],
        reconnect["dropped"]
    );
    println!(
        "  idle memory per connection      {:>10.0} B   vs actix {:.2} (actix baseline: {:.0} B)",
        chat_memory,
        chat_memory / actix_memory,
        actix_memory
    );
}

/// `program` with the open-file limit raised (thousands of sockets), on `core`.
pub(crate) fn with_fd_limit(pinning: bool, core: &str, program: &Path) -> Command {
    let mut command = pinned(pinning, core, Path::new("sh"));
    command
        .args(["-c", "ulimit -n 19500 && exec \"$@\"", "sh"])
        .arg(program);
    command
}

/// Bun, installed at the version `bench/bun/package.json` pins (with npm,
/// from the npm registry) the first time.
fn bun() -> Result<PathBuf> {
    let folder = root().join("bench/bun");
    let bun = folder.join("node_modules/.bin/bun");
    if !bun.exists() {
        step("installing Bun for the benchmark (npm, once)");
        exec(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--no-save"])
                .current_dir(&folder),
        )
        .context("npm install in bench/bun")?;
    }
    capture(Command::new(&bun).arg("--version")).context("running bun --version")?;
    Ok(bun)
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
pub(crate) fn json_line(command: &mut Command) -> Result<Value> {
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
    let mut command = pinned(pinning, "1", binary);
    chat_args(&mut command, scratch, addr, name, write_batch);
    spawn(&mut command)
}

/// The chat server's flags for a bench run: its data under `scratch`,
/// flood limits lifted.
pub(crate) fn chat_args(
    command: &mut Command,
    scratch: &Path,
    addr: &str,
    name: &str,
    write_batch: usize,
) {
    let db = scratch.join(format!("{name}.db"));
    let url = format!("sqlite://{}", db.display());
    chat_args_on(command, scratch, addr, name, write_batch, &url);
}

/// [`chat_args`] with the database at `database_url`.
pub(crate) fn chat_args_on(
    command: &mut Command,
    scratch: &Path,
    addr: &str,
    name: &str,
    write_batch: usize,
    database_url: &str,
) {
    command
        .args(["--addr", addr, "--workers", "1"])
        .arg(format!("--database-url={database_url}"))
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
        .env("RUST_LOG", "warn");
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
         medians of {RUNS} runs; ratios = value / the actix baseline's value (and / Bun's)"
    );
    let reference = |index: usize| -> Vec<f64> {
        metrics
            .iter()
            .map(|(key, _)| median(&results[index].1, key))
            .collect()
    };
    let baseline = reference(0);
    let bun = results
        .iter()
        .position(|(name, _)| name.contains("Bun"))
        .map(reference);
    for (name, runs) in results {
        println!("\n{name}");
        for (index, (key, label)) in metrics.iter().enumerate() {
            let value = median(runs, key);
            let versus_bun = bun
                .as_ref()
                .map(|bun| format!("   vs Bun {:.2}", value / bun[index]))
                .unwrap_or_default();
            println!(
                "  {label:<30} {value:>14.1}   vs actix {:.2}{versus_bun}",
                value / baseline[index]
            );
        }
    }
}

pub(crate) fn median(runs: &[Value], key: &str) -> f64 {
    let mut values: Vec<f64> = runs.iter().filter_map(|r| r[key].as_f64()).collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

pub(crate) fn pinned(pinning: bool, core: &str, program: &Path) -> Command {
    if pinning {
        let mut command = Command::new("taskset");
        command.args(["-c", core]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

pub(crate) fn spawn(command: &mut Command) -> Result<Child> {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting a server")
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(crate) fn wait_for_port(port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("the server did not listen on port {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

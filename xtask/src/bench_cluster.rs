//! `cargo xtask bench cluster`: durable writes into 1,000 two-person
//! conversations (`writegen`), on one node with SQLite, one node with
//! PostgreSQL, and two nodes on PostgreSQL with the two people of every
//! conversation on different nodes (so every message crosses between
//! nodes), with each bus: PostgreSQL's `NOTIFY` and NATS. The server processes share one core (`taskset`) in every
//! configuration and the load generator has the other; PostgreSQL (with
//! `fsync` on) is not pinned. Each run also measures at rest (20
//! conversations, one message in flight per person): how long a message
//! takes to reach the other person. On two cores this measures what a
//! message costs and how long it takes to reach the other node, not
//! capacity.

use std::path::Path;
use std::process::Child;

use anyhow::Result;
use serde_json::Value;

use crate::bench::{
    RUNS, WRITE_MESSAGES, WRITE_PAIRS, chat_args, chat_args_on, free_port, json_line, median,
    pinned, spawn, wait_for_port, with_fd_limit,
};
use crate::postgres::TestPostgres;
use crate::step;

/// Where the nodes of one configuration keep their data.
enum Database {
    Sqlite,
    Postgres,
}

struct Config {
    name: &'static str,
    database: Database,
    nodes: usize,
    /// The nodes' bus: NATS, or PostgreSQL's `NOTIFY`.
    nats: bool,
}

pub fn run() -> Result<()> {
    let (release, scratch, pinning) = crate::bench::prepare("chat-bench-cluster")?;
    step("starting a PostgreSQL cluster on loopback with fsync on");
    let postgres = TestPostgres::start_durable()?;
    step("starting a NATS server on loopback");
    let nats = crate::nats::TestNats::start()?;
    let configs = [
        Config {
            name: "one node, SQLite",
            database: Database::Sqlite,
            nodes: 1,
            nats: false,
        },
        Config {
            name: "one node, PostgreSQL",
            database: Database::Postgres,
            nodes: 1,
            nats: false,
        },
        Config {
            name: "two nodes, PostgreSQL, NOTIFY",
            database: Database::Postgres,
            nodes: 2,
            nats: false,
        },
        Config {
            name: "two nodes, PostgreSQL, NATS",
            database: Database::Postgres,
            nodes: 2,
            nats: true,
        },
    ];
    let mut results = Vec::new();
    for config in &configs {
        let mut runs = Vec::new();
        for run in 0..RUNS {
            step(&format!("{} — run {}/{RUNS}", config.name, run + 1));
            let nats = config.nats.then_some(nats.url.as_str());
            let result = one_run(&release, &scratch, pinning, &postgres, nats, config, run)?;
            println!("{result}");
            runs.push(result);
        }
        results.push((config.name, runs));
    }
    report(&results);
    drop(postgres);
    drop(nats);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

fn one_run(
    release: &Path,
    scratch: &Path,
    pinning: bool,
    postgres: &TestPostgres,
    nats: Option<&str>,
    config: &Config,
    run: usize,
) -> Result<Value> {
    let database = match config.database {
        Database::Sqlite => None,
        Database::Postgres => Some(postgres.create_database(&format!(
            "bench_{}_{}_{}_{run}",
            config.nodes,
            u8::from(config.nats),
            std::process::id()
        ))?),
    };
    let mut nodes: Vec<Child> = Vec::new();
    let mut addrs = Vec::new();
    for node in 0..config.nodes {
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let name = format!(
            "cluster-{}-{}-{run}-{node}",
            config.nodes,
            u8::from(config.nats)
        );
        let mut command = pinned(pinning, "1", &release.join("server"));
        match &database {
            Some(url) => {
                chat_args_on(&mut command, scratch, &addr, &name, 256, url);
                command.arg(format!("--node-id=node{node}"));
                if let Some(nats) = nats {
                    command.arg(format!("--nats-url={nats}"));
                    command.arg(format!("--nats-prefix=bench-{run}"));
                }
            }
            None => chat_args(&mut command, scratch, &addr, &name, 256),
        }
        nodes.push(spawn(&mut command)?);
        wait_for_port(port)?;
        addrs.push(addr);
    }
    let pids: Vec<String> = nodes.iter().map(|n| n.id().to_string()).collect();
    let writegen = |pairs: &str, messages: &str, window: &str| {
        json_line(
            with_fd_limit(pinning, "0", &release.join("writegen"))
                .args(["--target", "chat", "--pairs", pairs])
                .args(["--messages", messages, "--window", window])
                .arg(format!("--addr={}", addrs.join(",")))
                .arg(format!("--server-pid={}", pids.join(","))),
        )
    };
    // As fast as the server takes them, then at rest: 20 conversations,
    // one message in flight per person, for the time a message takes.
    let outcome = writegen(WRITE_PAIRS, WRITE_MESSAGES, "5").and_then(|mut busy| {
        let rest = writegen("20", "50", "1")?;
        for key in ["ack_p50_ms", "delivery_p50_ms", "delivery_p99_ms"] {
            busy[format!("rest_{key}")] = rest[key].clone();
        }
        Ok(busy)
    });
    for mut node in nodes {
        let _ = node.kill();
        let _ = node.wait();
    }
    outcome
}

fn report(results: &[(&str, Vec<Value>)]) {
    println!(
        "\ncluster: {WRITE_PAIRS} two-person conversations x 2 people x {WRITE_MESSAGES} \
         messages, durable; medians of {RUNS} runs; the server processes share one core; \
         ratios against one node on PostgreSQL"
    );
    let base = median(&results[1].1, "stored_per_sec");
    let base_cpu = median(&results[1].1, "stored_per_server_cpu_sec");
    for (name, runs) in results {
        let stored = median(runs, "stored_per_sec");
        let per_cpu = median(runs, "stored_per_server_cpu_sec");
        println!(
            "  {name:<30} {stored:>8.0} messages/s (ratio {:.2})  {per_cpu:>8.0} per server CPU-s \
             (ratio {:.2})  ack p50 {:.1} ms  delivery p50 {:.1} ms, p99 {:.1} ms",
            stored / base,
            per_cpu / base_cpu,
            median(runs, "ack_p50_ms"),
            median(runs, "delivery_p50_ms"),
            median(runs, "delivery_p99_ms"),
        );
        println!(
            "  {:<30} at rest (one message in flight each): ack p50 {:.2} ms  delivery p50 \
             {:.2} ms, p99 {:.2} ms",
            "",
            median(runs, "rest_ack_p50_ms"),
            median(runs, "rest_delivery_p50_ms"),
            median(runs, "rest_delivery_p99_ms"),
        );
    }
}

//! Project automation, so a fresh machine needs nothing but the Rust toolchain:
//!
//! - `cargo xtask run [-- SERVER ARGS]`: install the pinned web tools if missing,
//!   build the client in release mode, start the server on http://127.0.0.1:8080.
//! - `cargo xtask test`: install what is missing (Chromium, ChromeDriver and
//!   PostgreSQL via apt when root), build the client, then run formatting and
//!   lint checks, every test of the workspace (with a throwaway PostgreSQL
//!   cluster on loopback for the store's conformance tests), the client's
//!   tests and the browser tests.
//! - `cargo xtask build-client`: only build `client/dist`.
//! - `cargo xtask bench [chat|writes|history|storm|uploads|render|cluster|smoke]`:
//!   throughput, server CPU, latency, durable writes, history reads,
//!   connection storms and memory of the chat server against peers doing the
//!   bare minimum, measured in the same run (see `bench/`), and what a frame
//!   costs the browser (`render`).
//! - `cargo xtask chaos [KILLS]`: the chaos test with many SIGKILLs (default 50).
//! - `cargo xtask fuzz [SECONDS]`: every fuzz target for a while (nightly).

mod bench;
mod bench_cluster;
mod nats;
mod postgres;
mod robustness;
mod s3;
mod service;
mod web_build;

use web_build::{build_client, prepare_web_tools};

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let started = Instant::now();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(),
        Some("build-client") => prepare_web_tools().and_then(|()| build_client()),
        Some("bench") => bench::run(args.get(1).map(String::as_str)),
        Some("chaos") => robustness::chaos(args.get(1).map(String::as_str)),
        Some("fuzz") => robustness::fuzz(args.get(1).map(String::as_str)),
        _ => {
            eprintln!(
                "usage: cargo xtask run [-- server flags] | test | build-client | \
                 bench [chat|writes|history|storm|uploads|render|smoke] | chaos [KILLS] | fuzz [SECONDS]"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => {
            step(&format!("done in {:.0?}", started.elapsed()));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("\nxtask failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(server_args: &[String]) -> Result<()> {
    prepare_web_tools()?;
    build_client()?;
    std::fs::create_dir_all(root().join("data")).context("creating ./data")?;
    step("building and starting the server (release) on http://127.0.0.1:8080, Ctrl-C stops it");
    let server_args: Vec<&str> = server_args
        .iter()
        .map(String::as_str)
        .skip_while(|a| *a == "--")
        .collect();
    let mut command = cargo();
    command.args(["run", "--release", "--package", "server", "--"]);
    command.args(server_args);
    exec(&mut command)
}

fn test() -> Result<()> {
    prepare_web_tools()?;
    ensure_browser()?;
    build_client()?;
    step("checking formatting");
    exec(cargo().args(["fmt", "--all", "--check"]))?;
    step("linting the server side (clippy, warnings are errors)");
    exec(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    step("linting the client for wasm32");
    exec(cargo().args([
        "clippy",
        "--package",
        "client",
        "--target",
        web_build::WASM_TARGET,
        "--",
        "-D",
        "warnings",
    ]))?;
    step(
        "testing the protocol, the server (with a short chaos run), the client's state logic \
         and the tooling",
    );
    step("starting a throwaway PostgreSQL cluster on loopback for the PostgreSQL tests");
    let postgres = postgres::TestPostgres::start()?;
    postgres::ensure_haproxy()?;
    step("starting an S3-compatible server (moto) on loopback for the bucket tests");
    let s3 = s3::TestS3::start()?;
    exec(
        cargo()
            .args(["test", "--workspace", "--exclude", "browser-tests"])
            .env(postgres::URL_VARIABLE, &postgres.url)
            .env(s3::URL_VARIABLE, &s3.url),
    )?;
    step("the server's file tests again, with the files in a bucket (each test its own)");
    exec(
        cargo()
            .args(["test", "--package", "server", "--test", "api", "--"])
            .args(["uploads::", "previews::", "hostile_http::"])
            .env(s3::URL_VARIABLE, &s3.url)
            .env(s3::FILES_IN_BUCKET, "1"),
    )?;
    step("the server's API tests again, on PostgreSQL (each test on a database of its own)");
    exec(
        cargo()
            .args(["test", "--package", "server", "--test", "api"])
            .env(postgres::URL_VARIABLE, &postgres.url)
            .env(postgres::API_ON_POSTGRES, "1"),
    )?;
    step("the two-node cluster suite again, with NATS as the bus (nats-server on loopback)");
    let nats = nats::TestNats::start()?;
    exec(
        cargo()
            .args(["test", "--package", "server", "--test", "cluster"])
            .env(postgres::URL_VARIABLE, &postgres.url)
            .env(nats::URL_VARIABLE, &nats.url)
            .env(s3::URL_VARIABLE, &s3.url),
    )?;
    drop(nats);
    drop(s3);
    step("a smoke run of the bench tool (8 clients, one round; `cargo xtask bench` measures)");
    bench::smoke()?;
    if robustness::fuzzing_available() {
        step("a short fuzzing run of every target (`cargo xtask fuzz` runs longer)");
        robustness::run_fuzz_targets(robustness::FUZZ_SMOKE_SECONDS)?;
    } else {
        step("skipping the fuzz smoke run: no nightly toolchain with cargo-fuzz here");
    }
    step("browser tests: real server, built client, headless Chromium");
    // Only the browser test target: its summary is the run's closing line.
    // (One of them runs two nodes on the PostgreSQL cluster.)
    let outcome = browser_tests_with(&[], &[], &[(postgres::URL_VARIABLE, &postgres.url)]);
    drop(postgres);
    outcome
}

/// Chromium and ChromeDriver for the browser tests: apt when root, else a clear message.
fn ensure_browser() -> Result<()> {
    let chromium = capture(Command::new("chromium").arg("--version")).is_ok();
    let driver = capture(Command::new("chromedriver").arg("--version")).is_ok();
    if chromium && driver {
        return Ok(());
    }
    let root = capture(Command::new("id").arg("-u"))
        .map(|uid| uid.trim() == "0")
        .unwrap_or(false);
    if !root {
        bail!(
            "the browser tests need Chromium and ChromeDriver. Install them, e.g. on Debian/Ubuntu:\n    \
             sudo apt-get install -y chromium chromium-driver\nthen run `cargo xtask test` again."
        );
    }
    step("installing Chromium and ChromeDriver with apt-get (about a minute)");
    exec(Command::new("apt-get").arg("update"))?;
    exec(
        Command::new("apt-get")
            .args([
                "install",
                "-y",
                "--no-install-recommends",
                "chromium",
                "chromium-driver",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// The browser tests (only those matching `filters`, when given; with the
/// test harness's `flags`), one at a time: they share one Chromium.
pub(crate) fn browser_tests(filters: &[&str], flags: &[&str]) -> Result<()> {
    browser_tests_with(filters, flags, &[])
}

/// The browser tests with these environment variables set.
fn browser_tests_with(filters: &[&str], flags: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let mut command = cargo();
    command
        .args(["test", "--package", "browser-tests", "--test", "browser"])
        .args(filters)
        .arg("--")
        .args(flags)
        .arg("--test-threads=1");
    for (name, value) in env {
        command.env(name, value);
    }
    exec(&mut command)
}

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

pub(crate) fn cargo() -> Command {
    let mut command = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

/// Runs a command with `~/.cargo/bin` on PATH, streaming its output; fails on a non-zero exit.
pub(crate) fn exec(command: &mut Command) -> Result<()> {
    with_cargo_bin_on_path(command);
    let shown = format!("{command:?}");
    let status = command
        .status()
        .with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// Runs a command and returns its standard output, or an error if it cannot run or fails.
pub(crate) fn capture(command: &mut Command) -> Result<String> {
    with_cargo_bin_on_path(command);
    let output = command.output()?;
    if !output.status.success() {
        bail!("exit status {}", output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn with_cargo_bin_on_path(command: &mut Command) {
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    if let Some(bin) = cargo_home.map(|home| home.join("bin")) {
        let mut paths: Vec<PathBuf> = vec![bin];
        // A PATH set on the command itself wins over the inherited one.
        let own = command
            .get_envs()
            .find(|(key, _)| *key == "PATH")
            .and_then(|(_, value)| value.map(ToOwned::to_owned));
        if let Some(path) = own.or_else(|| env::var_os("PATH")) {
            paths.extend(env::split_paths(&path));
        }
        if let Ok(joined) = env::join_paths(paths) {
            command.env("PATH", joined);
        }
    }
}

pub(crate) fn step(message: &str) {
    println!("\n==> {message}");
}

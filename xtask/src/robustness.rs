//! Long robustness runs, each also run briefly by `cargo xtask test`:
//! `chaos` kills the server binary at random moments under load (the
//! `chaos` tests with more kills: one node on SQLite, and two nodes on a
//! throwaway PostgreSQL behind HAProxy), `fuzz` runs the cargo-fuzz targets
//! in `fuzz/` (nightly only) for a while each.

use std::process::Command;

use anyhow::{Result, bail};

use crate::{capture, cargo, exec, root, step};

/// Kills in `cargo xtask chaos` unless given.
const CHAOS_KILLS: u32 = 50;
/// Seconds per fuzz target in `cargo xtask fuzz` unless given.
const FUZZ_SECONDS: u32 = 300;
/// Seconds per fuzz target in the test command's smoke run.
pub const FUZZ_SMOKE_SECONDS: u32 = 10;
const FUZZ_TARGETS: &[&str] = &["client_msg", "page", "media", "markdown"];

/// `cargo xtask chaos [KILLS]`.
pub fn chaos(kills: Option<&str>) -> Result<()> {
    let kills = kills.map_or(Ok(CHAOS_KILLS), str::parse)?;
    step(&format!(
        "chaos: {kills} SIGKILLs and a SIGTERM under load, then every message checked"
    ));
    let postgres = crate::postgres::TestPostgres::start()?;
    crate::postgres::ensure_haproxy()?;
    exec(
        cargo()
            .args([
                "test",
                "--release",
                "--package",
                "server",
                "--test",
                "chaos",
                "--",
                "--nocapture",
            ])
            .env("CHAT_CHAOS_KILLS", kills.to_string())
            .env(crate::postgres::URL_VARIABLE, &postgres.url),
    )
}

/// Whether `cargo +nightly fuzz` can run here.
pub fn fuzzing_available() -> bool {
    capture(Command::new("cargo").args(["+nightly", "fuzz", "--version"])).is_ok()
}

/// `cargo xtask fuzz [SECONDS]`: every target for SECONDS (default 300).
pub fn fuzz(seconds: Option<&str>) -> Result<()> {
    let seconds = seconds.map_or(Ok(FUZZ_SECONDS), str::parse)?;
    if !fuzzing_available() {
        bail!(
            "fuzzing needs a nightly toolchain and cargo-fuzz:\n    \
             rustup toolchain install nightly --profile minimal\n    cargo install cargo-fuzz"
        );
    }
    run_fuzz_targets(seconds)
}

/// Runs each target for `seconds`; a crash fails (its input is kept in
/// `fuzz/artifacts/`, to become a regression test).
pub fn run_fuzz_targets(seconds: u32) -> Result<()> {
    for target in FUZZ_TARGETS {
        step(&format!("fuzzing {target} for {seconds} s"));
        exec(
            Command::new("cargo")
                .args(["+nightly", "fuzz", "run", target, "--"])
                .arg(format!("-max_total_time={seconds}"))
                .arg("-rss_limit_mb=2048")
                .current_dir(root().join("fuzz")),
        )?;
    }
    Ok(())
}

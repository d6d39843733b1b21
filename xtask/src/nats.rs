//! A throwaway NATS server for the tests: `nats-server` (Debian's package,
//! installed when missing) on a free loopback port, with nothing kept on
//! disk, stopped when the guard goes. The cluster suite's second run finds
//! it through `CHAT_TEST_NATS_URL`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::capture;
use crate::service::Service;

/// Where the tests look for the NATS server.
pub const URL_VARIABLE: &str = "CHAT_TEST_NATS_URL";

/// A running NATS server; killed on drop.
pub struct TestNats {
    _server: Service,
    pub url: String,
}

impl TestNats {
    pub fn start() -> Result<Self> {
        let binary = match find_binary() {
            Some(binary) => binary,
            None => {
                crate::postgres::install_package(
                    "nats-server",
                    "the cluster tests run their two-node suite on NATS too",
                )?;
                find_binary().context("nats-server was installed but is not found")?
            }
        };
        let port = crate::bench::free_port()?;
        let server = Service::start(
            Command::new(binary).args(["--addr", "127.0.0.1", "--port", &port.to_string()]),
            port,
            "nats-server",
        )?;
        Ok(Self {
            _server: server,
            url: format!("nats://127.0.0.1:{port}"),
        })
    }
}

fn find_binary() -> Option<PathBuf> {
    capture(Command::new("sh").args(["-c", "command -v nats-server"]))
        .ok()
        .map(|path| PathBuf::from(path.trim()))
        .filter(|path| !path.as_os_str().is_empty())
        .or_else(|| {
            let sbin = PathBuf::from("/usr/sbin/nats-server");
            sbin.exists().then_some(sbin)
        })
}

//! A throwaway NATS server for the tests: `nats-server` (Debian's package,
//! installed when missing) on a free loopback port, with nothing kept on
//! disk, stopped when the guard goes. The cluster suite's second run finds
//! it through `CHAT_TEST_NATS_URL`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result};

use crate::capture;

/// Where the tests look for the NATS server.
pub const URL_VARIABLE: &str = "CHAT_TEST_NATS_URL";

/// A running NATS server; killed on drop.
pub struct TestNats {
    child: Child,
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
        let child = Command::new(binary)
            .args(["--addr", "127.0.0.1", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nats-server")?;
        let nats = Self {
            child,
            url: format!("nats://127.0.0.1:{port}"),
        };
        crate::bench::wait_for_port(port)?;
        Ok(nats)
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

//! A program the tests need (a NATS server, an S3-compatible server),
//! run on a loopback port and killed when the guard goes.

use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result};

/// A running program; killed on drop.
pub struct Service {
    child: Child,
}

impl Service {
    /// Starts `command` (its output discarded) and waits until it listens
    /// on `port` of 127.0.0.1.
    pub fn start(command: &mut Command, port: u16, what: &str) -> Result<Self> {
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {what}"))?;
        let service = Self { child };
        crate::bench::wait_for_port(port)?;
        Ok(service)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

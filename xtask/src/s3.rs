//! A throwaway S3-compatible server for the tests: moto's server (from
//! PyPI, installed with pip when missing) on a free loopback port, keeping
//! everything in memory, stopped when the guard goes. The tests find it
//! through `CHAT_TEST_S3_URL` and make a bucket of their own in it.

use std::process::Command;

use anyhow::Result;

use crate::service::Service;
use crate::{capture, exec, step};

/// Where the tests look for the S3-compatible server.
pub const URL_VARIABLE: &str = "CHAT_TEST_S3_URL";
/// Set to keep the API tests' files in buckets instead of folders.
pub const FILES_IN_BUCKET: &str = "CHAT_TEST_API_FILES_IN_BUCKET";

/// A running server; killed on drop.
pub struct TestS3 {
    _server: Service,
    pub url: String,
}

impl TestS3 {
    pub fn start() -> Result<Self> {
        if capture(Command::new("python3").args(["-c", "import moto.server"])).is_err() {
            step("installing moto's S3-compatible server with pip (the bucket tests)");
            exec(Command::new("python3").args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "moto[server]",
            ]))?;
        }
        let port = crate::bench::free_port()?;
        let server = Service::start(
            Command::new("python3").args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ]),
            port,
            "moto's server",
        )?;
        Ok(Self {
            _server: server,
            url: format!("http://127.0.0.1:{port}"),
        })
    }
}

//! A throwaway PostgreSQL cluster for the tests: `initdb` into a temporary
//! folder, `pg_ctl start` on a free loopback port (its socket in the same
//! folder, so runs never collide), stopped and removed when the guard goes.
//! The server's PostgreSQL tests find it through `CHAT_TEST_POSTGRES_URL`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{capture, exec, step};

/// Where the tests look for the cluster.
pub const URL_VARIABLE: &str = "CHAT_TEST_POSTGRES_URL";
/// Set to run the server's API tests against PostgreSQL instead of SQLite.
pub const API_ON_POSTGRES: &str = "CHAT_TEST_API_ON_POSTGRES";

/// A running cluster; stopped and deleted on drop.
pub struct TestPostgres {
    bin: PathBuf,
    folder: PathBuf,
    pub url: String,
}

impl TestPostgres {
    /// Installs PostgreSQL if it is missing (as root, from Debian's
    /// packages), then starts a private cluster that does not sync to disk
    /// (tests: fast, and nothing in it needs to survive a crash).
    pub fn start() -> Result<Self> {
        Self::start_with(false)
    }

    /// The same, with PostgreSQL's defaults for durability (`fsync` on):
    /// what benchmarks measure against.
    pub fn start_durable() -> Result<Self> {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> Result<Self> {
        let bin = match find_binaries() {
            Some(bin) => bin,
            None => {
                install()?;
                find_binaries().context("PostgreSQL was installed but initdb is not found")?
            }
        };
        let folder =
            std::env::temp_dir().join(format!("chat-test-postgres-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder)?;
        let root = is_root();
        if root {
            // PostgreSQL refuses to run as root: the cluster belongs to `postgres`.
            exec(
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(&folder),
            )?;
        }
        let port = crate::bench::free_port()?;
        let cluster = Self {
            bin,
            folder,
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        };
        let data = cluster.folder.join("data");
        cluster.run(
            root,
            Command::new(cluster.bin.join("initdb"))
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
                .arg(&data),
        )?;
        let fsync = if durable { "on" } else { "off" };
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync={fsync} -c max_connections=200",
            cluster.folder.display()
        );
        cluster.run(
            root,
            Command::new(cluster.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.folder.join("log"))
                .args(["-o", &options, "-w", "start"]),
        )?;
        Ok(cluster)
    }

    /// Creates an empty database; its URL.
    pub fn create_database(&self, name: &str) -> Result<String> {
        exec(
            Command::new(self.bin.join("psql"))
                .args(["--quiet", "-d", &self.url, "-c"])
                .arg(format!("CREATE DATABASE {name}")),
        )?;
        let (server, _) = self.url.rsplit_once('/').context("a URL with a database")?;
        Ok(format!("{server}/{name}"))
    }

    /// Runs a PostgreSQL tool, as `postgres` when we are root.
    fn run(&self, root: bool, command: &mut Command) -> Result<()> {
        if root {
            let mut line = vec![command.get_program().to_string_lossy().into_owned()];
            line.extend(
                command
                    .get_args()
                    .map(|arg| arg.to_string_lossy().into_owned()),
            );
            exec(
                Command::new("runuser")
                    .args(["-u", "postgres", "--"])
                    .args(line),
            )
        } else {
            exec(command)
        }
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let data = self.folder.join("data");
        let _ = self.run(
            is_root(),
            Command::new(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"]),
        );
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

fn is_root() -> bool {
    capture(Command::new("id").arg("-u"))
        .map(|uid| uid.trim() == "0")
        .unwrap_or(false)
}

/// The newest `/usr/lib/postgresql/N/bin` with `initdb`, or `initdb` on the PATH.
fn find_binaries() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().or_else(|| {
        capture(Command::new("sh").args(["-c", "command -v initdb"]))
            .ok()
            .and_then(|path| Path::new(path.trim()).parent().map(Path::to_path_buf))
    })
}

fn install() -> Result<()> {
    install_package(
        "postgresql",
        "the PostgreSQL tests need PostgreSQL 15 or newer",
    )
}

/// HAProxy for the cluster chaos test (two nodes behind it): installed from
/// Debian's packages when missing.
pub fn ensure_haproxy() -> Result<()> {
    if capture(Command::new("sh").args(["-c", "command -v haproxy || test -x /usr/sbin/haproxy"]))
        .is_ok()
    {
        return Ok(());
    }
    install_package(
        "haproxy",
        "the cluster chaos test puts HAProxy in front of two nodes",
    )
}

/// Installs a Debian package when root; otherwise says how.
pub(crate) fn install_package(package: &str, why: &str) -> Result<()> {
    if !is_root() {
        bail!(
            "{why}. Install it, e.g. on Debian/Ubuntu:\n    \
             sudo apt-get install -y {package}\nthen run `cargo xtask test` again."
        );
    }
    step(&format!("installing {package} with apt-get"));
    exec(Command::new("apt-get").arg("update"))?;
    exec(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

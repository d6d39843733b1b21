//! The NATS server that `cargo xtask test` starts on loopback for the
//! cluster suite's second run (`CHAT_TEST_NATS_URL`), and a link to it
//! that a test can cut, as a network would.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// Where the tests find the NATS server; unset: the PostgreSQL bus.
pub const NATS_URL: &str = "CHAT_TEST_NATS_URL";

/// The NATS server's URL, when the tests run on NATS.
pub fn nats_url() -> Option<String> {
    std::env::var(NATS_URL).ok().filter(|url| !url.is_empty())
}

/// A TCP relay on loopback to the NATS server: nodes connect through it,
/// and [`Link::cut`] drops every connection through it at once (new ones
/// are relayed again).
pub struct Link {
    pub url: String,
    open: Arc<Mutex<Vec<AbortHandle>>>,
    /// While set, connections are closed as they come (NATS is "down").
    refusing: Arc<AtomicBool>,
    accepting: JoinHandle<()>,
}

impl Link {
    pub async fn to(nats_url: &str) -> Self {
        let upstream = nats_url
            .trim_start_matches("nats://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("nats://{}", listener.local_addr().unwrap());
        let open: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let refusing = Arc::new(AtomicBool::new(false));
        let accepting = tokio::spawn({
            let open = open.clone();
            let refusing = refusing.clone();
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if refusing.load(Ordering::Relaxed) {
                        continue;
                    }
                    let upstream = upstream.clone();
                    let relay = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    open.lock().unwrap().push(relay.abort_handle());
                }
            }
        });
        Self {
            url,
            open,
            refusing,
            accepting,
        }
    }

    /// Cuts the link and refuses new connections until [`Link::restore`].
    pub fn down(&self) {
        self.refusing.store(true, Ordering::Relaxed);
        self.cut();
    }

    pub fn restore(&self) {
        self.refusing.store(false, Ordering::Relaxed);
    }

    /// Drops every connection made through the link so far.
    pub fn cut(&self) {
        for relay in self.open.lock().unwrap().drain(..) {
            relay.abort();
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.cut();
        self.accepting.abort();
    }
}

//! Building and running the application: bind, start the hub and the message
//! writer, serve HTTP, and shut down in order (stop accepting, close sockets,
//! commit queued messages, close the database).

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::{ServerHandle, Service};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Compress;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::OriginPolicy;
use crate::connection::ConnectionContext;
use crate::hub::HubHandle;
use crate::media::janitor;
use crate::media::storage::FileStore;
use crate::preview::Previews;
use crate::preview::fetch::Fetcher;
use crate::routes::{self, AppState};
use crate::settings::Settings;
use crate::store::Store;
use crate::store::writer::MessageWriter;
use crate::throttle::KeyedLimiter;

/// Wrong passwords allowed per name, and per address, in each window.
const SIGN_IN_FAILURES_PER_NAME: u32 = 5;
const SIGN_IN_FAILURES_PER_ADDRESS: u32 = 30;
const SIGN_IN_FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Files one user may upload per minute.
const UPLOADS_PER_MINUTE: u32 = 60;

/// Messages waiting for the writer before connections have to wait.
const WRITER_QUEUE: usize = 16_384;

/// A bound, ready-to-run server.
pub struct Application {
    local_addr: SocketAddr,
    server: actix_web::dev::Server,
    store: Store,
    hub: HubHandle,
    hub_task: JoinHandle<()>,
    writer: MessageWriter,
    writer_task: JoinHandle<()>,
    janitor_task: JoinHandle<()>,
}

impl Application {
    /// Opens the database, starts the hub and writer, and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let index = settings.static_dir.join("index.html");
        anyhow::ensure!(
            index.is_file(),
            "the web client is not built: {} is missing. Build it with `cargo xtask run` \
             (or `trunk build --release` in client/), or point --static-dir at a built client.",
            index.display()
        );
        let store = Store::open(&settings.database_url)
            .await
            .with_context(|| format!("opening the database {}", settings.database_url))?;
        let files = FileStore::open(&settings.files_dir).with_context(|| {
            format!("opening the files folder {}", settings.files_dir.display())
        })?;
        let janitor_task = janitor::start(store.clone(), files.clone());
        let (hub, hub_task) = HubHandle::start();
        let previews = if settings.link_previews {
            let fetcher = Fetcher::new(
                settings.preview_allowed_addresses.clone(),
                settings.preview_resolve.clone(),
            )
            .context("building the link preview client")?;
            Some(Previews::start(store.clone(), hub.clone(), files.clone(), fetcher).0)
        } else {
            None
        };
        let (writer, writer_task) = MessageWriter::start(
            store.clone(),
            hub.clone(),
            previews.clone(),
            WRITER_QUEUE,
            settings.write_batch,
        );
        let state = web::Data::new(AppState {
            connections: ConnectionContext {
                store: store.clone(),
                hub: hub.clone(),
                writer: writer.clone(),
                max_upload_bytes: settings.max_upload_bytes,
                previews,
                outbound_queue: settings.outbound_queue,
                message_burst: settings.message_burst,
                messages_per_second: settings.messages_per_second,
            },
            signups: KeyedLimiter::new(settings.signups_per_minute, Duration::from_secs(60)),
            sign_in_failures_by_name: KeyedLimiter::new(
                SIGN_IN_FAILURES_PER_NAME,
                SIGN_IN_FAILURE_WINDOW,
            ),
            sign_in_failures_by_address: KeyedLimiter::new(
                SIGN_IN_FAILURES_PER_ADDRESS,
                SIGN_IN_FAILURE_WINDOW,
            ),
            origins: OriginPolicy::new(&settings.allowed_origins),
            files,
            uploads: KeyedLimiter::new(UPLOADS_PER_MINUTE, Duration::from_secs(60)),
        });

        let index_html = std::fs::read_to_string(&index)
            .with_context(|| format!("reading {}", index.display()))?;
        let csp = HeaderValue::from_str(&routes::assets::content_security_policy(&index_html))
            .context("building the Content-Security-Policy header")?;

        let listener = TcpListener::bind(&settings.addr)
            .with_context(|| format!("binding {}", settings.addr))?;
        let local_addr = listener.local_addr()?;
        let static_dir = settings.static_dir.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::JsonConfig::default().limit(16 * 1024))
                .wrap(Compress::default())
                .wrap_fn({
                    let csp = csp.clone();
                    move |request, service| {
                        let path = request.path().to_owned();
                        let response = service.call(request);
                        let csp = csp.clone();
                        async move {
                            let mut response = response.await?;
                            let headers = response.response_mut().headers_mut();
                            // Served files bring their own, stricter policy.
                            if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
                                headers.insert(header::CONTENT_SECURITY_POLICY, csp);
                            }
                            add_headers(&path, headers);
                            Ok(response)
                        }
                    }
                })
                .configure(|config| routes::configure(config, static_dir.clone()))
        })
        .on_connect(|connection, _extensions| {
            // Nagle's algorithm plus delayed ACKs stall small broadcast frames by
            // tens of milliseconds; chat frames should leave at once.
            if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
                let _ = tcp.set_nodelay(true);
            }
        })
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout);
        if let Some(workers) = settings.workers {
            server = server.workers(workers.max(1));
        }
        let server = server.listen(listener)?.run();
        Ok(Self {
            local_addr,
            server,
            store,
            hub,
            hub_task,
            writer,
            writer_task,
            janitor_task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// Serves until `shutdown` completes (or the server fails), then shuts down in order.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let handle: ServerHandle = self.server.handle();
        let mut server = tokio::spawn(self.server);
        let result = tokio::select! {
            result = &mut server => result.map_err(anyhow::Error::from).and_then(|r| r.map_err(Into::into)),
            () = shutdown => {
                tracing::info!("shutting down: closing connections");
                handle.pause().await;
                self.hub.shutdown().await;
                handle.stop(true).await;
                let _ = server.await;
                Ok(())
            }
        };
        tracing::info!("storing queued messages");
        self.writer.stop();
        if tokio::time::timeout(Duration::from_secs(30), self.writer_task)
            .await
            .is_err()
        {
            tracing::error!("the message writer did not finish in 30 s");
        }
        self.hub_task.abort();
        self.janitor_task.abort();
        self.store.close().await;
        tracing::info!("stopped");
        result
    }
}

/// A server running in the background (tests, embedding). `stop` shuts it
/// down the way SIGTERM does and waits; dropping it asks it to stop.
pub struct RunningApp {
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Application {
    /// Runs the application on a background task until `RunningApp::stop`.
    pub fn spawn(self) -> RunningApp {
        let local_addr = self.local_addr;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(self.run_until_stopped(async {
            let _ = stopped.await;
        }));
        RunningApp {
            local_addr,
            shutdown: Some(shutdown),
            task,
        }
    }
}

impl RunningApp {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Shuts down in order and waits until the server has stopped.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        (&mut self.task).await?
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Security headers everywhere; caching rules for the web app's files.
fn add_headers(path: &str, headers: &mut header::HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if path.starts_with("/api") || path == "/ws" || path == "/healthz" {
        // Answers are never cached, except served files, which say so themselves.
        if !headers.contains_key(header::CACHE_CONTROL) || !path.starts_with("/api/") {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    } else if is_content_hashed(path) {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    } else if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
}

/// trunk names built files `name-<hash>.ext` (or `name-<hash>_bg.wasm`), the
/// hash being a 64-bit number in hex without leading zeros.
fn is_content_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or("");
    let stem = file.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    match stem.rsplit_once('-') {
        Some((_, hash)) => {
            (8..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn recognises_trunk_output_names() {
        assert!(is_content_hashed("/client-594ad605222913f4.js"));
        assert!(is_content_hashed("/client-9c2c2fd56984d31_bg.wasm"));
        assert!(is_content_hashed("/style-b82692f3547444b2.css"));
        assert!(!is_content_hashed("/index.html"));
        assert!(!is_content_hashed("/"));
        assert!(!is_content_hashed("/c/general"));
        assert!(!is_content_hashed("/my-file.js"));
    }
}

//! Building and running the application: bind, start the hub and the message
//! writer, serve HTTP, and shut down in order (stop accepting, close sockets,
//! commit queued messages, close the database).

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{ServerHandle, Service};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Compress;
use actix_web::{App, HttpMessage, HttpResponse, HttpServer, ResponseError, web};
use anyhow::Context;
use shared::api::ApiErrorCode;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::auth::OriginPolicy;
use crate::budget::{Budget, Rate, RequestBudgets, RequestLimits};
use crate::client_address::ClientAddresses;
use crate::cluster;
use crate::connection_limits::ConnectionLimits;
use crate::core_runtime::CoreRuntime;
use crate::error::HttpError;
use crate::media::image::ImageSlots;
use crate::media::janitor;
use crate::media::storage::FileStore;
use crate::metrics::Metrics;
use crate::password::Hashing;
use crate::preview::Previews;
use crate::preview::fetch::Fetcher;
use crate::realtime::Realtime;
use crate::realtime::commands::MAX_REPLY_BYTES;
use crate::realtime::fanout::FanOut;
use crate::realtime::hub::HubHandle;
use crate::realtime::outbox::OutboxLimits;
use crate::realtime::writer::{MAX_BATCH, MessageWriter, WriterParts};
use crate::routes::{self, AppState};
use crate::settings::Settings;
use crate::sign_in_guard::SignInGuard;
use crate::signup_writer::SignupWriter;
use crate::store::Store;
use crate::{housekeeping, slow_body};

/// Files one user may upload at once, and then per minute.
const UPLOAD_BURST: u32 = 60;
const UPLOAD_EVERY: Duration = Duration::from_secs(1);

/// Messages waiting for the writer before connections have to wait.
const WRITER_QUEUE: usize = 16_384;
/// Password hashes that may wait for a free slot before requests are told to retry.
const PASSWORD_CHECKS_WAITING: usize = 8;

/// A bound, ready-to-run server.
pub struct Application {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    server: actix_web::dev::Server,
    metrics_server: Option<actix_web::dev::Server>,
    store: Store,
    hub: HubHandle,
    hub_task: JoinHandle<()>,
    writer: MessageWriter,
    writer_task: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
    core: CoreRuntime,
    /// The bus to the other nodes, when this node is one of several.
    bus: Option<crate::cluster::bus::Bus>,
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
        let metrics = Metrics::new();
        let mut store = Store::open(&settings.database_url)
            .await
            .with_context(|| format!("opening the database {}", settings.database_url))?;
        if let Some(node) = &settings.node_id {
            store.set_node(node);
        }
        let nats = settings.nats_url.clone().map(|url| cluster::NatsSettings {
            url,
            prefix: settings.nats_prefix.clone(),
        });
        store.notify_in_transactions(nats.is_none());
        let indexed = store
            .set_search_index(settings.search_index)
            .await
            .context("indexing messages for search")?;
        if indexed > 0 {
            tracing::info!(
                indexed,
                "indexed the messages stored without the search index"
            );
        }
        let mut files = FileStore::open(&settings.files_dir).with_context(|| {
            format!("opening the files folder {}", settings.files_dir.display())
        })?;
        if let Some(bucket) = crate::media::objects::Bucket::from_settings(&settings) {
            let objects = crate::media::objects::connect(&bucket)
                .with_context(|| format!("connecting to the files bucket {}", bucket.name))?;
            files = files.in_bucket(objects);
        }
        let janitor_task = janitor::start(store.clone(), files.clone());
        let core = CoreRuntime::start()?;
        let (hub, hub_task) = HubHandle::start(core.handle(), metrics.clone());
        let cluster = cluster::start(&store, &hub, nats, &metrics).await?;
        let fanout: Arc<dyn FanOut> = match &cluster {
            Some(cluster) => cluster.fanout.clone(),
            None => Arc::new(hub.clone()),
        };
        let bus = cluster.as_ref().map(|cluster| cluster.bus.clone());
        let mut background = vec![];
        if let Some(cluster) = cluster {
            background.extend(cluster.tasks);
        }
        let images = ImageSlots::default();
        let preview_budget = Arc::new(settings.request_limits.previews.budget());
        let previews = if settings.link_previews {
            let fetcher = Fetcher::new(
                settings.preview_allowed_addresses.clone(),
                settings.preview_resolve.clone(),
            )
            .context("building the link preview client")?;
            Some(
                Previews::start(
                    store.clone(),
                    fanout.clone(),
                    files.clone(),
                    images.clone(),
                    fetcher,
                    metrics.clone(),
                    preview_budget.clone(),
                )
                .0,
            )
        } else {
            None
        };
        let (writer, writer_task) = MessageWriter::start(
            core.handle(),
            WriterParts {
                store: store.clone(),
                fanout: fanout.clone(),
                previews: previews.clone(),
                metrics: metrics.clone(),
            },
            WRITER_QUEUE,
            settings.write_batch,
        );
        let budgets = Arc::new(RequestBudgets::new(&RequestLimits {
            post: Rate::per_second(settings.message_burst, settings.messages_per_second.max(1)),
            ..settings.request_limits.clone()
        }));
        let sign_in = SignInGuard::new(
            settings.sign_in_burst,
            Duration::from_secs(settings.sign_in_attempt_interval),
        );
        let signups = Arc::new(Budget::every(
            settings.signups_per_minute,
            Duration::from_secs(60) / settings.signups_per_minute.max(1),
        ));
        let uploads = Arc::new(Budget::every(UPLOAD_BURST, UPLOAD_EVERY));
        let upload_mib = settings.upload_mib_per_hour.max(1);
        let upload_bytes = Arc::new(Budget::every(
            upload_mib,
            Duration::from_secs(3600) / upload_mib,
        ));
        let session_idle = Duration::from_secs(settings.session_idle_days * 24 * 60 * 60);
        let housekeeping_task = housekeeping::start(housekeeping::Upkeep {
            store: store.clone(),
            session_idle,
            requests: budgets.clone(),
            sign_in: sign_in.clone(),
            budgets: vec![
                signups.clone(),
                uploads.clone(),
                upload_bytes.clone(),
                preview_budget,
            ],
        });
        let outbound_bytes = settings.outbound_bytes.max(2 * MAX_REPLY_BYTES);
        let state = web::Data::new(AppState {
            realtime: Realtime {
                store: store.clone(),
                hub: hub.clone(),
                fanout,
                writer: writer.clone(),
                max_upload_bytes: settings.max_upload_bytes,
                mention_everyone_max_members: settings.mention_everyone_max_members,
                previews,
                outbox: OutboxLimits {
                    frames: settings.outbound_queue.max(MAX_BATCH),
                    bytes: outbound_bytes,
                    reply_bytes: outbound_bytes / 8,
                },
                stall_timeout: Duration::from_secs(settings.stalled_client_timeout.max(1)),
                budgets,
                metrics: metrics.clone(),
            },
            origins: OriginPolicy::new(&settings.public_origins, &settings.allowed_origins),
            addresses: ClientAddresses::new(settings.trusted_proxies.clone()),
            signups,
            signups_per_minute: settings.signups_per_minute,
            signup_writer: SignupWriter::start(core.handle(), store.clone(), metrics.clone()),
            sign_in,
            hashing: Hashing::new(
                settings.password_checks,
                PASSWORD_CHECKS_WAITING,
                metrics.clone(),
            ),
            files,
            images,
            uploads,
            upload_bytes,
            connection_limits: ConnectionLimits::new(
                settings.max_connections_per_user,
                settings.max_connections_per_address,
            ),
            session_idle,
            bus: bus.clone(),
        });

        let index_html = std::fs::read_to_string(&index)
            .with_context(|| format!("reading {}", index.display()))?;
        let csp = HeaderValue::from_str(&routes::assets::content_security_policy(&index_html))
            .context("building the Content-Security-Policy header")?;

        let listener = TcpListener::bind(&settings.addr)
            .with_context(|| format!("binding {}", settings.addr))?;
        let local_addr = listener.local_addr()?;
        let static_dir = settings.static_dir.clone();
        let precompressed = routes::assets::Precompressed::scan(&static_dir);
        let unresponsive = Duration::from_secs(settings.stalled_client_timeout.max(1));
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::JsonConfig::default().limit(16 * 1024))
                .wrap_fn(|mut request, service| {
                    // Checks every request must pass before any handler runs.
                    let state = request
                        .app_data::<web::Data<AppState>>()
                        .cloned()
                        .expect("the state is registered on the app");
                    if !state.origins.host_allowed(request.head()) {
                        state.realtime.metrics.refused("host");
                        let host = request
                            .headers()
                            .get(header::HOST)
                            .and_then(|h| h.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        let response = wrong_host(&host);
                        return futures_util::future::Either::Left(std::future::ready(Ok(
                            request.into_response(response)
                        )));
                    }
                    if request.path() != "/ws" && has_body(request.headers()) {
                        let payload = request.take_payload();
                        request.set_payload(slow_body::guard(payload));
                    }
                    let span = tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.path()
                    );
                    futures_util::future::Either::Right(service.call(request).instrument(span))
                })
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
                .configure(|config| routes::configure(config, static_dir.clone(), &precompressed))
        })
        .on_connect(move |connection, _extensions| {
            if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
                // Nagle's algorithm plus delayed ACKs stall small broadcast frames by
                // tens of milliseconds; chat frames should leave at once.
                let _ = tcp.set_nodelay(true);
                // A peer that takes nothing (unacknowledged data, or a zero
                // window) for this long is cut off by the kernel, so a client
                // that stops reading cannot pin its buffers and socket forever.
                #[cfg(target_os = "linux")]
                let _ = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(unresponsive));
            }
        })
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout);
        if let Some(workers) = settings.workers {
            server = server.workers(workers.max(1));
        }
        let server = server.listen(listener)?.run();
        let (metrics_server, metrics_addr) = match &settings.metrics_addr {
            Some(addr) => {
                let (server, addr) = metrics_server(addr, metrics.clone())?;
                (Some(server), Some(addr))
            }
            None => (None, None),
        };
        Ok(Self {
            local_addr,
            metrics_addr,
            server,
            metrics_server,
            store,
            hub,
            hub_task,
            writer,
            writer_task,
            background: {
                background.extend([janitor_task, housekeeping_task]);
                background
            },
            core,
            bus,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where `/metrics` is served, when `--metrics-addr` was given.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// Serves until `shutdown` completes (or the server fails), then shuts down in order.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let handle: ServerHandle = self.server.handle();
        let metrics_handle = self.metrics_server.as_ref().map(|server| server.handle());
        if let Some(metrics_server) = self.metrics_server {
            tokio::spawn(metrics_server);
        }
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
        if let Some(metrics_handle) = metrics_handle {
            metrics_handle.stop(false).await;
        }
        tracing::info!("storing queued messages");
        self.writer.stop();
        if tokio::time::timeout(Duration::from_secs(30), self.writer_task)
            .await
            .is_err()
        {
            tracing::error!("the message writer did not finish in 30 s");
        }
        if let Some(bus) = &self.bus {
            // Whoever was connected here is gone now, without waiting for
            // the other nodes to miss this one's heartbeat.
            bus.publish(shared::cluster::About::Left).await;
            bus.flush().await;
        }
        self.hub_task.abort();
        for task in self.background {
            task.abort();
        }
        self.core.stop().await;
        self.store.close().await;
        tracing::info!("stopped");
        result
    }
}

/// The `/metrics` listener: one worker, nothing else on it.
fn metrics_server(
    addr: &str,
    metrics: Metrics,
) -> anyhow::Result<(actix_web::dev::Server, SocketAddr)> {
    let listener =
        TcpListener::bind(addr).with_context(|| format!("binding the metrics address {addr}"))?;
    let local = listener.local_addr()?;
    let server = HttpServer::new(move || {
        let metrics = metrics.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let metrics = metrics.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4; charset=utf-8")
                        .body(metrics.render())
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    Ok((server, local))
}

/// Whether a request carries a body to read.
fn has_body(headers: &header::HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|length| length.trim() != "0")
}

/// 421 for a request addressed to a name this server does not answer to.
fn wrong_host(host: &str) -> HttpResponse {
    let shown: String = host.chars().filter(|c| !c.is_control()).take(100).collect();
    HttpError::new(
        actix_web::http::StatusCode::MISDIRECTED_REQUEST,
        ApiErrorCode::WrongHost,
        format!(
            "This chat server does not answer to the name {shown:?}. If that is the address \
             people use, start the server with --public-origin http://{shown} (or https://)."
        ),
    )
    .error_response()
}

/// A server running in the background (tests, embedding). `stop` shuts it
/// down the way SIGTERM does and waits; dropping it asks it to stop.
pub struct RunningApp {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Application {
    /// Runs the application on a background task until `RunningApp::stop`.
    pub fn spawn(self) -> RunningApp {
        let local_addr = self.local_addr;
        let metrics_addr = self.metrics_addr;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(self.run_until_stopped(async {
            let _ = stopped.await;
        }));
        RunningApp {
            local_addr,
            metrics_addr,
            shutdown: Some(shutdown),
            task,
        }
    }
}

impl RunningApp {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where `/metrics` is served, when `--metrics-addr` was given.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
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
pub fn shutdown_signal() -> impl Future<Output = ()> {
    // The handlers are installed now, before the caller logs that it
    // listens, so a SIGTERM sent right after that line is never the default
    // (fatal) action.
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
        let mut terminate = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
        async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
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

//! HTTP routes, one file per resource. Handlers are thin: they check who is
//! asking and call named operations on the store or publish through the realtime fan-out.

mod account;
pub mod assets;
mod emoji;
mod files;
mod health;
mod session;
mod ws;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, web};

use crate::auth::{OriginPolicy, current_session};
use crate::budget::Budget;
use crate::client_address::ClientAddresses;
use crate::connection_limits::ConnectionLimits;
use crate::error::HttpError;
use crate::media::image::ImageSlots;
use crate::media::storage::FileStore;
use crate::password::Hashing;
use crate::realtime::Realtime;
use crate::sign_in_guard::SignInGuard;
use crate::signup_writer::SignupWriter;
use crate::store::SessionUser;

/// Everything handlers share.
pub struct AppState {
    pub realtime: Realtime,
    pub origins: OriginPolicy,
    /// Who the client is, through trusted proxies.
    pub addresses: ClientAddresses,
    /// Username creations per address.
    pub signups: Arc<Budget>,
    /// The same, per minute across every node (a cluster's shared count).
    pub signups_per_minute: u32,
    /// Sign-ups, committed a batch at a time.
    pub signup_writer: SignupWriter,
    /// Password sign-in attempts per address and name.
    pub sign_in: Arc<SignInGuard>,
    /// argon2 runs, a few at a time.
    pub hashing: Hashing,
    /// Where uploaded files live.
    pub files: FileStore,
    /// Image preparations, a few at a time (shared with link previews).
    pub images: ImageSlots,
    /// Uploads per user.
    pub uploads: Arc<Budget>,
    /// Uploaded mebibytes per user.
    pub upload_bytes: Arc<Budget>,
    /// Open WebSocket connections per user and per address.
    pub connection_limits: Arc<ConnectionLimits>,
    /// How long a session may go unused.
    pub session_idle: Duration,
    /// The bus to the other nodes, when this node is one of several.
    pub bus: Option<crate::cluster::bus::Bus>,
}

impl AppState {
    /// The signed-in session of this request, if any.
    pub async fn session(&self, request: &HttpRequest) -> Result<Option<SessionUser>, HttpError> {
        current_session(request, &self.realtime.store, self.session_idle).await
    }

    /// The signed-in session of this request, or 401.
    pub async fn signed_in(&self, request: &HttpRequest) -> Result<SessionUser, HttpError> {
        self.session(request)
            .await?
            .ok_or_else(HttpError::not_signed_in)
    }

    /// Counts one more hit on `key` for every node sharing the database
    /// (nothing on SQLite) and refuses with 429 (counted under `reason`)
    /// beyond `limit` hits in the window of `window_ms`.
    pub async fn within_shared_limit(
        &self,
        key: &str,
        window_ms: i64,
        limit: u64,
        reason: &'static str,
    ) -> Result<(), HttpError> {
        let counted = self.realtime.store.shared_count(key, window_ms).await?;
        if let Some((hits, window_end)) = counted
            && hits > limit
        {
            self.realtime.metrics.refused(reason);
            let wait = (window_end - crate::random::now_millis()).max(1000);
            return Err(HttpError::rate_limited(Duration::from_millis(wait as u64)));
        }
        Ok(())
    }
}

/// Registers every route on an actix `App`.
pub fn configure(
    config: &mut web::ServiceConfig,
    static_dir: PathBuf,
    precompressed: &assets::Precompressed,
) {
    precompressed.configure(config);
    config
        .route("/healthz", web::get().to(health::healthz))
        .route("/ws", web::get().to(ws::upgrade))
        .service(
            web::resource("/api/session")
                .route(web::get().to(session::current))
                .route(web::post().to(session::create))
                .route(web::delete().to(session::sign_out)),
        )
        .route(
            "/api/sessions",
            web::delete().to(account::sign_out_everywhere),
        )
        .route("/api/sign-in", web::post().to(account::sign_in))
        .route("/api/password", web::put().to(account::set_password))
        .route(
            "/api/channels/{channel}/files",
            web::post().to(files::upload),
        )
        .route("/api/files/{id}", web::get().to(files::download))
        .route("/api/files/{id}/thumbnail", web::get().to(files::thumbnail))
        .route("/api/previews/{hash}", web::get().to(files::preview_image))
        .service(
            web::resource("/api/emoji")
                .route(web::get().to(emoji::list))
                .route(web::post().to(emoji::add)),
        )
        .route("/api/emoji/{hash}", web::get().to(emoji::image))
        .service(web::scope("/api").default_service(web::to(assets::api_not_found)))
        .service(assets::files(static_dir));
}

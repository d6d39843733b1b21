//! HTTP routes, one file per resource. Handlers are thin: they check who is
//! asking and call named operations on the store or the hub.

mod account;
pub mod assets;
mod files;
mod health;
mod session;
mod ws;

use std::path::PathBuf;

use actix_web::web;

use crate::auth::OriginPolicy;
use crate::connection::ConnectionContext;
use crate::media::storage::FileStore;
use crate::throttle::KeyedLimiter;

/// Everything handlers share.
pub struct AppState {
    pub connections: ConnectionContext,
    pub origins: OriginPolicy,
    /// Username creations per IP address.
    pub signups: KeyedLimiter,
    /// Failed password sign-ins per username and per IP address.
    pub sign_in_failures_by_name: KeyedLimiter,
    pub sign_in_failures_by_address: KeyedLimiter,
    /// Where uploaded files live.
    pub files: FileStore,
    /// Uploads per user.
    pub uploads: KeyedLimiter,
}

/// Registers every route on an actix `App`.
pub fn configure(config: &mut web::ServiceConfig, static_dir: PathBuf) {
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
        .service(web::scope("/api").default_service(web::to(assets::api_not_found)))
        .service(assets::files(static_dir));
}

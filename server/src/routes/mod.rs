//! HTTP routes, one file per resource. Handlers are thin: they check who is
//! asking and call named operations on the store or the hub.

pub mod assets;
mod health;
mod session;
mod ws;

use std::path::PathBuf;

use actix_web::web;

use crate::auth::OriginPolicy;
use crate::connection::ConnectionContext;
use crate::throttle::KeyedLimiter;

/// Everything handlers share.
pub struct AppState {
    pub connections: ConnectionContext,
    pub origins: OriginPolicy,
    /// Username creations per IP address.
    pub signups: KeyedLimiter,
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
        .service(web::scope("/api").default_service(web::to(assets::api_not_found)))
        .service(assets::files(static_dir));
}

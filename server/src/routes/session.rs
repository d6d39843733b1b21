//! `/api/session`: pick a username (creates the user and the session cookie),
//! ask who you are, sign out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use shared::api::{ApiErrorCode, CreateSessionRequest, SessionInfo};
use shared::validate::Username;

use super::AppState;
use crate::auth::{
    expired_session_cookie, hash_token, is_https, new_session_token, session_cookie,
};
use crate::error::HttpError;
use crate::realtime::fanout::Sessions;
use crate::store::{Accounts, Channels};

/// The window sign-ups per address are counted in across nodes.
const SIGNUP_WINDOW_MS: i64 = 60_000;

/// `GET /api/session`: 200 with the user, or 401.
pub async fn current(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HttpError> {
    match state.session(&request).await? {
        Some(session) => Ok(HttpResponse::Ok().json(SessionInfo {
            user: session.user,
            has_password: session.has_password,
        })),
        None => Err(HttpError::not_signed_in()),
    }
}

/// `POST /api/session` with `{"username": …}`: 201 and a cookie, 400 for an
/// invalid name, 409 for a taken one.
pub async fn create(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<CreateSessionRequest>,
) -> Result<HttpResponse, HttpError> {
    let address = state.addresses.key(&request);
    if let Err(retry_after) = state.signups.check(&address) {
        state.realtime.metrics.refused("rate_limited");
        return Err(HttpError::rate_limited(retry_after));
    }
    // Behind several nodes, an address's sign-ups are counted once for all.
    state
        .within_shared_limit(
            &format!("signup {address}"),
            SIGNUP_WINDOW_MS,
            u64::from(state.signups_per_minute),
            "rate_limited",
        )
        .await?;
    let username = Username::parse(&body.username).map_err(|error| {
        HttpError::new(
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidUsername,
            error.to_string(),
        )
    })?;
    let token = new_session_token();
    let session = state
        .signup_writer
        .create(username, hash_token(&token))
        .await?;
    tracing::info!(user = %session.user.name, "new user");
    // Everyone in the default channel learns it has one more member.
    if let Some(general) = state.realtime.store.default_channel() {
        state
            .realtime
            .fanout
            .member_joined(general.clone(), session.user.clone())
            .await;
    }
    Ok(HttpResponse::Created()
        .cookie(session_cookie(token, is_https(&request)))
        .json(SessionInfo {
            user: session.user,
            has_password: false,
        }))
}

/// `DELETE /api/session`: ends this session and closes its sockets.
pub async fn sign_out(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HttpError> {
    if let Some(session) = state.session(&request).await? {
        state
            .realtime
            .store
            .delete_session(&session.session_id)
            .await?;
        state
            .realtime
            .fanout
            .close_sessions(session.user.id, Sessions::One(session.session_id))
            .await;
    }
    Ok(HttpResponse::NoContent()
        .cookie(expired_session_cookie(is_https(&request)))
        .finish())
}

//! `/api/session`: pick a username (creates the user and the session cookie),
//! ask who you are, sign out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use shared::api::{ApiErrorCode, CreateSessionRequest, SessionInfo};
use shared::community::SignupMode;
use shared::validate::Username;

use super::AppState;
use crate::auth::{
    expired_session_cookie, hash_token, is_https, new_session_token, session_cookie,
};
use crate::error::HttpError;
use crate::random::now_millis;
use crate::realtime::fanout::Sessions;
use crate::store::{Accounts, Channels, Community};

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
    // Who may join: anyone, someone with a valid invite link, or nobody.
    let store = &state.realtime.store;
    let invite = match store.settings().await?.signup_mode {
        SignupMode::Open => None,
        SignupMode::Closed => return Err(signups_closed()),
        SignupMode::Invite => {
            let code_hash = hash_token(body.invite.as_deref().ok_or_else(invite_required)?);
            if !store.use_invite(&code_hash, now_millis()).await? {
                return Err(invite_required());
            }
            Some(code_hash)
        }
    };
    let token = new_session_token();
    let created = state
        .signup_writer
        .create(username, hash_token(&token))
        .await;
    let session = match (created, invite) {
        (Ok(session), _) => session,
        (Err(error), None) => return Err(error.into()),
        (Err(error), Some(code_hash)) => {
            // The account was not made: the invite's use is not spent.
            store.return_invite(&code_hash).await?;
            return Err(error.into());
        }
    };
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

fn signups_closed() -> HttpError {
    HttpError::new(
        StatusCode::FORBIDDEN,
        ApiErrorCode::SignupsClosed,
        "This server takes no new accounts. If you have one, sign in with your password.",
    )
}

fn invite_required() -> HttpError {
    HttpError::new(
        StatusCode::FORBIDDEN,
        ApiErrorCode::InviteRequired,
        "This server is invite only: open a valid invite link (ask a member for one; \
         links expire and can be used up).",
    )
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

//! Accounts: set or change a password, sign in with name + password from
//! another browser, sign out everywhere. Wrong credentials get one message
//! whatever was wrong. Every attempt is counted before its password is
//! hashed ([`SignInGuard`](crate::sign_in_guard::SignInGuard)), and hashes
//! run a few at a time ([`Hashing`](crate::password::Hashing)): a flood gets
//! "wait" or "busy" answers at once instead of running argon2.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use shared::api::{ApiErrorCode, SessionInfo, SetPasswordRequest, SignInRequest};
use shared::validate::{Password, Username};

use super::AppState;
use crate::auth::{
    expired_session_cookie, hash_token, is_https, new_session_token, session_cookie,
};
use crate::error::HttpError;
use crate::password::{self, Busy};
use crate::realtime::fanout::Sessions;
use crate::store::Accounts;

/// Sign-in attempts for one name from one address per window, counted for
/// every node together when several share the database (a success takes
/// its attempt back): what two nodes let through before their delays.
const SHARED_SIGN_IN_ATTEMPTS: u64 = 10;
const SHARED_SIGN_IN_WINDOW_MS: i64 = 15 * 60 * 1000;

const WRONG_CREDENTIALS: &str = "Wrong username or password.";
const WRONG_CURRENT_PASSWORD: &str = "Your current password is not right.";

/// `POST /api/sign-in` with `{"username", "password"}`: 200 and a cookie, 401
/// for any wrong combination, 429 (with `Retry-After`) after repeated
/// failures from this address or for this name, 503 when password checks
/// are busy.
pub async fn sign_in(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SignInRequest>,
) -> Result<HttpResponse, HttpError> {
    let address = state.addresses.key(&request);
    let username = Username::parse(&body.username).ok();
    // Look-alikes of a name count as that name.
    let name_key = match &username {
        Some(name) => name.uniqueness_key(),
        None => body.username.trim().to_lowercase(),
    };
    let attempt = state
        .sign_in
        .admit(&name_key, &address)
        .map_err(|retry_after| {
            state.realtime.metrics.refused("sign_in_delay");
            HttpError::rate_limited(retry_after)
        })?;
    // Behind several nodes, attempts for a name from an address are also
    // counted once for all of them (a success takes its attempt back).
    let shared_key = format!("sign-in {name_key} {address}");
    state
        .within_shared_limit(
            &shared_key,
            SHARED_SIGN_IN_WINDOW_MS,
            SHARED_SIGN_IN_ATTEMPTS,
            "sign_in_delay",
        )
        .await?;

    let found = match &username {
        Some(name) => state.realtime.store.credentials(name).await?,
        None => None,
    };
    let typed = body.password.clone();
    let checked = match found {
        Some((user, Some(stored))) => {
            state
                .hashing
                .run(move || password::verify(&typed, &stored).then_some(user))
                .await
        }
        // Same work as a real check, so timing does not reveal names.
        _ => {
            state
                .hashing
                .run(move || {
                    password::verify_dummy(&typed);
                    None
                })
                .await
        }
    };
    let user = match checked {
        Ok(user) => user,
        Err(busy) => {
            attempt.cancelled();
            return Err(busy_error(&state, busy));
        }
    };
    let Some(user) = user else {
        drop(attempt);
        return Err(HttpError::new(
            StatusCode::UNAUTHORIZED,
            ApiErrorCode::WrongCredentials,
            WRONG_CREDENTIALS,
        ));
    };
    attempt.succeeded();
    if let Err(error) = state
        .realtime
        .store
        .shared_refund(&shared_key, SHARED_SIGN_IN_WINDOW_MS)
        .await
    {
        tracing::warn!(%error, "could not take back a successful sign-in attempt");
    }
    let token = new_session_token();
    let session = state
        .realtime
        .store
        .create_session(&user, &hash_token(&token))
        .await?;
    tracing::info!(user = %session.user.name, "signed in with a password");
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(token, is_https(&request)))
        .json(SessionInfo {
            user: session.user,
            has_password: true,
        }))
}

/// `PUT /api/password` with `{"password", "current_password"}`: sets a first
/// password, or changes it when the current one is given right. Every other
/// session of the user ends (their sockets close at once).
pub async fn set_password(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SetPasswordRequest>,
) -> Result<HttpResponse, HttpError> {
    let session = state.signed_in(&request).await?;
    let password = Password::parse(&body.password).map_err(|error| {
        HttpError::new(
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidPassword,
            error.to_string(),
        )
    })?;
    let store = &state.realtime.store;
    if let Some(stored) = store.password_hash(&session.user.id).await? {
        // Guessing the current password is guessing a password: same budget.
        let attempt = state
            .sign_in
            .admit(
                &format!("id:{}", session.user.id.0),
                &state.addresses.key(&request),
            )
            .map_err(HttpError::rate_limited)?;
        let typed = body.current_password.clone().unwrap_or_default();
        let matches = state
            .hashing
            .run(move || password::verify(&typed, &stored))
            .await
            .map_err(|busy| busy_error(&state, busy))?;
        if !matches {
            drop(attempt);
            return Err(HttpError::new(
                StatusCode::FORBIDDEN,
                ApiErrorCode::WrongCredentials,
                WRONG_CURRENT_PASSWORD,
            ));
        }
        attempt.succeeded();
    }
    let hash = state
        .hashing
        .run(move || password::hash(password.as_str()))
        .await
        .map_err(|busy| busy_error(&state, busy))?
        .map_err(|_| internal())?;
    store
        .set_password_hash(&session.user.id, &hash, &session.session_id)
        .await?;
    state
        .realtime
        .fanout
        .close_sessions(
            session.user.id.clone(),
            Sessions::AllBut(Some(session.session_id.clone())),
        )
        .await;
    tracing::info!(user = %session.user.name, "password set; other sessions ended");
    Ok(HttpResponse::Ok().json(SessionInfo {
        user: session.user,
        has_password: true,
    }))
}

/// `DELETE /api/sessions`: ends every session of the user and closes all their sockets.
pub async fn sign_out_everywhere(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HttpError> {
    let session = state.signed_in(&request).await?;
    let ended = state
        .realtime
        .store
        .delete_user_sessions(&session.user.id)
        .await?;
    state
        .realtime
        .fanout
        .close_sessions(session.user.id.clone(), Sessions::AllBut(None))
        .await;
    tracing::info!(user = %session.user.name, ended, "signed out everywhere");
    Ok(HttpResponse::NoContent()
        .cookie(expired_session_cookie(is_https(&request)))
        .finish())
}

fn busy_error(state: &AppState, _: Busy) -> HttpError {
    state.realtime.metrics.refused("busy");
    HttpError::busy(Duration::from_secs(1))
}

fn internal() -> HttpError {
    HttpError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ApiErrorCode::Internal,
        "Something went wrong on the server. Please try again.",
    )
}

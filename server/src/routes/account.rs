//! Accounts: set a password, sign in with name + password from another
//! browser, sign out everywhere. Wrong credentials get one message whatever
//! was wrong, and repeated failures are refused for a while per name and per
//! address.

use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use shared::api::{ApiErrorCode, SessionInfo, SetPasswordRequest, SignInRequest};
use shared::validate::{Password, Username};

use super::AppState;
use super::session::peer_address;
use crate::auth::{
    current_session, expired_session_cookie, hash_token, is_https, new_session_token,
    session_cookie,
};
use crate::error::HttpError;
use crate::password;

const WRONG_CREDENTIALS: &str = "Wrong username or password.";

/// `POST /api/sign-in` with `{"username", "password"}`: 200 and a cookie, 401
/// for any wrong combination, 429 after repeated failures.
pub async fn sign_in(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SignInRequest>,
) -> Result<HttpResponse, HttpError> {
    let now = Instant::now();
    let address = peer_address(&request);
    let name_key = body.username.trim().to_lowercase();
    let name_key = format!("name:{name_key}");
    for (limiter, key) in [
        (&state.sign_in_failures_by_address, address.as_str()),
        (&state.sign_in_failures_by_name, name_key.as_str()),
    ] {
        if let Err(retry_after) = limiter.peek(key, now) {
            return Err(HttpError::rate_limited(retry_after));
        }
    }

    let found = match Username::parse(&body.username) {
        Ok(name) => state.connections.store.credentials(&name).await?,
        Err(_) => None,
    };
    let typed = body.password.clone();
    let user = match found {
        Some((user, Some(stored))) => {
            let matches = web::block(move || password::verify(&typed, &stored))
                .await
                .map_err(|_| internal())?;
            matches.then_some(user)
        }
        _ => {
            // Same work as a real check, so timing does not reveal names.
            web::block(move || password::verify_dummy(&typed))
                .await
                .map_err(|_| internal())?;
            None
        }
    };
    let Some(user) = user else {
        state.sign_in_failures_by_address.record(&address, now);
        state.sign_in_failures_by_name.record(&name_key, now);
        return Err(HttpError::new(
            StatusCode::UNAUTHORIZED,
            ApiErrorCode::WrongCredentials,
            WRONG_CREDENTIALS,
        ));
    };
    state.sign_in_failures_by_name.forget(&name_key);
    let token = new_session_token();
    let session = state
        .connections
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

/// `PUT /api/password` with `{"password"}`: sets or changes the password.
pub async fn set_password(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SetPasswordRequest>,
) -> Result<HttpResponse, HttpError> {
    let session = current_session(&request, &state.connections.store)
        .await?
        .ok_or_else(HttpError::not_signed_in)?;
    let password = Password::parse(&body.password).map_err(|error| {
        HttpError::new(
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidPassword,
            error.to_string(),
        )
    })?;
    let hash = web::block(move || password::hash(password.as_str()))
        .await
        .map_err(|_| internal())?
        .map_err(|_| internal())?;
    state
        .connections
        .store
        .set_password_hash(&session.user.id, &hash)
        .await?;
    tracing::info!(user = %session.user.name, "password set");
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
    let session = current_session(&request, &state.connections.store)
        .await?
        .ok_or_else(HttpError::not_signed_in)?;
    let ended = state
        .connections
        .store
        .delete_user_sessions(&session.user.id)
        .await?;
    state
        .connections
        .hub
        .close_user(session.user.id.clone())
        .await;
    tracing::info!(user = %session.user.name, ended, "signed out everywhere");
    Ok(HttpResponse::NoContent()
        .cookie(expired_session_cookie(is_https(&request)))
        .finish())
}

fn internal() -> HttpError {
    HttpError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ApiErrorCode::Internal,
        "Something went wrong on the server. Please try again.",
    )
}

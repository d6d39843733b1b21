//! Calls to the server's HTTP API (`/api/session`).

use gloo_net::http::{Request, Response};
use shared::UserInfo;
use shared::api::{ApiError, CreateSessionRequest, SessionInfo};

/// Who is signed in on this browser, if anyone.
pub async fn current_user() -> Result<Option<UserInfo>, String> {
    let response = Request::get("/api/session")
        .send()
        .await
        .map_err(|_| "The chat server cannot be reached.".to_string())?;
    match response.status() {
        200 => Ok(Some(read_session(response).await?)),
        401 => Ok(None),
        _ => Err(error_message(response).await),
    }
}

/// Picks a username; the server sets the session cookie.
pub async fn choose_username(username: &str) -> Result<UserInfo, String> {
    let response = Request::post("/api/session")
        .json(&CreateSessionRequest {
            username: username.to_owned(),
        })
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|_| "The chat server cannot be reached. Please try again.".to_string())?;
    if response.status() == 201 {
        read_session(response).await
    } else {
        Err(error_message(response).await)
    }
}

/// Ends this browser's session.
pub async fn sign_out() -> Result<(), String> {
    Request::delete("/api/session")
        .send()
        .await
        .map(|_| ())
        .map_err(|_| "The chat server cannot be reached.".to_string())
}

async fn read_session(response: Response) -> Result<UserInfo, String> {
    response
        .json::<SessionInfo>()
        .await
        .map(|info| info.user)
        .map_err(|_| "The server sent an unexpected answer.".to_string())
}

async fn error_message(response: Response) -> String {
    match response.json::<ApiError>().await {
        Ok(error) => error.message,
        Err(_) => format!("The server answered {}.", response.status()),
    }
}

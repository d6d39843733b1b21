//! Calls to the server's HTTP API (`/api/session`).

use gloo_net::http::{Request, Response};
use shared::UserInfo;
use shared::api::{ApiError, CreateSessionRequest, SessionInfo, SetPasswordRequest, SignInRequest};

/// Who is signed in on this browser, if anyone.
pub async fn current_user() -> Result<Option<UserInfo>, String> {
    Ok(current_session().await?.map(|info| info.user))
}

/// This browser's session, if any.
pub async fn current_session() -> Result<Option<SessionInfo>, String> {
    let response = Request::get("/api/session")
        .send()
        .await
        .map_err(|_| "The chat server cannot be reached.".to_string())?;
    match response.status() {
        200 => Ok(Some(read_session_info(response).await?)),
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

/// Signs in with a name that has a password.
pub async fn sign_in(username: &str, password: &str) -> Result<SessionInfo, String> {
    let response = Request::post("/api/sign-in")
        .json(&SignInRequest {
            username: username.to_owned(),
            password: password.to_owned(),
        })
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|_| "The chat server cannot be reached. Please try again.".to_string())?;
    if response.status() == 200 {
        read_session_info(response).await
    } else {
        Err(error_message(response).await)
    }
}

/// Sets or changes the signed-in user's password.
pub async fn set_password(password: &str) -> Result<(), String> {
    let response = Request::put("/api/password")
        .json(&SetPasswordRequest {
            password: password.to_owned(),
        })
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|_| "The chat server cannot be reached. Please try again.".to_string())?;
    if response.status() == 200 {
        Ok(())
    } else {
        Err(error_message(response).await)
    }
}

/// Ends every session of this user, in every browser.
pub async fn sign_out_everywhere() -> Result<(), String> {
    Request::delete("/api/sessions")
        .send()
        .await
        .map(|_| ())
        .map_err(|_| "The chat server cannot be reached.".to_string())
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
    read_session_info(response).await.map(|info| info.user)
}

async fn read_session_info(response: Response) -> Result<SessionInfo, String> {
    response
        .json::<SessionInfo>()
        .await
        .map_err(|_| "The server sent an unexpected answer.".to_string())
}

async fn error_message(response: Response) -> String {
    match response.json::<ApiError>().await {
        Ok(error) => error.message,
        Err(_) => format!("The server answered {}.", response.status()),
    }
}

//! Calls to the server's HTTP API (`/api/session`).

use gloo_net::http::{Request, RequestBuilder, Response};
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

/// Picks a username (with the code of the invite link followed, if any);
/// the server sets the session cookie.
pub async fn choose_username(username: &str, invite: Option<&str>) -> Result<UserInfo, String> {
    let body = CreateSessionRequest {
        username: username.to_owned(),
        invite: invite.map(str::to_owned),
    };
    let response = send_json(Request::post("/api/session"), &body, 201).await?;
    read_session(response).await
}

/// Signs in with a name that has a password.
pub async fn sign_in(username: &str, password: &str) -> Result<SessionInfo, String> {
    let body = SignInRequest {
        username: username.to_owned(),
        password: password.to_owned(),
    };
    let response = send_json(Request::post("/api/sign-in"), &body, 200).await?;
    read_session_info(response).await
}

/// Sets a first password, or changes it (`current` is then the one in use).
pub async fn set_password(password: &str, current: Option<&str>) -> Result<(), String> {
    let body = SetPasswordRequest {
        password: password.to_owned(),
        current_password: current.map(str::to_owned),
    };
    send_json(Request::put("/api/password"), &body, 200)
        .await
        .map(|_| ())
}

/// Sends a JSON body; the response if its status is `expected`, else the
/// server's error message.
async fn send_json<T: serde::Serialize>(
    request: RequestBuilder,
    body: &T,
    expected: u16,
) -> Result<Response, String> {
    let response = request
        .json(body)
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|_| "The chat server cannot be reached. Please try again.".to_string())?;
    if response.status() == expected {
        Ok(response)
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

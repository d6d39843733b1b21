//! JSON bodies of the HTTP API under `/api`.

use serde::{Deserialize, Serialize};

use crate::protocol::UserInfo;

/// `POST /api/session`: pick a username and get a session cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSessionRequest {
    pub username: String,
}

/// `POST /api/sign-in`: sign in with a name that has a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
}

/// `PUT /api/password`: set or change the signed-in user's password.
/// Changing one needs the current password; other sessions are ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPasswordRequest {
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_password: Option<String>,
}

/// `GET /api/session`, `POST /api/session` and `POST /api/sign-in` answer with who you are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: UserInfo,
    /// Whether the user can sign in elsewhere with a password.
    #[serde(default)]
    pub has_password: bool,
}

/// Every HTTP error body: a stable machine-readable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ApiErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorCode {
    InvalidUsername,
    UsernameTaken,
    InvalidRequest,
    NotSignedIn,
    ForbiddenOrigin,
    NotFound,
    InvalidPassword,
    WrongCredentials,
    RateLimited,
    /// The server is too busy for this right now; retry after `Retry-After`.
    Busy,
    /// The request took too long to arrive.
    Timeout,
    /// The `Host` this request was addressed to is not one this server answers to.
    WrongHost,
    /// Too many connections from this user or address.
    TooManyConnections,
    /// An upload over the size limit.
    TooLarge,
    /// An upload that is empty or damaged.
    InvalidFile,
    Unavailable,
    Internal,
}

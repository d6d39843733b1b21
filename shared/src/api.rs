//! JSON bodies of the HTTP API under `/api`.

use serde::{Deserialize, Serialize};

use crate::protocol::UserInfo;

/// `POST /api/session`: pick a username and get a session cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSessionRequest {
    pub username: String,
}

/// `GET /api/session` and `POST /api/session` answer with who you are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: UserInfo,
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
    RateLimited,
    Unavailable,
    Internal,
}

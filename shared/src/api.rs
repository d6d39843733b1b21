//! JSON bodies of the HTTP API under `/api`.

use serde::{Deserialize, Serialize};

use crate::protocol::UserInfo;

/// `POST /api/session`: pick a username and get a session cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSessionRequest {
    pub username: String,
    /// The code of the invite link followed (needed when sign-ups are by
    /// invite only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<String>,
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

/// A custom emoji: written `:name:` in messages and reactions, its image at
/// [`CustomEmoji::url`]. `GET /api/emoji` answers every one, oldest first;
/// `POST /api/emoji?name=…` (the image as the body) adds one and answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomEmoji {
    pub name: String,
    /// The image's content hash (its address: an image never changes).
    pub image: String,
}

impl CustomEmoji {
    pub fn url(&self) -> String {
        format!("/api/emoji/{}", self.image)
    }
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
    /// A custom emoji name that breaks the naming rules.
    InvalidEmojiName,
    /// A custom emoji name in use (by a custom or a standard emoji).
    EmojiNameTaken,
    /// The server holds as many custom emoji as it may.
    TooManyEmoji,
    /// The server takes no new accounts.
    SignupsClosed,
    /// Sign-ups need a valid invite link (missing, expired or used up).
    InviteRequired,
    Unavailable,
    Internal,
}

//! HTTP errors: every failure becomes a JSON `ApiError` with a status code;
//! the cause is logged, never shown to the client.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use shared::api::{ApiError, ApiErrorCode};

use crate::store::StoreError;

/// An error answered to an HTTP request.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct HttpError {
    pub status: StatusCode,
    pub code: ApiErrorCode,
    pub message: String,
    /// Sent as `Retry-After` when set.
    pub retry_after: Option<Duration>,
}

impl HttpError {
    pub fn new(status: StatusCode, code: ApiErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn not_signed_in() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ApiErrorCode::NotSignedIn,
            "You are not signed in.",
        )
    }

    pub fn forbidden_origin() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ApiErrorCode::ForbiddenOrigin,
            "This page's origin may not open a chat connection.",
        )
    }

    pub fn rate_limited(retry_after: Duration) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ApiErrorCode::RateLimited,
            format!(
                "Too many attempts. Please try again in {} seconds.",
                retry_after.as_secs().max(1)
            ),
        );
        error.retry_after = Some(retry_after);
        error
    }

    /// 503 with `Retry-After`: too much is going on right now.
    pub fn busy(retry_after: Duration) -> Self {
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ApiErrorCode::Busy,
            "The server is busy right now. Please try again in a moment.",
        );
        error.retry_after = Some(retry_after);
        error
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, ApiErrorCode::NotFound, "Not found.")
    }
}

impl From<StoreError> for HttpError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NameTaken => Self::new(
                StatusCode::CONFLICT,
                ApiErrorCode::UsernameTaken,
                "That username is taken. Please choose another.",
            ),
            other => {
                tracing::error!(error = %other, "database error while answering a request");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ApiErrorCode::Unavailable,
                    "The chat's database is unavailable right now. Please try again shortly.",
                )
            }
        }
    }
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(retry_after) = self.retry_after {
            response.insert_header((
                actix_web::http::header::RETRY_AFTER,
                retry_after.as_secs().max(1).to_string(),
            ));
        }
        response.json(ApiError {
            code: self.code,
            message: self.message.clone(),
        })
    }
}

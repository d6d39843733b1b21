//! `GET /ws`: the WebSocket upgrade. The Origin must be allowed (403), the
//! session cookie valid (401), and the user and the address under their
//! connection limits (429) before anything is upgraded.

use actix_web::body::{BodyStream, MessageBody};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use shared::api::ApiErrorCode;

use super::AppState;
use crate::connection_limits::OverLimit;
use crate::error::HttpError;
use crate::realtime::connection;

pub async fn upgrade(
    request: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    if !state.origins.allows(&request) {
        state.realtime.metrics.refused("origin");
        return Err(HttpError::forbidden_origin().into());
    }
    let Some(session_user) = state.session(&request).await? else {
        return Err(HttpError::not_signed_in().into());
    };
    let address = state.addresses.key(&request);
    let slot = state
        .connection_limits
        .take(&session_user.user.id.0, &address)
        .map_err(|over| {
            state.realtime.metrics.refused("too_many_connections");
            let message = match over {
                OverLimit::User(limit) => format!(
                    "You have {limit} chat connections open already; close a tab and try again."
                ),
                OverLimit::Address(limit) => format!(
                    "Your address has {limit} chat connections open already; try again later."
                ),
            };
            HttpError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ApiErrorCode::TooManyConnections,
                message,
            )
        })?;
    let mut handshake = actix_http::ws::handshake(request.head())?;
    let writer = connection::start(state.realtime.clone(), session_user, body, slot);
    let response = handshake.message_body(BodyStream::new(writer).boxed())?;
    Ok(response.into())
}

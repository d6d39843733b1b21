//! `GET /ws`: the WebSocket upgrade. The Origin must be allowed (403) and the
//! session cookie valid (401) before anything is upgraded.

use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use crate::auth::current_session;
use crate::connection;
use crate::error::HttpError;

pub async fn upgrade(
    request: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    if !state.origins.allows(&request) {
        return Err(HttpError::forbidden_origin().into());
    }
    let Some(session_user) = current_session(&request, &state.connections.store).await? else {
        return Err(HttpError::not_signed_in().into());
    };
    let (response, session, stream) = actix_ws::handle(&request, body)?;
    let context = state.connections.clone();
    actix_web::rt::spawn(connection::serve(context, session_user, session, stream));
    Ok(response)
}

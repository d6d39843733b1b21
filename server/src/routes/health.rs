//! `GET /healthz`: 200 when the database answers, 503 otherwise.

use actix_web::{HttpResponse, web};

use super::AppState;

pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.realtime.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "status": "ok" })),
        Err(error) => {
            tracing::error!(%error, "health check: database unavailable");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({ "status": "database unavailable" }))
        }
    }
}

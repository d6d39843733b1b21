//! `GET /healthz`: 200 when the database answers (and, on a node of a
//! cluster, the bus is listening), 503 otherwise.

use actix_web::{HttpResponse, web};

use super::AppState;

pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.realtime.store.ping().await {
        Ok(()) if state.bus.as_ref().is_some_and(|bus| !bus.is_up()) => {
            tracing::error!("health check: not listening to the other nodes");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({ "status": "bus unavailable" }))
        }
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "status": "ok" })),
        Err(error) => {
            tracing::error!(%error, "health check: database unavailable");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({ "status": "database unavailable" }))
        }
    }
}

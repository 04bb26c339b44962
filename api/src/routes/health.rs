//! `GET /healthz`: 200 when the database answers, 503 when it does not.

use actix_web::{HttpResponse, get, web};
use sea_orm::ConnectionTrait;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppError, AppResult, ErrorBody};
use crate::state::AppState;
use crate::views::Health;

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(healthz);
}

/// Liveness and database reachability (also at `/api/v1/healthz`).
#[utoipa::path(tag = "health", responses(
    (status = 200, body = Health),
    (status = 503, description = "the database does not answer (`database_unavailable`, with `Retry-After`)", body = ErrorBody),
))]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .db
        .execute_unprepared("SELECT 1")
        .await
        // Whatever the failure, the database did not answer: 503.
        .map_err(|e| AppError::context("health check", AppError::Unavailable(Box::new(e))))?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}

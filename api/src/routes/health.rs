//! `GET /healthz`: 200 when the database answers within a second, 503 when
//! it does not. `GET /livez`: 200 while the process runs, whatever the
//! database — a process manager restarts on `/livez`, a balancer routes on
//! `/healthz`.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use sea_orm::ConnectionTrait;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppError, AppResult, ErrorBody};
use crate::state::AppState;
use crate::views::Health;

/// How long `/healthz` waits for the database: the answer must leave
/// within a second, so the probe gets a little less.
const PROBE_TIMEOUT: Duration = Duration::from_millis(800);

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(livez);
}

/// Liveness and database reachability (also at `/api/v1/healthz`).
#[utoipa::path(tag = "health", responses(
    (status = 200, body = Health),
    (status = 503, description = "the database does not answer within a second (`database_unavailable`, with `Retry-After`)", body = ErrorBody),
))]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let probe = state.db.execute_unprepared("SELECT 1");
    match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
        Ok(Ok(_)) => Ok(HttpResponse::Ok().json(Health { status: "ok" })),
        // Whatever the failure, the database did not answer: 503.
        Ok(Err(e)) => Err(AppError::context(
            "health check",
            AppError::Unavailable(Box::new(e)),
        )),
        Err(_) => Err(AppError::Unavailable(
            "health check: no answer from the database within 800 ms".into(),
        )),
    }
}

/// The process runs and serves HTTP; the database is not asked (also at
/// `/api/v1/livez`).
#[utoipa::path(tag = "health", responses(
    (status = 200, body = Health),
))]
#[get("/livez")]
pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

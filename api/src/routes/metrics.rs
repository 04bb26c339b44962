//! `GET /metrics`: Prometheus text format for the scraper, behind the
//! bearer token `METRICS_TOKEN`; without that setting the route does not
//! exist (404). Outside `/api/v1`, as scrapers expect.

use actix_web::{HttpRequest, HttpResponse, get, web};
use sea_orm::{DatabaseConnection, DbBackend};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::bearer_token_of;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::metrics::StoredFigures;
use crate::service;
use crate::state::AppState;

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(metrics);
}

/// Counts and durations per route, the outbox depth, the pool. Holds no
/// personal data; still, it says how the service is used, so it needs
/// `Authorization: Bearer <METRICS_TOKEN>`.
#[utoipa::path(tag = "health", security(("bearer" = [])), responses(
    (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
    (status = 401, description = "missing or wrong token", body = ErrorBody),
    (status = 404, description = "METRICS_TOKEN is not set", body = ErrorBody),
))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let Some(expected) = state.settings.metrics_token.as_deref() else {
        return Err(AppError::NotFound);
    };
    if !bearer_token_of(&req).is_some_and(|given| token_matches(given, expected)) {
        return Err(AppError::Unauthorized);
    }
    let (pending_deliveries, failed_deliveries) = service::outbox::depth(&state.reads).await?;
    let (pool_size, pool_idle) = pool_figures(&state.db);
    let text = state.metrics.render(StoredFigures {
        pending_deliveries,
        failed_deliveries,
        pool_size,
        pool_idle,
    });
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

/// Compares digests in constant time, so neither the content nor the
/// length of the token leaks through the answer's timing.
fn token_matches(given: &str, expected: &str) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given.ct_eq(&expected).into()
}

fn pool_figures(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_matches() {
        assert!(token_matches("scrape-me", "scrape-me"));
        assert!(!token_matches("scrape-m", "scrape-me"));
        assert!(!token_matches("scrape-me!", "scrape-me"));
        assert!(!token_matches("", "scrape-me"));
    }
}

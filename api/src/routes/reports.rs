//! Statistics and exports of approved service hours, and requests by
//! status (managers, admins).

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Manager;
use crate::domain::calendar::local_range;
use crate::domain::report::GroupBy;
use crate::error::{AppError, AppResult};
use crate::service::export_files;
use crate::service::reports::{self, Range};
use crate::state::AppState;
use crate::views::{RequestStats, Stats};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(service_hour_stats)
        .service(request_stats)
        .service(export_service_hours);
}

#[derive(Deserialize, IntoParams)]
pub struct StatsQuery {
    #[param(inline)]
    group_by: GroupBy,
    /// Inclusive date in `TIME_ZONE`, matched against a record's start.
    from: Option<NaiveDate>,
    /// Inclusive date in `TIME_ZONE`.
    to: Option<NaiveDate>,
}

#[derive(Deserialize, Clone, Copy, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    #[param(inline)]
    format: ExportFormat,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

fn range(state: &AppState, from: Option<NaiveDate>, to: Option<NaiveDate>) -> AppResult<Range> {
    let (from, until) =
        local_range(from, to, state.settings.time_zone).map_err(|e| AppError::invalid("to", e))?;
    Ok(Range { from, until })
}

/// Approved service hours grouped by team, volunteer, month, resident
/// category or service category; complete and ranked, not paged.
#[utoipa::path(tag = "statistics", security(("bearer" = [])), params(StatsQuery), responses(
    (status = 200, body = Stats),
))]
#[get("/stats/service-hours")]
async fn service_hour_stats(
    state: web::Data<AppState>,
    _: Manager,
    query: web::Query<StatsQuery>,
) -> AppResult<HttpResponse> {
    let range = range(&state, query.from, query.to)?;
    let stats = reports::service_hours(
        &state.reads,
        query.group_by,
        range,
        state.settings.time_zone,
    )
    .await?;
    Ok(HttpResponse::Ok().json(stats))
}

#[derive(Deserialize, IntoParams)]
pub struct RequestStatsQuery {
    /// Inclusive date in `TIME_ZONE`, matched against a request's start.
    from: Option<NaiveDate>,
    /// Inclusive date in `TIME_ZONE`.
    to: Option<NaiveDate>,
}

/// Requests starting within the dates, counted by status (all five
/// always present); without dates, every request.
#[utoipa::path(tag = "statistics", security(("bearer" = [])), params(RequestStatsQuery), responses(
    (status = 200, body = RequestStats),
))]
#[get("/stats/requests")]
async fn request_stats(
    state: web::Data<AppState>,
    _: Manager,
    query: web::Query<RequestStatsQuery>,
) -> AppResult<HttpResponse> {
    let range = range(&state, query.from, query.to)?;
    let by_status = reports::requests_by_status(&state.reads, range).await?;
    Ok(HttpResponse::Ok().json(RequestStats { by_status }))
}

/// One row per approved record, phones masked: CSV (UTF-8 with BOM) or
/// XLSX, streamed.
#[utoipa::path(tag = "statistics", security(("bearer" = [])), params(ExportQuery), responses(
    (status = 200, description = "the file, as an attachment", content(
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
))]
#[get("/exports/service-hours")]
async fn export_service_hours(
    state: web::Data<AppState>,
    _: Manager,
    query: web::Query<ExportQuery>,
) -> AppResult<HttpResponse> {
    let range = range(&state, query.from, query.to)?;
    let tz = state.settings.time_zone;
    let stamp = chrono::Utc::now().with_timezone(&tz).format("%Y%m%d");
    let (content_type, file_name, body) = match query.format {
        ExportFormat::Csv => (
            "text/csv; charset=utf-8",
            format!("service-hours-{stamp}.csv"),
            actix_web::body::BoxBody::new(actix_web::body::BodyStream::new(
                export_files::csv_stream(state.reads.clone(), range, tz),
            )),
        ),
        ExportFormat::Xlsx => {
            let file = export_files::xlsx_file(&state.reads, range, tz).await?;
            (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                format!("service-hours-{stamp}.xlsx"),
                actix_web::body::BoxBody::new(actix_web::body::BodyStream::new(
                    export_files::file_stream(file),
                )),
            )
        }
    };
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(file_name)],
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(disposition)
        .body(body))
}

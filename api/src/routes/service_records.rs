//! Service records: paper-sheet entries, lists, approval, rejection,
//! correction and history.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset, NaiveDate};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{AuthUser, Staff};
use crate::domain::calendar::{self, local_range};
use crate::domain::text;
use crate::domain::vocab::{RecordStatus, Role};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{EmptyBody, Json, OptionalJson};
use crate::service::paging::PageParams;
use crate::service::record_views;
use crate::service::service_records::{self, Correction, Decision, ListFilter, PaperEntry};
use crate::service::teams;
use crate::state::AppState;
use crate::views::{HistoryEntry, Page, Ranked, ServiceRecordView};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(create_record)
        .service(list_records)
        .service(get_record)
        .service(record_history)
        .service(approve_record)
        .service(reject_record)
        .service(correct_record);
}

#[derive(Deserialize, ToSchema)]
pub struct PaperRecordBody {
    volunteer_id: Uuid,
    request_id: Uuid,
    started_at: DateTime<FixedOffset>,
    ended_at: DateTime<FixedOffset>,
    #[schema(max_length = 500)]
    note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct RejectBody {
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CorrectionBody {
    started_at: DateTime<FixedOffset>,
    ended_at: DateTime<FixedOffset>,
    #[schema(max_length = 500)]
    note: Option<String>,
    /// Why the approved record was wrong.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

#[derive(Deserialize, IntoParams)]
pub struct RecordFilter {
    volunteer_id: Option<Uuid>,
    status: Option<RecordStatus>,
    /// Inclusive local date (`TIME_ZONE`), matched against the start.
    from: Option<NaiveDate>,
    /// Inclusive local date.
    to: Option<NaiveDate>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// `db`: the writer after a write (its own transaction's result), the
/// readers for a plain GET.
async fn respond(
    state: &AppState,
    db: &DatabaseConnection,
    me: &AuthUser,
    record: entity::service_record::Model,
    mut response: actix_web::HttpResponseBuilder,
) -> AppResult<HttpResponse> {
    let view = record_views::one(db, record, me, &state.settings).await?;
    Ok(response.json(view))
}

/// Enters a record from a paper sign-in sheet (caseworkers, managers).
#[utoipa::path(tag = "service records", security(("bearer" = [])), request_body = PaperRecordBody, responses(
    (status = 201, body = ServiceRecordView),
    (status = 409, description = "overlapping_record", body = ErrorBody),
    (status = 422, description = "record_in_future, record_too_long, invalid_time_range, not_team_member, unknown volunteer or request", body = ErrorBody),
))]
#[post("/service-records")]
async fn create_record(
    state: web::Data<AppState>,
    staff: Staff,
    body: Json<PaperRecordBody>,
) -> AppResult<HttpResponse> {
    let body = body.0;
    let note = text::clean_optional(body.note.as_deref(), 500)
        .map_err(|e| AppError::invalid("note", e))?;
    plausible_span(&body.started_at, &body.ended_at)?;
    let entry = PaperEntry {
        volunteer_id: body.volunteer_id,
        request_id: body.request_id,
        started_at: body.started_at.timestamp(),
        ended_at: body.ended_at.timestamp(),
        note,
    };
    let record = service_records::create_paper(&state.db, entry, staff.0.id).await?;
    respond(&state, &state.db, &staff.0, record, HttpResponse::Created()).await
}

/// Records, newest first. Volunteers see their own (and, as a team leader,
/// their team's); caseworkers and managers see all.
#[utoipa::path(tag = "service records", security(("bearer" = [])), params(RecordFilter), responses(
    (status = 200, body = Page<ServiceRecordView>),
))]
#[get("/service-records")]
async fn list_records(
    state: web::Data<AppState>,
    me: AuthUser,
    query: web::Query<RecordFilter>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    let (from, until) = local_range(query.from, query.to, state.settings.time_zone)
        .map_err(|e| AppError::invalid("to", e))?;
    let (volunteer_id, or_teams) = if me.role == Role::Volunteer {
        if query.volunteer_id.is_some_and(|v| v != me.id) {
            return Err(AppError::Forbidden);
        }
        (Some(me.id), teams::led_by(&state.reads, me.id).await?)
    } else {
        (query.volunteer_id, Vec::new())
    };
    let filter = ListFilter {
        volunteer_id,
        or_teams,
        status: query.status,
        from,
        until,
    };
    let (rows, next_cursor) = service_records::list(&state.reads, filter, page).await?;
    let items = record_views::views(&state.reads, &rows, &me, &state.settings).await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

async fn readable(
    state: &AppState,
    me: &AuthUser,
    id: Uuid,
) -> AppResult<entity::service_record::Model> {
    let record = service_records::find(&state.reads, id).await?;
    if !service_records::may_read(&state.reads, &record, me).await? {
        return Err(AppError::NotFound);
    }
    Ok(record)
}

/// One record.
#[utoipa::path(tag = "service records", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ServiceRecordView),
))]
#[get("/service-records/{id}")]
async fn get_record(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let record = readable(&state, &me, *id).await?;
    respond(&state, &state.reads, &me, record, HttpResponse::Ok()).await
}

/// Every change to a record, oldest first: who, when and why.
#[utoipa::path(tag = "service records", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = Ranked<HistoryEntry>),
))]
#[get("/service-records/{id}/history")]
async fn record_history(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let record = readable(&state, &me, *id).await?;
    let tz = state.settings.time_zone;
    let items: Vec<HistoryEntry> = service_records::history(&state.reads, record.id)
        .await?
        .into_iter()
        .map(|e| HistoryEntry::build(e, tz))
        .collect();
    Ok(HttpResponse::Ok().json(Ranked { items }))
}

/// Approves a pending record: the request's caseworker, the team's leader
/// or a manager; never one's own record nor one they entered (403
/// `own_entry`), nor a visit to a left-behind child or a disabled resident
/// that the volunteer's check does not cover (422 `volunteer_not_vetted`).
#[utoipa::path(tag = "service records", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body(content = Option<EmptyBody>), responses(
    (status = 200, body = ServiceRecordView), (status = 403, description = "own_entry or not a reviewer", body = ErrorBody),
    (status = 409, description = "invalid_status", body = ErrorBody),
    (status = 422, description = "volunteer_not_vetted: the volunteer's check does not cover the visit's day", body = ErrorBody),
))]
#[post("/service-records/{id}/approve")]
async fn approve_record(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    _: OptionalJson<EmptyBody>,
) -> AppResult<HttpResponse> {
    let record =
        service_records::review(&state.db, &state.settings, *id, &me, Decision::Approve).await?;
    respond(&state, &state.db, &me, record, HttpResponse::Ok()).await
}

/// Rejects a pending record with a reason; the same people as approval.
#[utoipa::path(tag = "service records", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = RejectBody, responses(
    (status = 200, body = ServiceRecordView),
    (status = 403, description = "own_entry or not a reviewer", body = ErrorBody), (status = 409, description = "invalid_status", body = ErrorBody),
))]
#[post("/service-records/{id}/reject")]
async fn reject_record(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: Json<RejectBody>,
) -> AppResult<HttpResponse> {
    let reason = text::clean(&body.0.reason, 500).map_err(|e| AppError::invalid("reason", e))?;
    let record = service_records::review(
        &state.db,
        &state.settings,
        *id,
        &me,
        Decision::Reject(reason),
    )
    .await?;
    respond(&state, &state.db, &me, record, HttpResponse::Ok()).await
}

/// Corrects an approved record: a new pending record that supersedes it.
/// The approved record is never edited; the history shows both.
#[utoipa::path(tag = "service records", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CorrectionBody, responses(
    (status = 201, body = ServiceRecordView),
    (status = 403, description = "own_entry: one's own record", body = ErrorBody),
    (status = 409, description = "invalid_status, correction_pending, already_corrected (only the newest version is corrected) or overlapping_record", body = ErrorBody),
))]
#[post("/service-records/{id}/corrections")]
async fn correct_record(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: Json<CorrectionBody>,
) -> AppResult<HttpResponse> {
    let body = body.0;
    let reason = text::clean(&body.reason, 500).map_err(|e| AppError::invalid("reason", e))?;
    let note = text::clean_optional(body.note.as_deref(), 500)
        .map_err(|e| AppError::invalid("note", e))?;
    plausible_span(&body.started_at, &body.ended_at)?;
    let correction = Correction {
        started_at: body.started_at.timestamp(),
        ended_at: body.ended_at.timestamp(),
        note,
        reason,
    };
    let record = service_records::correct(&state.db, *id, &me, correction).await?;
    respond(&state, &state.db, &me, record, HttpResponse::Created()).await
}

fn plausible_span(
    started_at: &chrono::DateTime<chrono::FixedOffset>,
    ended_at: &chrono::DateTime<chrono::FixedOffset>,
) -> AppResult<()> {
    calendar::check_plausible(started_at.timestamp())
        .map_err(|e| AppError::invalid("started_at", e))?;
    calendar::check_plausible(ended_at.timestamp()).map_err(|e| AppError::invalid("ended_at", e))
}

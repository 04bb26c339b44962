//! Volunteers' calendar feeds: `POST /api/v1/me/calendar` mints the secret
//! address, `GET /calendar/<token>.ics` (outside `/api/v1`, where
//! `PUBLIC_BASE_URL` points) serves it to phone calendars with no other
//! credential. Managers end a person's address with
//! `DELETE /api/v1/users/{id}/calendar`.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Manager, Volunteer};
use crate::disclosure;
use crate::domain::calendar_feed::{render, token_of};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::service::calendar_feeds;
use crate::state::AppState;
use crate::views::CalendarFeedView;

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(create_calendar_feed).service(end_calendar_feed);
}

/// Ends a person's calendar address (managers, admins): it answers 404
/// from now on, as after a password change; they may make a new one.
#[utoipa::path(tag = "calendar", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204),
))]
#[delete("/users/{id}/calendar")]
async fn end_calendar_feed(
    state: web::Data<AppState>,
    _: Manager,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    calendar_feeds::end_for(&state.db, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new secret address of the caller's calendar; the previous one stops
/// working (404).
#[utoipa::path(tag = "calendar", security(("bearer" = [])), responses(
    (status = 201, body = CalendarFeedView),
))]
#[post("/me/calendar")]
async fn create_calendar_feed(
    state: web::Data<AppState>,
    me: Volunteer,
) -> AppResult<HttpResponse> {
    let token = calendar_feeds::rotate(&state.db, me.0.id).await?;
    let url = format!("{}/calendar/{token}.ics", state.settings.public_base_url);
    Ok(HttpResponse::Created().json(CalendarFeedView { url }))
}

/// The volunteer's requests from 30 days back as RFC 5545 `text/calendar`:
/// one `VEVENT` each, with the address (the volunteer is signed up) and
/// `STATUS:CANCELLED` for a cancelled request. The address is the
/// credential: an unknown or replaced one is 404.
#[utoipa::path(tag = "calendar", params(("file" = String, Path, description = "`<token>.ics`")), responses(
    (status = 200, description = "the feed", content_type = "text/calendar"),
    (status = 404, description = "unknown or replaced address", body = ErrorBody),
))]
#[get("/calendar/{file}")]
pub async fn calendar_feed(
    state: web::Data<AppState>,
    file: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let token = token_of(&file).ok_or(AppError::NotFound)?;
    let (owner, events, residents) = calendar_feeds::feed(
        &state.db,
        token,
        state.settings.now(),
        state.settings.time_zone,
    )
    .await?;
    // The residents' addresses leave the server: logged as the owner's.
    disclosure::log_residents(&state, &req, &owner, &residents).await?;
    let name = format!("{} 志愿服务", state.settings.community_name);
    let body = render(&events, &name, state.settings.time_zone.name());
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(body))
}

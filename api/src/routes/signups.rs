//! Sign-ups and phone check-in/out on a request.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{AuthUser, Volunteer};
use crate::domain::geo::Coordinates;
use crate::domain::vocab::MemberRole;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::OptionalJson;
use crate::service::record_views;
use crate::service::service_records;
use crate::service::signups;
use crate::service::{attendance, requests, teams};
use crate::state::AppState;
use crate::validate::Checker;
use crate::views::{Ranked, ServiceRecordView, SignupListItem, SignupView};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(sign_up)
        .service(list_signups)
        .service(withdraw)
        .service(check_in)
        .service(check_out);
}

/// Where the phone is, if the volunteer lets it say.
#[derive(Deserialize, ToSchema, Default)]
pub struct PositionBody {
    #[schema(minimum = -90.0, maximum = 90.0)]
    lat: Option<f64>,
    #[schema(minimum = -180.0, maximum = 180.0)]
    lng: Option<f64>,
}

impl PositionBody {
    fn parse(self) -> AppResult<Option<Coordinates>> {
        match (self.lat, self.lng) {
            (None, None) => Ok(None),
            (Some(lat), Some(lng)) => {
                let mut check = Checker::new();
                let at = check.coordinates("position", Coordinates { lat, lng });
                check.finish(at).map(Some)
            }
            _ => Err(AppError::invalid("lat", "lat 与 lng 须同时提供")),
        }
    }
}

/// Signs the caller up for a request assigned to one of their teams.
#[utoipa::path(tag = "sign-ups", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 201, body = SignupView),
    (status = 403, description = "not assigned to a team of the caller", body = ErrorBody),
    (status = 409, description = "request_full, already_signed_up or invalid_status", body = ErrorBody),
))]
#[post("/requests/{id}/signups")]
async fn sign_up(
    state: web::Data<AppState>,
    me: Volunteer,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let done = signups::sign_up(&state.db, &state.settings, *id, me.0.id).await?;
    Ok(HttpResponse::Created().json(done.view))
}

/// Everyone who signed up for a request and how it stands: `signed_up`,
/// `withdrawn`, `no_show` or `attended` (caseworkers, managers, the
/// team's leader). Team members: 403; others may not know it exists: 404.
#[utoipa::path(tag = "sign-ups", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = Ranked<SignupListItem>),
    (status = 403, description = "a member of the team who does not lead it", body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
#[get("/requests/{id}/signups")]
async fn list_signups(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let request = requests::find(&state.reads, *id).await?;
    if !me.role.is_staff() {
        let role = match request.team_id {
            Some(team) => teams::membership(&state.reads, team, me.id).await?,
            None => None,
        };
        match role {
            Some(MemberRole::Leader) => {}
            Some(MemberRole::Member) => return Err(AppError::Forbidden),
            None => return Err(AppError::NotFound),
        }
    }
    let items = attendance::signups_of(&state.reads, &request, state.settings.time_zone).await?;
    Ok(HttpResponse::Ok().json(Ranked { items }))
}

/// Withdraws the caller's sign-up, freeing the place.
#[utoipa::path(tag = "sign-ups", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204),
    (status = 404, description = "not signed up", body = ErrorBody),
    (status = 409, description = "already_checked_in", body = ErrorBody),
))]
#[delete("/requests/{id}/signups/me")]
async fn withdraw(
    state: web::Data<AppState>,
    me: Volunteer,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    signups::withdraw(&state.db, &state.settings, *id, me.0.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Checks in at the resident's; `lat`/`lng` are optional.
#[utoipa::path(tag = "sign-ups", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body(content = Option<PositionBody>), responses(
    (status = 201, body = ServiceRecordView),
    (status = 403, description = "not signed up, or volunteer_not_vetted: the check no longer covers the visit", body = ErrorBody),
    (status = 409, description = "overlapping_record or invalid_status", body = ErrorBody),
))]
#[post("/requests/{id}/check-in")]
async fn check_in(
    state: web::Data<AppState>,
    me: Volunteer,
    id: web::Path<Uuid>,
    body: OptionalJson<PositionBody>,
) -> AppResult<HttpResponse> {
    let at = body.0.parse()?;
    let record =
        service_records::check_in(&state.db, *id, me.0.id, at, state.settings.time_zone).await?;
    let view = record_views::one(&state.db, record, &me.0, &state.settings).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Checks out; the record becomes `pending` with its whole minutes.
#[utoipa::path(tag = "sign-ups", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body(content = Option<PositionBody>), responses(
    (status = 200, body = ServiceRecordView),
    (status = 409, description = "not_checked_in", body = ErrorBody),
    (status = 422, description = "record_too_long", body = ErrorBody),
))]
#[post("/requests/{id}/check-out")]
async fn check_out(
    state: web::Data<AppState>,
    me: Volunteer,
    id: web::Path<Uuid>,
    body: OptionalJson<PositionBody>,
) -> AppResult<HttpResponse> {
    let at = body.0.parse()?;
    let record = service_records::check_out(&state.db, *id, me.0.id, at).await?;
    let view = record_views::one(&state.db, record, &me.0, &state.settings).await?;
    Ok(HttpResponse::Ok().json(view))
}

//! Help requests: posting, reading (with the resident masked unless the
//! reader may see more), explained matches, assignment and the status
//! changes; and a volunteer's recommended requests.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{AuthUser, Staff, Volunteer};
use crate::disclosure;
use crate::domain::geo::Coordinates;
use crate::domain::vocab::{RequestStatus, ServiceCategory, Urgency};
use crate::domain::{calendar, text};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{EmptyBody, Json, OptionalJson};
use crate::read_cache;
use crate::service::paging::PageParams;
use crate::service::request_edits::{self, RequestEdit};
use crate::service::requests::{self, ListFilter, NewRequest, Reader, Served};
use crate::service::{matches, recommendations};
use crate::state::AppState;
use crate::validate::Checker;
use crate::views::{MatchView, Page, Ranked, RecommendationView, RequestView};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(create_request)
        .service(list_requests)
        .service(recommended_requests)
        .service(get_request)
        .service(request_matches)
        .service(edit_request)
        .service(assign_request)
        .service(cancel_request)
        .service(complete_request);
}

/// A visit gives `resident_id`; a community activity (no resident: a
/// service stall, a clean-up, a knowledge session) gives `location` and
/// `address` instead.
#[derive(Deserialize, ToSchema)]
pub struct CreateRequestBody {
    #[serde(default)]
    resident_id: Option<Uuid>,
    /// A community activity's public place (without `resident_id`).
    #[serde(default)]
    location: Option<Coordinates>,
    /// A community activity's address (without `resident_id`).
    #[serde(default)]
    #[schema(max_length = 200)]
    address: Option<String>,
    category: ServiceCategory,
    #[schema(min_length = 1, max_length = 100)]
    title: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    description: String,
    starts_at: DateTime<FixedOffset>,
    ends_at: DateTime<FixedOffset>,
    /// 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    volunteers_needed: i64,
    #[serde(default = "normal")]
    urgency: Urgency,
}

fn normal() -> Urgency {
    Urgency::Normal
}

/// Any of the fields; those left out keep their value.
#[derive(Deserialize, ToSchema)]
pub struct EditRequestBody {
    #[schema(min_length = 1, max_length = 100)]
    title: Option<String>,
    #[schema(max_length = 2000)]
    description: Option<String>,
    starts_at: Option<DateTime<FixedOffset>>,
    ends_at: Option<DateTime<FixedOffset>>,
    /// 1 to 1000, and never below the sign-ups already taken.
    #[schema(minimum = 1, maximum = 1000)]
    volunteers_needed: Option<i64>,
    urgency: Option<Urgency>,
}

/// Each given field checked as `POST /requests` checks it; the window as
/// a whole is checked against the stored times by the service.
fn request_edit(body: EditRequestBody) -> AppResult<RequestEdit> {
    let mut check = Checker::new();
    let title = match &body.title {
        Some(title) => check.check("title", text::clean(title, 100)).map(Some),
        None => Some(None),
    };
    let description = match &body.description {
        Some(d) => check
            .check("description", text::clean_optional(Some(d), 2000))
            .map(|d| Some(d.unwrap_or_default())),
        None => Some(None),
    };
    for (field, at) in [("starts_at", &body.starts_at), ("ends_at", &body.ends_at)] {
        if let Some(Err(e)) = at.map(|t| calendar::check_plausible(t.timestamp())) {
            check.fail(field, e);
        }
    }
    let volunteers_needed = match body.volunteers_needed {
        Some(n) if (1..=1000).contains(&n) => Some(Some(n as i32)),
        Some(_) => {
            check.fail("volunteers_needed", "所需志愿者人数须在 1 到 1000 之间");
            None
        }
        None => Some(None),
    };
    let values = (|| {
        Some(RequestEdit {
            title: title?,
            description: description?,
            starts_at: body.starts_at.map(|t| t.timestamp()),
            ends_at: body.ends_at.map(|t| t.timestamp()),
            volunteers_needed: volunteers_needed?,
            urgency: body.urgency,
        })
    })();
    check.finish(values)
}

#[derive(Deserialize, ToSchema)]
pub struct AssignBody {
    team_id: Uuid,
}

#[derive(Deserialize, IntoParams)]
pub struct RequestFilter {
    status: Option<RequestStatus>,
    category: Option<ServiceCategory>,
    /// The visits of one pairing.
    pairing_id: Option<Uuid>,
    /// The requests a campaign posted.
    campaign_id: Option<Uuid>,
    /// One resident's requests.
    resident_id: Option<Uuid>,
    /// Starting on or after this day (`YYYY-MM-DD`, the community's zone).
    from: Option<NaiveDate>,
    /// Starting on or before this day (`YYYY-MM-DD`, the community's zone).
    to: Option<NaiveDate>,
    limit: Option<u64>,
    cursor: Option<String>,
}

fn new_request(body: CreateRequestBody) -> AppResult<NewRequest> {
    let mut check = Checker::new();
    let title = check.check("title", text::clean(&body.title, 100));
    let description = check.check(
        "description",
        text::clean_optional(Some(&body.description), 2000),
    );
    let (starts_at, ends_at) = (body.starts_at.timestamp(), body.ends_at.timestamp());
    for (field, at) in [("starts_at", starts_at), ("ends_at", ends_at)] {
        if let Err(e) = calendar::check_plausible(at) {
            check.fail(field, e);
        }
    }
    if let Err(e) = calendar::check_request_window(starts_at, ends_at) {
        check.fail("ends_at", e);
    }
    if !(1..=1000).contains(&body.volunteers_needed) {
        check.fail("volunteers_needed", "所需志愿者人数须在 1 到 1000 之间");
    }
    let served = served(&mut check, body.resident_id, body.location, body.address);
    check.finish(
        title
            .zip(description)
            .zip(served)
            .map(|((title, description), served)| NewRequest {
                served,
                category: body.category,
                title,
                description: description.unwrap_or_default(),
                starts_at,
                ends_at,
                volunteers_needed: body.volunteers_needed as i32,
                urgency: body.urgency,
            }),
    )
}

/// A visit to `resident_id`, or a community activity at `location` and
/// `address`; never both, so nobody wonders which place counts.
fn served(
    check: &mut Checker,
    resident_id: Option<Uuid>,
    location: Option<Coordinates>,
    address: Option<String>,
) -> Option<Served> {
    match (resident_id, location, address) {
        (Some(id), None, None) => Some(Served::Resident(id)),
        (Some(_), location, address) => {
            let field = if location.is_some() {
                "location"
            } else {
                "address"
            };
            check.fail(field, "上门服务的地点即服务对象的住址，不能另给地点");
            let _ = address;
            None
        }
        (None, location, address) => {
            let place = match location {
                Some(raw) => check.coordinates("location", raw),
                None => {
                    check.fail("location", "社区活动须给出地点（或给出 resident_id）");
                    None
                }
            };
            let address = match address {
                Some(a) => check.check("address", text::clean(&a, 200)),
                None => {
                    check.fail("address", "社区活动须给出地址（或给出 resident_id）");
                    None
                }
            };
            place
                .zip(address)
                .map(|(place, address)| Served::Activity { place, address })
        }
    }
}

/// Posts a help request for a resident, or a community activity without
/// one (caseworkers, managers).
#[utoipa::path(tag = "requests", security(("bearer" = [])), request_body = CreateRequestBody, responses(
    (status = 201, body = RequestView),
))]
#[post("/requests")]
async fn create_request(
    state: web::Data<AppState>,
    staff: Staff,
    body: Json<CreateRequestBody>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let request =
        requests::create(&state.db, &state.settings, new_request(body.0)?, staff.0.id).await?;
    let view = view_of(&state, &staff, &request, &req).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Lists requests, newest first. Volunteers see open requests and those
/// of their teams.
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(RequestFilter), responses(
    (status = 200, body = Page<RequestView>),
))]
#[get("/requests")]
async fn list_requests(
    state: web::Data<AppState>,
    me: AuthUser,
    query: web::Query<RequestFilter>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    let (starts_from, starts_before) =
        calendar::local_range(query.from, query.to, state.settings.time_zone)
            .map_err(|e| AppError::invalid("to", e))?;
    let filter = ListFilter {
        status: query.status,
        category: query.category,
        pairing_id: query.pairing_id,
        campaign_id: query.campaign_id,
        resident_id: query.resident_id,
        starts_from,
        starts_before,
    };
    let load = || async {
        // The caller's sign-ups among this page (read with it) decide
        // what each view shows.
        let (rows, next_cursor) = requests::list(&state.reads, &me, filter, page).await?;
        let reader = Reader::from_rows(&me, &rows);
        let items = requests::views_with(&reader, &rows, state.settings.time_zone);
        Ok(Page { items, next_cursor })
    };
    read_cache::json(&state, &me, &req, load).await
}

/// One request. The resident's address, phone and location appear only
/// for its caseworker, managers and volunteers signed up for it.
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = RequestView),
))]
#[get("/requests/{id}")]
async fn get_request(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let load = || async {
        let row = requests::find_for(&state.reads, &me, *id).await?;
        let reader = Reader::from_rows(&me, std::slice::from_ref(&row));
        // A request the caller may not see does not exist for them.
        if !reader.may_see(&row.request) {
            return Err(AppError::NotFound);
        }
        Ok(requests::view_with(
            &reader,
            &row.request,
            row.resident.as_ref(),
            state.settings.time_zone,
        ))
    };
    read_cache::json(&state, &me, &req, load).await
}

/// Teams that pass the hard rules, best first, each with its score and
/// reasons (caseworkers, managers).
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = Ranked<MatchView>),
))]
#[get("/requests/{id}/matches")]
async fn request_matches(
    state: web::Data<AppState>,
    _: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (request, resident) = requests::find_with_resident(&state.reads, *id).await?;
    let tz = state.settings.time_zone;
    let items = matches::for_request(&state.reads, &request, resident.as_ref(), tz).await?;
    Ok(HttpResponse::Ok().json(Ranked { items }))
}

/// The request as `staff` sees it after a change, logged when it carries
/// the resident's personal data.
async fn view_of(
    state: &AppState,
    staff: &Staff,
    request: &entity::help_request::Model,
    req: &HttpRequest,
) -> AppResult<RequestView> {
    let reader = Reader::from_rows(&staff.0, &[]);
    let view = requests::view_for(&state.db, &reader, request, state.settings.time_zone).await?;
    disclosure::log(state, req, &staff.0, &view).await?;
    Ok(view)
}

async fn respond(
    state: &AppState,
    staff: &Staff,
    request: &entity::help_request::Model,
    req: &HttpRequest,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(view_of(state, staff, request, req).await?))
}

/// Edits a request while nobody has checked in (its caseworker, managers).
/// `volunteers_needed` never drops below the sign-ups taken (409
/// `below_signups`); a new time window emits `request.updated`.
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = EditRequestBody, responses(
    (status = 200, body = RequestView),
    (status = 403, description = "not_your_request", body = ErrorBody),
    (status = 409, description = "invalid_status or below_signups", body = ErrorBody),
))]
#[patch("/requests/{id}")]
async fn edit_request(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<EditRequestBody>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    // Another caseworker hears 403 before anything about the body.
    requests::find_changeable(&state.db, *id, &staff.0).await?;
    let edit = request_edit(body.0)?;
    let request = request_edits::edit(&state.db, &state.settings, *id, &staff.0, edit).await?;
    respond(&state, &staff, &request, &req).await
}

/// Assigns a team (its caseworker, managers; another caseworker: 403
/// `not_your_request`); an assigned request may be re-assigned while nobody
/// has checked in. Left-behind children and disabled residents need a
/// vetted team (422 `team_not_vetted`).
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = AssignBody, responses(
    (status = 200, body = RequestView),
    (status = 409, body = ErrorBody),
    (status = 422, description = "team_not_vetted or an unknown team", body = ErrorBody),
))]
#[post("/requests/{id}/assign")]
async fn assign_request(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<AssignBody>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    requests::find_changeable(&state.db, *id, &staff.0).await?;
    let request = requests::assign(&state.db, &state.settings, *id, body.0.team_id).await?;
    respond(&state, &staff, &request, &req).await
}

/// Cancels an open or assigned request (its caseworker, managers);
/// otherwise 409.
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body(content = Option<EmptyBody>), responses(
    (status = 200, body = RequestView),
    (status = 409, description = "invalid_status", body = ErrorBody),
))]
#[post("/requests/{id}/cancel")]
async fn cancel_request(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    _: OptionalJson<EmptyBody>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    requests::find_changeable(&state.db, *id, &staff.0).await?;
    let from = [RequestStatus::Open, RequestStatus::Assigned];
    let request =
        requests::transition(&state.db, *id, &from, RequestStatus::Cancelled, "取消").await?;
    respond(&state, &staff, &request, &req).await
}

/// Completes an assigned or in-progress request (its caseworker,
/// managers); otherwise 409.
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body(content = Option<EmptyBody>), responses(
    (status = 200, body = RequestView),
    (status = 409, description = "invalid_status", body = ErrorBody),
))]
#[post("/requests/{id}/complete")]
async fn complete_request(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    _: OptionalJson<EmptyBody>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    requests::find_changeable(&state.db, *id, &staff.0).await?;
    let from = [RequestStatus::Assigned, RequestStatus::InProgress];
    let request =
        requests::transition(&state.db, *id, &from, RequestStatus::Completed, "完成").await?;
    respond(&state, &staff, &request, &req).await
}

/// The requests this volunteer can sign up for now, best first for them.
#[utoipa::path(tag = "requests", security(("bearer" = [])), responses(
    (status = 200, body = Ranked<RecommendationView>),
))]
#[get("/me/recommended-requests")]
async fn recommended_requests(
    state: web::Data<AppState>,
    volunteer: Volunteer,
) -> AppResult<HttpResponse> {
    let items =
        recommendations::for_volunteer(&state.reads, &volunteer.0, state.settings.time_zone)
            .await?;
    Ok(HttpResponse::Ok().json(Ranked { items }))
}

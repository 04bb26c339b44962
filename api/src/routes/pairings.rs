//! Pairings (结对帮扶): a resident visited by one team on a schedule; each
//! visit is an ordinary request carrying `pairing_id`.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{AuthUser, Staff};
use crate::disclosure;
use crate::domain::recurrence::{Rule, check_starts_on};
use crate::domain::text;
use crate::domain::vetting::local_day;
use crate::domain::vocab::ServiceCategory;
use crate::error::{AppResult, ErrorBody};
use crate::extract::{EmptyBody, Json, OptionalJson};
use crate::service::now;
use crate::service::paging::PageParams;
use crate::service::pairings::{self, ListFilter, NewPairing, PairingEdit};
use crate::state::AppState;
use crate::validate::Checker;
use crate::views::{Page, PairingView};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(create_pairing)
        .service(list_pairings)
        .service(get_pairing)
        .service(edit_pairing)
        .service(end_pairing);
}

#[derive(Deserialize, ToSchema)]
pub struct CreatePairingBody {
    resident_id: Uuid,
    team_id: Uuid,
    category: ServiceCategory,
    #[schema(min_length = 1, max_length = 100)]
    title: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    description: String,
    /// RFC 5545 recurrence rule in ASCII, e.g. `FREQ=WEEKLY;BYDAY=TU,FR`
    /// (422 `invalid_rrule` when it cannot be read, or would not read back
    /// as the same rule once stored).
    rrule: String,
    /// Local wall-clock start of each visit, `HH:MM`.
    #[schema(example = "09:30")]
    start_time: String,
    /// 1 to 1440.
    #[schema(minimum = 1, maximum = 1440)]
    duration_minutes: i64,
    /// 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    volunteers_needed: i64,
    /// The first day the rule counts from, `YYYY-MM-DD`: from a year
    /// before to two years after today (422 naming `starts_on`).
    starts_on: NaiveDate,
    /// Active members of the team, signed up to every visit.
    #[serde(default)]
    regular_volunteer_ids: Vec<Uuid>,
}

/// Any of the fields; those left out keep their value.
#[derive(Deserialize, ToSchema)]
pub struct EditPairingBody {
    team_id: Option<Uuid>,
    rrule: Option<String>,
    #[schema(example = "09:30")]
    start_time: Option<String>,
    #[schema(minimum = 1, maximum = 1440)]
    duration_minutes: Option<i64>,
    #[schema(minimum = 1, maximum = 1000)]
    volunteers_needed: Option<i64>,
    #[schema(min_length = 1, max_length = 100)]
    title: Option<String>,
    #[schema(max_length = 2000)]
    description: Option<String>,
    regular_volunteer_ids: Option<Vec<Uuid>>,
}

#[derive(Deserialize, IntoParams)]
pub struct PairingFilter {
    resident_id: Option<Uuid>,
    team_id: Option<Uuid>,
    /// `true`: running pairings; `false`: ended ones.
    active: Option<bool>,
    limit: Option<u64>,
    cursor: Option<String>,
}

fn start_time(check: &mut Checker, raw: &str) -> Option<NaiveTime> {
    let parsed = NaiveTime::parse_from_str(raw.trim(), "%H:%M").ok();
    if parsed.is_none() {
        check.fail("start_time", "开始时间须为 HH:MM");
    }
    parsed
}

fn in_range(check: &mut Checker, field: &str, value: i64, max: i64, message: &str) -> Option<i32> {
    if (1..=max).contains(&value) {
        Some(value as i32)
    } else {
        check.fail(field, message);
        None
    }
}

const MINUTES: &str = "时长须在 1 到 1440 分钟之间";
const NEEDED: &str = "所需志愿者人数须在 1 到 1000 之间";

/// `today`: the community's local date, which `starts_on` is held to.
fn new_pairing(body: CreatePairingBody, rule: Rule, today: NaiveDate) -> AppResult<NewPairing> {
    let mut check = Checker::new();
    let starts_on = check.check("starts_on", check_starts_on(body.starts_on, today));
    let title = check.check("title", text::clean(&body.title, 100));
    let description = check.check(
        "description",
        text::clean_optional(Some(&body.description), 2000),
    );
    let start = start_time(&mut check, &body.start_time);
    let minutes = in_range(
        &mut check,
        "duration_minutes",
        body.duration_minutes,
        1440,
        MINUTES,
    );
    let needed = in_range(
        &mut check,
        "volunteers_needed",
        body.volunteers_needed,
        1000,
        NEEDED,
    );
    let values = (|| {
        Some(NewPairing {
            resident_id: body.resident_id,
            team_id: body.team_id,
            category: body.category,
            title: title?,
            description: description?.unwrap_or_default(),
            rule,
            start_time: start?,
            duration_minutes: minutes?,
            volunteers_needed: needed?,
            starts_on: starts_on?,
            regular_volunteer_ids: body.regular_volunteer_ids,
        })
    })();
    check.finish(values)
}

fn pairing_edit(body: EditPairingBody, rule: Option<Rule>) -> AppResult<PairingEdit> {
    let mut check = Checker::new();
    let title = body
        .title
        .as_deref()
        .map(|t| check.check("title", text::clean(t, 100)));
    let description = body.description.as_deref().map(|d| {
        check
            .check("description", text::clean_optional(Some(d), 2000))
            .map(Option::unwrap_or_default)
    });
    let start = body
        .start_time
        .as_deref()
        .map(|raw| start_time(&mut check, raw));
    let minutes = body
        .duration_minutes
        .map(|m| in_range(&mut check, "duration_minutes", m, 1440, MINUTES));
    let needed = body
        .volunteers_needed
        .map(|n| in_range(&mut check, "volunteers_needed", n, 1000, NEEDED));
    // Each `Option<Option<_>>`: outer = given, inner = valid.
    let values = (|| {
        Some(PairingEdit {
            team_id: body.team_id,
            rule,
            start_time: start.map(|s| s.ok_or(())).transpose().ok()?,
            duration_minutes: minutes.map(|m| m.ok_or(())).transpose().ok()?,
            volunteers_needed: needed.map(|n| n.ok_or(())).transpose().ok()?,
            title: title.map(|t| t.ok_or(())).transpose().ok()?,
            description: description.map(|d| d.ok_or(())).transpose().ok()?,
            regular_volunteer_ids: body.regular_volunteer_ids,
        })
    })();
    check.finish(values)
}

/// The pairings as `me` may see them, each with its continuity figures.
async fn views(
    state: &AppState,
    me: &AuthUser,
    rows: &[entity::pairing::Model],
) -> AppResult<Vec<PairingView>> {
    let (residents, figures) = pairings::details(&state.reads, rows, now()).await?;
    rows.iter()
        .map(|p| {
            let resident = residents
                .get(&p.resident_id)
                .ok_or_else(|| crate::error::AppError::internal("pairing without resident"))?;
            let full = me.role.is_manager() || p.caseworker_id == me.id;
            let figures = figures.get(&p.id).cloned().unwrap_or_default();
            Ok(PairingView::build(
                p,
                resident,
                full,
                &figures,
                state.settings.time_zone,
            ))
        })
        .collect()
}

/// One pairing as `me` sees it, logged when it carries personal data.
async fn view_of(
    state: &AppState,
    me: &AuthUser,
    pairing: &entity::pairing::Model,
    req: &HttpRequest,
) -> AppResult<PairingView> {
    let view = views(state, me, std::slice::from_ref(pairing))
        .await?
        .pop()
        .ok_or_else(|| crate::error::AppError::internal("no view"))?;
    disclosure::log(state, req, me, &view).await?;
    Ok(view)
}

/// Pairs a resident with a team on a schedule (caseworkers, managers);
/// its visits up to `PAIRING_HORIZON_DAYS` ahead exist as requests
/// assigned to the team when this answers.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), request_body = CreatePairingBody, responses(
    (status = 201, body = PairingView),
    (status = 422, description = "invalid_rrule, team_not_vetted, resident_inactive or an invalid field", body = ErrorBody),
))]
#[post("/pairings")]
async fn create_pairing(
    state: web::Data<AppState>,
    staff: Staff,
    body: Json<CreatePairingBody>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let tz = state.settings.time_zone;
    let rule = Rule::parse(&body.0.rrule, tz)?;
    let new = new_pairing(body.0, rule, local_day(state.settings.now(), tz))?;
    let pairing = pairings::create(&state.db, &state.settings, new, staff.0.id).await?;
    let view = view_of(&state, &staff.0, &pairing, &req).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Lists pairings, newest first: staff all, volunteers their teams'.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), params(PairingFilter), responses(
    (status = 200, body = Page<PairingView>),
))]
#[get("/pairings")]
async fn list_pairings(
    state: web::Data<AppState>,
    me: AuthUser,
    query: web::Query<PairingFilter>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    let filter = ListFilter {
        resident_id: query.resident_id,
        team_id: query.team_id,
        active: query.active,
    };
    let (rows, next_cursor) = pairings::list(&state.reads, &me, filter, page).await?;
    let page = Page {
        items: views(&state, &me, &rows).await?,
        next_cursor,
    };
    disclosure::log(&state, &req, &me, &page).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One pairing (staff; members of its team).
#[utoipa::path(tag = "pairings", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = PairingView),
))]
#[get("/pairings/{id}")]
async fn get_pairing(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let pairing = pairings::find_visible(&state.reads, *id, &me).await?;
    Ok(HttpResponse::Ok().json(view_of(&state, &me, &pairing, &req).await?))
}

/// Edits a pairing (its caseworker, managers; another caseworker: 403
/// `not_your_pairing`). Visits to come that nobody has signed up for are
/// made again from the new schedule; visits someone signed up for stay.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = EditPairingBody, responses(
    (status = 200, body = PairingView),
    (status = 403, description = "not_your_pairing", body = ErrorBody),
    (status = 409, description = "invalid_status: the pairing has ended", body = ErrorBody),
    (status = 422, description = "invalid_rrule, team_not_vetted or an invalid field", body = ErrorBody),
))]
#[patch("/pairings/{id}")]
async fn edit_pairing(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<EditPairingBody>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    pairings::find_changeable(&state.db, *id, &staff.0).await?;
    let rule = body
        .0
        .rrule
        .as_deref()
        .map(|r| Rule::parse(r, state.settings.time_zone))
        .transpose()?;
    let edit = pairing_edit(body.0, rule)?;
    let pairing = pairings::edit(&state.db, &state.settings, *id, edit).await?;
    Ok(HttpResponse::Ok().json(view_of(&state, &staff.0, &pairing, &req).await?))
}

/// Ends a pairing (its caseworker, managers): `active: false`, and its
/// visits not yet started are cancelled.
#[utoipa::path(tag = "pairings", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body(content = Option<EmptyBody>), responses(
    (status = 200, body = PairingView),
    (status = 403, description = "not_your_pairing", body = ErrorBody),
    (status = 409, description = "invalid_status: already ended", body = ErrorBody),
))]
#[post("/pairings/{id}/end")]
async fn end_pairing(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    _: OptionalJson<EmptyBody>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    pairings::find_changeable(&state.db, *id, &staff.0).await?;
    let pairing = pairings::end(&state.db, *id).await?;
    Ok(HttpResponse::Ok().json(view_of(&state, &staff.0, &pairing, &req).await?))
}

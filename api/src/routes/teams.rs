//! Teams: created by managers, listed for everyone, changed by managers
//! and their leaders, joined by volunteers themselves or added by managers.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{AuthUser, Manager};
use crate::domain::geo::Coordinates;
use crate::domain::text;
use crate::domain::vetting::Joining;
use crate::domain::vocab::{MemberRole, Role, ServiceCategory, TeamKind};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{Json, OptionalJson};
use crate::service::paging::PageParams;
use crate::service::teams::{self, MemberListing, NewTeam, TeamChanges};
use crate::state::AppState;
use crate::validate::Checker;
use crate::views::{MemberView, MembershipView, Page, TeamView};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(create_team)
        .service(list_teams)
        .service(get_team)
        .service(update_team)
        .service(add_member)
        .service(list_members);
}

#[derive(Deserialize, ToSchema)]
pub struct CreateTeamBody {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    kind: TeamKind,
    #[schema(min_items = 1)]
    service_categories: Vec<ServiceCategory>,
    location: Coordinates,
    /// Greater than 0, at most 100.
    #[schema(exclusive_minimum = 0.0, maximum = 100.0)]
    service_radius_km: f64,
    /// Vetted teams may serve left-behind children and disabled residents.
    #[serde(default)]
    vetted: bool,
}

/// Volunteers send `{}` (or nothing) to join themselves; managers name the
/// user and role.
#[derive(Deserialize, ToSchema, Default)]
pub struct AddMemberBody {
    user_id: Option<Uuid>,
    role: Option<MemberRole>,
}

/// Any of the fields of `POST /teams` but `kind`; those left out (or
/// `null`) stay as they are.
#[derive(Deserialize, ToSchema)]
pub struct UpdateTeamBody {
    #[schema(min_length = 1, max_length = 100)]
    name: Option<String>,
    #[schema(min_items = 1)]
    service_categories: Option<Vec<ServiceCategory>>,
    location: Option<Coordinates>,
    #[schema(exclusive_minimum = 0.0, maximum = 100.0)]
    service_radius_km: Option<f64>,
    /// Making a team vetted holds its members whose background check is
    /// not valid today as `pending`.
    vetted: Option<bool>,
}

/// Sorted, without repeats, and at least one.
fn categories(check: &mut Checker, mut categories: Vec<ServiceCategory>) -> Vec<ServiceCategory> {
    categories.sort_by_key(|c| c.code());
    categories.dedup();
    if categories.is_empty() {
        check.fail("service_categories", "至少提供一类服务");
    }
    categories
}

fn radius(check: &mut Checker, radius: f64) -> f64 {
    if !(radius.is_finite() && radius > 0.0 && radius <= 100.0) {
        check.fail("service_radius_km", "服务半径须大于 0、不超过 100 公里");
    }
    radius
}

fn new_team(body: CreateTeamBody) -> AppResult<NewTeam> {
    let mut check = Checker::new();
    let name = check.check("name", text::clean(&body.name, 100));
    let location = check.coordinates("location", body.location);
    let categories = categories(&mut check, body.service_categories);
    let radius = radius(&mut check, body.service_radius_km);
    check.finish(name.zip(location).map(|(name, location)| NewTeam {
        name,
        kind: body.kind,
        service_categories: categories,
        location,
        service_radius_km: radius,
        vetted: body.vetted,
    }))
}

/// Creates a team (managers, admins).
#[utoipa::path(tag = "teams", security(("bearer" = [])), request_body = CreateTeamBody, responses(
    (status = 201, body = TeamView),
))]
#[post("/teams")]
async fn create_team(
    state: web::Data<AppState>,
    _: Manager,
    body: Json<CreateTeamBody>,
) -> AppResult<HttpResponse> {
    let team = teams::create(&state.db, new_team(body.0)?).await?;
    Ok(HttpResponse::Created().json(TeamView::build(&team, state.settings.time_zone)))
}

/// Lists teams, newest first.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, body = Page<TeamView>),
))]
#[get("/teams")]
async fn list_teams(
    state: web::Data<AppState>,
    _: AuthUser,
    query: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let (rows, next_cursor) = teams::list(&state.reads, query.parse()?).await?;
    let items = rows
        .iter()
        .map(|t| TeamView::build(t, state.settings.time_zone))
        .collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// One team.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = TeamView),
))]
#[get("/teams/{id}")]
async fn get_team(
    state: web::Data<AppState>,
    _: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let team = teams::find(&state.reads, *id).await?;
    Ok(HttpResponse::Ok().json(TeamView::build(&team, state.settings.time_zone)))
}

/// The same checks as [`new_team`], on the fields given.
fn team_changes(body: UpdateTeamBody) -> AppResult<TeamChanges> {
    let mut check = Checker::new();
    let changes = TeamChanges {
        name: body
            .name
            .and_then(|name| check.check("name", text::clean(&name, 100))),
        location: body
            .location
            .and_then(|raw| check.coordinates("location", raw)),
        service_categories: body.service_categories.map(|c| categories(&mut check, c)),
        service_radius_km: body.service_radius_km.map(|r| radius(&mut check, r)),
        vetted: body.vetted,
    };
    check.finish(Some(changes))
}

/// Changes a team (managers, admins, its active leader). Whether a team
/// may serve left-behind children and disabled residents is loosened only
/// by managers: a leader may make their team vetted, not unvetted.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateTeamBody, responses(
    (status = 200, body = TeamView),
))]
#[patch("/teams/{id}")]
async fn update_team(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: Json<UpdateTeamBody>,
) -> AppResult<HttpResponse> {
    let team = teams::find(&state.db, *id).await?;
    if !teams::may_lead(&state.db, team.id, &me).await? {
        return Err(AppError::Forbidden);
    }
    let changes = team_changes(body.0)?;
    if changes.vetted == Some(false) && team.vetted && !me.role.is_manager() {
        return Err(AppError::Forbidden);
    }
    let tz = state.settings.time_zone;
    let team = teams::update(&state.db, &state.settings, team.id, changes).await?;
    Ok(HttpResponse::Ok().json(TeamView::build(&team, tz)))
}

/// Joins a team (a volunteer, themselves) or adds a member (a manager,
/// with `user_id` and `role`). A volunteer joining a vetted team is
/// `pending` until approved; a manager adds to a vetted team only people
/// whose background check is valid today (422 `volunteer_not_vetted`).
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body(content = Option<AddMemberBody>), responses(
    (status = 201, body = MembershipView),
    (status = 409, description = "already_member", body = ErrorBody),
))]
#[post("/teams/{id}/members")]
async fn add_member(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: OptionalJson<AddMemberBody>,
) -> AppResult<HttpResponse> {
    let body = body.0;
    let (user_id, role, joining) = match me.role {
        Role::Volunteer => {
            // Volunteers join as themselves and as plain members.
            if body.user_id.is_some_and(|u| u != me.id) || body.role == Some(MemberRole::Leader) {
                return Err(AppError::Forbidden);
            }
            (me.id, MemberRole::Member, Joining::Themselves)
        }
        role if role.is_manager() => {
            let user_id = body
                .user_id
                .ok_or_else(|| AppError::invalid("user_id", "请指定要加入的用户"))?;
            (
                user_id,
                body.role.unwrap_or(MemberRole::Member),
                Joining::ByManager,
            )
        }
        _ => return Err(AppError::Forbidden),
    };
    let tz = state.settings.time_zone;
    let membership = teams::add_member(&state.db, *id, user_id, role, joining, tz).await?;
    Ok(HttpResponse::Created().json(membership))
}

/// Members of a team: for its active members, managers and admins. Phone
/// numbers are whole for managers and masked for fellow members; pending
/// members are listed to the team's leader and managers only.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = Uuid, Path), PageParams), responses(
    (status = 200, body = Page<MemberView>),
))]
#[get("/teams/{id}/members")]
async fn list_members(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let team = teams::find(&state.reads, *id).await?;
    let role = teams::membership(&state.reads, team.id, me.id).await?;
    if !me.role.is_manager() && role.is_none() {
        return Err(AppError::Forbidden);
    }
    let page = query.parse()?;
    let shown = MemberListing {
        phones: me.role.is_manager(),
        pending: me.role.is_manager() || role == Some(MemberRole::Leader),
    };
    let tz = state.settings.time_zone;
    let (items, next_cursor) = teams::members(&state.reads, team.id, page, shown, tz).await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

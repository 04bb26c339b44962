//! Teams: created by managers, listed for everyone, joined by volunteers
//! themselves or added by managers.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{AuthUser, Manager};
use crate::domain::geo::Coordinates;
use crate::domain::text;
use crate::domain::vocab::{MemberRole, Role, ServiceCategory, TeamKind};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{Json, OptionalJson};
use crate::service::paging::PageParams;
use crate::service::teams::{self, NewTeam};
use crate::startup::AppState;
use crate::validate::Checker;
use crate::views::{MemberView, MembershipView, Page, TeamView};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(create_team)
        .service(list_teams)
        .service(get_team)
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

fn new_team(body: CreateTeamBody) -> AppResult<NewTeam> {
    let mut check = Checker::new();
    let name = check.check("name", text::clean(&body.name, 100));
    let location = check.coordinates("location", body.location);
    let mut categories = body.service_categories;
    categories.sort_by_key(|c| c.code());
    categories.dedup();
    if categories.is_empty() {
        check.fail("service_categories", "至少提供一类服务");
    }
    let radius = body.service_radius_km;
    if !(radius.is_finite() && radius > 0.0 && radius <= 100.0) {
        check.fail("service_radius_km", "服务半径须大于 0、不超过 100 公里");
    }
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
    (status = 201, body = TeamView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
    (status = 422, body = ErrorBody),
))]
#[post("/teams")]
async fn create_team(
    state: web::Data<AppState>,
    _: Manager,
    body: Json<CreateTeamBody>,
) -> AppResult<HttpResponse> {
    let team = teams::create(&state.db, new_team(body.0)?).await?;
    Ok(HttpResponse::Created().json(teams::view(&team, state.settings.time_zone)?))
}

/// Lists teams, newest first.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, body = Page<TeamView>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
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
        .map(|t| teams::view(t, state.settings.time_zone))
        .collect::<AppResult<_>>()?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// One team.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = TeamView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
))]
#[get("/teams/{id}")]
async fn get_team(
    state: web::Data<AppState>,
    _: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let team = teams::find(&state.reads, *id).await?;
    Ok(HttpResponse::Ok().json(teams::view(&team, state.settings.time_zone)?))
}

/// Joins a team (a volunteer, themselves) or adds a member (a manager,
/// with `user_id` and `role`).
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body(content = Option<AddMemberBody>), responses(
    (status = 201, body = MembershipView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "already_member", body = ErrorBody), (status = 422, body = ErrorBody),
    (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
))]
#[post("/teams/{id}/members")]
async fn add_member(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: OptionalJson<AddMemberBody>,
) -> AppResult<HttpResponse> {
    let body = body.0;
    let (user_id, role) = match me.role {
        Role::Volunteer => {
            // Volunteers join as themselves and as plain members.
            if body.user_id.is_some_and(|u| u != me.id) || body.role == Some(MemberRole::Leader) {
                return Err(AppError::Forbidden);
            }
            (me.id, MemberRole::Member)
        }
        role if role.is_manager() => {
            let user_id = body
                .user_id
                .ok_or_else(|| AppError::invalid("user_id", "请指定要加入的用户"))?;
            (user_id, body.role.unwrap_or(MemberRole::Member))
        }
        _ => return Err(AppError::Forbidden),
    };
    let membership = teams::add_member(&state.db, *id, user_id, role).await?;
    Ok(HttpResponse::Created().json(membership))
}

/// Members of a team: for its members, managers and admins. Phone numbers
/// are whole for managers and masked for fellow members.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = Uuid, Path), PageParams), responses(
    (status = 200, body = Page<MemberView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
))]
#[get("/teams/{id}/members")]
async fn list_members(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let team = teams::find(&state.reads, *id).await?;
    let is_member = teams::membership(&state.reads, team.id, me.id)
        .await?
        .is_some();
    if !me.role.is_manager() && !is_member {
        return Err(AppError::Forbidden);
    }
    let page = query.parse()?;
    let (items, next_cursor) = teams::members(
        &state.reads,
        team.id,
        page,
        me.role.is_manager(),
        state.settings.time_zone,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

//! A team's memberships after joining: approval of pending members by the
//! team's leader or a manager, and leaving or removal.

use actix_web::{HttpResponse, delete, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{EmptyBody, OptionalJson};
use crate::service::{memberships, teams};
use crate::state::AppState;
use crate::views::MembershipView;

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(approve_member).service(remove_member);
}

/// Approves a pending member (the team's active leader, managers,
/// admins): 200 with `status: "active"`, only while the person's
/// background check is valid today in `TIME_ZONE` (422
/// `volunteer_not_vetted`).
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    request_body(content = Option<EmptyBody>), responses(
    (status = 200, body = MembershipView),
    (status = 422, description = "volunteer_not_vetted", body = ErrorBody),
))]
#[post("/teams/{id}/members/{user_id}/approve")]
async fn approve_member(
    state: web::Data<AppState>,
    me: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    _: OptionalJson<EmptyBody>,
) -> AppResult<HttpResponse> {
    let (team_id, user_id) = path.into_inner();
    let team = teams::find(&state.db, team_id).await?;
    if !teams::may_lead(&state.db, team.id, &me).await? {
        return Err(AppError::Forbidden);
    }
    let membership =
        memberships::approve(&state.db, team.id, user_id, state.settings.time_zone).await?;
    Ok(HttpResponse::Ok().json(membership))
}

/// Ends a membership: the member themselves, the team's active leader,
/// managers, admins. Their sign-ups for the team's requests not yet
/// started are withdrawn and the places freed; service records stay.
#[utoipa::path(tag = "teams", security(("bearer" = [])), params(("id" = Uuid, Path), ("user_id" = Uuid, Path)), responses(
    (status = 204),
))]
#[delete("/teams/{id}/members/{user_id}")]
async fn remove_member(
    state: web::Data<AppState>,
    me: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (team_id, user_id) = path.into_inner();
    let team = teams::find(&state.db, team_id).await?;
    if me.id != user_id && !teams::may_lead(&state.db, team.id, &me).await? {
        return Err(AppError::Forbidden);
    }
    memberships::remove(&state.db, &state.settings, team.id, user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

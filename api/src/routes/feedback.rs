//! Feedback after a visit (回访, 条例 Art 10), and its statistics.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{AuthUser, Manager, Staff};
use crate::domain::calendar::local_range;
use crate::domain::feedback::{
    COMMENT_MAX_CHARS, CONCERN_NOTE_MAX_CHARS, FeedbackGroupBy, Satisfaction, check_concern_note,
};
use crate::domain::text;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::Json;
use crate::service::feedback::{self, NewFeedback};
use crate::service::reports::Range;
use crate::state::AppState;
use crate::validate::Checker;
use crate::views::{FeedbackStats, FeedbackView};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(create_feedback)
        .service(get_feedback)
        .service(feedback_stats);
}

#[derive(Deserialize, ToSchema)]
pub struct FeedbackBody {
    /// 1 (very unhappy) to 5 (very satisfied).
    #[schema(minimum = 1, maximum = 5)]
    satisfaction: i64,
    #[serde(default)]
    #[schema(max_length = 2000)]
    comment: Option<String>,
    /// Something about the resident needs attention: raises
    /// `resident.concern` to the webhooks without a team.
    concern: bool,
    /// What needs attention (only with `concern: true`); stays in the
    /// system, never in a group message.
    #[serde(default)]
    #[schema(max_length = 1000)]
    concern_note: Option<String>,
}

fn new_feedback(body: FeedbackBody) -> AppResult<NewFeedback> {
    let mut check = Checker::new();
    let satisfaction = check.check("satisfaction", Satisfaction::parse(body.satisfaction));
    let comment = check.check(
        "comment",
        text::clean_optional(body.comment.as_deref(), COMMENT_MAX_CHARS),
    );
    let concern_note = check.check(
        "concern_note",
        check_concern_note(body.concern, body.concern_note.as_deref())
            .map_err(String::from)
            .and_then(|()| {
                text::clean_optional(body.concern_note.as_deref(), CONCERN_NOTE_MAX_CHARS)
            }),
    );
    let values = (|| {
        Some(NewFeedback {
            satisfaction: satisfaction?,
            comment: comment?,
            concern: body.concern,
            concern_note: concern_note?,
        })
    })();
    check.finish(values)
}

/// Records how the resident found a completed visit, once (its
/// caseworker, managers). `concern: true` raises `resident.concern`.
#[utoipa::path(tag = "feedback", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = FeedbackBody, responses(
    (status = 201, body = FeedbackView),
    (status = 403, description = "not_your_request", body = ErrorBody),
    (status = 409, description = "invalid_status (the request is not completed) or feedback_exists", body = ErrorBody),
))]
#[post("/requests/{id}/feedback")]
async fn create_feedback(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<FeedbackBody>,
) -> AppResult<HttpResponse> {
    let new = new_feedback(body.0)?;
    let model = feedback::create(&state.db, &state.settings, &staff.0, *id, new).await?;
    Ok(HttpResponse::Created().json(FeedbackView::build(model, state.settings.time_zone)))
}

/// The request's feedback (its caseworker, managers, the leader of the
/// team that served it); 404 while there is none.
#[utoipa::path(tag = "feedback", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = FeedbackView),
    (status = 403, description = "not_your_request or not_team_leader", body = ErrorBody),
    (status = 404, description = "no feedback yet, or no such request", body = ErrorBody),
))]
#[get("/requests/{id}/feedback")]
async fn get_feedback(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let view = feedback::find_for(&state.db, &user, *id, state.settings.time_zone).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, IntoParams)]
pub struct FeedbackStatsQuery {
    #[param(inline)]
    group_by: FeedbackGroupBy,
    /// Inclusive date in `TIME_ZONE`, matched against the visit's start.
    from: Option<NaiveDate>,
    /// Inclusive date in `TIME_ZONE`.
    to: Option<NaiveDate>,
}

/// Feedback by the team that served the visit or by month: responses,
/// mean satisfaction and concerns; complete, not paged.
#[utoipa::path(tag = "statistics", security(("bearer" = [])), params(FeedbackStatsQuery), responses(
    (status = 200, body = FeedbackStats),
))]
#[get("/stats/feedback")]
async fn feedback_stats(
    state: web::Data<AppState>,
    _: Manager,
    query: web::Query<FeedbackStatsQuery>,
) -> AppResult<HttpResponse> {
    let tz = state.settings.time_zone;
    let (from, until) =
        local_range(query.from, query.to, tz).map_err(|e| AppError::invalid("to", e))?;
    let items = feedback::stats(&state.reads, query.group_by, Range { from, until }, tz).await?;
    Ok(HttpResponse::Ok().json(FeedbackStats { items }))
}

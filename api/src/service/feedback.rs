//! Feedback after a visit (回访): recorded once per completed request by
//! its caseworker or a manager; a concern raises `resident.concern` in the
//! same transaction. Statistics group it by team or month.

use chrono_tz::Tz;
use entity::help_request::{self, Entity as Requests};
use entity::request_feedback::{self, Entity as Feedback};
use entity::team::{self, Entity as Teams};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, JoinType, QueryFilter, QuerySelect, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::outbox::{self, RequestEvent};
use super::{now, requests, teams};
use crate::auth::AuthUser;
use crate::config::Settings;
use crate::domain::feedback::{self, FeedbackFact, FeedbackGroupBy, NO_TEAM, Satisfaction};
use crate::domain::permissions;
use crate::domain::vocab::{EventType, MemberRole, RequestStatus, Role};
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::views::{FeedbackStatItem, FeedbackView, RequestView};

/// A feedback as the body gave it, already checked.
pub struct NewFeedback {
    pub satisfaction: Satisfaction,
    pub comment: Option<String>,
    pub concern: bool,
    pub concern_note: Option<String>,
}

fn exists() -> AppError {
    AppError::conflict("feedback_exists", "该求助已有回访记录")
}

pub async fn create(
    db: &DatabaseConnection,
    settings: &Settings,
    user: &AuthUser,
    request_id: Uuid,
    new: NewFeedback,
) -> AppResult<request_feedback::Model> {
    let txn = db.begin().await?;
    let request = requests::find_changeable(&txn, request_id, user).await?;
    if request.status != RequestStatus::Completed {
        return Err(requests::wrong_status(
            &request,
            "回访（求助完成后才能回访）",
        ));
    }
    if Feedback::find()
        .filter(request_feedback::Column::RequestId.eq(request_id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(exists());
    }
    let model = request_feedback::ActiveModel {
        id: Set(Uuid::now_v7()),
        request_id: Set(request_id),
        author_id: Set(user.id),
        satisfaction: Set(new.satisfaction.value()),
        comment: Set(new.comment),
        concern: Set(new.concern),
        concern_note: Set(new.concern_note),
        created_at: Set(now()),
    }
    .insert(&txn)
    .await
    // Two racing first feedbacks: the unique request id keeps one.
    .map_err(|e| {
        if is_unique_violation(&e) {
            exists()
        } else {
            e.into()
        }
    })?;
    if model.concern {
        raise_concern(&txn, settings, &request, &model).await?;
    }
    txn.commit().await?;
    Ok(model)
}

/// `resident.concern` to the webhooks without a team. The message names
/// the request as every event does (masked resident); the concern note
/// and comment stay in the system — they are about the resident's life —
/// and the group hears only that a caseworker should look.
async fn raise_concern(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    request: &help_request::Model,
    model: &request_feedback::Model,
) -> AppResult<()> {
    let resident = requests::resident_of(txn, request).await?;
    let view = RequestView::build(request, resident.as_ref(), false, settings.time_zone);
    let data = serde_json::json!({
        "feedback": {
            "id": model.id,
            "request_id": model.request_id,
            "satisfaction": model.satisfaction,
            "concern": true,
            "created_at": crate::views::local_time(model.created_at, settings.time_zone),
        },
        "request": view,
    });
    let event = RequestEvent {
        event: EventType::ResidentConcern,
        request,
        resident: resident.as_ref(),
        team_id: None,
        detail: Some(format!(
            "回访满意度 {}/5，发现需关注的情况，请社工登录系统查看并跟进",
            model.satisfaction
        )),
        data: Some(data),
    };
    outbox::emit(txn, settings, event).await
}

/// The request's feedback, for its caseworker, managers and the leader
/// of its team. A volunteer outside the team may not know the request
/// exists (404); a member who does not lead it, or another caseworker,
/// is refused (403).
pub async fn find_for(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    request_id: Uuid,
    tz: Tz,
) -> AppResult<FeedbackView> {
    let request = requests::find(db, request_id).await?;
    let role_in_team = match (user.role, request.team_id) {
        (Role::Volunteer, Some(team)) => teams::membership(db, team, user.id).await?,
        _ => None,
    };
    let leads = role_in_team == Some(MemberRole::Leader);
    if !permissions::may_read_feedback(user.role, user.id, request.caseworker_id, leads) {
        return Err(match (user.role, role_in_team) {
            (Role::Volunteer, None) => AppError::NotFound,
            (Role::Volunteer, Some(_)) => {
                AppError::denied("not_team_leader", "只有服务该求助的队伍的队长可以查看回访")
            }
            _ => requests::ensure_may_change(user, &request)
                .err()
                .unwrap_or(AppError::NotFound),
        });
    }
    let found = Feedback::find()
        .filter(request_feedback::Column::RequestId.eq(request_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(FeedbackView::build(found, tz))
}

/// Feedback grouped by the team that served the visit or the month of its
/// start; `range` as for service hours, on the request's start.
pub async fn stats(
    db: &impl ConnectionTrait,
    group_by: FeedbackGroupBy,
    range: super::reports::Range,
    tz: Tz,
) -> AppResult<Vec<FeedbackStatItem>> {
    let mut query = Feedback::find()
        .select_only()
        .column_as(
            Expr::col((Requests, help_request::Column::TeamId)),
            "team_id",
        )
        .column_as(
            Expr::col((Requests, help_request::Column::StartsAt)),
            "starts_at",
        )
        .column(request_feedback::Column::Satisfaction)
        .column(request_feedback::Column::Concern)
        .join(JoinType::InnerJoin, request_of_feedback());
    if let Some(from) = range.from {
        query = query.filter(help_request::Column::StartsAt.gte(from));
    }
    if let Some(until) = range.until {
        query = query.filter(help_request::Column::StartsAt.lt(until));
    }
    let facts: Vec<FeedbackFact> = query
        .into_tuple::<(Option<Uuid>, i64, i32, bool)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(team_id, starts_at, satisfaction, concern)| FeedbackFact {
            team_id,
            starts_at,
            satisfaction,
            concern,
        })
        .collect();
    let buckets = feedback::aggregate(&facts, group_by, tz);
    let team_ids: Vec<Uuid> = buckets
        .iter()
        .filter_map(|b| Uuid::parse_str(&b.key).ok())
        .collect();
    let names: std::collections::HashMap<String, String> = if team_ids.is_empty() {
        Default::default()
    } else {
        Teams::find()
            .filter(team::Column::Id.is_in(team_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.id.to_string(), t.name))
            .collect()
    };
    Ok(buckets
        .into_iter()
        .map(|b| FeedbackStatItem {
            label: match (b.month_label, names.get(&b.key)) {
                (Some(month), _) => month,
                (None, Some(name)) => name.clone(),
                (None, None) if b.key == NO_TEAM => "未分派队伍".to_string(),
                (None, None) => b.key.clone(),
            },
            key: b.key,
            responses: b.responses,
            satisfaction_avg: b.satisfaction_avg,
            concerns: b.concerns,
        })
        .collect())
}

fn request_of_feedback() -> sea_orm::RelationDef {
    Feedback::belongs_to(Requests)
        .from(request_feedback::Column::RequestId)
        .to(help_request::Column::Id)
        .into()
}

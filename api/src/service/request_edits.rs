//! Editing a help request while nobody has checked in (`PATCH
//! /requests/{id}`), and telling the team when its time changes.

use entity::help_request::{self, Entity as Requests};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::outbox::{self, RequestEvent};
use super::requests::{ensure_may_change, find, wrong_status};
use super::{now, withdrawals};
use crate::auth::AuthUser;
use crate::config::Settings;
use crate::domain::notify::message::time_window;
use crate::domain::vocab::{EventType, RequestStatus, Urgency};
use crate::domain::{calendar, schedule};
use crate::error::{AppError, AppResult};
use crate::views::local_time;

/// What `PATCH /requests/{id}` changes; `None` keeps the stored value.
/// Each given field is already valid on its own.
#[derive(Default)]
pub struct RequestEdit {
    pub title: Option<String>,
    pub description: Option<String>,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub volunteers_needed: Option<i32>,
    pub urgency: Option<Urgency>,
}

/// Edits a request while nobody has checked in (open or assigned). Both
/// conditions are in the UPDATE: the status, and that the places asked
/// for still hold the sign-ups taken — a sign-up may land between any
/// read and this write. A new time window emits `request.updated`.
pub async fn edit(
    db: &DatabaseConnection,
    settings: &Settings,
    request_id: Uuid,
    user: &AuthUser,
    edit: RequestEdit,
) -> AppResult<help_request::Model> {
    let txn = db.begin().await?;
    // The row lock makes the window check and the old times exact against
    // a concurrent edit (PostgreSQL; SQLite writes one at a time anyway).
    let request = Requests::find_by_id(request_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    ensure_may_change(user, &request)?;
    let starts_at = edit.starts_at.unwrap_or(request.starts_at);
    let ends_at = edit.ends_at.unwrap_or(request.ends_at);
    calendar::check_request_window(starts_at, ends_at)
        .map_err(|e| AppError::invalid("ends_at", e))?;
    let editable = [RequestStatus::Open, RequestStatus::Assigned];
    let mut update = Requests::update_many()
        .col_expr(help_request::Column::StartsAt, Expr::value(starts_at))
        .col_expr(help_request::Column::EndsAt, Expr::value(ends_at))
        .col_expr(help_request::Column::UpdatedAt, Expr::value(now()))
        .filter(help_request::Column::Id.eq(request_id))
        .filter(help_request::Column::Status.is_in(editable));
    if let Some(title) = edit.title {
        update = update.col_expr(help_request::Column::Title, Expr::value(title));
    }
    if let Some(description) = edit.description {
        update = update.col_expr(help_request::Column::Description, Expr::value(description));
    }
    if let Some(urgency) = edit.urgency {
        update = update.col_expr(help_request::Column::Urgency, Expr::value(urgency));
    }
    if let Some(needed) = edit.volunteers_needed {
        update = update
            .col_expr(help_request::Column::VolunteersNeeded, Expr::value(needed))
            .filter(help_request::Column::SignupsCount.lte(needed));
    }
    if update.exec(&txn).await?.rows_affected == 0 {
        let current = find(&txn, request_id).await?;
        if !editable.contains(&current.status) {
            return Err(wrong_status(&current, "修改"));
        }
        return Err(AppError::conflict(
            "below_signups",
            format!(
                "已有 {} 人报名，所需人数不能少于已报名人数",
                current.signups_count
            ),
        ));
    }
    let mut updated = find(&txn, request_id).await?;
    if updated.starts_at != request.starts_at {
        rearm_timed_events(&txn, settings, &updated).await?;
        // A new day may lie past a signed-up volunteer's check.
        let scope = withdrawals::Scope::Request(request_id);
        withdrawals::recheck(&txn, settings, scope, now()).await?;
        updated = find(&txn, request_id).await?;
    }
    if (updated.starts_at, updated.ends_at) != (request.starts_at, request.ends_at) {
        announce_new_time(&txn, settings, &request, &updated).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// A moved start makes the timed events due again for the new time where
/// that time is still ahead ([`schedule::rearm`]).
async fn rearm_timed_events(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    request: &help_request::Model,
) -> AppResult<()> {
    let now = settings.now();
    let rearm = schedule::rearm(request.starts_at, now, settings.reminder_lead_secs);
    let none: Option<i64> = None;
    let mut update = Requests::update_many().filter(help_request::Column::Id.eq(request.id));
    let mut any = false;
    for (again, column) in [
        (rearm.reminder, help_request::Column::ReminderSentAt),
        (rearm.unfilled, help_request::Column::UnfilledSentAt),
        (rearm.no_shows, help_request::Column::NoShowsSettledAt),
    ] {
        if again {
            update = update.col_expr(column, Expr::value(none));
            any = true;
        }
    }
    if any {
        update.exec(txn).await?;
    }
    Ok(())
}

/// `request.updated`, in the edit's transaction: the message shows the new
/// window, and its detail the old one, so a volunteer who planned for the
/// old time notices.
async fn announce_new_time(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    before: &help_request::Model,
    after: &help_request::Model,
) -> AppResult<()> {
    let resident = super::requests::resident_of(txn, after).await?;
    let tz = settings.time_zone;
    let old = time_window(
        local_time(before.starts_at, tz),
        local_time(before.ends_at, tz),
    );
    let event = RequestEvent {
        event: EventType::RequestUpdated,
        request: after,
        resident: resident.as_ref(),
        team_id: after.team_id,
        detail: Some(format!(
            "服务时间已变更（原定 {old}），已报名 {} 人",
            after.signups_count
        )),
        data: None,
    };
    outbox::emit(txn, settings, event).await
}

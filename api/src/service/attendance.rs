//! Who came: a request's sign-ups with their status, and volunteers'
//! recent no-shows (member lists for leaders and managers, matching).

use std::collections::HashMap;

use entity::signup::{self, Entity as Signups};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, Func},
};
use uuid::Uuid;

use crate::domain::schedule::NO_SHOW_MEMORY_SECS;
use crate::domain::vocab::SignupStatus;
use crate::error::AppResult;
use crate::views::{SignupListItem, SignupView, local_time};

/// No-shows of each of `volunteers` in the 90 days before `now`; a
/// volunteer without any is absent from the map.
pub async fn recent_no_shows(
    db: &impl ConnectionTrait,
    volunteers: &[Uuid],
    now: i64,
) -> AppResult<HashMap<Uuid, u32>> {
    if volunteers.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, i64)> = Signups::find()
        .select_only()
        .column(signup::Column::VolunteerId)
        .column_as(Expr::expr(Func::count(Expr::col(signup::Column::Id))), "n")
        .filter(signup::Column::VolunteerId.is_in(volunteers.iter().copied()))
        .filter(signup::Column::Status.eq(SignupStatus::NoShow))
        .filter(signup::Column::StatusChangedAt.gte(now - NO_SHOW_MEMORY_SECS))
        .group_by(signup::Column::VolunteerId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u32::try_from(n).unwrap_or(u32::MAX)))
        .collect())
}

/// Every sign-up of a request, withdrawn ones included, oldest first.
pub async fn signups_of(
    db: &impl ConnectionTrait,
    request: &entity::help_request::Model,
    tz: chrono_tz::Tz,
) -> AppResult<Vec<SignupListItem>> {
    let rows = Signups::find()
        .filter(signup::Column::RequestId.eq(request.id))
        .order_by_asc(signup::Column::CreatedAt)
        .order_by_asc(signup::Column::Id)
        .all(db)
        .await?;
    let names = super::accounts::names_of(db, rows.iter().map(|r| r.volunteer_id)).await?;
    let places_left = (request.volunteers_needed - request.signups_count).max(0);
    Ok(rows
        .into_iter()
        .map(|row| SignupListItem {
            volunteer_name: names.get(&row.volunteer_id).cloned().unwrap_or_default(),
            status_changed_at: row.status_changed_at.map(|t| local_time(t, tz)),
            signup: SignupView {
                id: row.id,
                request_id: row.request_id,
                volunteer_id: row.volunteer_id,
                team_id: row.team_id,
                status: row.status,
                places_left,
                created_at: local_time(row.created_at, tz),
            },
        })
        .collect())
}

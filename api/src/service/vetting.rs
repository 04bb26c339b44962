//! Setting a person's background-check date, with its trail: every change
//! is a row naming who made it and why, so "who vouched for this person"
//! has an answer long after `vetted_until` moved on.

use chrono::NaiveDate;
use chrono_tz::Tz;
use entity::user::{self, Entity as Users};
use entity::vetting_change::{self, Entity as Changes};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::paging::{PageRequest, newest_first};
use super::{accounts, now};
use crate::config::Settings;
use crate::error::AppResult;
use crate::views::{VettingChangeView, local_time};

/// Sets `user_id`'s `vetted_until` and records the change in the same
/// transaction: a date is never changed without its trail, nor without
/// what it no longer allows (`safeguarding::after_vetting_change`).
pub async fn set(
    db: &DatabaseConnection,
    settings: &Settings,
    user_id: Uuid,
    until: Option<NaiveDate>,
    note: Option<String>,
    changed_by: Uuid,
) -> AppResult<user::Model> {
    let txn = db.begin().await?;
    let before = accounts::find(&txn, user_id).await?;
    // Only this column: the rest of the row is the account's business.
    Users::update_many()
        .col_expr(user::Column::VettedUntil, Expr::value(until))
        .filter(user::Column::Id.eq(user_id))
        .exec(&txn)
        .await?;
    vetting_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        previous_until: Set(before.vetted_until),
        vetted_until: Set(until),
        note: Set(note),
        changed_by: Set(changed_by),
        changed_at: Set(now()),
    }
    .insert(&txn)
    .await?;
    super::safeguarding::after_vetting_change(&txn, settings, user_id).await?;
    let after = accounts::find(&txn, user_id).await?;
    txn.commit().await?;
    Ok(after)
}

/// One person's trail, newest first.
pub async fn history(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    page: PageRequest,
    tz: Tz,
) -> AppResult<(Vec<VettingChangeView>, Option<String>)> {
    accounts::find(db, user_id).await?;
    let query = Changes::find().filter(vetting_change::Column::UserId.eq(user_id));
    let (rows, cursor) =
        newest_first(db, query, vetting_change::Column::Id, page, |c| c.id).await?;
    let names = accounts::names_of(db, rows.iter().map(|c| c.changed_by)).await?;
    let views = rows
        .into_iter()
        .map(|c| VettingChangeView {
            id: c.id,
            user_id: c.user_id,
            previous_until: c.previous_until,
            vetted_until: c.vetted_until,
            changed_by_name: names.get(&c.changed_by).cloned().unwrap_or_default(),
            changed_by: c.changed_by,
            note: c.note,
            changed_at: local_time(c.changed_at, tz),
        })
        .collect();
    Ok((views, cursor))
}

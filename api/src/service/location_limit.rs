//! How often a person may move their own location (`PATCH /me`):
//! `LOCATION_CHANGES_PER_DAY` per local day. Each reading of the
//! recommended requests from a new place is one more clue to where
//! residents live; the grid (`domain::geo`) already keeps any number of
//! them from finding more than a cell, and this bounds how fast anyone
//! could even try. Counted in the database, so the limit holds however
//! many processes serve the person.

use entity::location_change::{self, Entity as LocationChanges};
use entity::user;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use super::accounts::{self, ProfileChange};
use crate::config::Settings;
use crate::domain::calendar::{day_of, secs_until_tomorrow};
use crate::domain::geo::Coordinates;
use crate::error::{AppError, AppResult};

/// The profile change, counted against the daily limit when it moves the
/// location; one transaction, so a refused change counts nothing and a
/// counted one is stored.
pub async fn update_own_profile(
    db: &DatabaseConnection,
    id: Uuid,
    change: ProfileChange,
    settings: &Settings,
) -> AppResult<user::Model> {
    let txn = db.begin().await?;
    if let Some(wanted) = change.location {
        let current = accounts::find(&txn, id).await?;
        if moves(&current, wanted) {
            count_change(&txn, id, settings).await?;
        }
    }
    let user = accounts::update_profile(&txn, id, change).await?;
    txn.commit().await?;
    Ok(user)
}

/// Setting the location one already has reveals nothing new (the readings
/// are those of the place one stands at) and is not counted: a phone that
/// saves the whole profile form after every edit does not use up the day.
fn moves(current: &user::Model, wanted: Option<Coordinates>) -> bool {
    let now = current
        .location_lat
        .zip(current.location_lng)
        .map(|(lat, lng)| Coordinates { lat, lng });
    now != wanted
}

/// One more change today (the local day in `TIME_ZONE`, on the clock of
/// `CLOCK_START`); 429 `too_many_location_changes` past
/// `LOCATION_CHANGES_PER_DAY`, with the seconds until the day ends.
async fn count_change(db: &impl ConnectionTrait, id: Uuid, settings: &Settings) -> AppResult<()> {
    let (tz, per_day, now) = (
        settings.time_zone,
        settings.location_changes_per_day,
        settings.now(),
    );
    let (day, _) = day_of(now, tz);
    let counted = LocationChanges::insert(location_change::ActiveModel {
        user_id: Set(id),
        day: Set(day),
        changes: Set(1),
    })
    .on_conflict(
        OnConflict::columns([
            location_change::Column::UserId,
            location_change::Column::Day,
        ])
        .value(
            location_change::Column::Changes,
            Expr::col((LocationChanges, location_change::Column::Changes)).add(1),
        )
        .to_owned(),
    )
    .exec_with_returning(db)
    .await?;
    if counted.changes == 1 {
        // The first change of a day clears this person's earlier days.
        LocationChanges::delete_many()
            .filter(location_change::Column::UserId.eq(id))
            .filter(location_change::Column::Day.lt(day))
            .exec(db)
            .await?;
    }
    if i64::from(counted.changes) > i64::from(per_day) {
        return Err(AppError::Limited {
            code: "too_many_location_changes",
            message: format!("今天已更改位置 {per_day} 次，请明天再改"),
            retry_after_secs: secs_until_tomorrow(now, tz),
        });
    }
    Ok(())
}

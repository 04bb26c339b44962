//! Login and register attempts per client address, counted in the
//! database: several processes share PostgreSQL behind one balancer, and
//! a limit kept in each process's memory would let a client that many
//! times through.
//!
//! A fixed one-minute window: one upsert per attempt (`attempts + 1` on
//! the row of this address and minute) gives the exact count under any
//! concurrency; the first attempt of a window purges windows that ended.

use entity::client_attempt::{self, Entity as Attempts};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::error::{AppError, AppResult};

pub const WINDOW_SECS: i64 = 60;

/// Counts one attempt from `address`; 429 `too_many_attempts` (with the
/// seconds until the window ends) past `per_minute`.
pub async fn count_attempt(
    db: &impl ConnectionTrait,
    address: &str,
    per_minute: u32,
    now: i64,
) -> AppResult<()> {
    let window_start = now - now.rem_euclid(WINDOW_SECS);
    let counted = Attempts::insert(client_attempt::ActiveModel {
        address: Set(address.into()),
        window_start: Set(window_start),
        attempts: Set(1),
    })
    .on_conflict(
        OnConflict::columns([
            client_attempt::Column::Address,
            client_attempt::Column::WindowStart,
        ])
        .value(
            client_attempt::Column::Attempts,
            Expr::col((Attempts, client_attempt::Column::Attempts)).add(1),
        )
        .to_owned(),
    )
    .exec_with_returning(db)
    .await?;
    if counted.attempts == 1 {
        Attempts::delete_many()
            .filter(client_attempt::Column::WindowStart.lt(window_start))
            .exec(db)
            .await?;
    }
    if i64::from(counted.attempts) > i64::from(per_minute) {
        return Err(AppError::TooManyAttempts {
            retry_after_secs: window_start + WINDOW_SECS - now,
        });
    }
    Ok(())
}

//! Login throttling, kept in the database so it holds across processes:
//! five failures for one phone within 15 minutes lock that phone's logins
//! for 15 minutes from the fifth. Attempts are counted before the password
//! is checked (see [`admit`]), so a parallel burst cannot slip past.

use entity::login_failure::{self, Entity as Failures};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub const MAX_FAILURES: usize = 5;
pub const WINDOW_SECS: i64 = 15 * 60;
pub const LOCK_SECS: i64 = 15 * 60;

/// When the lock ends, if the failure times (ascending) lock the phone at `now`.
pub fn locked_until(failures: &[i64], now: i64) -> Option<i64> {
    failures
        .windows(MAX_FAILURES)
        .filter(|w| w[MAX_FAILURES - 1] - w[0] <= WINDOW_SECS)
        .map(|w| w[MAX_FAILURES - 1] + LOCK_SECS)
        .filter(|until| *until > now)
        .max()
}

/// One login attempt, counted before its password is checked.
pub struct Attempt {
    id: Uuid,
}

/// Counts an attempt for `phone`, then admits it unless the phone is
/// locked; a refused attempt is uncounted again (it checked nothing).
///
/// The attempt's row is committed *before* the others are counted, so
/// each attempt sees every attempt committed before it, still running or
/// failed. An attempt is admitted only if it sees fewer than
/// [`MAX_FAILURES`] others in the window, so of any number racing for one
/// phone — across processes too — at most that many reach the password
/// check: a sixth would see the five admitted rows, which stay (as
/// failures) unless the right password clears them. Racing attempts may
/// see each other and both be refused; that errs on the safe side.
pub async fn admit(db: &impl ConnectionTrait, phone: &str, now: i64) -> AppResult<Attempt> {
    let id = Uuid::now_v7();
    Failures::insert(login_failure::ActiveModel {
        id: Set(id),
        phone: Set(phone.into()),
        failed_at: Set(now),
    })
    .exec(db)
    .await?;
    // Old rows no longer matter to anyone.
    Failures::delete_many()
        .filter(login_failure::Column::Phone.eq(phone))
        .filter(login_failure::Column::FailedAt.lt(now - 2 * (WINDOW_SECS + LOCK_SECS)))
        .exec(db)
        .await?;
    let others: Vec<i64> = Failures::find()
        .filter(login_failure::Column::Phone.eq(phone))
        .filter(login_failure::Column::FailedAt.gt(now - WINDOW_SECS - LOCK_SECS))
        .filter(login_failure::Column::Id.ne(id))
        .order_by_asc(login_failure::Column::FailedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.failed_at)
        .collect();
    match locked_until(&others, now) {
        None => Ok(Attempt { id }),
        Some(until) => {
            forget(db, Attempt { id }).await?;
            Err(AppError::TooManyAttempts {
                retry_after_secs: until - now,
            })
        }
    }
}

/// Uncounts an attempt whose password was never checked (the server was
/// busy): it is no failure.
pub async fn forget(db: &impl ConnectionTrait, attempt: Attempt) -> AppResult<()> {
    Failures::delete_by_id(attempt.id).exec(db).await?;
    Ok(())
}

/// The right password: the phone's failures no longer count.
pub async fn clear(db: &impl ConnectionTrait, phone: &str) -> AppResult<()> {
    Failures::delete_many()
        .filter(login_failure::Column::Phone.eq(phone))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_in_fifteen_minutes_lock_for_fifteen_minutes() {
        let t = 1_000_000;
        let five = [t, t + 60, t + 120, t + 180, t + 240];
        assert_eq!(locked_until(&five, t + 241), Some(t + 240 + LOCK_SECS));
        assert_eq!(locked_until(&five, t + 240 + LOCK_SECS), None);
        assert_eq!(locked_until(&five[..4], t + 241), None);
    }

    #[test]
    fn failures_spread_over_more_than_the_window_do_not_lock() {
        let t = 1_000_000;
        let spread = [t, t + 300, t + 600, t + 800, t + WINDOW_SECS + 1];
        assert_eq!(locked_until(&spread, t + WINDOW_SECS + 2), None);
    }
}

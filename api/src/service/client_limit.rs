//! Login and register attempts per client address, counted in the
//! database: several processes share PostgreSQL behind one balancer, and
//! a limit kept in each process's memory would let a client that many
//! times through.
//!
//! A fixed one-minute window: one upsert per attempt (`attempts + 1` on
//! the row of this address and minute) gives the exact count under any
//! concurrency; the first attempt of a window purges windows that ended.
//!
//! Certificate checks (`GET /verify/{number}`) come with no token, so a
//! write per call would let anyone make the database write without bound.
//! They are counted in this process's memory ([`count_check`]), and the
//! database holds one row per address and minute whose count is the number
//! of processes that served the address in that minute: each process
//! writes it once (its first call from the address in the minute) and
//! then allows its share of the limit, reading — not writing — how many
//! share it. So the limit holds across processes behind a balancer that
//! spreads a client's calls, within the rounding of the shares.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

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
    let attempts = add_one(db, address, window_start).await?;
    if i64::from(attempts) > i64::from(per_minute) {
        return Err(AppError::TooManyAttempts {
            retry_after_secs: window_start + WINDOW_SECS - now,
        });
    }
    Ok(())
}

/// `attempts + 1` on the row of `address` and the window: the count after.
async fn add_one(db: &impl ConnectionTrait, address: &str, window_start: i64) -> AppResult<i32> {
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
    Ok(counted.attempts)
}

/// Addresses one process counts in memory per minute; past this many (a
/// flood from very many addresses) the others are counted in the database
/// as login attempts are, rather than letting memory grow.
const LOCAL_ADDRESSES: usize = 100_000;

/// One process's counts of calls per client address in the current
/// minute.
#[derive(Default)]
pub struct LocalCounts {
    window: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    start: i64,
    counts: HashMap<String, u32>,
}

impl LocalCounts {
    /// Counts one call from `address` in the window starting at
    /// `window_start`: this process's count so far, or `None` when the
    /// table is full.
    fn bump(&self, address: &str, window_start: i64) -> Option<u32> {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if window.start != window_start {
            window.start = window_start;
            window.counts.clear();
        }
        if let Some(count) = window.counts.get_mut(address) {
            *count = count.saturating_add(1);
            return Some(*count);
        }
        if window.counts.len() >= LOCAL_ADDRESSES {
            return None;
        }
        window.counts.insert(address.to_string(), 1);
        Some(1)
    }
}

/// This process's share of a limit of `per_minute` that `processes`
/// share: rounded up, so no client is ever allowed none.
fn share(per_minute: u32, processes: i32) -> u32 {
    per_minute.div_ceil(Ord::max(u32::try_from(processes).unwrap_or(1), 1))
}

/// Counts one certificate check from `address` with at most one write per
/// address and minute in this process; 429 `too_many_attempts` past this
/// process's share of `per_minute`.
pub async fn count_check(
    db: &impl ConnectionTrait,
    reads: &impl ConnectionTrait,
    local: &LocalCounts,
    address: &str,
    per_minute: u32,
    now: i64,
) -> AppResult<()> {
    let window_start = now - now.rem_euclid(WINDOW_SECS);
    let Some(calls) = local.bump(address, window_start) else {
        return count_attempt(db, address, per_minute, now).await;
    };
    let processes = if calls == 1 {
        // This process's one write for the address this minute.
        add_one(db, address, window_start).await?
    } else {
        processes_sharing(reads, address, window_start).await?
    };
    if calls > share(per_minute, processes) {
        return Err(AppError::TooManyAttempts {
            retry_after_secs: window_start + WINDOW_SECS - now,
        });
    }
    Ok(())
}

/// How many processes counted calls from `address` in the window.
async fn processes_sharing(
    db: &impl ConnectionTrait,
    address: &str,
    window_start: i64,
) -> AppResult<i32> {
    let row = Attempts::find_by_id((address.to_string(), window_start))
        .one(db)
        .await?;
    Ok(row.map_or(1, |r| r.attempts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_counts_each_address_in_its_minute() {
        let counts = LocalCounts::default();
        assert_eq!(counts.bump("a", 60), Some(1));
        assert_eq!(counts.bump("a", 60), Some(2));
        assert_eq!(counts.bump("b", 60), Some(1));
        // A new minute starts every count afresh.
        assert_eq!(counts.bump("a", 120), Some(1));
    }

    #[test]
    fn processes_share_the_limit_rounded_up() {
        assert_eq!(share(30, 1), 30);
        assert_eq!(share(30, 2), 15);
        assert_eq!(share(30, 4), 8);
        assert_eq!(share(1, 3), 1);
        assert_eq!(share(30, 0), 30);
    }
}

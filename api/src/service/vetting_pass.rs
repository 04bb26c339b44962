//! The daily vetting pass: checks do not only change, they run out. Once
//! each local day, the active members of vetted teams whose check no
//! longer holds today are held as `pending`, and every sign-up the rule no
//! longer allows is withdrawn (`signup.withdrawn`, reason `vetting`).
//!
//! Once a day however many processes run: the day's row in
//! `vetting_passes` is inserted (`ON CONFLICT DO NOTHING`) in the
//! transaction that does the work, so exactly one process wins the day and
//! a rollback leaves it to the next try. Every process looks at start-up
//! (awaited, before serving) and then every minute; a process down at
//! midnight runs the day's pass when it comes back.

use std::sync::Arc;
use std::time::Duration;

use entity::vetting_pass::{self, Entity as Passes};
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait, sea_query::OnConflict,
};

use super::safeguarding;
use super::withdrawals::{self, Scope};
use crate::config::Settings;
use crate::domain::vetting;
use crate::error::AppResult;
use crate::read_cache::ReadCache;

/// How often each process looks whether today's pass ran.
const TICK: Duration = Duration::from_secs(60);

/// What one pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub held: u64,
    pub withdrawn: usize,
}

/// Runs the pass of the local day at `now` unless it ran already; `None`
/// when another run (here or elsewhere) had the day.
pub async fn run_once(
    db: &DatabaseConnection,
    settings: &Settings,
    now: i64,
) -> AppResult<Option<Pass>> {
    let today = vetting::local_day(now, settings.time_zone);
    let day = today.format("%Y-%m-%d").to_string();
    // Cheap check first: every tick but the first of a day ends here.
    if Passes::find_by_id(day.clone()).one(db).await?.is_some() {
        return Ok(None);
    }
    let txn = db.begin().await?;
    let claimed = Passes::insert(vetting_pass::ActiveModel {
        day: Set(day.clone()),
        ran_at: Set(now),
        withdrawn: Set(0),
    })
    .on_conflict(
        OnConflict::column(vetting_pass::Column::Day)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if claimed == 0 {
        return Ok(None);
    }
    let held = safeguarding::hold_lapsed(&txn, None, today).await?;
    let withdrawn = withdrawals::recheck(&txn, settings, Scope::Everyone, now).await?;
    Passes::update(vetting_pass::ActiveModel {
        day: Set(day),
        ran_at: Set(now),
        withdrawn: Set(i32::try_from(withdrawn).unwrap_or(i32::MAX)),
    })
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok(Some(Pass { held, withdrawn }))
}

/// Runs [`run_once`] now, logging rather than failing. A pass that changed
/// something retires this process's remembered answers (other processes
/// hear of it through the database's change notifications).
pub async fn catch_up(db: &DatabaseConnection, settings: &Settings, read_cache: &ReadCache) {
    match run_once(db, settings, settings.now()).await {
        Ok(Some(pass)) => {
            if pass.held > 0 || pass.withdrawn > 0 {
                read_cache.invalidate();
            }
            tracing::info!(
                held = pass.held,
                withdrawn = pass.withdrawn,
                "daily vetting pass ran"
            );
        }
        Ok(None) => {}
        Err(err) => tracing::warn!(%err, "daily vetting pass failed"),
    }
}

/// Looks every minute whether today's pass is due.
pub fn spawn_worker(
    db: DatabaseConnection,
    settings: Arc<Settings>,
    read_cache: Arc<ReadCache>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(TICK).await;
            catch_up(&db, &settings, &read_cache).await;
        }
    })
}

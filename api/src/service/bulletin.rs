//! The monthly bulletin (`report.monthly`): on the first of each month at
//! 09:00 in `TIME_ZONE`, last month's figures to the webhooks without a
//! team that subscribed. Once per month however many processes run: the
//! month's row in `monthly_bulletins` is inserted (`ON CONFLICT DO
//! NOTHING`) in the transaction that writes the outbox event, so exactly
//! one process wins and a rollback leaves the month to the next try. A
//! process that was down at 09:00 sends it when it comes back (see
//! `domain::bulletin::due`).

use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use entity::campaign::{self, Entity as Campaigns};
use entity::help_request::{self, Entity as Requests};
use entity::monthly_bulletin::{self, Entity as Bulletins};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait,
    sea_query::OnConflict,
};

use super::outbox::{self, StoredMessage};
use super::reports::{self, Range};
use crate::config::Settings;
use crate::domain::bulletin::{self, Figures, Month, TOP_TEAMS, TopTeam};
use crate::domain::report::GroupBy;
use crate::domain::vocab::{EventType, RequestStatus};
use crate::error::{AppError, AppResult};
use crate::views::local_time;

/// How often each process looks whether a bulletin is due.
const TICK: Duration = Duration::from_secs(60);

/// Sends the bulletin due at `now` unless it went out already. `true`
/// when this call sent it.
pub async fn run_once(db: &DatabaseConnection, settings: &Settings, now: i64) -> AppResult<bool> {
    let tz = settings.time_zone;
    let Some(month) = bulletin::due(now, tz) else {
        return Ok(false);
    };
    // Cheap checks first: most ticks of most processes end here.
    if Bulletins::find_by_id(month.key()).one(db).await?.is_some()
        || !outbox::has_general_subscriber(db, EventType::ReportMonthly).await?
    {
        return Ok(false);
    }
    let figures = figures(db, month, tz).await?;
    let (from, until) = month.range(tz);
    let message = StoredMessage {
        occurred_at: local_time(now, tz),
        request_title: format!("志愿服务月报 {}", month.label()),
        starts_at: local_time(from, tz),
        ends_at: local_time(until, tz),
        place: settings.community_name.clone(),
        team_name: None,
        contact: None,
        detail: None,
        data: serde_json::to_value(&figures).map_err(AppError::internal)?,
        mention_mobiles: Vec::new(),
        facts: bulletin::facts(month, &figures, &settings.community_name),
    };
    let txn = db.begin().await?;
    let claimed = Bulletins::insert(monthly_bulletin::ActiveModel {
        month: sea_orm::ActiveValue::Set(month.key()),
        sent_at: sea_orm::ActiveValue::Set(now),
    })
    .on_conflict(
        OnConflict::column(monthly_bulletin::Column::Month)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if claimed == 0 {
        // Another process sent it meanwhile.
        return Ok(false);
    }
    if !outbox::emit_general(&txn, EventType::ReportMonthly, &message).await? {
        // The last subscriber left meanwhile: leave the month unsent.
        return Ok(false);
    }
    txn.commit().await?;
    Ok(true)
}

/// Last month's figures, read from the same rows as the statistics.
async fn figures(db: &DatabaseConnection, month: Month, tz: Tz) -> AppResult<Figures> {
    let (from, until) = month.range(tz);
    let range = Range {
        from: Some(from),
        until: Some(until),
    };
    let by_team = reports::service_hours(db, GroupBy::Team, range, tz).await?;
    let by_volunteer = reports::service_hours(db, GroupBy::Volunteer, range, tz).await?;
    let visits_completed = Requests::find()
        .filter(help_request::Column::Status.eq(RequestStatus::Completed))
        .filter(help_request::Column::StartsAt.gte(from))
        .filter(help_request::Column::StartsAt.lt(until))
        .count(db)
        .await?;
    let campaigns = Campaigns::find()
        .filter(campaign::Column::StartsAt.gte(from))
        .filter(campaign::Column::StartsAt.lt(until))
        .count(db)
        .await?;
    Ok(Figures {
        month: month.key(),
        approved_hours: by_team.total_hours,
        active_volunteers: by_volunteer.items.len() as i64,
        visits_completed: visits_completed as i64,
        campaigns: campaigns as i64,
        top_teams: by_team
            .items
            .into_iter()
            .filter(|t| t.minutes > 0)
            .take(TOP_TEAMS)
            .map(|t| TopTeam {
                team_id: t.key,
                name: t.label,
                hours: t.hours,
            })
            .collect(),
    })
}

/// Runs [`run_once`] now (start-up awaits it, so a process that was down
/// at 09:00 catches up before it serves), logging rather than failing.
pub async fn catch_up(db: &DatabaseConnection, settings: &Settings) {
    match run_once(db, settings, settings.now()).await {
        Ok(true) => tracing::info!("monthly bulletin sent"),
        Ok(false) => {}
        Err(err) => tracing::warn!(%err, "sending the monthly bulletin failed"),
    }
}

/// Looks every minute whether a bulletin is due.
pub fn spawn_worker(
    db: DatabaseConnection,
    settings: Arc<Settings>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(TICK).await;
            catch_up(&db, &settings).await;
        }
    })
}

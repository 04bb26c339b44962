//! Timed events: `signup.reminder`, `request.unfilled` and
//! `signup.no_show`. Every process runs this worker; the database decides
//! who sends what.
//!
//! Each event has a "handled at" column on the request. A tick reads the
//! requests due for it through the `(handled_at, starts_at)` index — the
//! unhandled ones starting by the due time — and for each claims it with
//! `UPDATE … SET handled_at = now WHERE id = … AND handled_at IS NULL` in
//! the transaction that writes the outbox rows. Two processes racing for
//! one request: PostgreSQL makes the second `UPDATE` wait for the first
//! and then match nothing; SQLite writes one at a time. A process down at
//! the due time leaves the mark unset, so whichever process ticks next
//! sends the event, late but once. Every due request is marked whether or
//! not it needed the event, so what is unmarked is only what is not yet
//! due: a tick never reads the past.

use std::sync::Arc;
use std::time::Duration;

use entity::help_request::{self, Entity as Requests};
use entity::signup::{self, Entity as Signups};
use entity::user::Entity as Users;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::outbox::{self, RequestEvent};
use crate::config::Settings;
use crate::domain::masking::mask_name;
use crate::domain::schedule;
use crate::domain::vocab::{EventType, SignupStatus};
use crate::error::{AppError, AppResult};
use crate::views::{RequestView, SignupView, local_time};

/// Requests claimed per query; a backlog drains in one tick, batch by batch.
const BATCH: u64 = 200;

/// What one tick sent.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub reminders: usize,
    pub unfilled: usize,
    pub no_shows: usize,
}

/// One tick at `now`.
pub async fn run_once(db: &DatabaseConnection, settings: &Settings, now: i64) -> AppResult<Sent> {
    Ok(Sent {
        reminders: each_due(db, Mark::Reminder, settings, now).await?,
        unfilled: each_due(db, Mark::Unfilled, settings, now).await?,
        no_shows: each_due(db, Mark::NoShows, settings, now).await?,
    })
}

/// Ticks every `SCHEDULER_TICK_SECS`, starting at once.
pub fn spawn_worker(
    db: DatabaseConnection,
    settings: Arc<Settings>,
) -> tokio::task::JoinHandle<()> {
    let tick = Duration::from_secs(settings.scheduler_tick_secs);
    tokio::spawn(async move {
        loop {
            match run_once(&db, &settings, settings.now()).await {
                Ok(sent) if sent == Sent::default() => {}
                Ok(sent) => tracing::info!(
                    reminders = sent.reminders,
                    unfilled = sent.unfilled,
                    no_shows = sent.no_shows,
                    "timed events written"
                ),
                Err(err) => tracing::warn!(%err, "scheduler tick failed"),
            }
            tokio::time::sleep(tick).await;
        }
    })
}

#[derive(Clone, Copy)]
enum Mark {
    Reminder,
    Unfilled,
    NoShows,
}

impl Mark {
    fn column(self) -> help_request::Column {
        match self {
            Self::Reminder => help_request::Column::ReminderSentAt,
            Self::Unfilled => help_request::Column::UnfilledSentAt,
            Self::NoShows => help_request::Column::NoShowsSettledAt,
        }
    }

    fn due_by(self, settings: &Settings, now: i64) -> i64 {
        match self {
            Self::Reminder => schedule::reminder_due_by(now, settings.reminder_lead_secs),
            Self::Unfilled => schedule::unfilled_due_by(now),
            Self::NoShows => schedule::no_shows_due_by(now),
        }
    }
}

/// The unmarked requests starting by the due time, oldest first: an
/// index range read, whatever the number of future requests.
pub async fn due_batch(
    db: &impl ConnectionTrait,
    column: help_request::Column,
    due_by: i64,
) -> AppResult<Vec<Uuid>> {
    Ok(Requests::find()
        .select_only()
        .column(help_request::Column::Id)
        .filter(column.is_null())
        .filter(help_request::Column::StartsAt.lte(due_by))
        .order_by_asc(help_request::Column::StartsAt)
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?)
}

async fn each_due(
    db: &DatabaseConnection,
    mark: Mark,
    settings: &Settings,
    now: i64,
) -> AppResult<usize> {
    let mut sent = 0;
    loop {
        let due = due_batch(db, mark.column(), mark.due_by(settings, now)).await?;
        for id in &due {
            sent += handle(db, mark, settings, *id, now).await?;
        }
        if (due.len() as u64) < BATCH {
            return Ok(sent);
        }
    }
}

/// Claims one request for `mark` and writes its events, in one
/// transaction; 0 when another process claimed it first.
async fn handle(
    db: &DatabaseConnection,
    mark: Mark,
    settings: &Settings,
    id: Uuid,
    now: i64,
) -> AppResult<usize> {
    let txn = db.begin().await?;
    let claimed = Requests::update_many()
        .col_expr(mark.column(), Expr::value(now))
        .filter(help_request::Column::Id.eq(id))
        .filter(mark.column().is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(0);
    }
    let request = super::requests::find(&txn, id).await?;
    let sent = match mark {
        Mark::Reminder => remind(&txn, settings, &request, now).await?,
        Mark::Unfilled => alert_unfilled(&txn, settings, &request, now).await?,
        Mark::NoShows => settle_no_shows(&txn, settings, &request, now).await?,
    };
    txn.commit().await?;
    Ok(sent)
}

async fn remind(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    request: &help_request::Model,
    now: i64,
) -> AppResult<usize> {
    let signed_up = Signups::find()
        .filter(signup::Column::RequestId.eq(request.id))
        .filter(signup::Column::Status.is_in([SignupStatus::SignedUp, SignupStatus::Attended]))
        .count(txn)
        .await?;
    if !schedule::wants_reminder(
        request.status,
        request.team_id.is_some(),
        signed_up,
        request.starts_at,
        now,
    ) {
        return Ok(0);
    }
    let minutes = (request.starts_at - now).max(0) / 60;
    let detail = format!(
        "还有 {} 小时 {} 分钟开始，已报名 {signed_up} 人，请准时到达并在手机上签到",
        minutes / 60,
        minutes % 60
    );
    emit(
        txn,
        settings,
        request,
        EventType::SignupReminder,
        detail,
        None,
    )
    .await?;
    Ok(1)
}

async fn alert_unfilled(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    request: &help_request::Model,
    now: i64,
) -> AppResult<usize> {
    if !schedule::wants_unfilled_alert(
        request.status,
        request.signups_count,
        request.volunteers_needed,
        request.starts_at,
        now,
    ) {
        return Ok(0);
    }
    let detail = format!(
        "24 小时内开始，仍缺 {} 人（已报名 {}/{}）",
        request.volunteers_needed - request.signups_count,
        request.signups_count,
        request.volunteers_needed
    );
    emit(
        txn,
        settings,
        request,
        EventType::RequestUnfilled,
        detail,
        None,
    )
    .await?;
    Ok(1)
}

/// Each volunteer still only `signed_up` becomes a `no_show`, with one
/// `signup.no_show` each. Check-in turns a sign-up `attended` in its own
/// transaction, so one that checked in is never counted.
async fn settle_no_shows(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    request: &help_request::Model,
    now: i64,
) -> AppResult<usize> {
    if !schedule::settles_no_shows(request.status) {
        return Ok(0);
    }
    let absent = Signups::find()
        .filter(signup::Column::RequestId.eq(request.id))
        .filter(signup::Column::Status.eq(SignupStatus::SignedUp))
        .all(txn)
        .await?;
    let tz = settings.time_zone;
    let mut sent = 0;
    for row in absent {
        if super::participation::has_records_for(txn, request.id, row.volunteer_id).await? {
            continue;
        }
        let marked = Signups::update_many()
            .col_expr(signup::Column::Status, Expr::value(SignupStatus::NoShow))
            .col_expr(signup::Column::StatusChangedAt, Expr::value(now))
            .filter(signup::Column::Id.eq(row.id))
            .filter(signup::Column::Status.eq(SignupStatus::SignedUp))
            .exec(txn)
            .await?;
        if marked.rows_affected == 0 {
            continue;
        }
        let name = Users::find_by_id(row.volunteer_id)
            .one(txn)
            .await?
            .map(|u| mask_name(&u.name))
            .unwrap_or_default();
        let detail = format!("志愿者 {name} 开始 30 分钟后仍未签到，记为未到场");
        let resident = super::requests::resident_of(txn, request).await?;
        let data = NoShowData {
            signup: SignupView {
                id: row.id,
                request_id: row.request_id,
                volunteer_id: row.volunteer_id,
                team_id: row.team_id,
                status: SignupStatus::NoShow,
                places_left: (request.volunteers_needed - request.signups_count).max(0),
                created_at: local_time(row.created_at, tz),
            },
            request: RequestView::build(request, resident.as_ref(), false, tz),
        };
        let data = serde_json::to_value(data).map_err(AppError::internal)?;
        emit(
            txn,
            settings,
            request,
            EventType::SignupNoShow,
            detail,
            Some(data),
        )
        .await?;
        sent += 1;
    }
    Ok(sent)
}

/// A `signup.no_show`'s `data`: the sign-up, with the request as a
/// volunteer who is not signed up sees it.
#[derive(serde::Serialize)]
struct NoShowData {
    #[serde(flatten)]
    signup: SignupView,
    request: RequestView,
}

async fn emit(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    request: &help_request::Model,
    event: EventType,
    detail: String,
    data: Option<serde_json::Value>,
) -> AppResult<()> {
    let resident = super::requests::resident_of(txn, request).await?;
    outbox::emit(
        txn,
        settings,
        RequestEvent {
            event,
            request,
            resident: resident.as_ref(),
            team_id: request.team_id,
            detail: Some(detail),
            data,
        },
    )
    .await
}

//! The delivery worker: a tokio task in every server process that claims
//! due deliveries, sends them, and records the outcome.
//!
//! Claiming sets a lease in one statement. On PostgreSQL the candidate
//! rows are picked `FOR UPDATE SKIP LOCKED`, so several processes never
//! take the same delivery; the lease is renewed while the delivery is in
//! hand (`delivery_lease`), however slow the receiver; a process that
//! dies mid-send leaves a lease that expires, and the delivery is sent
//! again (at least once). SQLite's single connection makes the same
//! statement exclusive for one process.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use entity::outbox_event::Entity as Events;
use entity::webhook::{self, Entity as Webhooks};
use entity::webhook_delivery::{self, Entity as Deliveries};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, Statement, sea_query::Expr,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::delivery_lease::{InHand, Lease, RenewerHandle};
use super::outbox::StoredMessage;
use crate::config::Settings;
use crate::domain::notify::{self, Outcome};
use crate::domain::ssrf::parse_webhook_url;
use crate::domain::vocab::DeliveryStatus;
use crate::domain::vocab::WebhookKind;
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;
use crate::webhook_target::{self, check_target, ssrf_error_of};

const BATCH: i64 = 16;
const IDLE_POLL: Duration = Duration::from_millis(200);
/// The most of a receiver's answer we read and keep.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

struct Claimed {
    id: Uuid,
    event_id: Uuid,
    webhook_id: Uuid,
    attempts: i32,
    created_at: i64,
    lease: Arc<Lease>,
}

/// The running worker of this process.
pub struct DeliveryWorker {
    stop: watch::Sender<bool>,
    cut: watch::Sender<bool>,
    task: JoinHandle<()>,
    renewer: RenewerHandle,
    in_hand: InHand,
    db: DatabaseConnection,
}

/// How long a worker that was told to cut its sends short may take to
/// finish the database statement it is in before it is aborted.
const CUT_WAIT: Duration = Duration::from_secs(5);

struct Worker {
    db: DatabaseConnection,
    client: reqwest::Client,
    settings: Arc<Settings>,
    metrics: Arc<Metrics>,
    in_hand: InHand,
    lease_ms: i64,
    /// Set when the shutdown grace is over: sends in flight are dropped,
    /// and no further delivery of a lane is started.
    cut: watch::Receiver<bool>,
}

pub fn spawn(
    db: DatabaseConnection,
    settings: Arc<Settings>,
    metrics: Arc<Metrics>,
) -> DeliveryWorker {
    let (stop, mut stopped) = watch::channel(false);
    let (cut, cut_rx) = watch::channel(false);
    let in_hand = InHand::default();
    let lease_ms = i64::try_from(settings.webhook_lease_ms).unwrap_or(i64::MAX / 2);
    let renewer = super::delivery_lease::spawn_renewer(db.clone(), in_hand.clone(), lease_ms);
    let worker_db = db.clone();
    let worker_in_hand = in_hand.clone();
    let task = tokio::spawn(async move {
        let client = match webhook_target::client_builder(settings.webhook_allow_private_targets)
            .build()
        {
            Ok(client) => client,
            Err(err) => {
                tracing::error!(%err, "webhook client could not be built; no deliveries will be sent");
                return;
            }
        };
        let worker = Worker {
            db: worker_db,
            client,
            settings,
            metrics,
            in_hand: worker_in_hand,
            lease_ms,
            cut: cut_rx,
        };
        // A round in progress is never cut short here: the stop signal is
        // only looked at between rounds (and cuts the idle sleeps short).
        while !*stopped.borrow() {
            let pause = match worker.run_once().await {
                Ok(0) => IDLE_POLL,
                Ok(_) => Duration::ZERO,
                Err(err) => {
                    tracing::warn!(%err, "delivery round failed");
                    Duration::from_secs(1)
                }
            };
            if !pause.is_zero() {
                let _ = tokio::time::timeout(pause, stopped.changed()).await;
            }
        }
    });
    DeliveryWorker {
        stop,
        cut,
        task,
        renewer,
        in_hand,
        db,
    }
}

impl DeliveryWorker {
    /// Stops claiming, lets the sends in flight finish for up to `grace`,
    /// then gives back the lease of every delivery still in hand, so that
    /// another process sends it at once instead of after the lease.
    ///
    /// Nothing is aborted in the middle of a database statement: a claim
    /// or a renewal cut off after the database ran it would leave a lease
    /// this process no longer knows of, and the delivery would wait out
    /// the whole lease. So the worker is told to drop its sends (the only
    /// slow part) and finishes on its own; aborting is the last resort.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            let _ = self.cut.send(true);
            if tokio::time::timeout(CUT_WAIT, &mut task).await.is_err() {
                tracing::warn!("the delivery worker did not stop when told; aborting it");
                task.abort();
                let _ = task.await;
            }
        }
        self.renewer.stop().await;
        let in_hand = self.in_hand.all();
        for lease in &in_hand {
            lease.release(&self.db).await;
        }
        tracing::info!(released = in_hand.len(), "delivery worker stopped");
    }
}

impl Worker {
    /// Claims and sends one batch; returns how many were claimed.
    /// Different webhooks are served at once; one webhook's deliveries go
    /// one after the other, in order, so each sees the sends before it
    /// when it checks the robot's rate limit.
    async fn run_once(&self) -> AppResult<usize> {
        let claimed = claim(&self.db, Utc::now().timestamp_millis(), self.lease_ms).await?;
        let count = claimed.len();
        for c in &claimed {
            self.in_hand.add(c.lease.clone());
        }
        let mut by_webhook: Vec<Vec<Claimed>> = Vec::new();
        for c in claimed {
            match by_webhook
                .iter_mut()
                .find(|group| group[0].webhook_id == c.webhook_id)
            {
                Some(group) => group.push(c),
                None => by_webhook.push(vec![c]),
            }
        }
        let lanes = by_webhook.into_iter().map(|group| async move {
            for c in group {
                if *self.cut.borrow() {
                    // Left in hand: the shutdown gives its lease back.
                    continue;
                }
                if let Err(err) = self.deliver(&c).await {
                    tracing::warn!(%err, delivery = %c.id, "delivery attempt could not be recorded");
                }
                // A send dropped by the cut stays in hand for the shutdown
                // to give back (a recorded one has no lease left to give).
                if !*self.cut.borrow() {
                    self.in_hand.remove(c.id);
                }
            }
        });
        futures::future::join_all(lanes).await;
        Ok(count)
    }

    async fn deliver(&self, c: &Claimed) -> AppResult<()> {
        let db = &self.db;
        let Some(hook) = Webhooks::find_by_id(c.webhook_id).one(db).await? else {
            return Ok(());
        };
        let Some(event) = Events::find_by_id(c.event_id).one(db).await? else {
            return Ok(());
        };
        let kind = hook.kind;
        let now = Utc::now();

        // A burst waits its turn instead of being refused by the robot.
        let recent = recent_sends(db, hook.id, now).await?;
        let slot = notify::next_send_at_for(kind, &recent, now);
        if slot > now {
            return postpone(db, c, slot.timestamp_millis()).await;
        }

        let mut cut = self.cut.clone();
        let outcome = tokio::select! {
            outcome = attempt(&self.client, &self.settings, &hook, kind, &event, now) => outcome,
            // Dropped unrecorded; the shutdown gives the lease back.
            _ = told(&mut cut) => return Ok(()),
        };
        if let Some(recorded) = record(db, &self.settings, c, outcome).await? {
            self.metrics.delivery_attempt(recorded);
        }
        Ok(())
    }
}

/// Resolves once the flag is set; never, if its sender is gone (a worker
/// whose handle was dropped keeps working as before).
pub(super) async fn told(flag: &mut watch::Receiver<bool>) {
    if flag.wait_for(|set| *set).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn claim(db: &DatabaseConnection, now: i64, lease_ms: i64) -> AppResult<Vec<Claimed>> {
    let lease = now + lease_ms;
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE webhook_deliveries SET lease_until = $1 WHERE id IN (
                SELECT id FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until < $2)
                ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING id, event_id, webhook_id, attempts, created_at"
        }
        _ => {
            "UPDATE webhook_deliveries SET lease_until = ? WHERE id IN (
                SELECT id FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)
                ORDER BY next_attempt_at LIMIT ?)
             RETURNING id, event_id, webhook_id, attempts, created_at"
        }
    };
    let values: Vec<sea_orm::Value> = match backend {
        DbBackend::Postgres => vec![lease.into(), now.into(), BATCH.into()],
        _ => vec![lease.into(), now.into(), now.into(), BATCH.into()],
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Claimed {
                id: row.try_get("", "id")?,
                event_id: row.try_get("", "event_id")?,
                webhook_id: row.try_get("", "webhook_id")?,
                attempts: row.try_get("", "attempts")?,
                created_at: row.try_get("", "created_at")?,
                lease: Lease::new(row.try_get("", "id")?, lease),
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(AppError::from)
}

fn at_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
}

/// What one attempt found: the outcome and the HTTP status, if any.
struct Attempt {
    outcome: Outcome,
    status: Option<u16>,
}

async fn attempt(
    client: &reqwest::Client,
    settings: &Settings,
    hook: &webhook::Model,
    kind: WebhookKind,
    event: &entity::outbox_event::Model,
    now: DateTime<Utc>,
) -> Attempt {
    let permanent = |e: String| Attempt {
        outcome: Outcome::Permanent(e),
        status: None,
    };
    // A secret that does not open is a configuration error (a wrong or
    // missing SECRETS_KEY): fail this delivery visibly, never sign wrong.
    let secret = match super::webhooks::reveal_secret(hook, settings.secrets_key.as_ref()) {
        Ok(secret) => secret,
        Err(e) => {
            tracing::error!(webhook = %hook.id, reason = %e, "webhook secret cannot be read");
            return permanent(format!("webhook_secret_unreadable: {e}"));
        }
    };
    // Like an unreadable secret: a URL sealed under another key fails this
    // delivery visibly (and never reaches a log in clear).
    let clear_url = match super::webhooks::reveal_url(hook, settings.secrets_key.as_ref()) {
        Ok(url) => url,
        Err(e) => {
            tracing::error!(webhook = %hook.id, reason = %e, "webhook URL cannot be read");
            return permanent(format!("webhook_url_unreadable: {e}"));
        }
    };
    // DNS may have changed since registration: check the target again.
    let url = match parse_webhook_url(&clear_url) {
        Ok(url) => url,
        Err(e) => return permanent(format!("webhook_url_forbidden: {e}")),
    };
    if let Err(e) = check_target(&url, settings.webhook_allow_private_targets).await {
        return if e.is_resolution_failure() {
            Attempt {
                outcome: Outcome::Retry(e.to_string()),
                status: None,
            }
        } else {
            permanent(format!("webhook_url_forbidden: {e}"))
        };
    }
    let event_type = event.event_type;
    let stored: StoredMessage = match serde_json::from_str(&event.payload) {
        Ok(m) => m,
        Err(e) => return permanent(format!("unreadable event: {e}")),
    };
    let message = stored.into_message(event.id, event_type);
    let request = match notify::build_delivery(kind, &clear_url, secret.as_deref(), &message, now) {
        Ok(r) => r,
        Err(e) => return permanent(e.to_string()),
    };
    let mut builder = client.post(&request.url).body(request.body);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    match builder.send().await {
        Err(err) => match ssrf_error_of(&err) {
            Some(e) if !e.is_resolution_failure() => {
                permanent(format!("webhook_url_forbidden: {e}"))
            }
            _ => Attempt {
                outcome: notify::classify_transport_error(
                    &webhook_target::describe_transport_error(err),
                ),
                status: None,
            },
        },
        Ok(response) => {
            let status = response.status().as_u16();
            let body = read_limited(response).await;
            Attempt {
                outcome: notify::classify(kind, status, &body),
                status: Some(status),
            }
        }
    }
}

async fn read_limited(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ANSWER_BYTES {
            body.truncate(MAX_ANSWER_BYTES);
            break;
        }
    }
    body
}

async fn recent_sends(
    db: &DatabaseConnection,
    webhook_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Vec<DateTime<Utc>>> {
    let since = now.timestamp_millis() - notify::ratelimit::LOOKBACK.as_millis() as i64;
    let times: Vec<Option<i64>> = Deliveries::find()
        .select_only()
        .column(webhook_delivery::Column::LastAttemptAt)
        .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
        .filter(webhook_delivery::Column::LastAttemptAt.gte(since))
        .into_tuple()
        .all(db)
        .await?;
    Ok(times.into_iter().flatten().map(at_ms).collect())
}

async fn postpone(db: &DatabaseConnection, c: &Claimed, until_ms: i64) -> AppResult<()> {
    let mut lease = c.lease.hold().await;
    let Some(lease_until) = *lease else {
        return Ok(());
    };
    Deliveries::update_many()
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(until_ms),
        )
        .col_expr(
            webhook_delivery::Column::LeaseUntil,
            Expr::value(Option::<i64>::None),
        )
        .filter(webhook_delivery::Column::Id.eq(c.id))
        .filter(webhook_delivery::Column::LeaseUntil.eq(lease_until))
        .exec(db)
        .await?;
    *lease = None;
    Ok(())
}

async fn record(
    db: &DatabaseConnection,
    settings: &Settings,
    c: &Claimed,
    attempt: Attempt,
) -> AppResult<Option<&'static str>> {
    let now = Utc::now();
    let attempts = c.attempts + 1;
    let (status, next, delivered_at, error) = match &attempt.outcome {
        Outcome::Delivered => (
            DeliveryStatus::Delivered,
            now.timestamp_millis(),
            Some(now.timestamp_millis()),
            None,
        ),
        Outcome::Permanent(e) => (
            DeliveryStatus::Failed,
            now.timestamp_millis(),
            None,
            Some(e.clone()),
        ),
        Outcome::Retry(e) => {
            let delay = notify::retry_delay(
                settings.webhook_retry_base_ms,
                attempts as u32,
                rand::random::<f64>(),
            );
            match notify::next_attempt_at(at_ms(c.created_at), now, delay) {
                Some(at) => (
                    DeliveryStatus::Pending,
                    at.timestamp_millis(),
                    None,
                    Some(e.clone()),
                ),
                None => (
                    DeliveryStatus::Failed,
                    now.timestamp_millis(),
                    None,
                    Some(format!("24 小时内未能送达：{e}")),
                ),
            }
        }
    };
    let mut lease = c.lease.hold().await;
    let Some(lease_until) = *lease else {
        // Lost while sending: another process owns the delivery now.
        return Ok(None);
    };
    Deliveries::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            webhook_delivery::Column::LeaseUntil,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            webhook_delivery::Column::LastAttemptAt,
            Expr::value(now.timestamp_millis()),
        )
        .col_expr(
            webhook_delivery::Column::LastStatusCode,
            Expr::value(attempt.status.map(i32::from)),
        )
        .col_expr(webhook_delivery::Column::LastError, Expr::value(error))
        .col_expr(
            webhook_delivery::Column::DeliveredAt,
            Expr::value(delivered_at),
        )
        .filter(webhook_delivery::Column::Id.eq(c.id))
        .filter(webhook_delivery::Column::LeaseUntil.eq(lease_until))
        .exec(db)
        .await?;
    *lease = None;
    Ok(Some(match status {
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Pending => "retry",
        _ => "failed",
    }))
}

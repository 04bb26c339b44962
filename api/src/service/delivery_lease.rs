//! The lease on a claimed delivery, held for as long as this process has
//! the delivery in hand — waiting in its webhook's lane or being sent.
//!
//! A lease is a time in `webhook_deliveries.lease_until`; another process
//! may claim the delivery once it has passed. A receiver slower than the
//! lease (or a lane of deliveries queued behind a slow one) must not let
//! it pass, or a second process sends the same event again. So a renewer
//! moves every lease in hand forward every third of the lease length.
//!
//! The lease's value is also the proof of ownership: recording an outcome
//! updates the row only `WHERE lease_until = <ours>`. Renewal changes that
//! value, so renewing and recording take the same per-delivery lock, and
//! the outcome is always written against the value in the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use entity::webhook_delivery::{self, Entity as Deliveries};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr};
use tokio::sync::MutexGuard;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::domain::vocab::DeliveryStatus;

/// One claimed delivery's lease: `Some(until)` while held, `None` once its
/// outcome is recorded or it was given back.
pub struct Lease {
    id: Uuid,
    until: tokio::sync::Mutex<Option<i64>>,
}

impl Lease {
    pub fn new(id: Uuid, until: i64) -> Arc<Self> {
        Arc::new(Self {
            id,
            until: tokio::sync::Mutex::new(Some(until)),
        })
    }

    /// Holds off renewal while the caller writes against the current
    /// value; the caller sets it to `None` when the lease is over.
    pub async fn hold(&self) -> MutexGuard<'_, Option<i64>> {
        self.until.lock().await
    }

    /// Moves the lease to `now + lease_ms`. `false`: the lease was lost
    /// (the database was out of reach for longer than the lease, and
    /// another process may have taken the delivery).
    async fn renew(&self, db: &DatabaseConnection, lease_ms: i64) -> bool {
        let mut until = self.until.lock().await;
        let Some(current) = *until else {
            return true;
        };
        let next = Utc::now().timestamp_millis() + lease_ms;
        let renewed = Deliveries::update_many()
            .col_expr(webhook_delivery::Column::LeaseUntil, Expr::value(next))
            .filter(webhook_delivery::Column::Id.eq(self.id))
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
            .filter(webhook_delivery::Column::LeaseUntil.eq(current))
            .exec(db)
            .await;
        match renewed {
            Ok(done) if done.rows_affected == 1 => {
                *until = Some(next);
                true
            }
            Ok(_) => {
                // Deleted with its webhook, or taken by another process.
                *until = None;
                false
            }
            Err(err) => {
                tracing::warn!(%err, delivery = %self.id, "could not renew a delivery lease");
                true
            }
        }
    }

    /// Gives the delivery back for any process to send at once.
    ///
    /// Tried a few times: this runs at shutdown, after actix's workers
    /// have stopped, and a pooled PostgreSQL connection that was opened on
    /// a worker's runtime dies with it ("a Tokio context is being
    /// shutdown"). The pool drops such a connection and opens the next on
    /// this runtime, so a second try goes through.
    pub async fn release(&self, db: &DatabaseConnection) {
        let mut until = self.until.lock().await;
        let Some(current) = until.take() else {
            return;
        };
        for attempt in 1..=RELEASE_TRIES {
            let released = Deliveries::update_many()
                .col_expr(
                    webhook_delivery::Column::LeaseUntil,
                    Expr::value(Option::<i64>::None),
                )
                .filter(webhook_delivery::Column::Id.eq(self.id))
                .filter(webhook_delivery::Column::LeaseUntil.eq(current))
                .exec(db)
                .await;
            match released {
                Ok(_) => return,
                Err(err) if attempt == RELEASE_TRIES => {
                    tracing::warn!(%err, delivery = %self.id, "could not release a delivery lease");
                }
                Err(err) => {
                    tracing::info!(%err, delivery = %self.id, attempt, "releasing a delivery lease again");
                }
            }
        }
    }
}

const RELEASE_TRIES: u32 = 3;

/// The deliveries this process has claimed and not yet recorded.
#[derive(Clone, Default)]
pub struct InHand(Arc<Mutex<HashMap<Uuid, Arc<Lease>>>>);

impl InHand {
    pub fn add(&self, lease: Arc<Lease>) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(lease.id, lease);
        }
    }

    pub fn remove(&self, id: Uuid) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(&id);
        }
    }

    pub fn all(&self) -> Vec<Arc<Lease>> {
        match self.0.lock() {
            Ok(map) => map.values().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// The running renewer; stopped between renewals, never during one.
pub struct RenewerHandle {
    stop: tokio::sync::watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RenewerHandle {
    /// Waits for the renewal in progress, if any, and stops. A renewal cut
    /// off after the database ran it would leave the lease in memory
    /// behind the one in the row, and giving it back would then miss.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Renews every lease in hand every third of `lease_ms`, so a lease has
/// two chances to be renewed before it could run out.
pub fn spawn_renewer(db: DatabaseConnection, in_hand: InHand, lease_ms: i64) -> RenewerHandle {
    let period = Duration::from_millis((lease_ms / 3).max(1) as u64);
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = super::delivery::told(&mut stopped) => return,
            }
            for lease in in_hand.all() {
                if !lease.renew(&db, lease_ms).await {
                    tracing::warn!(delivery = %lease.id, "a delivery lease was lost: deleted, or taken by another process");
                }
            }
        }
    });
    RenewerHandle { stop, task }
}

//! Webhooks and their deliveries, as operators see them.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::local_time;
use crate::domain::vocab::{DeliveryStatus, EventType, WebhookKind};
use crate::secrets::SecretsKey;
use crate::service::webhooks::shown_url;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    /// The URL with its query values, and Feishu's path token, hidden but
    /// the last four characters (robot keys travel there); `****` when it
    /// is stored sealed and `SECRETS_KEY` does not open it.
    pub url: String,
    pub kind: WebhookKind,
    pub team_id: Option<Uuid>,
    pub events: Vec<EventType>,
    /// Whether deliveries are signed; the secret itself is never returned.
    pub has_secret: bool,
    pub created_at: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Stable across retries: the `webhook-id` receivers deduplicate on.
    pub event_id: Uuid,
    pub event: EventType,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    /// When the next attempt is due; `null` once delivered or failed.
    pub next_attempt_at: Option<DateTime<FixedOffset>>,
    pub created_at: DateTime<FixedOffset>,
    pub delivered_at: Option<DateTime<FixedOffset>>,
}

impl WebhookView {
    /// `key`: `SECRETS_KEY`, to open a URL stored sealed before masking it.
    pub fn build(hook: &entity::webhook::Model, tz: Tz, key: Option<&SecretsKey>) -> Self {
        Self {
            id: hook.id,
            url: shown_url(hook, key),
            kind: hook.kind,
            team_id: hook.team_id,
            events: hook.events.clone().into_vec(),
            has_secret: hook.secret.is_some(),
            created_at: local_time(hook.created_at, tz),
        }
    }
}

impl DeliveryView {
    /// `event`: the type of the delivery's event.
    pub fn build(delivery: entity::webhook_delivery::Model, event: EventType, tz: Tz) -> Self {
        // Delivery times are Unix milliseconds.
        let ms = |t: i64| local_time(t.div_euclid(1000), tz);
        Self {
            event_id: delivery.event_id,
            event,
            next_attempt_at: (delivery.status == DeliveryStatus::Pending)
                .then(|| ms(delivery.next_attempt_at)),
            status: delivery.status,
            attempts: delivery.attempts,
            last_status_code: delivery.last_status_code,
            last_error: delivery.last_error,
            created_at: ms(delivery.created_at),
            delivered_at: delivery.delivered_at.map(ms),
        }
    }
}

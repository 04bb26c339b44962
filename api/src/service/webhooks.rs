//! Webhooks: registration (with the SSRF checks), listing, deletion, the
//! operators' view of deliveries, test sends and redelivery.
//!
//! Robot keys travel in the URL (WeCom `?key=`, DingTalk
//! `?access_token=`, Feishu's path), so with `SECRETS_KEY` set the whole
//! URL is stored sealed, like a signing secret: one rule for every kind,
//! with no need to know where each provider puts its key.

use chrono_tz::Tz;
use entity::outbox_event::{self, Entity as Events};
use entity::webhook::{self, Entity as Webhooks};
use entity::webhook_delivery::{self, Entity as Deliveries};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::outbox::{self, StoredMessage};
use super::paging::{PageRequest, finish, newest_first};
use super::{now, teams};
use crate::config::Settings;
use crate::domain::notify;
use crate::domain::ssrf::{SsrfError, parse_webhook_url};
use crate::domain::vocab::DeliveryStatus;
use crate::domain::vocab::{CodeList, EventType, WebhookKind};
use crate::error::{AppError, AppResult};
use crate::secrets::{self, OpenError, SEALED_PREFIX, SecretsKey};
use crate::views::{DeliveryView, local_time};
use crate::webhook_target::check_target;

pub struct NewWebhook {
    pub url: String,
    pub kind: WebhookKind,
    pub secret: Option<String>,
    pub team_id: Option<Uuid>,
    pub events: Vec<EventType>,
}

fn forbidden(e: SsrfError) -> AppError {
    AppError::unprocessable("webhook_url_forbidden", e.to_string())
}

/// Refuses URLs that are not http(s), and — unless private targets are
/// allowed — hosts that are or resolve to internal addresses.
pub async fn check_url(raw: &str, allow_private: bool) -> AppResult<url::Url> {
    let url = parse_webhook_url(raw).map_err(|e| match e {
        SsrfError::Malformed(_) | SsrfError::TooLong | SsrfError::NoHost => {
            AppError::invalid("url", e.to_string())
        }
        other => forbidden(other),
    })?;
    check_target(&url, allow_private).await.map_err(|e| {
        if e.is_resolution_failure() {
            AppError::unprocessable("webhook_url_unresolvable", e.to_string())
        } else {
            forbidden(e)
        }
    })?;
    Ok(url)
}

pub async fn create(
    db: &DatabaseConnection,
    settings: &Settings,
    new: NewWebhook,
    by: Uuid,
) -> AppResult<webhook::Model> {
    let url = check_url(&new.url, settings.webhook_allow_private_targets).await?;
    notify::validate_secret(new.kind, new.secret.as_deref())
        .map_err(|e| AppError::invalid("secret", e.to_string()))?;
    if let Some(team_id) = new.team_id {
        match teams::find(db, team_id).await {
            Ok(_) => {}
            Err(AppError::NotFound) => return Err(AppError::invalid("team_id", "队伍不存在")),
            Err(e) => return Err(e),
        }
    }
    // Kept in code order, once each: the stored list reads the same
    // however the caller ordered it.
    let mut events = new.events;
    events.sort_unstable_by_key(|e| e.code());
    events.dedup();
    let id = Uuid::now_v7();
    let secret = new
        .secret
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .map(|s| secrets::seal_optional(settings.secrets_key.as_ref(), &s, &secret_context(id)));
    let stored_url = secrets::seal_optional(
        settings.secrets_key.as_ref(),
        url.as_str(),
        &url_context(id),
    );
    Ok(webhook::ActiveModel {
        id: Set(id),
        url: Set(stored_url),
        kind: Set(new.kind),
        secret: Set(secret),
        team_id: Set(new.team_id),
        events: Set(CodeList(events)),
        created_by: Set(by),
        created_at: Set(now()),
    }
    .insert(db)
    .await?)
}

/// A sealed secret belongs to its webhook: it opens for no other row.
fn secret_context(webhook_id: Uuid) -> Vec<u8> {
    format!("webhook:{webhook_id}").into_bytes()
}

/// The webhook's signing secret in clear, if it has one.
pub fn reveal_secret(
    hook: &webhook::Model,
    key: Option<&SecretsKey>,
) -> Result<Option<String>, OpenError> {
    hook.secret
        .as_deref()
        .map(|stored| secrets::reveal(key, stored, &secret_context(hook.id)))
        .transpose()
}

/// A sealed URL belongs to its webhook, apart from its secret.
fn url_context(webhook_id: Uuid) -> Vec<u8> {
    format!("webhook-url:{webhook_id}").into_bytes()
}

/// The webhook's URL in clear, robot key and all: for sending only.
pub fn reveal_url(hook: &webhook::Model, key: Option<&SecretsKey>) -> Result<String, OpenError> {
    secrets::reveal(key, &hook.url, &url_context(hook.id))
}

/// The URL as operators see it: masked (see
/// [`notify::scrub::mask_url`]), or `****` when it cannot be opened.
pub fn shown_url(hook: &webhook::Model, key: Option<&SecretsKey>) -> String {
    match reveal_url(hook, key) {
        Ok(url) => notify::scrub::mask_url(&url),
        Err(_) => "****".into(),
    }
}

/// Seals the URLs stored in clear before `SECRETS_KEY` was set; returns
/// how many. The same guard as [`seal_clear_secrets`]: a row is replaced
/// only while it still holds the clear value read.
pub async fn seal_clear_urls(db: &impl ConnectionTrait, key: &SecretsKey) -> AppResult<u64> {
    let clear: Vec<(Uuid, String)> = Webhooks::find()
        .select_only()
        .column(webhook::Column::Id)
        .column(webhook::Column::Url)
        .filter(webhook::Column::Url.not_like(format!("{SEALED_PREFIX}%")))
        .into_tuple()
        .all(db)
        .await?;
    let mut sealed = 0;
    for (id, url) in clear {
        let done = Webhooks::update_many()
            .col_expr(
                webhook::Column::Url,
                Expr::value(key.seal(&url, &url_context(id))),
            )
            .filter(webhook::Column::Id.eq(id))
            .filter(webhook::Column::Url.eq(url))
            .exec(db)
            .await?;
        sealed += done.rows_affected;
    }
    Ok(sealed)
}

/// Seals the secrets stored in clear before `SECRETS_KEY` was set; returns
/// how many. Each row is replaced only if it still holds the clear value
/// read, so processes starting together each seal a row at most once and
/// the first one's value stands; running it again finds nothing to do.
pub async fn seal_clear_secrets(db: &impl ConnectionTrait, key: &SecretsKey) -> AppResult<u64> {
    let clear: Vec<(Uuid, String)> = Webhooks::find()
        .select_only()
        .column(webhook::Column::Id)
        .column(webhook::Column::Secret)
        .filter(webhook::Column::Secret.is_not_null())
        .filter(webhook::Column::Secret.not_like(format!("{SEALED_PREFIX}%")))
        .into_tuple()
        .all(db)
        .await?;
    let mut sealed = 0;
    for (id, secret) in clear {
        let done = Webhooks::update_many()
            .col_expr(
                webhook::Column::Secret,
                Expr::value(key.seal(&secret, &secret_context(id))),
            )
            .filter(webhook::Column::Id.eq(id))
            .filter(webhook::Column::Secret.eq(secret))
            .exec(db)
            .await?;
        sealed += done.rows_affected;
    }
    Ok(sealed)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<webhook::Model> {
    Webhooks::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn list(
    db: &impl ConnectionTrait,
    page: PageRequest,
) -> AppResult<(Vec<webhook::Model>, Option<String>)> {
    newest_first(db, Webhooks::find(), webhook::Column::Id, page, |w| w.id).await
}

/// Deletes a webhook; its deliveries go with it and are never sent.
pub async fn delete(db: &DatabaseConnection, id: Uuid) -> AppResult<()> {
    let txn = db.begin().await?;
    find(&txn, id).await?;
    Deliveries::delete_many()
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .exec(&txn)
        .await?;
    Webhooks::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn deliveries(
    db: &impl ConnectionTrait,
    webhook_id: Uuid,
    page: PageRequest,
    tz: Tz,
) -> AppResult<(Vec<DeliveryView>, Option<String>)> {
    let mut query = Deliveries::find()
        .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = page.after {
        query = query.filter(webhook_delivery::Column::Id.lt(after));
    }
    let (rows, cursor) = finish(query.all(db).await?, page.limit, |d| d.id);
    let event_ids: Vec<Uuid> = rows.iter().map(|d| d.event_id).collect();
    let events: Vec<(Uuid, EventType)> = Events::find()
        .select_only()
        .column(outbox_event::Column::Id)
        .column(outbox_event::Column::EventType)
        .filter(outbox_event::Column::Id.is_in(event_ids))
        .into_tuple()
        .all(db)
        .await?;
    let views = rows
        .into_iter()
        .map(|d| {
            // Deliveries go with their event (foreign key, cascading).
            let event = events
                .iter()
                .find(|(id, _)| *id == d.event_id)
                .map(|(_, event)| *event)
                .ok_or_else(|| AppError::internal("a delivery without its event"))?;
            Ok(DeliveryView::build(d, event, tz))
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok((views, cursor))
}

/// Queues a `webhook.test` message for this webhook alone.
pub async fn test_send(
    db: &DatabaseConnection,
    settings: &Settings,
    hook: &webhook::Model,
) -> AppResult<Uuid> {
    let tz = settings.time_zone;
    let now = chrono::Utc::now();
    let local = local_time(now.timestamp(), tz);
    let message = StoredMessage {
        occurred_at: local,
        request_title: "测试消息：通知已接通".into(),
        starts_at: local,
        ends_at: local,
        place: settings.community_name.clone(),
        team_name: None,
        contact: None,
        detail: Some("这是一条测试消息，收到即表示机器人配置正确".into()),
        data: serde_json::json!({"test": true}),
        mention_mobiles: Vec::new(),
        facts: Vec::new(),
    };
    let txn = db.begin().await?;
    let event_id = Uuid::now_v7();
    outbox_event::ActiveModel {
        id: Set(event_id),
        event_type: Set(EventType::WebhookTest),
        payload: Set(serde_json::to_string(&message).map_err(AppError::internal)?),
        created_at: Set(now.timestamp_millis()),
    }
    .insert(&txn)
    .await?;
    outbox::enqueue(&txn, event_id, hook.id, now.timestamp_millis()).await?;
    txn.commit().await?;
    Ok(event_id)
}

/// Sends a dead-lettered (`failed`) delivery again, with a fresh 24 hours.
pub async fn redeliver(db: &DatabaseConnection, webhook_id: Uuid, event_id: Uuid) -> AppResult<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let updated = Deliveries::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            Expr::value(DeliveryStatus::Pending),
        )
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(0))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(webhook_delivery::Column::CreatedAt, Expr::value(now))
        .col_expr(
            webhook_delivery::Column::LeaseUntil,
            Expr::value(Option::<i64>::None),
        )
        .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
        .filter(webhook_delivery::Column::EventId.eq(event_id))
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Failed))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        let exists = Deliveries::find()
            .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
            .filter(webhook_delivery::Column::EventId.eq(event_id))
            .one(db)
            .await?;
        return Err(match exists {
            None => AppError::NotFound,
            Some(_) => AppError::conflict("invalid_status", "只有失败的投递可以重新投递"),
        });
    }
    Ok(())
}

//! Group-chat notifications: webhooks and their deliveries (managers, admins).

use actix_web::{HttpResponse, delete, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Manager;
use crate::domain::vocab::{EventType, WebhookKind};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{EmptyBody, Json, OptionalJson};
use crate::service::paging::PageParams;
use crate::service::webhooks::{self, NewWebhook};
use crate::state::AppState;
use crate::views::{DeliveryView, Page, WebhookView};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(delete_webhook)
        .service(list_deliveries)
        .service(test_webhook)
        .service(redeliver_event);
}

#[derive(Deserialize, ToSchema)]
pub struct CreateWebhookBody {
    /// http(s) only; internal addresses are refused (`webhook_url_forbidden`).
    url: String,
    kind: WebhookKind,
    /// DingTalk/Feishu signing secret, or `whsec_…` for generic webhooks.
    secret: Option<String>,
    /// Only events about this team (and new requests it matches).
    team_id: Option<Uuid>,
    /// At least one; `webhook.test` is sent by the test route only.
    #[schema(min_items = 1)]
    events: Vec<EventType>,
}

/// Registers a webhook. The secret is never returned by any route.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), request_body = CreateWebhookBody, responses(
    (status = 201, body = WebhookView),
    (status = 422, description = "webhook_url_forbidden, or an invalid field", body = ErrorBody),
))]
#[post("/webhooks")]
async fn create_webhook(
    state: web::Data<AppState>,
    manager: Manager,
    body: Json<CreateWebhookBody>,
) -> AppResult<HttpResponse> {
    let body = body.0;
    if body.events.is_empty() {
        return Err(AppError::invalid("events", "至少订阅一种事件"));
    }
    if body.events.contains(&EventType::WebhookTest) {
        return Err(AppError::invalid(
            "events",
            "webhook.test 只用于测试发送，不能订阅",
        ));
    }
    let new = NewWebhook {
        url: body.url,
        kind: body.kind,
        secret: body.secret,
        team_id: body.team_id,
        events: body.events,
    };
    let hook = webhooks::create(&state.db, &state.settings, new, manager.0.id).await?;
    Ok(HttpResponse::Created().json(WebhookView::build(
        &hook,
        state.settings.time_zone,
        state.settings.secrets_key.as_ref(),
    )))
}

/// Lists webhooks, newest first.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, body = Page<WebhookView>),
))]
#[get("/webhooks")]
async fn list_webhooks(
    state: web::Data<AppState>,
    _: Manager,
    query: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let (rows, next_cursor) = webhooks::list(&state.reads, query.parse()?).await?;
    let items: Vec<WebhookView> = rows
        .iter()
        .map(|w| {
            WebhookView::build(
                w,
                state.settings.time_zone,
                state.settings.secrets_key.as_ref(),
            )
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Deletes a webhook; its pending deliveries are dropped.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204),
))]
#[delete("/webhooks/{id}")]
async fn delete_webhook(
    state: web::Data<AppState>,
    _: Manager,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    webhooks::delete(&state.db, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One item per event for this webhook, newest first.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("id" = Uuid, Path), PageParams), responses(
    (status = 200, body = Page<DeliveryView>),
))]
#[get("/webhooks/{id}/deliveries")]
async fn list_deliveries(
    state: web::Data<AppState>,
    _: Manager,
    id: web::Path<Uuid>,
    query: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let hook = webhooks::find(&state.reads, *id).await?;
    let (items, next_cursor) = webhooks::deliveries(
        &state.reads,
        hook.id,
        query.parse()?,
        state.settings.time_zone,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Queues a test message (`webhook.test`) to this webhook; 202 with its event id.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body(content = Option<EmptyBody>), responses(
    (status = 202, description = "queued: `{\"event_id\"}`"),
))]
#[post("/webhooks/{id}/test")]
async fn test_webhook(
    state: web::Data<AppState>,
    _: Manager,
    id: web::Path<Uuid>,
    _: OptionalJson<EmptyBody>,
) -> AppResult<HttpResponse> {
    let hook = webhooks::find(&state.db, *id).await?;
    let event_id = webhooks::test_send(&state.db, &state.settings, &hook).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "event_id": event_id })))
}

/// Sends a failed (dead-lettered) delivery again.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("id" = Uuid, Path), ("event_id" = Uuid, Path)), request_body(content = Option<EmptyBody>), responses(
    (status = 202, description = "queued again"),
    (status = 409, description = "the delivery has not failed", body = ErrorBody),
))]
#[post("/webhooks/{id}/deliveries/{event_id}/redeliver")]
async fn redeliver_event(
    state: web::Data<AppState>,
    _: Manager,
    path: web::Path<(Uuid, Uuid)>,
    _: OptionalJson<EmptyBody>,
) -> AppResult<HttpResponse> {
    let (id, event_id) = path.into_inner();
    webhooks::redeliver(&state.db, id, event_id).await?;
    Ok(HttpResponse::Accepted()
        .json(serde_json::json!({ "event_id": event_id, "status": "pending" })))
}

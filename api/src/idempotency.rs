//! `Idempotency-Key` on creating POSTs. The key belongs to the caller; the
//! first response (status and body) is kept in the database, so a phone
//! retrying through a flaky network — even against another server process —
//! gets the same answer instead of a second sign-up or a second request.
//!
//! Same key, same body: the first response is replayed. Same key, other
//! body: 422 `idempotency_key_reused`. While the first is still running:
//! 409 `idempotency_key_in_flight`. Keys live 24 hours.
//!
//! Nothing kept here is a usable secret: the request's fingerprint is an
//! HMAC under a server key (a body may hold a password, which a plain hash
//! would expose to guessing), and an answer holding an access token (the
//! registration's) is sealed under a key derived from `JWT_SECRET` —
//! whoever holds that key can mint tokens anyway.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use entity::idempotency_key::{self, Entity as Keys};
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr,
};
use sha2::Sha256;

use crate::auth::TokenKeys;
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::extract::MAX_BODY_BYTES;
use crate::secrets::{self, SecretsKey};
use crate::state::AppState;

pub const HEADER: &str = "Idempotency-Key";
/// How long a key is kept.
const RETENTION_SECS: i64 = 24 * 3600;
/// A claim this old with no response belongs to a process that died.
const ABANDONED_AFTER_SECS: i64 = 120;

enum Claim {
    Fresh,
    Replay { status: u16, body: String },
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req
        .headers()
        .get(HEADER)
        .map(|v| v.to_str().map(str::to_string));
    // Logging in creates nothing, and its answer (a token) must not be
    // kept in the database.
    let is_login = req.path().ends_with("/auth/login");
    let (Method::POST, Some(key), false) = (req.method().clone(), key, is_login) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let key = match key {
        Ok(key) if (1..=255).contains(&key.len()) => key,
        _ => return Err(AppError::invalid(HEADER, "须为 1 到 255 个可见 ASCII 字符").into()),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(AppError::internal("state missing").into());
    };
    let owner = owner_of(&req, &state.tokens);
    let body = read_body(&mut req).await?;
    let replay_key = SecretsKey::derive("idempotent replay", &state.settings.jwt_secret);
    let hash = request_hash(&replay_key, &req, &body);
    let seal_context = format!("{owner}\0{key}");
    let open = |stored: &str| open_answer(&replay_key, stored, seal_context.as_bytes());

    match claim(&state.db, &owner, &key, &hash, open).await? {
        Claim::Replay { status, body } => {
            let status = StatusCode::from_u16(status).map_err(AppError::internal)?;
            let response = HttpResponse::build(status)
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .insert_header(("Idempotent-Replayed", "true"))
                .body(body);
            return Ok(req.into_response(response));
        }
        Claim::Fresh => {}
    }

    req.set_payload(bytes_to_payload(body));
    let response = match next.call(req).await {
        Ok(response) => response,
        Err(err) => {
            release(&state.db, &owner, &key).await;
            return Err(err);
        }
    };
    let status = response.status();
    if status.is_server_error() {
        // Let the client retry a failure of ours with the same key.
        release(&state.db, &owner, &key).await;
        return Ok(response.map_into_boxed_body());
    }
    let (http_req, http_res) = response.into_parts();
    let (head, body) = http_res.into_parts();
    let bytes = to_bytes(body)
        .await
        .map_err(|_| AppError::internal("response body"))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let kept = seal_answer(&replay_key, text, seal_context.as_bytes());
    store(&state.db, &owner, &key, status.as_u16(), kept).await?;
    let http_res = head.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(http_req, http_res))
}

fn owner_of(req: &ServiceRequest, tokens: &TokenKeys) -> String {
    crate::auth::bearer_token_of(req.request())
        .and_then(|token| tokens.verify(token, now()).ok())
        .map(|verified| verified.id.to_string())
        .unwrap_or_else(|| "anonymous".into())
}

async fn read_body(req: &mut ServiceRequest) -> AppResult<web::Bytes> {
    use futures::StreamExt;
    let mut payload = req.parts_mut().1.take();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::MalformedJson(e.to_string()))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn bytes_to_payload(body: web::Bytes) -> actix_web::dev::Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    actix_web::dev::Payload::from(payload)
}

/// Method, path and body: a retry must be the same call. Keyed, so the
/// stored fingerprint of a body with a password in it cannot be tested
/// against guessed passwords by someone reading the database.
fn request_hash(key: &SecretsKey, req: &ServiceRequest, body: &[u8]) -> String {
    fingerprint(key, req.method().as_str(), &req.uri().to_string(), body)
}

fn fingerprint(key: &SecretsKey, method: &str, uri: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length; 32 bytes cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.bytes()) else {
        return String::new();
    };
    mac.update(method.as_bytes());
    mac.update(&[0]);
    mac.update(uri.as_bytes());
    mac.update(&[0]);
    // The same JSON with other spacing is the same body.
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => mac.update(value.to_string().as_bytes()),
        Err(_) => mac.update(body),
    }
    hex(&mac.finalize().into_bytes())
}

/// An answer holding an access token is kept sealed; others in clear.
fn seal_answer(key: &SecretsKey, body: String, context: &[u8]) -> String {
    let holds_token = serde_json::from_str::<serde_json::Value>(&body)
        .is_ok_and(|v| v.get("access_token").is_some());
    if holds_token {
        key.seal(&body, context)
    } else {
        body
    }
}

/// The kept answer in clear; `None` when it was sealed under another
/// `JWT_SECRET` (rotated, or random per start) — its token would not
/// work any more either.
fn open_answer(key: &SecretsKey, stored: &str, context: &[u8]) -> Option<String> {
    secrets::reveal(Some(key), stored, context).ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Takes the key for this call, or finds the answer to replay (`open`
/// reads a kept answer; one it cannot read is treated as expired, so the
/// call runs again rather than replaying nothing).
async fn claim(
    db: &DatabaseConnection,
    owner: &str,
    key: &str,
    hash: &str,
    open: impl Fn(&str) -> Option<String>,
) -> AppResult<Claim> {
    let now = now();
    let fresh = idempotency_key::ActiveModel {
        owner: Set(owner.into()),
        key: Set(key.into()),
        request_hash: Set(hash.into()),
        status_code: Set(None),
        response_body: Set(None),
        created_at: Set(now),
    };
    match Keys::insert(fresh).exec(db).await {
        Ok(_) => return Ok(Claim::Fresh),
        Err(err) if is_unique_violation(&err) => {}
        Err(err) => return Err(err.into()),
    }
    let existing = Keys::find_by_id((owner.to_string(), key.to_string()))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "idempotency_key_in_flight",
                "该 Idempotency-Key 的请求仍在处理中",
            )
        })?;
    let expired = existing.created_at < now - RETENTION_SECS;
    let abandoned =
        existing.status_code.is_none() && existing.created_at < now - ABANDONED_AFTER_SECS;
    let answer = existing.response_body.as_deref().map(open);
    let unreadable = matches!(answer, Some(None));
    if expired || abandoned || unreadable {
        // Take the stale key over; the condition on `created_at` makes
        // sure only one of several racing retries wins it.
        let taken = Keys::update_many()
            .col_expr(idempotency_key::Column::RequestHash, Expr::value(hash))
            .col_expr(
                idempotency_key::Column::StatusCode,
                Expr::value(Option::<i32>::None),
            )
            .col_expr(
                idempotency_key::Column::ResponseBody,
                Expr::value(Option::<String>::None),
            )
            .col_expr(idempotency_key::Column::CreatedAt, Expr::value(now))
            .filter(idempotency_key::Column::Owner.eq(owner))
            .filter(idempotency_key::Column::Key.eq(key))
            .filter(idempotency_key::Column::CreatedAt.eq(existing.created_at))
            .exec(db)
            .await?;
        if taken.rows_affected == 1 {
            return Ok(Claim::Fresh);
        }
        return Err(AppError::conflict(
            "idempotency_key_in_flight",
            "该 Idempotency-Key 的请求仍在处理中",
        ));
    }
    if existing.request_hash != hash {
        return Err(AppError::unprocessable(
            "idempotency_key_reused",
            "该 Idempotency-Key 已用于另一个不同的请求",
        ));
    }
    match (existing.status_code, answer.flatten()) {
        (Some(status), Some(body)) => Ok(Claim::Replay {
            status: status as u16,
            body,
        }),
        _ => Err(AppError::conflict(
            "idempotency_key_in_flight",
            "该 Idempotency-Key 的请求仍在处理中",
        )),
    }
}

async fn store(
    db: &DatabaseConnection,
    owner: &str,
    key: &str,
    status: u16,
    body: String,
) -> AppResult<()> {
    Keys::update_many()
        .col_expr(
            idempotency_key::Column::StatusCode,
            Expr::value(i32::from(status)),
        )
        .col_expr(idempotency_key::Column::ResponseBody, Expr::value(body))
        .filter(idempotency_key::Column::Owner.eq(owner))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

async fn release(db: &DatabaseConnection, owner: &str, key: &str) {
    let deleted = Keys::delete_many()
        .filter(idempotency_key::Column::Owner.eq(owner))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await;
    if let Err(err) = deleted {
        tracing::warn!(%err, "could not release an idempotency key");
    }
}

/// Deletes expired keys once an hour.
pub fn spawn_purger(db: DatabaseConnection) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let cutoff = now() - RETENTION_SECS;
            if let Err(err) = Keys::delete_many()
                .filter(idempotency_key::Column::CreatedAt.lt(cutoff))
                .exec(&db)
                .await
            {
                tracing::warn!(%err, "purging idempotency keys failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(purpose: &str) -> SecretsKey {
        SecretsKey::derive(purpose, b"jwt-secret")
    }

    #[test]
    fn an_answer_with_a_token_is_kept_sealed_and_reads_back() {
        let body = r#"{"user":{"id":"u1"},"access_token":"eyJhbGciOi.x.y"}"#.to_string();
        let kept = seal_answer(&key("a"), body.clone(), b"owner\0k");
        assert!(!kept.contains("eyJhbGciOi"), "{kept}");
        assert_eq!(
            open_answer(&key("a"), &kept, b"owner\0k").as_deref(),
            Some(body.as_str())
        );
        assert_eq!(open_answer(&key("b"), &kept, b"owner\0k"), None);
        assert_eq!(open_answer(&key("a"), &kept, b"other\0k"), None);
    }

    #[test]
    fn answers_without_a_token_are_kept_as_they_are() {
        let body = r#"{"id":"r1","title":"代购"}"#.to_string();
        assert_eq!(seal_answer(&key("a"), body.clone(), b"c"), body);
        assert_eq!(open_answer(&key("a"), &body, b"c"), Some(body));
    }

    #[test]
    fn the_fingerprint_is_keyed_and_ignores_json_spacing() {
        let body = br#"{"phone":"13800000000","password":"guess-me"}"#;
        let spaced = br#"{ "phone": "13800000000", "password": "guess-me" }"#;
        let a = fingerprint(&key("a"), "POST", "/api/v1/auth/register", body);
        assert_eq!(
            a,
            fingerprint(&key("a"), "POST", "/api/v1/auth/register", spaced)
        );
        assert_ne!(
            a,
            fingerprint(&key("b"), "POST", "/api/v1/auth/register", body)
        );
        assert_ne!(a, fingerprint(&key("a"), "POST", "/api/v1/requests", body));
    }
}

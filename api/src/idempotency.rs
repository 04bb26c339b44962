//! `Idempotency-Key` on creating POSTs. The key belongs to the caller; the
//! first response (status and body) is kept in the database, so a phone
//! retrying through a flaky network — even against another server process —
//! gets the same answer instead of a second sign-up or a second request.
//!
//! Same key, same body: the first response is replayed. Same key, other
//! body: 422 `idempotency_key_reused`. While the first is still running:
//! 409 `idempotency_key_in_flight`. Keys live 24 hours.
//!
//! Keys belong to callers whose token the account accepts now: this runs
//! after the standing check (`auth::standing`), so a disabled account or a
//! revoked token never gets a kept answer back (the route answers its 401
//! instead), and an anonymous call is simply not kept — a key row per
//! anonymous call would let anyone make the database write without bound —
//! except a registration, whose rows its own per-client limit bounds.
//! A refusal (401, 403, 404) is not kept either: once its cause is fixed,
//! the retry runs. A replayed answer that carries residents' personal data
//! is logged in the access log like the first (`disclosure`).
//!
//! Nothing kept here is a usable secret: the request's fingerprint is an
//! HMAC under a server key (a body may hold a password, which a plain hash
//! would expose to guessing), an answer holding an access token is sealed
//! under a key derived from `JWT_SECRET` — whoever holds that key can mint
//! tokens anyway — and an answer carrying residents' personal data is
//! sealed with `SECRETS_KEY` when it is set, like other secrets at rest.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use entity::idempotency_key::{self, Entity as Keys};
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr,
};
use sha2::Sha256;
use uuid::Uuid;

use crate::auth;
use crate::disclosure;
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
    Replay {
        status: u16,
        body: String,
        disclosed: Vec<Uuid>,
    },
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
    // Only for a caller whose token is accepted now; anyone else's call
    // runs as if no key were given (and the route refuses a bad token).
    // Registration is the exception: it has no token yet, and its own
    // per-client limit bounds its rows (a refused attempt keeps none).
    let caller = auth::accepted_caller(req.request());
    let owner = match (&caller, req.path().ends_with("/auth/register")) {
        (Some(caller), _) => caller.id.to_string(),
        (None, true) => "anonymous".to_string(),
        (None, false) => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
    };
    let body = read_body(&mut req).await?;
    let replay_key = SecretsKey::derive("idempotent replay", &state.settings.jwt_secret);
    let personal_key = state.settings.secrets_key.as_ref();
    let hash = request_hash(&replay_key, &req, &body);
    let seal_context = format!("{owner}\0{key}");
    let open =
        |stored: &str| open_answer(&replay_key, personal_key, stored, seal_context.as_bytes());

    match claim(&state.db, &owner, &key, &hash, open).await? {
        Claim::Replay {
            status,
            body,
            disclosed,
        } => {
            // Logged before the answer leaves, as the first one was.
            if let Some(caller) = &caller {
                disclosure::log_residents(&state, req.request(), caller, &disclosed).await?;
            }
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
    if !is_kept(status) {
        // A failure of ours, or a refusal whose cause may be fixed: the
        // client's retry with the same key runs again.
        release(&state.db, &owner, &key).await;
        return Ok(response.map_into_boxed_body());
    }
    let disclosed = response
        .request()
        .extensions()
        .get::<disclosure::Disclosed>()
        .map(|d| d.0.clone())
        .unwrap_or_default();
    let (http_req, http_res) = response.into_parts();
    let (head, body) = http_res.into_parts();
    let bytes = to_bytes(body)
        .await
        .map_err(|_| AppError::internal("response body"))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let personal = (!disclosed.is_empty()).then_some(personal_key).flatten();
    let kept = seal_answer(&replay_key, personal, text, seal_context.as_bytes());
    let answer = Kept {
        status: status.as_u16(),
        body: kept,
        disclosed: join_ids(&disclosed),
    };
    store(&state.db, &owner, &key, answer).await?;
    let http_res = head.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(http_req, http_res))
}

/// Answers worth replaying: not a failure of ours (5xx), not a refusal
/// of who the caller is or what they may see (401, 403, 404), which the
/// same call may pass once an account, a membership or a record is put
/// right, and not a limit's 429, which passes once its window ends.
fn is_kept(status: StatusCode) -> bool {
    !(status.is_server_error()
        || matches!(
            status,
            StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
                | StatusCode::NOT_FOUND
                | StatusCode::TOO_MANY_REQUESTS
        ))
}

/// What is stored for a key once its first call has answered.
struct Kept {
    status: u16,
    body: String,
    disclosed: Option<String>,
}

fn join_ids(ids: &[Uuid]) -> Option<String> {
    (!ids.is_empty()).then(|| {
        ids.iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(",")
    })
}

fn split_ids(stored: Option<&str>) -> Vec<Uuid> {
    stored
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| Uuid::parse_str(id.trim()).ok())
        .collect()
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

/// An answer holding an access token is kept sealed under the replay key;
/// one carrying residents' personal data under `personal` (`SECRETS_KEY`)
/// when it is set; others in clear.
fn seal_answer(
    key: &SecretsKey,
    personal: Option<&SecretsKey>,
    body: String,
    context: &[u8],
) -> String {
    let holds_token = serde_json::from_str::<serde_json::Value>(&body)
        .is_ok_and(|v| v.get("access_token").is_some());
    match (holds_token, personal) {
        (true, _) => key.seal(&body, context),
        (false, Some(personal)) => personal.seal(&body, context),
        (false, None) => body,
    }
}

/// The kept answer in clear; `None` when it was sealed under another
/// `JWT_SECRET` (rotated, or random per start) — its token would not
/// work any more either — or under a `SECRETS_KEY` no longer set.
fn open_answer(
    key: &SecretsKey,
    personal: Option<&SecretsKey>,
    stored: &str,
    context: &[u8],
) -> Option<String> {
    secrets::reveal(Some(key), stored, context)
        .ok()
        .or_else(|| personal.and_then(|p| p.open(stored, context).ok()))
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
        disclosed: Set(None),
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
            .col_expr(
                idempotency_key::Column::Disclosed,
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
            disclosed: split_ids(existing.disclosed.as_deref()),
        }),
        _ => Err(AppError::conflict(
            "idempotency_key_in_flight",
            "该 Idempotency-Key 的请求仍在处理中",
        )),
    }
}

async fn store(db: &DatabaseConnection, owner: &str, key: &str, answer: Kept) -> AppResult<()> {
    Keys::update_many()
        .col_expr(
            idempotency_key::Column::StatusCode,
            Expr::value(i32::from(answer.status)),
        )
        .col_expr(
            idempotency_key::Column::ResponseBody,
            Expr::value(answer.body),
        )
        .col_expr(
            idempotency_key::Column::Disclosed,
            Expr::value(answer.disclosed),
        )
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
        let kept = seal_answer(&key("a"), None, body.clone(), b"owner\0k");
        assert!(!kept.contains("eyJhbGciOi"), "{kept}");
        assert_eq!(
            open_answer(&key("a"), None, &kept, b"owner\0k").as_deref(),
            Some(body.as_str())
        );
        assert_eq!(open_answer(&key("b"), None, &kept, b"owner\0k"), None);
        assert_eq!(open_answer(&key("a"), None, &kept, b"other\0k"), None);
    }

    #[test]
    fn answers_without_a_token_are_kept_as_they_are() {
        let body = r#"{"id":"r1","title":"代购"}"#.to_string();
        assert_eq!(seal_answer(&key("a"), None, body.clone(), b"c"), body);
        assert_eq!(open_answer(&key("a"), None, &body, b"c"), Some(body));
    }

    #[test]
    fn personal_data_is_kept_sealed_with_the_secrets_key() {
        let body = r#"{"id":"r1","address":"幸福路 8 号","phone":"13800000000"}"#.to_string();
        let personal = key("secrets");
        let kept = seal_answer(&key("a"), Some(&personal), body.clone(), b"c");
        assert!(!kept.contains("幸福路") && !kept.contains("13800000000"));
        assert_eq!(
            open_answer(&key("a"), Some(&personal), &kept, b"c"),
            Some(body)
        );
        assert_eq!(open_answer(&key("a"), None, &kept, b"c"), None);
    }

    #[test]
    fn refusals_and_failures_are_not_kept() {
        for code in [401, 403, 404, 429, 500, 503, 507] {
            assert!(!is_kept(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [200, 201, 409, 422] {
            assert!(is_kept(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }

    #[test]
    fn disclosed_residents_read_back() {
        let ids = [Uuid::now_v7(), Uuid::now_v7()];
        assert_eq!(split_ids(join_ids(&ids).as_deref()), ids);
        assert_eq!(join_ids(&[]), None);
        assert!(split_ids(None).is_empty());
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

//! The one error type. Every failure — ours or actix's own — leaves the
//! server as the contract's body:
//! `{"error": {"code", "message", "details"?}}`. A 5xx hides its cause from
//! the client and logs it instead, with its whole `source` chain.

use std::error::Error as StdError;

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use sea_orm::{DbErr, RuntimeErr, SqlErr, SqlxError};
use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(thiserror::Error)]
pub enum AppError {
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("authentication required")]
    Unauthorized,
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 401 `token_revoked`: the token was issued before a password change.
    #[error("token revoked")]
    TokenRevoked,
    /// 401 `account_disabled`: the token's account has been disabled.
    #[error("account disabled")]
    AccountDisabled,
    #[error("forbidden")]
    Forbidden,
    /// 403 with a specific code (`not_your_request`, `own_entry`,
    /// `volunteer_not_vetted`, `account_disabled` at login …).
    #[error("{message}")]
    Denied { code: &'static str, message: String },
    /// 503 `busy`: more password hashes are waiting than the server runs
    /// at once; the client retries after `Retry-After`.
    #[error("busy")]
    Busy { retry_after_secs: i64 },
    #[error("not found")]
    NotFound,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("too many attempts")]
    TooManyAttempts { retry_after_secs: i64 },
    /// 429 with a specific code (`too_many_location_changes` …) and
    /// `Retry-After`: a limit on how often one may do something.
    #[error("{message}")]
    Limited {
        code: &'static str,
        message: String,
        retry_after_secs: i64,
    },
    /// 422 with one entry per invalid field.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 422 with a specific code (`team_not_vetted`, `record_in_future` …).
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// 409 with a specific code (`phone_taken`, `request_full` …).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 503 `database_unavailable`: the database did not answer (no pool
    /// connection in time, or the connection failed); the client retries
    /// after `Retry-After`. The cause is logged, never sent.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// 507 `storage_full`: the database's disk is full (SQLite
    /// `SQLITE_FULL`, PostgreSQL `53100`); nothing was stored, and the
    /// client retries after `Retry-After`. The cause is logged.
    #[error("storage full: {0}")]
    StorageFull(#[source] Cause),
    /// 500: the cause is logged with its source chain, never sent.
    #[error("internal error: {0}")]
    Internal(#[source] Cause),
}

/// The cause of a 5xx, kept as the error itself (not its text) so that the
/// log can walk `std::error::Error::source` down to the root.
pub type Cause = Box<dyn StdError + Send + Sync + 'static>;

/// Seconds a client waits before retrying after `database_unavailable`.
pub const DATABASE_RETRY_AFTER_SECS: i64 = 5;

/// An error with a word of what we were doing; its source is the error.
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
pub struct Context {
    context: String,
    #[source]
    source: Cause,
}

/// `error: source: source …`, every level of the chain once.
pub fn source_chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        let shown = cause.to_string();
        // Many errors repeat their source in their own text; say it once.
        if !text.ends_with(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        next = cause.source();
    }
    text
}

/// Logs show the code only: field messages can echo what the client sent,
/// which may be a resident's phone or name.
impl std::fmt::Debug for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Internal(cause) => {
                write!(f, "internal_error({})", source_chain(cause.as_ref()))
            }
            Self::Unavailable(cause) => {
                write!(f, "database_unavailable({})", source_chain(cause.as_ref()))
            }
            Self::StorageFull(cause) => {
                write!(f, "storage_full({})", source_chain(cause.as_ref()))
            }
            Self::Validation(fields) => {
                let names: Vec<&str> = fields.iter().map(|e| e.field.as_str()).collect();
                write!(f, "validation_failed({names:?})")
            }
            other => f.write_str(other.code()),
        }
    }
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn denied(code: &'static str, message: impl Into<String>) -> Self {
        Self::Denied {
            code,
            message: message.into(),
        }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable {
            code,
            message: message.into(),
        }
    }

    /// A 500 whose cause is an error (its chain is kept) or a message.
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }

    /// A 5xx for `err`, saying what we were doing; a `DbErr` keeps its
    /// 503/500 distinction.
    pub fn context(context: impl Into<String>, err: impl Into<AppError>) -> Self {
        let wrap = |source: Cause| -> Cause {
            Box::new(Context {
                context: context.into(),
                source,
            })
        };
        match err.into() {
            Self::Internal(source) => Self::Internal(wrap(source)),
            Self::Unavailable(source) => Self::Unavailable(wrap(source)),
            Self::StorageFull(source) => Self::StorageFull(wrap(source)),
            other => other,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TokenRevoked => "token_revoked",
            Self::AccountDisabled => "account_disabled",
            Self::Forbidden => "forbidden",
            Self::Busy { .. } => "busy",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::Validation(_) => "validation_failed",
            Self::Unprocessable { code, .. }
            | Self::Conflict { code, .. }
            | Self::Denied { code, .. }
            | Self::Limited { code, .. } => code,
            Self::Unavailable(_) => "database_unavailable",
            Self::StorageFull(_) => "storage_full",
            Self::Internal(_) => "internal_error",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::MalformedJson(detail) => format!("请求体不是合法的 JSON: {detail}"),
            Self::UnsupportedMediaType => "请求体须为 application/json".into(),
            Self::Unauthorized => "需要登录或令牌无效".into(),
            Self::InvalidCredentials => "手机号或密码错误".into(),
            Self::TokenRevoked => "令牌已失效（密码已更改），请重新登录".into(),
            Self::AccountDisabled => "账号已停用".into(),
            Self::Forbidden => "无权执行此操作".into(),
            Self::Busy { .. } => "服务器繁忙，请稍后再试".into(),
            Self::NotFound => "资源不存在".into(),
            Self::PayloadTooLarge => "请求体超过 256 KiB".into(),
            Self::TooManyAttempts { .. } => "尝试次数过多，请稍后再试".into(),
            Self::Validation(_) => "请求中的字段不合法".into(),
            Self::Unprocessable { message, .. }
            | Self::Conflict { message, .. }
            | Self::Denied { message, .. }
            | Self::Limited { message, .. } => message.clone(),
            Self::Unavailable(_) => "数据库暂时不可用，请稍后再试".into(),
            Self::StorageFull(_) => "服务器存储空间已满，未能保存，请稍后再试".into(),
            Self::Internal(_) => "服务器内部错误".into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code clients can branch on.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<FieldError>>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthorized
            | Self::InvalidCredentials
            | Self::TokenRevoked
            | Self::AccountDisabled => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Denied { .. } => StatusCode::FORBIDDEN,
            Self::Busy { .. } | Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyAttempts { .. } | Self::Limited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Validation(_) | Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => {
                tracing::error!(cause = %source_chain(cause.as_ref()), "request failed");
            }
            Self::Unavailable(cause) => {
                tracing::error!(cause = %source_chain(cause.as_ref()), "database unavailable");
            }
            Self::StorageFull(cause) => {
                tracing::error!(cause = %source_chain(cause.as_ref()), "storage full");
            }
            _ => {}
        }
        let details = match self {
            Self::Validation(fields) => Some(fields.clone()),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().into(),
                message: self.message(),
                details,
            },
        };
        let mut response = HttpResponse::build(self.status_code());
        if let Self::TooManyAttempts { retry_after_secs }
        | Self::Busy { retry_after_secs }
        | Self::Limited {
            retry_after_secs, ..
        } = self
        {
            response.insert_header(("Retry-After", retry_after_secs.max(&1).to_string()));
        }
        if let Self::Unavailable(_) | Self::StorageFull(_) = self {
            response.insert_header(("Retry-After", DATABASE_RETRY_AFTER_SECS.to_string()));
        }
        if self.status_code() == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(body)
    }
}

/// A full disk is 507 `storage_full`, a database that does not answer
/// (or failed in a way a retry may cure) is 503 `database_unavailable`;
/// only a failure of our own (a bad query, a missing row we counted on)
/// is 500. None of them is ever a 4xx.
impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match classify(&err) {
            DbFailure::StorageFull => Self::StorageFull(Box::new(err)),
            DbFailure::Unavailable => Self::Unavailable(Box::new(err)),
            DbFailure::Ours => Self::Internal(Box::new(err)),
        }
    }
}

/// What a database error means for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFailure {
    /// The disk is full: nothing was stored.
    StorageFull,
    /// The database did not answer, or failed for a reason outside the
    /// request (I/O error, lock held too long, shutting down): retry.
    Unavailable,
    /// Anything else: a bug of ours.
    Ours,
}

/// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_NOMEM: i64 = 7;
const SQLITE_READONLY: i64 = 8;
const SQLITE_IOERR: i64 = 10;
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_PROTOCOL: i64 = 15;

/// Sorts a database error by what the client should be told.
pub fn classify(err: &DbErr) -> DbFailure {
    let connecting = matches!(err, DbErr::Conn(_) | DbErr::ConnectionAcquire(_));
    let Some(sqlx) = sqlx_of(err) else {
        return if connecting {
            DbFailure::Unavailable
        } else {
            DbFailure::Ours
        };
    };
    match sqlx {
        SqlxError::PoolTimedOut
        | SqlxError::PoolClosed
        | SqlxError::Io(_)
        | SqlxError::Tls(_)
        | SqlxError::WorkerCrashed
        | SqlxError::Protocol(_) => DbFailure::Unavailable,
        SqlxError::Database(db) => database_code(db.code().as_deref(), connecting),
        _ if connecting => DbFailure::Unavailable,
        _ => DbFailure::Ours,
    }
}

fn sqlx_of(err: &DbErr) -> Option<&SqlxError> {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
        _ => None,
    }
}

/// A database's own error code: SQLite's number (extended codes are
/// on, so the primary code is the low byte) or PostgreSQL's SQLSTATE.
fn database_code(code: Option<&str>, connecting: bool) -> DbFailure {
    let Some(code) = code else {
        return if connecting {
            DbFailure::Unavailable
        } else {
            DbFailure::Ours
        };
    };
    if let Ok(number) = code.parse::<i64>()
        && code.len() != 5
    {
        return match number & 0xff {
            SQLITE_FULL => DbFailure::StorageFull,
            SQLITE_BUSY | SQLITE_LOCKED | SQLITE_NOMEM | SQLITE_READONLY | SQLITE_IOERR
            | SQLITE_CORRUPT | SQLITE_CANTOPEN | SQLITE_PROTOCOL => DbFailure::Unavailable,
            _ => DbFailure::Ours,
        };
    }
    match code {
        // disk_full
        "53100" => DbFailure::StorageFull,
        // insufficient resources, out of memory, too many connections;
        // query canceled (statement timeout); admin or crash shutdown,
        // cannot connect now; io_error; read-only transaction (a standby)
        "53000" | "53200" | "53300" | "57014" | "57P01" | "57P02" | "57P03" | "58030" | "25006" => {
            DbFailure::Unavailable
        }
        // connection exceptions
        c if c.starts_with("08") => DbFailure::Unavailable,
        _ if connecting => DbFailure::Unavailable,
        _ => DbFailure::Ours,
    }
}

/// True when the database did not answer: no pool connection within the
/// acquire timeout (sqlx `PoolTimedOut`), a closed pool, or a connection
/// that could not be made or broke.
pub fn is_unavailable(err: &DbErr) -> bool {
    classify(err) == DbFailure::Unavailable
}

/// True when the database refused a write for a unique constraint; callers
/// turn that race into their own 409.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub type AppResult<T> = Result<T, AppError>;

impl From<crate::domain::hours::TimesError> for AppError {
    fn from(e: crate::domain::hours::TimesError) -> Self {
        AppError::unprocessable(e.code(), e.message())
    }
}

/// A recurrence rule that cannot be read: 422 `invalid_rrule`.
impl From<crate::domain::recurrence::InvalidRule> for AppError {
    fn from(e: crate::domain::recurrence::InvalidRule) -> Self {
        AppError::unprocessable(crate::domain::recurrence::InvalidRule::CODE, e.0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use actix_web::body::to_bytes;
    use sea_orm::ConnAcquireErr;

    use super::*;

    fn sqlx(err: SqlxError) -> RuntimeErr {
        RuntimeErr::SqlxError(Arc::new(err))
    }

    #[test]
    fn a_pool_timeout_is_503_database_unavailable() {
        for err in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            DbErr::Conn(sqlx(SqlxError::PoolTimedOut)),
            DbErr::Query(sqlx(SqlxError::Io(std::io::Error::other("reset")))),
        ] {
            let app = AppError::from(err);
            assert_eq!(app.status_code(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(app.code(), "database_unavailable");
            let response = app.error_response();
            assert_eq!(response.headers().get("Retry-After").unwrap(), "5");
        }
    }

    #[test]
    fn a_full_disk_is_507_storage_full_with_retry_after() {
        // SQLite SQLITE_FULL (13), PostgreSQL disk_full (53100).
        for code in ["13", "53100"] {
            assert_eq!(database_code(Some(code), false), DbFailure::StorageFull);
        }
        let app = AppError::StorageFull("disk full".into());
        assert_eq!(app.status_code(), StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(app.code(), "storage_full");
        let response = app.error_response();
        assert_eq!(response.headers().get("Retry-After").unwrap(), "5");
    }

    #[test]
    fn io_errors_locks_and_lost_connections_are_503() {
        // SQLite: BUSY, LOCKED, IOERR and an extended IOERR (IOERR_WRITE),
        // CANTOPEN; PostgreSQL: admin shutdown, cannot connect now, a
        // connection exception, statement timeout, too many connections.
        for code in [
            "5", "6", "10", "778", "14", "57P01", "57P03", "08006", "57014", "53300",
        ] {
            assert_eq!(
                database_code(Some(code), false),
                DbFailure::Unavailable,
                "{code}"
            );
        }
        // A constraint (SQLite 2067, PostgreSQL 23505) is ours to answer.
        for code in ["2067", "23505", "42P01"] {
            assert_eq!(database_code(Some(code), false), DbFailure::Ours, "{code}");
        }
    }

    #[test]
    fn other_database_failures_are_500_never_4xx() {
        for err in [
            DbErr::Custom("boom".into()),
            DbErr::RecordNotFound("user".into()),
            DbErr::Query(sqlx(SqlxError::RowNotFound)),
            DbErr::Exec(RuntimeErr::Internal("bad".into())),
        ] {
            let app = AppError::from(err);
            assert_eq!(app.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(app.code(), "internal_error");
        }
    }

    #[actix_web::test]
    async fn a_5xx_body_never_carries_the_cause() {
        let app = AppError::context("loading", DbErr::Custom("secret table".into()));
        let body = to_bytes(app.error_response().into_body()).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("internal_error"), "{body}");
        assert!(!body.contains("secret table"), "{body}");
    }

    #[test]
    fn the_log_keeps_the_whole_source_chain() {
        let root = std::io::Error::other("connection refused");
        let db = DbErr::Conn(sqlx(SqlxError::Io(root)));
        let app = AppError::context("health check", db);
        assert_eq!(app.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let shown = format!("{app:?}");
        assert!(
            shown.starts_with("database_unavailable(health check: "),
            "{shown}"
        );
        assert!(shown.contains("connection refused"), "{shown}");
        let AppError::Unavailable(cause) = &app else {
            panic!("not unavailable: {shown}");
        };
        let mut depth = 0;
        let mut next: Option<&(dyn StdError + 'static)> = Some(cause.as_ref());
        while let Some(err) = next {
            depth += 1;
            next = err.source();
        }
        assert!(depth >= 3, "context, DbErr and its sources: {depth}");
    }

    #[test]
    fn context_leaves_4xx_alone() {
        let app = AppError::context("loading", AppError::NotFound);
        assert_eq!(app.status_code(), StatusCode::NOT_FOUND);
    }
}

//! The one error type. Every failure — ours or actix's own — leaves the
//! server as the contract's body:
//! `{"error": {"code", "message", "details"?}}`. A 5xx hides its cause from
//! the client and logs it instead.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use sea_orm::{DbErr, SqlErr};
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
    /// 422 with one entry per invalid field.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 422 with a specific code (`team_not_vetted`, `record_in_future` …).
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// 409 with a specific code (`phone_taken`, `request_full` …).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("internal error: {0}")]
    Internal(String),
}

/// Logs show the code only: field messages can echo what the client sent,
/// which may be a resident's phone or name.
impl std::fmt::Debug for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Internal(cause) => write!(f, "internal_error({cause})"),
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

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
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
            | Self::Denied { code, .. } => code,
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
            | Self::Denied { message, .. } => message.clone(),
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
            Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Validation(_) | Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(%cause, "request failed");
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
        if let Self::TooManyAttempts { retry_after_secs } | Self::Busy { retry_after_secs } = self {
            response.insert_header(("Retry-After", retry_after_secs.max(&1).to_string()));
        }
        if self.status_code() == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(body)
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        Self::Internal(format!("database: {err}"))
    }
}

/// True when the database refused a write for a unique constraint; callers
/// turn that race into their own 409.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub type AppResult<T> = Result<T, AppError>;

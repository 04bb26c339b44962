//! Request extractors that answer in the contract's error shape: JSON
//! bodies (400 malformed, 415 wrong type, 413 too large, 422 wrong types
//! or unknown values with the field named), and the error handlers for
//! actix's own path and query extractors.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use futures::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult, FieldError};

/// Largest request body accepted (the contract's 256 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A required JSON body.
pub struct Json<T>(pub T);

/// A JSON body that may be left out (or `{}`) by a POST needing no fields.
pub struct OptionalJson<T>(pub T);

/// The body of a POST that needs no fields: `{}` or nothing.
#[derive(serde::Deserialize, utoipa::ToSchema, Default)]
pub struct EmptyBody {}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = AppResult<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let checked = check_headers(req);
        let payload = payload.take();
        Box::pin(async move {
            checked?;
            let bytes = read_body(payload).await?;
            if bytes.is_empty() {
                return Err(AppError::MalformedJson("请求体为空".into()));
            }
            parse(&bytes).map(Json)
        })
    }
}

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = AppResult<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let checked = check_headers(req);
        let payload = payload.take();
        Box::pin(async move {
            let bytes = read_body(payload).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(T::default()));
            }
            checked?;
            let value: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| AppError::MalformedJson(e.to_string()))?;
            if value.is_null() {
                // `null` says "no body" as well as an empty one does.
                return Ok(OptionalJson(T::default()));
            }
            parse_value(value).map(OptionalJson)
        })
    }
}

/// Content type and declared length, checked before the body is read.
fn check_headers(req: &HttpRequest) -> AppResult<()> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return Err(AppError::PayloadTooLarge);
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false);
    if is_json {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType)
    }
}

async fn read_body(mut payload: Payload) -> AppResult<web::BytesMut> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::MalformedJson(e.to_string()))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Syntax errors are 400; well-formed JSON that is not an object, or has
/// a wrong type, a missing field or an unknown enum value is 422 naming
/// the field. (Parsing to a `Value` first keeps the two apart: serde
/// calls some shape errors, such as an array too long, syntax errors.)
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| AppError::MalformedJson(e.to_string()))?;
    parse_value(value)
}

/// Every body of this API is a JSON object.
pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> AppResult<T> {
    if !value.is_object() {
        return Err(AppError::Validation(vec![FieldError::new(
            "body",
            "请求体须为 JSON 对象",
        )]));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = strip_position(&err.into_inner().to_string());
        let field = missing_field(&message)
            .map(|name| {
                if path == "." {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                }
            })
            .unwrap_or(path);
        AppError::Validation(vec![FieldError::new(field, message)])
    })
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// `web::Path` errors: a path that names no valid id names nothing.
pub fn path_error(_err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::NotFound.into()
}

/// `web::Query` errors: a well-formed request with a bad value.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    let message = match &err {
        actix_web::error::QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    AppError::Validation(vec![FieldError::new("query", message)]).into()
}

/// The client a request came from, for limits counted per client:
/// `X-Forwarded-For` is believed only from `TRUSTED_PROXIES`, and an IPv6
/// client is its /64 (`client_address::limit_key`).
pub fn caller_address(req: &HttpRequest, settings: &crate::config::Settings) -> String {
    req.peer_addr().map_or_else(
        || "unknown".to_string(),
        |peer| {
            let forwarded: Vec<&str> = req
                .headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok())
                .collect();
            let client = crate::domain::client_address::client_address(
                peer.ip(),
                &forwarded,
                &settings.trusted_proxies,
            );
            crate::domain::client_address::limit_key(client)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        count: u32,
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        lat: f64,
    }

    fn code(result: AppResult<Probe>) -> (&'static str, Option<String>) {
        match result {
            Err(AppError::Validation(fields)) => {
                ("validation_failed", Some(fields[0].field.clone()))
            }
            Err(e) => (e.code(), None),
            Ok(_) => ("ok", None),
        }
    }

    #[test]
    fn syntax_is_400_and_types_are_422_with_the_field() {
        assert_eq!(code(parse(b"{\"count\": 1,")).0, "malformed_json");
        assert_eq!(
            code(parse(b"{\"count\": 1, \"inner\": {\"lat\": 1}} trailing")).0,
            "malformed_json"
        );
        assert_eq!(
            code(parse(b"{\"count\": \"1\", \"inner\": {\"lat\": 1}}")),
            ("validation_failed", Some("count".into()))
        );
        assert_eq!(
            code(parse(b"{\"count\": 1, \"inner\": {\"lat\": \"x\"}}")),
            ("validation_failed", Some("inner.lat".into()))
        );
        assert_eq!(
            code(parse(b"{\"inner\": {\"lat\": 1}}")),
            ("validation_failed", Some("count".into()))
        );
        assert_eq!(
            code(parse(b"{\"count\": 1, \"inner\": {}}")),
            ("validation_failed", Some("inner.lat".into()))
        );
        assert_eq!(
            code(parse(b"{\"count\": 1, \"inner\": {\"lat\": 1.5}}")).0,
            "ok"
        );
    }

    #[test]
    fn well_formed_json_of_the_wrong_shape_is_422() {
        assert_eq!(
            code(parse(b"[null, null]")),
            ("validation_failed", Some("body".into()))
        );
        assert_eq!(
            code(parse(b"\"AAA\"")),
            ("validation_failed", Some("body".into()))
        );
        assert_eq!(
            code(parse(b"[]")),
            ("validation_failed", Some("body".into()))
        );
        assert_eq!(code(parse(b"\x00")).0, "malformed_json");
    }
}

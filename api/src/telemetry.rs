//! Logs and the request id.
//!
//! Logging: `tracing` to stdout, filtered by `RUST_LOG`, as JSON lines
//! when `LOG_FORMAT=json` (what log shippers want) or as text.
//!
//! Every request gets an id — the caller's `X-Request-Id` if it is a sane
//! token, else a new UUIDv7 — which is echoed in the response header and
//! carried by every log line of the request. The access log names the
//! route *pattern*, the status and the latency; never the path, the query
//! or a body, which may hold phones, names or addresses.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::state::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    // Colours only on a terminal: a log file or journald gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}

/// A caller's request id is kept only if it is short and plain, so it
/// cannot smuggle anything into logs.
fn usable_request_id(raw: Option<&HeaderValue>) -> Option<String> {
    let raw = raw?.to_str().ok()?;
    let ok = (1..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| raw.to_string())
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = usable_request_id(req.headers().get(REQUEST_ID_HEADER))
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);

    // (The request must not be cloned before routing: the router needs
    // sole ownership of it.)
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    // Handlers' errors are responses by now; only a middleware's error is
    // still an error here, which actix renders further out.
    let status = match &result {
        Ok(response) => response.status(),
        Err(err) => err.as_response_error().status_code(),
    }
    .as_u16();
    if let Some(state) = &state {
        state
            .metrics
            .observe_request(&method, &route, status, elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1e3,
            "request finished"
        );
    });
    let mut response = result?.map_into_boxed_body();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_request_ids_are_taken_from_callers() {
        let id = |s: &str| usable_request_id(Some(&HeaderValue::from_str(s).unwrap()));
        assert_eq!(id("abc-123_x.y:z").as_deref(), Some("abc-123_x.y:z"));
        assert_eq!(id("has space"), None);
        assert_eq!(id("13800138000\",\"phone"), None);
        assert_eq!(id(&"a".repeat(65)), None);
        assert_eq!(usable_request_id(None), None);
    }
}

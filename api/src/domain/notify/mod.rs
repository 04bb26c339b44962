//! Webhook notifications without I/O: what a delivery says, the exact
//! request each provider expects (signatures included), how to read its
//! answer, when to retry and how fast one robot may be fed.
//!
//! The outbox, the worker and the HTTP client live elsewhere; everything
//! here is a pure function of its arguments, `now` included.

pub mod backoff;
pub mod message;
pub mod outcome;
pub mod ratelimit;
pub mod render;
pub mod scrub;
pub mod signing;
mod wire;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use std::fmt;

use chrono::{DateTime, Utc};

pub use backoff::{GIVE_UP_AFTER, MAX_RETRY_DELAY, next_attempt_at, retry_delay};
pub use message::EventMessage;
pub use outcome::{Outcome, classify, classify_transport_error};
pub use ratelimit::{RateLimit, limits_for, next_send_at, next_send_at_for};
pub use signing::parse_generic_secret;

use crate::domain::phone::Phone;
use crate::domain::ssrf::SsrfError;
use crate::domain::vocab::WebhookKind;

/// Why a delivery cannot be built. None of these gets better by retrying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Url(#[from] SsrfError),
    #[error("{0}")]
    InvalidSecret(&'static str),
    #[error("企业微信群机器人不支持签名密钥")]
    SecretNotSupported,
    #[error("提醒的手机号无效：{0}")]
    InvalidMention(String),
    #[error("消息编码失败：{0}")]
    Encode(String),
}

/// One HTTP `POST` to make. The URL may carry a robot key and a signature:
/// `Debug` hides them, and it should not be logged whole.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl OutgoingRequest {
    /// The URL without its query string and with a path token (Feishu's)
    /// masked, for logs and operators.
    pub fn redacted_url(&self) -> String {
        let bare = self.url.split(['?', '#']).next().unwrap_or_default();
        scrub::mask_url(bare)
    }
}

impl fmt::Debug for OutgoingRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingRequest")
            .field("url", &self.redacted_url())
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// The request that delivers `msg` to a webhook of `kind` at `url`, signed
/// with `secret` where the provider supports it. `now` is the attempt's
/// time: DingTalk and Feishu refuse signatures older than an hour and
/// Standard Webhooks receivers older than a few minutes, so build a fresh
/// request for every attempt. Blank secrets count as none.
///
/// WeCom gets markdown, or text with `mentioned_mobile_list` when
/// `msg.mention_mobiles` is not empty; DingTalk and Feishu get text.
pub fn build_delivery(
    kind: WebhookKind,
    url: &str,
    secret: Option<&str>,
    msg: &EventMessage,
    now: DateTime<Utc>,
) -> Result<OutgoingRequest, NotifyError> {
    wire::build(kind, url, secret, msg, now)
}

/// Checks a secret when a webhook is registered, so that a bad one is a
/// 422 then instead of a failed delivery later. `None` is always fine.
pub fn validate_secret(kind: WebhookKind, secret: Option<&str>) -> Result<(), NotifyError> {
    let Some(secret) = secret.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    match kind {
        WebhookKind::Wecom => Err(NotifyError::SecretNotSupported),
        WebhookKind::Generic => parse_generic_secret(secret).map(|_| ()),
        WebhookKind::Dingtalk | WebhookKind::Feishu => {
            // Both providers hand out printable ASCII secrets (DingTalk's
            // start with SEC); anything else was pasted wrong.
            if secret.len() <= 256 && secret.bytes().all(|b| b.is_ascii_graphic()) {
                Ok(())
            } else {
                Err(NotifyError::InvalidSecret(
                    "密钥须为不含空格的 ASCII 字符，且不超过 256 个",
                ))
            }
        }
    }
}

/// WeCom accepts mainland mobiles and `@all` in `mentioned_mobile_list`.
pub fn validate_mentions(mobiles: &[String]) -> Result<(), NotifyError> {
    for mobile in mobiles {
        if mobile != "@all" && Phone::parse(mobile).is_err() {
            return Err(NotifyError::InvalidMention(
                crate::domain::phone::mask_phone(mobile),
            ));
        }
    }
    Ok(())
}

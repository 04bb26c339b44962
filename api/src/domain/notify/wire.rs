//! The request each receiver expects, byte for byte: WeCom group robot,
//! DingTalk custom robot, Feishu custom bot and signed generic webhooks.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use super::message::EventMessage;
use super::render::{
    ROBOT_TEXT_MAX_BYTES, WECOM_MARKDOWN_MAX_BYTES, WECOM_TEXT_MAX_BYTES, render_markdown,
    render_text,
};
use super::scrub::scrub_json;
use super::signing::{
    dingtalk_sign, feishu_sign, parse_generic_secret, standard_webhooks_signature,
};
use super::{NotifyError, OutgoingRequest, validate_mentions};
use crate::domain::ssrf::parse_webhook_url;
use crate::domain::vocab::WebhookKind;

const JSON: (&str, &str) = ("content-type", "application/json");

#[derive(Serialize)]
struct WecomMarkdown<'a> {
    msgtype: &'static str,
    markdown: Content<'a>,
}

#[derive(Serialize)]
struct Content<'a> {
    content: &'a str,
}

#[derive(Serialize)]
struct WecomText<'a> {
    msgtype: &'static str,
    text: WecomTextBody<'a>,
}

#[derive(Serialize)]
struct WecomTextBody<'a> {
    content: &'a str,
    mentioned_mobile_list: &'a [String],
}

#[derive(Serialize)]
struct DingtalkText<'a> {
    msgtype: &'static str,
    text: Content<'a>,
}

#[derive(Serialize)]
struct FeishuText<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sign: Option<String>,
    msg_type: &'static str,
    content: FeishuContent<'a>,
}

#[derive(Serialize)]
struct FeishuContent<'a> {
    text: &'a str,
}

/// The Standard Webhooks payload; field order as the contract lists it.
#[derive(Serialize)]
struct GenericEvent<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: String,
    data: &'a Value,
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, NotifyError> {
    serde_json::to_vec(value).map_err(|e| NotifyError::Encode(e.to_string()))
}

/// A secret that is present and not blank.
fn given(secret: Option<&str>) -> Option<&str> {
    secret.map(str::trim).filter(|s| !s.is_empty())
}

pub(super) fn wecom(
    url: &str,
    secret: Option<&str>,
    msg: &EventMessage,
) -> Result<OutgoingRequest, NotifyError> {
    if given(secret).is_some() {
        // WeCom group robots have no signing: the key in the URL is all.
        return Err(NotifyError::SecretNotSupported);
    }
    let url = parse_webhook_url(url)?;
    let body = if msg.mention_mobiles.is_empty() {
        let content = render_markdown(msg, WECOM_MARKDOWN_MAX_BYTES);
        to_json(&WecomMarkdown {
            msgtype: "markdown",
            markdown: Content { content: &content },
        })?
    } else {
        validate_mentions(&msg.mention_mobiles)?;
        let content = render_text(msg, WECOM_TEXT_MAX_BYTES);
        to_json(&WecomText {
            msgtype: "text",
            text: WecomTextBody {
                content: &content,
                mentioned_mobile_list: &msg.mention_mobiles,
            },
        })?
    };
    Ok(OutgoingRequest::json(url.into(), Vec::new(), body))
}

pub(super) fn dingtalk(
    url: &str,
    secret: Option<&str>,
    msg: &EventMessage,
    now: DateTime<Utc>,
) -> Result<OutgoingRequest, NotifyError> {
    let mut url = parse_webhook_url(url)?;
    if let Some(secret) = given(secret) {
        let timestamp = now.timestamp_millis();
        let sign = dingtalk_sign(secret, timestamp)?;
        // Keep access_token and anything else; drop a stale signature a
        // person may have pasted along with the URL.
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "timestamp" && k != "sign")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        // The form encoder percent-encodes `+`, `/` and `=`: exactly the
        // urlencode(base64) DingTalk documents.
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("timestamp", &timestamp.to_string())
            .append_pair("sign", &sign);
    }
    let content = render_text(msg, ROBOT_TEXT_MAX_BYTES);
    let body = to_json(&DingtalkText {
        msgtype: "text",
        text: Content { content: &content },
    })?;
    Ok(OutgoingRequest::json(url.into(), Vec::new(), body))
}

pub(super) fn feishu(
    url: &str,
    secret: Option<&str>,
    msg: &EventMessage,
    now: DateTime<Utc>,
) -> Result<OutgoingRequest, NotifyError> {
    let url = parse_webhook_url(url)?;
    let (timestamp, sign) = match given(secret) {
        Some(secret) => {
            let timestamp = now.timestamp();
            (
                Some(timestamp.to_string()),
                Some(feishu_sign(secret, timestamp)?),
            )
        }
        None => (None, None),
    };
    let text = render_text(msg, ROBOT_TEXT_MAX_BYTES);
    let body = to_json(&FeishuText {
        timestamp,
        sign,
        msg_type: "text",
        content: FeishuContent { text: &text },
    })?;
    Ok(OutgoingRequest::json(url.into(), Vec::new(), body))
}

pub(super) fn generic(
    url: &str,
    secret: Option<&str>,
    msg: &EventMessage,
    now: DateTime<Utc>,
) -> Result<OutgoingRequest, NotifyError> {
    let url = parse_webhook_url(url)?;
    let key = given(secret).map(parse_generic_secret).transpose()?;
    let id = msg.event_id.to_string();
    let data = scrub_json(&msg.data);
    let body = to_json(&GenericEvent {
        id: id.clone(),
        kind: msg.event.code(),
        timestamp: msg.occurred_at.to_rfc3339_opts(SecondsFormat::Secs, false),
        data: &data,
    })?;
    // The attempt's time, not the event's: receivers reject stale ones.
    let timestamp = now.timestamp();
    let mut headers = vec![
        ("webhook-id".to_string(), id.clone()),
        ("webhook-timestamp".to_string(), timestamp.to_string()),
    ];
    if let Some(key) = key {
        headers.push((
            "webhook-signature".to_string(),
            standard_webhooks_signature(&key, &id, timestamp, &body)?,
        ));
    }
    Ok(OutgoingRequest::json(url.into(), headers, body))
}

/// Dispatches on the kind; see [`super::build_delivery`].
pub(super) fn build(
    kind: WebhookKind,
    url: &str,
    secret: Option<&str>,
    msg: &EventMessage,
    now: DateTime<Utc>,
) -> Result<OutgoingRequest, NotifyError> {
    match kind {
        WebhookKind::Wecom => wecom(url, secret, msg),
        WebhookKind::Dingtalk => dingtalk(url, secret, msg, now),
        WebhookKind::Feishu => feishu(url, secret, msg, now),
        WebhookKind::Generic => generic(url, secret, msg, now),
    }
}

impl OutgoingRequest {
    fn json(url: String, mut headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        headers.insert(0, (JSON.0.to_string(), JSON.1.to_string()));
        Self { url, headers, body }
    }
}

//! Reading a receiver's answer: delivered, worth retrying, or never going
//! to work. Group robots answer HTTP 200 with an error code in the body,
//! so the status alone says little.
//!
//! Unknown nonzero codes are permanent: a code we do not know is far more
//! often a configuration problem (deleted robot, wrong keyword, message
//! refused) than a passing one, and a permanent failure shows up in the
//! deliveries list at once instead of after a day of retries. Only codes
//! the providers document as transient (busy, rate limited) are retried,
//! and any code that comes with HTTP 429 or 5xx.

use serde_json::Value;

use super::message::one_line;
use crate::domain::vocab::WebhookKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Try again later; the text is for the deliveries list.
    Retry(String),
    /// Dead-letter now; the text is for the deliveries list.
    Permanent(String),
}

impl Outcome {
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Delivered)
    }

    /// The error text for `last_error`, if any.
    pub fn error(&self) -> Option<&str> {
        match self {
            Self::Delivered => None,
            Self::Retry(e) | Self::Permanent(e) => Some(e),
        }
    }
}

/// How long a provider's message may be in `last_error`.
const DETAIL_MAX: usize = 200;

/// Codes documented as transient.
fn transient_code(kind: WebhookKind, code: i64) -> bool {
    match kind {
        // -1 系统繁忙; 45009 接口调用超过限制; 45033 接口并发调用超过限制.
        WebhookKind::Wecom => matches!(code, -1 | 45009 | 45033),
        // -1 系统繁忙; 130101 send too fast (20 a minute).
        WebhookKind::Dingtalk => matches!(code, -1 | 130101),
        // 11232 frequency limited; 99991400 request trigger frequency limit.
        WebhookKind::Feishu => matches!(code, 11232 | 99991400),
        WebhookKind::Generic => false,
    }
}

/// Codes that mean the webhook itself is wrong and must be fixed by a
/// person, whatever the HTTP status says.
fn configuration_code(kind: WebhookKind, code: i64) -> bool {
    match kind {
        // 93000 invalid webhook url (bad or deleted key).
        WebhookKind::Wecom => code == 93000,
        // 300001 token is not exist; 310000 keywords / sign / ip not matched.
        WebhookKind::Dingtalk => matches!(code, 300001 | 310000),
        // 19021 sign match fail; 19022 ip not allowed; 19024 key words not found.
        WebhookKind::Feishu => matches!(code, 19021 | 19022 | 19024),
        WebhookKind::Generic => false,
    }
}

fn transient_status(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || (500..=599).contains(&status)
}

/// The provider's error code and message, when the body is its JSON.
/// Feishu's legacy answers carry `StatusCode`/`StatusMessage` instead.
fn provider_code(kind: WebhookKind, body: &[u8]) -> Option<(i64, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let (code_keys, msg_keys): (&[&str], &[&str]) = match kind {
        WebhookKind::Wecom | WebhookKind::Dingtalk => (&["errcode"], &["errmsg"]),
        WebhookKind::Feishu => (&["code", "StatusCode"], &["msg", "StatusMessage"]),
        WebhookKind::Generic => return None,
    };
    let code = code_keys
        .iter()
        .find_map(|k| value.get(*k).and_then(Value::as_i64))?;
    let message = msg_keys
        .iter()
        .find_map(|k| value.get(*k).and_then(Value::as_str))
        .unwrap_or_default();
    Some((code, one_line(message, DETAIL_MAX)))
}

fn snippet(body: &[u8]) -> String {
    let head = &body[..body.len().min(DETAIL_MAX * 4)];
    one_line(&String::from_utf8_lossy(head), DETAIL_MAX)
}

fn by_status(status: u16, body: &[u8]) -> Outcome {
    let text = format!("HTTP {status} {}", snippet(body))
        .trim_end()
        .to_string();
    if (300..400).contains(&status) {
        // Redirects are never followed: they could point inside the network.
        Outcome::Permanent(format!("{text}（不跟随重定向，请填写最终网址）"))
    } else if transient_status(status) || status < 200 {
        Outcome::Retry(text)
    } else {
        Outcome::Permanent(text)
    }
}

/// Classifies one answer from a webhook of `kind`.
pub fn classify(kind: WebhookKind, http_status: u16, body: &[u8]) -> Outcome {
    let success = (200..300).contains(&http_status);
    if kind == WebhookKind::Generic {
        return if success {
            Outcome::Delivered
        } else {
            by_status(http_status, body)
        };
    }
    match provider_code(kind, body) {
        Some((0, _)) if success => Outcome::Delivered,
        Some((0, _)) | None if !success => by_status(http_status, body),
        // A 2xx a robot would never give: a proxy's page or the wrong
        // URL. Retrying is safe (at least once) and, if it persists, the
        // delivery fails visibly after the give-up time.
        None | Some((0, _)) => Outcome::Retry(format!(
            "HTTP {http_status} 无法识别的应答：{}",
            snippet(body)
        )),
        Some((code, message)) => {
            let text = format!("{} 错误 {code}：{message}", kind.label());
            if transient_code(kind, code) {
                Outcome::Retry(text)
            } else if configuration_code(kind, code) || !transient_status(http_status) {
                Outcome::Permanent(text)
            } else {
                Outcome::Retry(text)
            }
        }
    }
}

/// No answer at all (timeout, refused connection, TLS or DNS failure):
/// the receiver may be back soon.
pub fn classify_transport_error(detail: &str) -> Outcome {
    Outcome::Retry(one_line(detail, DETAIL_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use WebhookKind::*;

    fn retry(o: &Outcome) -> bool {
        matches!(o, Outcome::Retry(_))
    }
    fn permanent(o: &Outcome) -> bool {
        matches!(o, Outcome::Permanent(_))
    }

    #[test]
    fn wecom_codes() {
        assert_eq!(
            classify(Wecom, 200, br#"{"errcode":0,"errmsg":"ok"}"#),
            Outcome::Delivered
        );
        let limited = classify(
            Wecom,
            200,
            br#"{"errcode":45009,"errmsg":"api freq out of limit"}"#,
        );
        assert_eq!(
            limited,
            Outcome::Retry("企业微信群机器人 错误 45009：api freq out of limit".into())
        );
        assert!(retry(&classify(
            Wecom,
            200,
            br#"{"errcode":-1,"errmsg":"system busy"}"#
        )));
        assert!(permanent(&classify(
            Wecom,
            200,
            br#"{"errcode":93000,"errmsg":"invalid webhook url"}"#
        )));
        assert!(permanent(&classify(
            Wecom,
            200,
            br#"{"errcode":40058,"errmsg":"markdown.content exceed max length 4096"}"#
        )));
    }

    #[test]
    fn dingtalk_codes() {
        assert_eq!(
            classify(Dingtalk, 200, br#"{"errcode":0,"errmsg":"ok"}"#),
            Outcome::Delivered
        );
        assert!(retry(&classify(
            Dingtalk,
            200,
            br#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#
        )));
        assert!(permanent(&classify(
            Dingtalk,
            200,
            br#"{"errcode":310000,"errmsg":"sign not match"}"#
        )));
        assert!(permanent(&classify(
            Dingtalk,
            200,
            br#"{"errcode":300001,"errmsg":"token is not exist"}"#
        )));
        assert!(permanent(&classify(
            Dingtalk,
            200,
            br#"{"errcode":400102,"errmsg":"robot disabled"}"#
        )));
    }

    #[test]
    fn feishu_codes_new_and_legacy() {
        assert_eq!(
            classify(Feishu, 200, br#"{"code":0,"msg":"success","data":{}}"#),
            Outcome::Delivered
        );
        assert_eq!(
            classify(
                Feishu,
                200,
                br#"{"StatusCode":0,"StatusMessage":"success"}"#
            ),
            Outcome::Delivered
        );
        assert!(retry(&classify(
            Feishu,
            200,
            br#"{"code":11232,"msg":"frequency limited"}"#
        )));
        // Older Feishu APIs answer a rate limit with HTTP 400.
        assert!(retry(&classify(
            Feishu,
            400,
            br#"{"code":99991400,"msg":"request trigger frequency limit"}"#
        )));
        for code in [19021, 19022, 19024] {
            let body = format!(r#"{{"code":{code},"msg":"x"}}"#);
            assert!(permanent(&classify(Feishu, 200, body.as_bytes())), "{code}");
        }
        assert!(permanent(&classify(
            Feishu,
            200,
            br#"{"code":9499,"msg":"Bad Request"}"#
        )));
    }

    #[test]
    fn http_status_rules() {
        for kind in [Wecom, Dingtalk, Feishu, Generic] {
            assert!(retry(&classify(kind, 429, b"")), "{kind} 429");
            assert!(retry(&classify(kind, 500, b"oops")), "{kind} 500");
            assert!(
                retry(&classify(kind, 503, b"<html>busy</html>")),
                "{kind} 503"
            );
            assert!(retry(&classify(kind, 408, b"")), "{kind} 408");
            assert!(permanent(&classify(kind, 400, b"bad")), "{kind} 400");
            assert!(permanent(&classify(kind, 404, b"")), "{kind} 404");
            assert!(permanent(&classify(kind, 410, b"")), "{kind} 410");
            assert!(permanent(&classify(kind, 302, b"")), "{kind} 302");
        }
        assert_eq!(classify(Generic, 200, b""), Outcome::Delivered);
        assert_eq!(classify(Generic, 204, b""), Outcome::Delivered);
        assert_eq!(classify(Generic, 202, b"not json"), Outcome::Delivered);
        assert_eq!(
            classify(Generic, 404, b"no such hook"),
            Outcome::Permanent("HTTP 404 no such hook".into())
        );
    }

    #[test]
    fn codes_and_statuses_combined() {
        // A configuration error stays permanent even on a 5xx...
        assert!(permanent(&classify(
            Wecom,
            500,
            br#"{"errcode":93000,"errmsg":"invalid webhook url"}"#
        )));
        // ...an unknown code on a 5xx is the server's trouble...
        assert!(retry(&classify(
            Dingtalk,
            502,
            br#"{"errcode":12345,"errmsg":"?"}"#
        )));
        // ...and a robot 2xx without a code is not proof of delivery.
        assert!(retry(&classify(Wecom, 200, b"<html>portal</html>")));
        assert!(retry(&classify(Feishu, 200, br#"{"hello":"world"}"#)));
    }

    #[test]
    fn transport_errors_are_retried() {
        assert_eq!(
            classify_transport_error("operation timed out"),
            Outcome::Retry("operation timed out".into())
        );
        assert_eq!(classify(Generic, 500, b"x").error(), Some("HTTP 500 x"));
        assert!(Outcome::Delivered.is_delivered() && Outcome::Delivered.error().is_none());
    }
}

//! `build_delivery` end to end, with fixed signature vectors computed
//! independently in Python 3 (hmac, hashlib, base64, urllib.parse).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::test_support::sample;
use super::*;
use crate::domain::vocab::EventType;

const DINGTALK_SECRET: &str = "SEC8b6f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c";
const GENERIC_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn now(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn body_str(req: &OutgoingRequest) -> &str {
    std::str::from_utf8(&req.body).unwrap()
}

fn body_json(req: &OutgoingRequest) -> Value {
    serde_json::from_slice(&req.body).unwrap()
}

fn header<'a>(req: &'a OutgoingRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn wecom_markdown_by_default() {
    let url =
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";
    let msg = sample(EventType::RequestAssigned);
    let req = build_delivery(
        WebhookKind::Wecom,
        url,
        None,
        &msg,
        now("2024-05-18T01:00:00Z"),
    )
    .unwrap();
    assert_eq!(req.url, url);
    assert_eq!(header(&req, "content-type"), Some("application/json"));
    assert!(body_str(&req).starts_with(concat!(
        r#"{"msgtype":"markdown","markdown":{"content":""#,
        "### 【志愿服务】求助已分派"
    )));
    assert_eq!(
        body_json(&req),
        json!({"msgtype": "markdown", "markdown": {"content":
            "### 【志愿服务】求助已分派\n\
             **陪同王＊＊去社区医院复诊**\n\
             > 时间：2024-05-18 09:00–11:00\n\
             > 地点：幸福里社区\n\
             > 服务队：学雷锋志愿服务队\n\
             > 联系人：社工 李＊＊ 138＊＊＊＊5678\n\
             > 说明：请队长确认人手"}})
    );
}

#[test]
fn wecom_text_with_mentions() {
    let url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k";
    let mut msg = sample(EventType::SignupCreated);
    msg.mention_mobiles = vec!["13800001111".into(), "@all".into()];
    let req = build_delivery(
        WebhookKind::Wecom,
        url,
        None,
        &msg,
        now("2024-05-18T01:00:00Z"),
    )
    .unwrap();
    let body = body_json(&req);
    assert_eq!(body["msgtype"], "text");
    assert_eq!(
        body["text"]["mentioned_mobile_list"],
        json!(["13800001111", "@all"])
    );
    let content = body["text"]["content"].as_str().unwrap();
    assert!(content.starts_with("【志愿服务】志愿者报名\n求助：陪同王**去社区医院复诊\n"));
    assert!(body_str(&req).starts_with(r#"{"msgtype":"text","text":{"content":"#));

    msg.mention_mobiles = vec!["12345".into()];
    assert!(matches!(
        build_delivery(
            WebhookKind::Wecom,
            url,
            None,
            &msg,
            now("2024-05-18T01:00:00Z")
        ),
        Err(NotifyError::InvalidMention(_))
    ));
}

#[test]
fn wecom_refuses_a_secret() {
    let msg = sample(EventType::RequestCreated);
    let url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k";
    let at = now("2024-05-18T01:00:00Z");
    assert_eq!(
        build_delivery(WebhookKind::Wecom, url, Some("s"), &msg, at),
        Err(NotifyError::SecretNotSupported)
    );
    assert!(
        build_delivery(WebhookKind::Wecom, url, Some("  "), &msg, at).is_ok(),
        "blank is no secret"
    );
}

#[test]
fn dingtalk_signed_url_vector() {
    let msg = sample(EventType::RequestFull);
    let at = now("2024-05-18T01:00:00.001Z");
    let expected = "https://oapi.dingtalk.com/robot/send?access_token=abc123\
                    &timestamp=1715994000001&sign=o7SbgR39F4B%2FBzemfrNbT3k0nYeuCnTHOXDZUqVV%2BBk%3D";
    for url in [
        "https://oapi.dingtalk.com/robot/send?access_token=abc123",
        // A stale signature pasted with the URL is replaced, not repeated.
        "https://oapi.dingtalk.com/robot/send?access_token=abc123&timestamp=1&sign=old",
    ] {
        let req =
            build_delivery(WebhookKind::Dingtalk, url, Some(DINGTALK_SECRET), &msg, at).unwrap();
        assert_eq!(req.url, expected);
    }
    let req = build_delivery(
        WebhookKind::Dingtalk,
        "https://oapi.dingtalk.com/robot/send?access_token=abc123",
        Some(DINGTALK_SECRET),
        &msg,
        now("2024-05-18T01:00:00Z"),
    )
    .unwrap();
    assert!(req.url.ends_with(
        "&timestamp=1715994000000&sign=gBjW77HuAPEzh9m%2B6sGfTJ4aM0PZdE6pX6WzM%2B75ecM%3D"
    ));
    let body = body_json(&req);
    assert_eq!(body["msgtype"], "text");
    assert!(
        body["text"]["content"]
            .as_str()
            .unwrap()
            .starts_with("【志愿服务】报名已满\n")
    );
    assert!(body_str(&req).starts_with(r#"{"msgtype":"text","text":{"content":"#));
}

#[test]
fn dingtalk_unsigned_keeps_the_url() {
    let url = "https://oapi.dingtalk.com/robot/send?access_token=abc123";
    let req = build_delivery(
        WebhookKind::Dingtalk,
        url,
        None,
        &sample(EventType::RequestFull),
        now("2024-05-18T01:00:00Z"),
    )
    .unwrap();
    assert_eq!(req.url, url);
}

#[test]
fn feishu_signed_body_vector() {
    let url = "https://open.feishu.cn/open-apis/bot/v2/hook/xxxxxxxx";
    let msg = sample(EventType::ServiceRecordApproved);
    let at = now("2024-05-18T01:00:00Z");
    let req = build_delivery(
        WebhookKind::Feishu,
        url,
        Some("qXk3a9Zt7bLmN2pR8sVw"),
        &msg,
        at,
    )
    .unwrap();
    assert_eq!(req.url, url);
    assert!(body_str(&req).starts_with(
        r#"{"timestamp":"1715994000","sign":"qrjuSHsQR7oZ86heFNLbr7+v7k/eI5/dDOgBbyAPF44=","msg_type":"text","content":{"text":"【志愿服务】服务时长已审核通过"#
    ));

    let unsigned = body_json(&build_delivery(WebhookKind::Feishu, url, None, &msg, at).unwrap());
    assert_eq!(unsigned.as_object().unwrap().len(), 2, "{unsigned}");
    assert_eq!(unsigned["msg_type"], "text");
}

#[test]
fn generic_standard_webhooks_vector() {
    let msg = sample(EventType::RequestAssigned);
    let at = now("2024-05-18T01:00:00Z");
    let req = build_delivery(
        WebhookKind::Generic,
        "https://example.com/hooks",
        Some(GENERIC_SECRET),
        &msg,
        at,
    )
    .unwrap();
    assert_eq!(
        body_str(&req),
        r#"{"id":"0b4f6c1e-8d2a-4f5e-9c3b-7a1d2e3f4a5b","type":"request.assigned","timestamp":"2024-05-18T08:30:00+08:00","data":{"id":"5f0c2d7e-1b3a-4c5d-8e9f-0a1b2c3d4e5f","title":"陪同王**去社区医院复诊"}}"#
    );
    assert_eq!(
        req.headers,
        vec![
            ("content-type".to_string(), "application/json".to_string()),
            (
                "webhook-id".to_string(),
                "0b4f6c1e-8d2a-4f5e-9c3b-7a1d2e3f4a5b".to_string()
            ),
            ("webhook-timestamp".to_string(), "1715994000".to_string()),
            (
                "webhook-signature".to_string(),
                "v1,vIoThoS//hhfztdLkA+MTLWIDswsyDAdF6U++qbvXD8=".to_string()
            ),
        ]
    );
}

#[test]
fn generic_unsigned_still_carries_id_and_timestamp() {
    let msg = sample(EventType::RequestCreated);
    let at = now("2024-05-18T01:00:00Z");
    let req = build_delivery(WebhookKind::Generic, "http://example.com/h", None, &msg, at).unwrap();
    assert_eq!(
        header(&req, "webhook-id"),
        Some("0b4f6c1e-8d2a-4f5e-9c3b-7a1d2e3f4a5b")
    );
    assert_eq!(header(&req, "webhook-timestamp"), Some("1715994000"));
    assert_eq!(header(&req, "webhook-signature"), None);
    // The id is the event's: the same on every retry.
    let later = build_delivery(
        WebhookKind::Generic,
        "http://example.com/h",
        None,
        &msg,
        at + chrono::Duration::hours(3),
    )
    .unwrap();
    assert_eq!(body_json(&later)["id"], body_json(&req)["id"]);
    assert_eq!(header(&later, "webhook-timestamp"), Some("1716004800"));
}

#[test]
fn generic_data_is_scrubbed_of_stray_phone_numbers() {
    let mut msg = sample(EventType::RequestCreated);
    msg.data = json!({"note": "老人电话 13912345678"});
    let req = build_delivery(
        WebhookKind::Generic,
        "http://example.com/h",
        None,
        &msg,
        now("2024-05-18T01:00:00Z"),
    )
    .unwrap();
    assert_eq!(body_json(&req)["data"]["note"], "老人电话 139****5678");
}

#[test]
fn bad_urls_and_secrets_are_refused() {
    let msg = sample(EventType::RequestCreated);
    let at = now("2024-05-18T01:00:00Z");
    assert!(matches!(
        build_delivery(WebhookKind::Generic, "ftp://example.com/", None, &msg, at),
        Err(NotifyError::Url(_))
    ));
    assert!(matches!(
        build_delivery(
            WebhookKind::Generic,
            "https://example.com/",
            Some("plain"),
            &msg,
            at
        ),
        Err(NotifyError::InvalidSecret(_))
    ));
    assert!(validate_secret(WebhookKind::Generic, Some(GENERIC_SECRET)).is_ok());
    assert!(validate_secret(WebhookKind::Generic, Some("whsec_???")).is_err());
    assert!(validate_secret(WebhookKind::Dingtalk, Some(DINGTALK_SECRET)).is_ok());
    assert!(validate_secret(WebhookKind::Feishu, Some("has space")).is_err());
    assert!(validate_secret(WebhookKind::Wecom, Some("x")).is_err());
    assert!(validate_secret(WebhookKind::Wecom, None).is_ok());
}

#[test]
fn debug_output_hides_the_robot_key() {
    let req = build_delivery(
        WebhookKind::Wecom,
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret-key",
        None,
        &sample(EventType::RequestCreated),
        now("2024-05-18T01:00:00Z"),
    )
    .unwrap();
    let debug = format!("{req:?}");
    assert!(!debug.contains("secret-key"), "{debug}");
    assert_eq!(
        req.redacted_url(),
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    );
}

#[test]
fn request_updated_names_the_event_title_new_window_and_team_for_every_provider() {
    let mut msg = sample(EventType::RequestUpdated);
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
    msg.starts_at = at("2024-05-20T14:00:00+08:00");
    msg.ends_at = at("2024-05-20T16:00:00+08:00");
    msg.detail = Some("服务时间已变更（原定 2024-05-18 09:00–11:00），已报名 2 人".into());
    let targets = [
        (
            WebhookKind::Wecom,
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        ),
        (
            WebhookKind::Dingtalk,
            "https://oapi.dingtalk.com/robot/send?access_token=t",
        ),
        (
            WebhookKind::Feishu,
            "https://open.feishu.cn/open-apis/bot/v2/hook/x",
        ),
    ];
    for (kind, url) in targets {
        let req = build_delivery(kind, url, None, &msg, now("2024-05-18T01:00:00Z")).unwrap();
        let body = body_str(&req);
        for expected in [
            "【志愿服务】求助时间已变更",
            "去社区医院复诊",
            "时间：2024-05-20 14:00–16:00",
            "服务队：学雷锋志愿服务队",
            "原定 2024-05-18 09:00–11:00",
        ] {
            assert!(body.contains(expected), "{kind:?} lacks {expected}: {body}");
        }
    }
    let generic = build_delivery(
        WebhookKind::Generic,
        "https://example.com/hooks",
        None,
        &msg,
        now("2024-05-18T01:00:00Z"),
    )
    .unwrap();
    assert_eq!(body_json(&generic)["type"], "request.updated");
}

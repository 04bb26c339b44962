//! Notifications: registration and SSRF refusals, each provider's wire
//! format, retries and dead letters, rate limits, several processes, and
//! no personal data in any delivery.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::*;
use crate::receiver::Receiver;

pub const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ALL_EVENTS: [&str; 6] = [
    "request.created",
    "request.assigned",
    "signup.created",
    "request.full",
    "service_record.approved",
    "service_record.rejected",
];

async fn private_app() -> TestApp {
    spawn_app_with(&[
        ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
        ("WEBHOOK_RETRY_BASE_MS", "100"),
    ])
    .await
}

async fn hook(app: &TestApp, body: Value) -> Value {
    app.post("/webhooks", Some(&app.admin), body)
        .await
        .expect(201)
}

async fn deliveries(app: &TestApp, hook_id: &str) -> Vec<Value> {
    app.get(
        &format!("/webhooks/{hook_id}/deliveries?limit=100"),
        Some(&app.admin),
    )
    .await
    .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits until every delivery of the webhook has left `pending`.
async fn settled(app: &TestApp, hook_id: &str, seconds: u64) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        let items = deliveries(app, hook_id).await;
        if (!items.is_empty() && items.iter().all(|d| d["status"] != "pending"))
            || std::time::Instant::now() > deadline
        {
            return items;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn assert_no_personal_data(text: &str) {
    for secret in [
        "3 号楼",
        "13612345678",
        "11010519491231002X",
        "110***********002X",
        "王秀英",
        "39.921",
        "116.401",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} leaked in a delivery: {text}"
        );
    }
}

#[tokio::test]
async fn managers_register_webhooks_and_the_secret_never_comes_back() {
    let app = private_app().await;
    let body = hook(&app, json!({"url": "https://example.com/hooks?token=abcdefghijkl1234", "kind": "generic", "secret": WHSEC, "events": ["request.created"]})).await;
    assert_eq!(body["has_secret"], true);
    assert!(!body.to_string().contains("MfKQ9r8GKYqr"));
    assert!(
        !body.to_string().contains("abcdefghijkl"),
        "robot keys in the query are masked"
    );
    let list = app.get("/webhooks", Some(&app.admin)).await.expect(200);
    assert!(!list.to_string().contains("MfKQ9r8GKYqr"));
    let caseworker = app.staff("caseworker", "赵社工").await;
    assert_eq!(app.get("/webhooks", Some(&caseworker)).await.status, 403);
    let r = app
        .post(
            "/webhooks",
            Some(&caseworker),
            json!({"url": "https://example.com", "kind": "generic", "events": ["request.created"]}),
        )
        .await;
    assert_eq!(r.status, 403);
    for (bad, why) in [
        (
            json!({"url": "https://example.com", "kind": "slack", "events": ["request.created"]}),
            "kind",
        ),
        (
            json!({"url": "https://example.com", "kind": "generic", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.com", "kind": "generic", "events": ["request.deleted"]}),
            "events",
        ),
        (
            json!({"url": "https://example.com", "kind": "generic", "secret": "not-whsec", "events": ["request.created"]}),
            "secret",
        ),
        (
            json!({"url": "https://example.com", "kind": "generic", "team_id": uuid::Uuid::new_v4(), "events": ["request.created"]}),
            "team_id",
        ),
        (
            json!({"url": "not a url", "kind": "generic", "events": ["request.created"]}),
            "url",
        ),
    ] {
        assert_eq!(
            app.post("/webhooks", Some(&app.admin), bad).await.status,
            422,
            "{why}"
        );
    }
    let id = id(&body);
    assert_eq!(
        app.delete(&format!("/webhooks/{id}"), Some(&app.admin))
            .await
            .status,
        204
    );
    assert_eq!(
        app.get(&format!("/webhooks/{id}/deliveries"), Some(&app.admin))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn internal_targets_are_refused_unless_allowed() {
    let app = spawn_app().await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/",
        "http://192.168.1.1/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "ftp://example.com/",
        "file:///etc/passwd",
        "http://2130706433/",
    ] {
        let r = app
            .post(
                "/webhooks",
                Some(&app.admin),
                json!({"url": url, "kind": "generic", "events": ["request.created"]}),
            )
            .await;
        assert_eq!(r.status, 422, "{url}: {}", r.body);
        assert_eq!(r.code(), "webhook_url_forbidden", "{url}");
    }
    let list = app.get("/webhooks", Some(&app.admin)).await.expect(200);
    assert!(list["items"].as_array().unwrap().is_empty());
}

pub fn sign(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn generic_deliveries_are_signed_standard_webhooks_without_personal_data() {
    let app = private_app().await;
    let receiver = Receiver::start().await;
    let webhook = hook(
        &app,
        json!({"url": receiver.url, "kind": "generic", "secret": WHSEC, "events": ALL_EVENTS}),
    )
    .await;
    let c = community(&app, 1).await;
    let v = app.volunteer("张志愿").await;
    app.join(&c.team_id, &v).await;
    app.post_empty(&format!("/requests/{}/signups", c.request_id), Some(&v))
        .await
        .expect(201);

    // created, assigned, signup.created, request.full
    let got = receiver.wait_for(4, 10).await;
    assert_eq!(got.len(), 4, "{got:?}");
    let types: Vec<&str> = got
        .iter()
        .map(|r| r.body["type"].as_str().unwrap())
        .collect();
    for expected in [
        "request.created",
        "request.assigned",
        "signup.created",
        "request.full",
    ] {
        assert!(types.contains(&expected), "{types:?}");
    }
    for delivery in &got {
        let id = delivery.header("webhook-id").unwrap();
        let ts = delivery.header("webhook-timestamp").unwrap();
        assert_eq!(delivery.body["id"], id, "the body's id is the webhook-id");
        let sig = delivery.header("webhook-signature").unwrap();
        assert_eq!(
            sig,
            sign(WHSEC, id, ts, &delivery.raw),
            "signed per Standard Webhooks"
        );
        assert!(ts.parse::<i64>().is_ok());
        assert_no_personal_data(&delivery.body.to_string());
    }
    let assigned = got
        .iter()
        .find(|r| r.body["type"] == "request.assigned")
        .unwrap();
    assert_eq!(assigned.body["data"]["id"], c.request_id.as_str());
    assert_eq!(assigned.body["data"]["resident"]["masked_name"], "王**");
    let items = settled(&app, &id(&webhook), 10).await;
    assert_eq!(items.len(), 4);
    assert!(
        items
            .iter()
            .all(|d| d["status"] == "delivered" && d["attempts"] == 1),
        "{items:?}"
    );
}

#[tokio::test]
async fn the_signature_verifies_with_the_standard_webhooks_recipe() {
    let app = private_app().await;
    let receiver = Receiver::start().await;
    let webhook = hook(&app, json!({"url": receiver.url, "kind": "generic", "secret": WHSEC, "events": ["request.created"]})).await;
    let r = app
        .post_empty(
            &format!("/webhooks/{}/test", id(&webhook)),
            Some(&app.admin),
        )
        .await
        .expect(202);
    let got = receiver.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(
        d.header("webhook-id").unwrap(),
        r["event_id"].as_str().unwrap()
    );
    assert_eq!(d.body["type"], "webhook.test");
    let expected = sign(
        WHSEC,
        d.header("webhook-id").unwrap(),
        d.header("webhook-timestamp").unwrap(),
        &d.raw,
    );
    assert_eq!(d.header("webhook-signature").unwrap(), expected);
}

#[tokio::test]
async fn team_webhooks_hear_only_of_their_team_and_of_requests_it_matches() {
    let app = private_app().await;
    let (mine, theirs) = (Receiver::start().await, Receiver::start().await);
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let my_team = id(&app.team(&manager, json!({"name": "我的队"})).await);
    let far_team = id(&app
        .team(
            &manager,
            json!({"name": "远方的队", "location": {"lat": 31.23, "lng": 121.47}}),
        )
        .await);
    hook(
        &app,
        json!({"url": mine.url, "kind": "generic", "team_id": my_team, "events": ALL_EVENTS}),
    )
    .await;
    hook(
        &app,
        json!({"url": theirs.url, "kind": "generic", "team_id": far_team, "events": ALL_EVENTS}),
    )
    .await;
    let resident = id(&app.resident(&caseworker, json!({})).await);
    let request = id(&app.request(&caseworker, &resident, json!({})).await);
    app.assign(&caseworker, &request, &my_team).await;
    let got = mine.wait_for(2, 10).await;
    let types: Vec<&str> = got
        .iter()
        .map(|r| r.body["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 2, "{types:?}");
    assert!(types.contains(&"request.created") && types.contains(&"request.assigned"));
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(
        theirs.received().is_empty(),
        "a team far away hears nothing of this request"
    );
}

#[tokio::test]
async fn robots_get_their_own_wire_formats_and_signatures() {
    let app = private_app().await;
    let (wecom, ding, feishu) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    hook(&app, json!({"url": format!("{}?key=robot-key-1234", wecom.url), "kind": "wecom", "events": ["request.created"]})).await;
    hook(&app, json!({"url": format!("{}?access_token=tok", ding.url), "kind": "dingtalk", "secret": "SECabc123", "events": ["request.created"]})).await;
    hook(&app, json!({"url": feishu.url, "kind": "feishu", "secret": "feishu-secret", "events": ["request.created"]})).await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let resident = id(&app.resident(&caseworker, json!({})).await);
    app.request(&caseworker, &resident, json!({"title": "帮王阿姨买菜"}))
        .await;

    let w = &wecom.wait_for(1, 10).await[0];
    assert_eq!(w.body["msgtype"], "markdown");
    let content = w.body["markdown"]["content"].as_str().unwrap();
    assert!(
        content.contains("帮王阿姨买菜") && content.contains("新的求助"),
        "{content}"
    );
    assert!(content.contains("赵社工"), "whom to contact: {content}");
    assert!(w.path_and_query.contains("key=robot-key-1234"));
    assert_no_personal_data(content);

    let d = &ding.wait_for(1, 10).await[0];
    assert_eq!(d.body["msgtype"], "text");
    assert!(d.path_and_query.contains("access_token=tok"));
    assert!(
        d.path_and_query.contains("&timestamp=") && d.path_and_query.contains("&sign="),
        "{}",
        d.path_and_query
    );
    assert_no_personal_data(&d.body.to_string());

    let f = &feishu.wait_for(1, 10).await[0];
    assert_eq!(f.body["msg_type"], "text");
    assert!(
        f.body["timestamp"].is_string() && f.body["sign"].is_string(),
        "{}",
        f.body
    );
    assert!(
        f.body["content"]["text"]
            .as_str()
            .unwrap()
            .contains("帮王阿姨买菜")
    );
    assert_no_personal_data(&f.body.to_string());
}

#[tokio::test]
async fn failures_are_retried_and_permanent_errors_are_dead_lettered() {
    let app = private_app().await;
    let flaky = Receiver::start().await;
    flaky.script(&[
        (500, "oops"),
        (
            200,
            "{\"errcode\":45009,\"errmsg\":\"api freq out of limit\"}",
        ),
    ]);
    let flaky_hook = id(&hook(
        &app,
        json!({"url": flaky.url, "kind": "wecom", "events": ["request.created"]}),
    )
    .await);
    let broken = Receiver::start().await;
    broken.script(&[(
        200,
        "{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}",
    )]);
    let broken_hook = id(&hook(
        &app,
        json!({"url": broken.url, "kind": "wecom", "events": ["request.created"]}),
    )
    .await);

    let caseworker = app.staff("caseworker", "赵社工").await;
    let resident = id(&app.resident(&caseworker, json!({})).await);
    app.request(&caseworker, &resident, json!({})).await;

    let items = settled(&app, &flaky_hook, 15).await;
    assert_eq!(items[0]["status"], "delivered", "{items:?}");
    assert_eq!(
        items[0]["attempts"], 3,
        "500, then WeCom 45009, then success"
    );
    let got = flaky.received();
    assert_eq!(got.len(), 3);

    let items = settled(&app, &broken_hook, 15).await;
    assert_eq!(items[0]["status"], "failed", "{items:?}");
    assert_eq!(items[0]["attempts"], 1, "93000 is not retried");
    assert!(
        items[0]["last_error"].as_str().unwrap().contains("93000"),
        "{items:?}"
    );
    assert_eq!(items[0]["last_status_code"], 200);
    assert!(items[0]["next_attempt_at"].is_null());

    let event = items[0]["event_id"].as_str().unwrap().to_string();
    let redeliver = format!("/webhooks/{broken_hook}/deliveries/{event}/redeliver");
    app.post_empty(&redeliver, Some(&app.admin))
        .await
        .expect(202);
    let items = settled(&app, &broken_hook, 15).await;
    assert_eq!(items[0]["status"], "delivered");
    assert_eq!(
        app.post_empty(&redeliver, Some(&app.admin)).await.status,
        409,
        "only failed deliveries are redelivered"
    );
    assert_eq!(
        broken.received().len(),
        2,
        "one refused attempt, one redelivery"
    );
}

#[tokio::test]
async fn a_burst_to_a_wecom_robot_queues_at_twenty_a_minute() {
    let app = private_app().await;
    let receiver = Receiver::start().await;
    let webhook = id(&hook(
        &app,
        json!({"url": receiver.url, "kind": "wecom", "events": ["request.created"]}),
    )
    .await);
    let caseworker = app.staff("caseworker", "赵社工").await;
    let resident = id(&app.resident(&caseworker, json!({})).await);
    for i in 0..25 {
        app.request(
            &caseworker,
            &resident,
            json!({"title": format!("第 {i} 个求助")}),
        )
        .await;
    }
    receiver.wait_for(25, 6).await;
    assert_eq!(
        receiver.received().len(),
        20,
        "no more than 20 in the first minute"
    );
    let items = deliveries(&app, &webhook).await;
    let pending: Vec<&Value> = items.iter().filter(|d| d["status"] == "pending").collect();
    assert_eq!(pending.len(), 5, "the rest wait instead of failing");
    assert!(items.iter().all(|d| d["status"] != "failed"));
}

/// Several processes share PostgreSQL; SQLite is the one-process
/// database (see docs/operations.md), so this runs on PostgreSQL only.
#[tokio::test]
async fn a_wecom_group_hears_the_assignment_with_its_leaders_mentioned() {
    let app = private_app().await;
    let wecom = Receiver::start().await;
    let c = community(&app, 2).await;
    hook(&app, json!({"url": wecom.url, "kind": "wecom", "team_id": c.team_id, "events": ["request.assigned"]})).await;
    let leader = app.volunteer("刘队长").await;
    app.add_leader(&c.manager, &c.team_id, &leader).await;
    let request = id(&app
        .request(&c.caseworker, &c.resident_id, json!({"title": "周末送餐"}))
        .await);
    app.assign(&c.caseworker, &request, &c.team_id).await;
    let got = wecom.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    let body = &got[0].body;
    assert_eq!(body["msgtype"], "text", "markdown cannot @ anyone");
    assert_eq!(body["text"]["mentioned_mobile_list"], json!([leader.phone]));
    let content = body["text"]["content"].as_str().unwrap();
    assert!(
        content.contains("周末送餐") && content.contains("阳光社区学雷锋志愿服务队"),
        "{content}"
    );
    assert!(content.len() <= 2048);
    assert_no_personal_data(&body.to_string());
}

#[tokio::test]
async fn a_group_hears_where_an_activity_is_held_and_never_where_a_resident_lives() {
    let app = private_app().await;
    let dingtalk = Receiver::start().await;
    let c = community(&app, 2).await;
    hook(&app, json!({"url": dingtalk.url, "kind": "dingtalk", "team_id": c.team_id, "events": ["request.assigned"]})).await;
    let visit = id(&app
        .request(&c.caseworker, &c.resident_id, json!({"title": "周末送餐"}))
        .await);
    app.assign(&c.caseworker, &visit, &c.team_id).await;
    let activity = app
        .post(
            "/requests",
            Some(&c.caseworker),
            json!({"resident_id": null, "location": {"lat": 39.9209, "lng": 116.4000},
                   "address": "阳光社区文化广场", "category": "companionship",
                   "title": "学雷锋日便民服务摊位", "description": "量血压、陪聊天",
                   "starts_at": "2031-03-05T09:00:00+08:00", "ends_at": "2031-03-05T11:30:00+08:00",
                   "volunteers_needed": 50, "urgency": "normal"}),
        )
        .await
        .expect(201);
    app.assign(&c.caseworker, &id(&activity), &c.team_id).await;

    let got = dingtalk.wait_for(2, 10).await;
    assert_eq!(got.len(), 2);
    let text_of = |title: &str| {
        got.iter()
            .map(|d| d.body.to_string())
            .find(|text| text.contains(title))
            .unwrap_or_else(|| panic!("no message about {title}: {got:?}"))
    };
    let about_activity = text_of("学雷锋日便民服务摊位");
    assert!(
        about_activity.contains("阳光社区文化广场"),
        "{about_activity}"
    );
    let about_visit = text_of("周末送餐");
    assert!(!about_visit.contains("3 号楼"), "{about_visit}");
    for delivery in &got {
        assert_no_personal_data(&delivery.body.to_string());
    }
}

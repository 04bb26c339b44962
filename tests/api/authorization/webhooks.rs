//! Rows: webhooks and their deliveries.

use serde_json::{Value, json};

use super::*;
use crate::receiver::Receiver;

const MANAGERS_201: Expected = [401, 403, 403, 403, 403, 403, 403, 201, 201];
const MANAGERS_202: Expected = [401, 403, 403, 403, 403, 403, 403, 202, 202];

/// A WeCom robot that refuses for good (93000: the URL is invalid), so
/// each delivery to it fails at its first attempt.
const REFUSED: &str = "{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}";

async fn hook(app: &TestApp, url: &str) -> String {
    let body = json!({"url": url, "kind": "wecom", "events": ["request.created"]});
    id(&app
        .post("/webhooks", Some(&app.admin), body)
        .await
        .expect(201))
}

pub async fn webhooks(w: &World) {
    let app = &w.app;
    let robot = Receiver::start().await;
    w.check("POST /webhooks", MANAGERS_201, |a, _| async move {
        let body = json!({"url": "http://127.0.0.1:9/hook", "kind": "generic", "events": ["request.created"]});
        app.post("/webhooks", a.as_ref(), body).await
    })
    .await;
    w.check("GET /webhooks", MANAGERS, |a, _| async move {
        app.get("/webhooks", a.as_ref()).await
    })
    .await;
    let refusing = hook(app, &robot.url).await;
    robot.script(&[(200, REFUSED), (200, REFUSED)]);
    // Managers' and the admin's test sends: the two deliveries that fail.
    let path = &format!("/webhooks/{refusing}/test");
    w.check(
        "POST /webhooks/{id}/test",
        MANAGERS_202,
        |a, _| async move { app.post_empty(path, a.as_ref()).await },
    )
    .await;
    let failed = failed_events(app, &refusing, 2).await;
    let path = &format!("/webhooks/{refusing}/deliveries");
    w.check(
        "GET /webhooks/{id}/deliveries",
        MANAGERS,
        |a, _| async move { app.get(path, a.as_ref()).await },
    )
    .await;
    let (refusing, failed) = (&refusing, &failed);
    w.check(
        "POST /webhooks/{id}/deliveries/{event_id}/redeliver a failed delivery",
        MANAGERS_202,
        |a, i| async move {
            let event = &failed[usize::from(i == ADMIN)];
            let path = format!("/webhooks/{refusing}/deliveries/{event}/redeliver");
            app.post_empty(&path, a.as_ref()).await
        },
    )
    .await;
    w.check(
        "DELETE /webhooks/{id} a fresh webhook",
        [401, 403, 403, 403, 403, 403, 403, 204, 204],
        |a, _| async move {
            let fresh = hook(app, "http://127.0.0.1:9/fresh").await;
            app.delete(&format!("/webhooks/{fresh}"), a.as_ref()).await
        },
    )
    .await;
}

/// The ids of `n` failed deliveries of the webhook, once they have failed.
async fn failed_events(app: &TestApp, hook: &str, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let items: Vec<Value> = app
            .get(&format!("/webhooks/{hook}/deliveries"), Some(&app.admin))
            .await
            .expect(200)["items"]
            .as_array()
            .unwrap()
            .clone();
        let failed: Vec<String> = items
            .iter()
            .filter(|d| d["status"] == "failed")
            .map(|d| d["event_id"].as_str().unwrap().to_string())
            .collect();
        if failed.len() >= n {
            return failed;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the test sends failed: {items:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

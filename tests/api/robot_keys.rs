//! Robot keys in webhook URLs stored sealed with `SECRETS_KEY` (and
//! sealed at the next start when stored before), volunteers' phones only
//! in messages to the team's own webhooks, and `/docs` under the
//! console's frame and content policies.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::process::ServerProcess;
use crate::receiver::Receiver;
use crate::secrets::column;

const KEY_A: &str = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
const WECOM_KEY: &str = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa";
const FEISHU_TOKEN: &str = "2e4f8a1c-1234-5678-9abc-def012345678";

/// The receiver's origin, `http://127.0.0.1:port`.
fn origin(receiver: &Receiver) -> String {
    receiver.url.trim_end_matches("/hook").to_string()
}

async fn test_send(app: &TestApp, hook: &Value) {
    app.post_empty(&format!("/webhooks/{}/test", id(hook)), Some(&app.admin))
        .await
        .expect(202);
}

#[tokio::test]
async fn with_secrets_key_a_robots_key_is_stored_sealed_and_still_reaches_the_robot() {
    let app = spawn_app_with(&[
        ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
        ("SECRETS_KEY", KEY_A),
    ])
    .await;
    let receiver = Receiver::start().await;
    let hook = app
        .post(
            "/webhooks",
            Some(&app.admin),
            json!({"url": format!("{}/cgi-bin/webhook/send?key={WECOM_KEY}", origin(&receiver)),
                   "kind": "wecom", "events": ["request.created"]}),
        )
        .await
        .expect(201);
    // Managers see it masked, as before.
    assert!(
        hook["url"].as_str().unwrap().ends_with("key=****5aaa"),
        "{hook}"
    );
    let listed = app.get("/webhooks", Some(&app.admin)).await.expect(200);
    assert_eq!(listed["items"][0]["url"], hook["url"]);

    let stored = column(&app.database_url, "SELECT url FROM webhooks").await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].starts_with("enc:v1:"), "{}", stored[0]);
    assert!(!stored[0].contains(&WECOM_KEY[..12]), "{}", stored[0]);

    test_send(&app, &hook).await;
    let got = receiver.wait_for(1, 15).await;
    assert_eq!(got.len(), 1, "delivered");
    assert_eq!(
        got[0].path_and_query,
        format!("/cgi-bin/webhook/send?key={WECOM_KEY}")
    );
}

#[tokio::test]
async fn robot_urls_stored_in_clear_are_sealed_at_the_next_start() {
    let database_url = fresh_database().await;
    let receiver = Receiver::start().await;
    let url = format!("{}/open-apis/bot/v2/hook/{FEISHU_TOKEN}", origin(&receiver));
    // A process without the key stores it in clear, and stops (a process
    // left without the key could not send what is sealed).
    let hook = {
        let mut before = ServerProcess::start(&database_url, &[]);
        let app = before.connect(&database_url).await;
        let hook = app
            .post(
                "/webhooks",
                Some(&app.admin),
                json!({"url": url, "kind": "feishu", "events": ["request.created"]}),
            )
            .await
            .expect(201);
        before.terminate();
        before.wait_exit(20).await;
        hook
    };
    let clear = column(&database_url, "SELECT url FROM webhooks").await;
    assert_eq!(clear, vec![url.clone()], "no key: stored in clear");

    let after = spawn_on(
        &database_url,
        &[
            ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
            ("SECRETS_KEY", KEY_A),
        ],
    )
    .await;
    let sealed = column(&after.database_url, "SELECT url FROM webhooks").await;
    assert_eq!(sealed.len(), 1);
    assert!(sealed[0].starts_with("enc:v1:"), "{}", sealed[0]);
    assert!(!sealed[0].contains(&FEISHU_TOKEN[..12]));
    let shown = after.get("/webhooks", Some(&after.admin)).await.expect(200);
    assert_eq!(
        shown["items"][0]["url"],
        format!("{}/open-apis/bot/v2/hook/****5678", origin(&receiver))
    );

    test_send(&after, &hook).await;
    let got = receiver.wait_for(1, 15).await;
    assert_eq!(got.len(), 1, "delivered");
    assert_eq!(
        got[0].path_and_query,
        format!("/open-apis/bot/v2/hook/{FEISHU_TOKEN}")
    );
}

/// Everything a receiver was sent, as text.
fn everything(receiver: &Receiver) -> String {
    receiver
        .received()
        .iter()
        .map(|r| format!("{} {}", r.path_and_query, String::from_utf8_lossy(&r.raw)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn volunteers_phones_go_only_to_the_teams_own_webhooks() {
    let private = ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true");
    // This server's scheduler ticks once, at start: the reminder waits
    // for the second server below.
    let app = spawn_app_with(&[private, ("SCHEDULER_TICK_SECS", "3600")]).await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let team = id(&app.team(&manager, json!({})).await);
    let resident = id(&app.resident(&caseworker, json!({})).await);
    let leader = app.volunteer("张队长").await;
    app.add_leader(&manager, &team, &leader).await;
    let member = app.volunteer("刘志愿").await;
    app.join(&team, &member).await;

    let events = json!(["request.assigned", "signup.reminder"]);
    let own = Receiver::start().await;
    let community_wecom = Receiver::start().await;
    let community_generic = Receiver::start().await;
    for body in [
        json!({"url": format!("{}?key=team-robot-key-1", own.url), "kind": "wecom",
               "team_id": team, "events": events}),
        json!({"url": format!("{}?key=community-robot-key-2", community_wecom.url),
               "kind": "wecom", "events": events}),
        json!({"url": community_generic.url, "kind": "generic", "events": events}),
    ] {
        app.post("/webhooks", Some(&app.admin), body)
            .await
            .expect(201);
    }
    let soon =
        |minutes: i64| (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339();
    let request = id(&app
        .request(
            &caseworker,
            &resident,
            json!({"starts_at": soon(60), "ends_at": soon(120)}),
        )
        .await);
    app.assign(&caseworker, &request, &team).await;
    app.post_empty(&format!("/requests/{request}/signups"), Some(&member))
        .await
        .expect(201);
    // Its scheduler ticks at once: the reminder is due.
    let _second = spawn_on(&app.database_url, &[private, ("SCHEDULER_TICK_SECS", "1")]).await;

    // The assignment and the reminder reach every webhook.
    for receiver in [&own, &community_wecom, &community_generic] {
        let got = receiver.wait_for(2, 30).await;
        assert_eq!(got.len(), 2, "{}", everything(receiver));
    }
    // The team's own group @-mentions its leader, then the signed-up member.
    let mentioned: Vec<Value> = own
        .received()
        .iter()
        .map(|r| r.body["text"]["mentioned_mobile_list"].clone())
        .collect();
    assert!(mentioned.contains(&json!([leader.phone])), "{mentioned:?}");
    assert!(mentioned.contains(&json!([member.phone])), "{mentioned:?}");
    // A community-wide group hears of both, without anyone's phone.
    for receiver in [&community_wecom, &community_generic] {
        let sent = everything(receiver);
        for phone in [&leader.phone, &member.phone] {
            assert!(!sent.contains(phone.as_str()), "{phone} sent: {sent}");
        }
        assert!(!sent.contains("mentioned_mobile_list"), "{sent}");
    }
    let types: Vec<Value> = community_generic
        .received()
        .iter()
        .map(|r| r.body["type"].clone())
        .collect();
    assert!(types.contains(&json!("signup.reminder")), "{types:?}");
    assert!(types.contains(&json!("request.assigned")), "{types:?}");
}

#[tokio::test]
async fn the_api_browser_answers_under_the_consoles_policies() {
    let app = spawn_app().await;
    let console = app
        .send(app.client.get(format!("{}/console/", app.base)))
        .await;
    assert_eq!(console.status, 200);
    let docs = app
        .send(app.client.get(format!("{}/docs/", app.base)))
        .await;
    assert_eq!(docs.status, 200);
    for header in [
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
    ] {
        assert_eq!(
            docs.headers.get(header),
            console.headers.get(header),
            "{header}"
        );
        assert!(docs.headers.get(header).is_some(), "{header}");
    }
    let csp = docs.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    // Under that policy only scripts and styles from files run: the page
    // has no inline script or style.
    let page = docs.body.as_str().unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
    let scripts = page.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(page.matches("<script src=").count(), scripts, "{page}");
    assert!(
        !page.contains("<style") && !page.contains("style="),
        "{page}"
    );
    for file in [
        "swagger-initializer.js",
        "swagger-ui-bundle.js",
        "swagger-ui.css",
    ] {
        let served = app
            .send(app.client.get(format!("{}/docs/{file}", app.base)))
            .await;
        assert_eq!(served.status, 200, "{file}");
        assert_eq!(served.headers["x-frame-options"], "DENY", "{file}");
    }
    let redirect = app.send(app.client.get(format!("{}/docs", app.base))).await;
    assert_eq!(redirect.headers["x-frame-options"], "DENY");
}

/// A headless Chromium (Debian's `chromium` and `chromium-driver`, as the
/// console's tests use) on `url`; the driver goes with the guard.
struct Driver(std::process::Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn browser() -> (fantoccini::Client, Driver) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = crate::process::free_port();
    let driver = Driver(
        std::process::Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts (apt-get install chromium chromium-driver)"),
    );
    let caps = json!({"goog:chromeOptions": {
        "binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    }});
    let caps = caps.as_object().unwrap().clone();
    for _ in 0..100 {
        if let Ok(client) = fantoccini::ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            return (client, driver);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer");
}

#[tokio::test]
async fn the_api_browser_still_works_in_a_browser_under_that_policy() {
    let app = spawn_app().await;
    let (client, _driver) = browser().await;
    client
        .goto(&format!("{}/docs/", app.base))
        .await
        .expect("page opens");
    // The operations appear only once the bundled scripts ran and fetched
    // the OpenAPI document; the styles only once the stylesheet loaded.
    let operation = client
        .wait()
        .at_most(std::time::Duration::from_secs(30))
        .for_element(fantoccini::Locator::Css(".swagger-ui .opblock"))
        .await
        .expect("the operations are listed");
    assert!(!operation.text().await.unwrap().is_empty());
    let styled = client
        .execute(
            "return getComputedStyle(document.querySelector('.swagger-ui .opblock')).borderTopStyle",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(styled, json!("solid"), "swagger-ui.css applies");
    client.close().await.unwrap();
}

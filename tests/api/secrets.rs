//! Secrets: webhook secrets encrypted at rest with `SECRETS_KEY`,
//! `/metrics` behind `METRICS_TOKEN`, no access token kept in clear for
//! idempotent replay, and no robot key from a webhook URL in an error.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::process::{ServerProcess, free_port, on_postgres};
use crate::receiver::Receiver;
use crate::webhooks::{WHSEC, sign};

/// 32 bytes, base64.
const KEY_A: &str = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
const KEY_B: &str = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=";

/// Every value of one text column, read straight from the database.
pub async fn column(database_url: &str, sql: &str) -> Vec<String> {
    let db = Database::connect(database_url).await.unwrap();
    let backend: DbBackend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql.to_string()))
        .await
        .unwrap();
    let values = rows
        .iter()
        .filter_map(|row| row.try_get_by_index::<Option<String>>(0).unwrap())
        .collect();
    db.close().await.unwrap();
    values
}

/// A generic webhook for `request.created`, signed with [`WHSEC`].
async fn signed_webhook(app: &TestApp, url: &str) -> Value {
    app.post(
        "/webhooks",
        Some(&app.admin),
        json!({"url": url, "kind": "generic", "secret": WHSEC, "events": ["request.created"]}),
    )
    .await
    .expect(201)
}

/// Creates one request, so every `request.created` webhook hears of it.
async fn one_request(app: &TestApp) {
    let caseworker = app.staff("caseworker", "周社工").await;
    let resident = id(&app.resident(&caseworker, json!({})).await);
    app.request(&caseworker, &resident, json!({})).await;
}

fn assert_signed_with_whsec(receiver: &Receiver, expected: usize) {
    let got = receiver.received();
    assert_eq!(got.len(), expected, "deliveries received");
    for delivery in got {
        let id = delivery.header("webhook-id").unwrap();
        let ts = delivery.header("webhook-timestamp").unwrap();
        assert_eq!(
            delivery.header("webhook-signature").unwrap(),
            sign(WHSEC, id, ts, &delivery.raw),
            "the receiver verifies the signature with the secret it was given"
        );
    }
}

async fn deliveries_settled(app: &TestApp, hook_id: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let items = app
            .get(&format!("/webhooks/{hook_id}/deliveries"), Some(&app.admin))
            .await
            .expect(200)["items"]
            .as_array()
            .unwrap()
            .clone();
        if (!items.is_empty() && items.iter().all(|d| d["attempts"].as_i64() >= Some(1)))
            || Instant::now() > deadline
        {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn with_secrets_key_the_database_never_holds_a_webhook_secret_in_clear() {
    let app = spawn_app_with(&[
        ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
        ("SECRETS_KEY", KEY_A),
    ])
    .await;
    let receiver = Receiver::start().await;
    signed_webhook(&app, &receiver.url).await;

    let stored = column(&app.database_url, "SELECT secret FROM webhooks").await;
    assert_eq!(stored.len(), 1);
    let key_part = WHSEC.trim_start_matches("whsec_");
    assert!(
        !stored[0].contains(key_part),
        "stored in clear: {}",
        stored[0]
    );
    assert!(stored[0].starts_with("enc:v1:"), "{}", stored[0]);

    one_request(&app).await;
    receiver.wait_for(1, 10).await;
    assert_signed_with_whsec(&receiver, 1);
}

#[tokio::test]
async fn secrets_stored_in_clear_are_encrypted_once_a_key_is_set() {
    let database_url = fresh_database().await;
    let receiver = Receiver::start().await;
    let hook_id = {
        let mut before = ServerProcess::start(&database_url, &[]);
        let app = before.connect(&database_url).await;
        let hook = signed_webhook(&app, &receiver.url).await;
        before.terminate();
        before.wait_exit(20).await;
        id(&hook)
    };
    let clear = column(&database_url, "SELECT secret FROM webhooks").await;
    assert_eq!(clear, vec![WHSEC.to_string()], "no key: stored in clear");

    // With the key, every process encrypts at start; several may start at
    // once on PostgreSQL, and the value stays readable.
    let with_key = [("SECRETS_KEY", KEY_A)];
    let first = ServerProcess::start(&database_url, &with_key);
    let second = on_postgres().then(|| ServerProcess::start(&database_url, &with_key));
    let app = first.connect(&database_url).await;
    if let Some(second) = &second {
        second.connect(&database_url).await;
    }
    let sealed = column(&database_url, "SELECT secret FROM webhooks").await;
    assert_eq!(sealed.len(), 1);
    assert!(sealed[0].starts_with("enc:v1:"), "{}", sealed[0]);
    assert!(!sealed[0].contains(WHSEC.trim_start_matches("whsec_")));

    one_request(&app).await;
    receiver.wait_for(1, 10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_signed_with_whsec(&receiver, 1);
    let items = deliveries_settled(&app, &hook_id).await;
    assert_eq!(items[0]["status"], "delivered", "{items:?}");
}

#[tokio::test]
async fn a_secret_sealed_under_another_key_fails_only_that_webhooks_deliveries() {
    let database_url = fresh_database().await;
    let receiver = Receiver::start().await;
    let hook_id = {
        let mut before = ServerProcess::start(&database_url, &[("SECRETS_KEY", KEY_A)]);
        let app = before.connect(&database_url).await;
        let hook = signed_webhook(&app, &receiver.url).await;
        before.terminate();
        before.wait_exit(20).await;
        id(&hook)
    };
    let after = ServerProcess::start(&database_url, &[("SECRETS_KEY", KEY_B)]);
    let app = after.connect(&database_url).await;
    one_request(&app).await;

    let items = deliveries_settled(&app, &hook_id).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "failed", "{items:?}");
    let error = items[0]["last_error"].as_str().unwrap();
    assert!(
        error.contains("SECRETS_KEY"),
        "the reason is clear: {error}"
    );
    assert!(receiver.received().is_empty(), "nothing sent unsigned");
    // Everything else works.
    app.get("/webhooks", Some(&app.admin)).await.expect(200);
    app.get("/healthz", None).await.expect(200);
    assert!(
        after.logs().contains("webhook secret cannot be read"),
        "the reason is logged"
    );
}

#[tokio::test]
async fn metrics_answer_only_with_the_metrics_token() {
    let app = spawn_app().await;
    let metrics = |token: Option<&str>| {
        let req = app.client.get(format!("{}/metrics", app.base));
        match token {
            Some(token) => req.bearer_auth(token),
            None => req,
        }
    };
    let missing = app.send(metrics(None)).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.code(), "unauthorized");
    let wrong = app.send(metrics(Some("test-metrics-tokeN"))).await;
    assert_eq!(wrong.status, 401);
    let user = app.send(metrics(Some(&app.admin.token))).await;
    assert_eq!(user.status, 401, "an access token is not the metrics token");
    let right = app.send(metrics(Some(METRICS_TOKEN))).await;
    assert_eq!(right.status, 200);
    assert!(right.body.as_str().unwrap().contains("http_requests_total"));
    let docs = app.get("/api-docs/openapi.json", None).await.expect(200);
    assert!(
        docs["paths"]["/metrics"]["get"].is_object(),
        "/metrics is in the OpenAPI document"
    );

    let without = spawn_app_with(&[("METRICS_TOKEN", "")]).await;
    let hidden = without
        .send(
            without
                .client
                .get(format!("{}/metrics", without.base))
                .bearer_auth(METRICS_TOKEN),
        )
        .await;
    assert_eq!(hidden.status, 404);
    assert_eq!(hidden.code(), "not_found");
}

#[tokio::test]
async fn a_replayed_registration_keeps_no_token_or_password_in_the_database() {
    let app = spawn_app().await;
    let phone = random_phone();
    let password = "a-password-to-guess";
    let register = || {
        app.client
            .post(app.url("/auth/register"))
            .header("Idempotency-Key", "register-once")
            .json(&json!({"phone": phone, "password": password, "name": "新志愿者"}))
    };
    let first = app.send(register()).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let token = first.body["access_token"].as_str().unwrap().to_string();

    let kept = column(
        &app.database_url,
        "SELECT COALESCE(response_body, '') || ' ' || request_hash FROM idempotency_keys",
    )
    .await;
    assert_eq!(kept.len(), 1, "the key was kept");
    for row in &kept {
        assert!(!row.contains(&token), "the token is stored in clear");
        // Neither in parts: a JWT's signature alone would not do, but its
        // claims should not be readable either.
        for part in token.split('.') {
            assert!(!row.contains(part), "part of the token is stored: {row}");
        }
        assert!(!row.contains(password));
    }

    let replay = app.send(register()).await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    assert_eq!(replay.body["user"]["id"], first.body["user"]["id"]);
    let replayed = Actor {
        id: id(&replay.body["user"]),
        token: replay.body["access_token"].as_str().unwrap().to_string(),
        phone: phone.clone(),
    };
    let me = app.get("/me", Some(&replayed)).await.expect(200);
    assert_eq!(
        me["id"], first.body["user"]["id"],
        "the replayed token works"
    );
}

#[tokio::test]
async fn a_webhook_that_cannot_be_reached_never_shows_its_robot_key() {
    let database_url = fresh_database().await;
    let server = ServerProcess::start(&database_url, &[("RUST_LOG", "info")]);
    let app = server.connect(&database_url).await;
    let closed = free_port();
    let feishu_token = "feishu-robot-token-0123456789";
    let wecom_key = "wecom-robot-key-0123456789";
    let hooks = [
        json!({"url": format!("http://127.0.0.1:{closed}/open-apis/bot/v2/hook/{feishu_token}"),
               "kind": "feishu", "events": ["request.created"]}),
        json!({"url": format!("http://127.0.0.1:{closed}/cgi-bin/webhook/send?key={wecom_key}"),
               "kind": "wecom", "events": ["request.created"]}),
    ];
    let mut ids = Vec::new();
    for body in hooks {
        let hook = app
            .post("/webhooks", Some(&app.admin), body)
            .await
            .expect(201);
        ids.push(id(&hook));
    }
    one_request(&app).await;

    let mut shown = String::new();
    for hook_id in &ids {
        let items = deliveries_settled(&app, hook_id).await;
        let error = items[0]["last_error"].as_str().unwrap_or_default();
        assert!(!error.is_empty(), "the failure is explained: {items:?}");
        shown.push_str(&serde_json::to_string(&items).unwrap());
    }
    shown.push_str(
        &app.get("/webhooks", Some(&app.admin))
            .await
            .expect(200)
            .to_string(),
    );
    shown.push_str(&server.logs());
    for secret in [feishu_token, wecom_key] {
        assert!(!shown.contains(secret), "{secret} shown: {shown}");
        // Not even most of it.
        assert!(!shown.contains(&secret[..12]), "{secret} shown: {shown}");
    }
}

#[tokio::test]
async fn a_bad_secret_setting_stops_the_start_naming_the_variable() {
    let database_url = fresh_database().await;
    let start = |settings: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_volunteer-service"));
        command
            .env("DATABASE_URL", &database_url)
            .env("BIND_ADDR", format!("127.0.0.1:{}", free_port()))
            .env("RUST_LOG", "warn");
        for (k, v) in settings {
            command.env(k, v);
        }
        command.output().expect("the binary runs")
    };
    let long_enough = "a-jwt-secret-of-at-least-32-bytes";
    for (settings, named) in [
        (
            vec![("JWT_SECRET", "only-thirty-one-bytes-long-abcd")],
            "JWT_SECRET",
        ),
        (
            vec![("JWT_SECRET", long_enough), ("SECRETS_KEY", "c2hvcnQ=")],
            "SECRETS_KEY",
        ),
    ] {
        let out = start(&settings);
        assert!(!out.status.success(), "{settings:?} started");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(named), "{settings:?}: {said}");
    }
    if on_postgres() {
        let out = start(&[]);
        assert!(
            !out.status.success(),
            "started on PostgreSQL without JWT_SECRET"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET"));
    }
}

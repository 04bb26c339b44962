//! A server killed with SIGKILL loses no pending event: after a restart on
//! the same database every event is delivered, each under its stable id.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;
use crate::receiver::Receiver;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_server(database_url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_volunteer-service"))
        .env("DATABASE_URL", database_url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", "durability-test-secret")
        .env("BOOTSTRAP_ADMIN_PHONE", ADMIN_PHONE)
        .env("BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
        .env("WEBHOOK_RETRY_BASE_MS", "200")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server binary starts")
}

async fn connect(database_url: &str, port: u16) -> TestApp {
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut app = TestApp {
        base,
        client,
        database_url: database_url.into(),
        admin: Actor {
            id: String::new(),
            token: String::new(),
            phone: ADMIN_PHONE.into(),
        },
    };
    app.admin = app.login(ADMIN_PHONE, ADMIN_PASSWORD).await;
    app
}

#[tokio::test]
async fn events_pending_at_a_sigkill_are_delivered_after_restart() {
    let database_url = fresh_database().await;
    let receiver = Receiver::start().await;
    receiver.script(&[(503, "down for maintenance"); 500]);

    let port = free_port();
    let mut first = start_server(&database_url, port);
    let app = connect(&database_url, port).await;
    let webhook = app
        .post(
            "/webhooks",
            Some(&app.admin),
            json!({"url": receiver.url, "kind": "generic", "events": ["request.created"]}),
        )
        .await
        .expect(201);
    let caseworker = app.staff("caseworker", "赵社工").await;
    let resident = id(&app.resident(&caseworker, json!({})).await);
    for i in 0..5 {
        app.request(
            &caseworker,
            &resident,
            json!({"title": format!("求助 {i}")}),
        )
        .await;
    }
    receiver.wait_for(5, 10).await;
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");

    receiver.heal();
    let port = free_port();
    let mut second = start_server(&database_url, port);
    let app = connect(&database_url, port).await;
    // Longer than a lease the killed process may have left (30 s).
    let deadline = Instant::now() + Duration::from_secs(45);
    let items = loop {
        let items = app
            .get(
                &format!("/webhooks/{}/deliveries", id(&webhook)),
                Some(&app.admin),
            )
            .await
            .expect(200)["items"]
            .as_array()
            .unwrap()
            .clone();
        if items.iter().all(|d| d["status"] == "delivered") || Instant::now() > deadline {
            break items;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    second.kill().ok();
    second.wait().ok();
    assert_eq!(items.len(), 5);
    assert!(
        items.iter().all(|d| d["status"] == "delivered"),
        "{items:?}"
    );
    let delivered: std::collections::HashSet<String> = receiver
        .received()
        .iter()
        .filter(|r| r.body["type"] == "request.created")
        .map(|r| r.header("webhook-id").unwrap().to_string())
        .collect();
    let expected: std::collections::HashSet<String> = items
        .iter()
        .map(|d| d["event_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        delivered, expected,
        "every event arrived under its stable id"
    );
}

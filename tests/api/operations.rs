//! What operators see: `/metrics`, request ids and logs without personal
//! data, demo data from `seed`, and a graceful stop on SIGTERM.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;
use crate::process::{PROCESS_JWT_SECRET, ServerProcess};
use crate::receiver::Receiver;

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_the_outbox() {
    let app = spawn_app_with(&[("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")]).await;
    let receiver = Receiver::start().await;
    receiver.script(&[(503, "down"); 50]);
    app.request_webhook(&receiver.url).await;
    let caseworker = app.staff("caseworker", "郑社工").await;
    let resident = id(&app.resident(&caseworker, json!({})).await);
    let request = id(&app.request(&caseworker, &resident, json!({})).await);
    for _ in 0..3 {
        app.get(&format!("/requests/{request}"), Some(&caseworker))
            .await
            .expect(200);
    }
    app.get(
        &format!("/requests/{}", uuid::Uuid::now_v7()),
        Some(&caseworker),
    )
    .await
    .expect(404);
    receiver.wait_for(1, 10).await;
    // The receiver hears the attempt before the worker records it.
    let retried = r#"webhook_delivery_attempts_total{outcome="retry"}"#;
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&app.metrics().await, retried) < 1.0 {
        assert!(
            Instant::now() < deadline,
            "the failed attempt was never counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let res = app
        .client
        .get(format!("{}/metrics", app.base))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    let route = r#"http_requests_total{method="GET",route="/api/v1/requests/{id}""#;
    assert_eq!(
        metric(&text, &format!(r#"{route},status="200"}}"#)),
        3.0,
        "{text}"
    );
    assert_eq!(metric(&text, &format!(r#"{route},status="404"}}"#)), 1.0);
    assert!(
        metric(
            &text,
            r#"http_request_duration_seconds_count{method="GET",route="/api/v1/requests/{id}"}"#
        ) >= 4.0
    );
    assert_eq!(
        metric(&text, r#"webhook_deliveries{status="pending"}"#),
        1.0,
        "the failing delivery waits"
    );
    assert!(metric(&text, retried) >= 1.0);
    assert!(
        !text.contains(&request),
        "paths with ids never become labels"
    );
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&generated).is_ok());
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "lb-7f3a-0001")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["x-request-id"],
        "lb-7f3a-0001",
        "the balancer's id is kept"
    );
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "13812345678 <script>")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "13812345678 <script>");
}

#[tokio::test]
async fn logs_are_json_lines_with_request_ids_and_no_personal_data() {
    let database_url = fresh_database().await;
    let server = ServerProcess::start(
        &database_url,
        &[("LOG_FORMAT", "json"), ("RUST_LOG", "info")],
    );
    let app = server.connect(&database_url).await;
    let caseworker = app.staff("caseworker", "冯社工").await;
    let resident = app
        .resident(
            &caseworker,
            json!({"name": "欧阳淑珍", "phone": "13598765432",
                   "address": "幸福里小区 9 号楼 3 单元 702", "id_number": "11010519491231002X"}),
        )
        .await;
    let reply = app
        .post(
            "/auth/login",
            None,
            json!({"phone": "13698765432", "password": "not-the-password"}),
        )
        .await;
    assert_eq!(reply.status, 401);
    let request_id = reply.headers["x-request-id"].to_str().unwrap().to_string();
    app.get(&format!("/residents/{}", id(&resident)), Some(&caseworker))
        .await
        .expect(200);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let logs = server.logs();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).expect("every log line is JSON"))
        .collect();
    let finished: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["message"] == "request finished")
        .collect();
    assert!(finished.len() >= 5, "{logs}");
    let login = finished
        .iter()
        .find(|l| l["span"]["request_id"] == request_id.as_str())
        .expect("the login's log line carries its request id");
    assert_eq!(login["status"], 401);
    assert_eq!(login["span"]["route"], "/api/v1/auth/login");
    for secret in [
        "13598765432",
        "13698765432",
        "幸福里小区",
        "欧阳淑珍",
        "11010519491231002X",
        "not-the-password",
        ADMIN_PHONE,
        ADMIN_PASSWORD,
        &id(&resident),
    ] {
        assert!(!logs.contains(secret), "the logs hold {secret}");
    }
}

#[tokio::test]
async fn seed_fills_a_database_the_api_then_serves() {
    let database_url = fresh_database().await;
    let seeded = Command::new(env!("CARGO_BIN_EXE_volunteer-service"))
        .args(["seed", "--records", "2000", "--password", "seeded-password"])
        .env("DATABASE_URL", &database_url)
        .env("JWT_SECRET", PROCESS_JWT_SECRET)
        .env("RUST_LOG", "warn")
        .output()
        .expect("seed runs");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let again = Command::new(env!("CARGO_BIN_EXE_volunteer-service"))
        .args(["seed", "--records", "10"])
        .env("DATABASE_URL", &database_url)
        .env("JWT_SECRET", PROCESS_JWT_SECRET)
        .output()
        .expect("seed runs");
    assert!(
        !again.status.success(),
        "a seeded database is not seeded twice"
    );

    let server = ServerProcess::start(&database_url, &[]);
    let app = server.connect(&database_url).await;
    let manager = app.login("13700000000", "seeded-password").await;
    let teams = app
        .get("/teams?limit=100", Some(&manager))
        .await
        .expect(200);
    let kinds: std::collections::HashSet<&str> = teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 5, "teams of every kind");
    let totals = app
        .get("/stats/service-hours?group_by=team", Some(&manager))
        .await
        .expect(200);
    let records: i64 = totals["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["records"].as_i64().unwrap())
        .sum();
    assert_eq!(
        records, 2000,
        "exactly the approved records asked for: {totals}"
    );
    let csv = app
        .client
        .get(app.url("/exports/service-hours?format=csv"))
        .bearer_auth(&manager.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv.lines().count(),
        2001,
        "one row per approved record, plus the header"
    );
    // The seeded pairings: the server's worker makes their visits as it starts.
    let pairings = app
        .get("/pairings?limit=100", Some(&manager))
        .await
        .expect(200);
    let pairings = pairings["items"].as_array().unwrap();
    assert!(pairings.len() >= 3, "a few pairings: {pairings:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    for pairing in pairings {
        let path = format!("/requests?pairing_id={}", id(pairing));
        while app.get(&path, Some(&manager)).await.expect(200)["items"]
            .as_array()
            .unwrap()
            .is_empty()
        {
            assert!(std::time::Instant::now() < deadline, "no visits made");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    // A seeded volunteer logs in and finds requests of their team to sign up for.
    let volunteer = app.login("13800000001", "seeded-password").await;
    let me = app.get("/me", Some(&volunteer)).await.expect(200);
    assert!(me["approved_hours"].as_f64().unwrap() > 0.0, "{me}");
}

#[tokio::test]
async fn sigterm_lets_a_download_in_flight_finish_then_stops() {
    let database_url = fresh_database().await;
    let seeded = Command::new(env!("CARGO_BIN_EXE_volunteer-service"))
        .args([
            "seed",
            "--records",
            "20000",
            "--password",
            "seeded-password",
        ])
        .env("DATABASE_URL", &database_url)
        .env("JWT_SECRET", PROCESS_JWT_SECRET)
        .output()
        .expect("seed runs");
    assert!(seeded.status.success());
    let mut server = ServerProcess::start(&database_url, &[]);
    let app = server.connect(&database_url).await;
    let manager = app.login("13700000000", "seeded-password").await;

    let mut download = app
        .client
        .get(app.url("/exports/service-hours?format=csv"))
        .bearer_auth(&manager.token)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    let mut body = download.chunk().await.unwrap().unwrap().to_vec();
    server.terminate();
    while let Some(chunk) = download.chunk().await.expect("the download is not cut off") {
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body).unwrap();
    assert_eq!(text.lines().count(), 20_001, "every row arrived");
    let status = server.wait_exit(15).await;
    assert!(status.success(), "a clean exit: {status:?}");
    assert!(
        app.client.get(app.url("/healthz")).send().await.is_err(),
        "nothing listens any more"
    );
}

#[tokio::test]
async fn sigterm_gives_back_the_lease_of_a_send_in_flight() {
    let database_url = fresh_database().await;
    let receiver = Receiver::start().await;
    receiver.stall(Duration::from_secs(60));
    let mut first = ServerProcess::start(
        &database_url,
        &[("SHUTDOWN_GRACE_SECS", "2"), ("RUST_LOG", "info")],
    );
    let app = first.connect(&database_url).await;
    let webhook = app.request_webhook(&receiver.url).await;
    let caseworker = app.staff("caseworker", "陈社工").await;
    let resident = id(&app.resident(&caseworker, json!({})).await);
    app.request(&caseworker, &resident, json!({})).await;
    // The worker has claimed the delivery and sits in the stalled send.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    first.terminate();
    let status = first.wait_exit(10).await;
    assert!(status.success(), "{status:?}");

    let first_logs = first.logs();
    receiver.heal();
    let second = ServerProcess::start(&database_url, &[("RUST_LOG", "info")]);
    let app = second.connect(&database_url).await;
    let restarted = Instant::now();
    let deliveries = format!("/webhooks/{}/deliveries", id(&webhook));
    loop {
        let items = app.get(&deliveries, Some(&app.admin)).await.expect(200)["items"].clone();
        if items[0]["status"] == "delivered" {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(15),
            "the delivery waited for the old lease (30 s): {items}\nfirst process:\n{first_logs}\nsecond process:\n{}",
            second.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

//! A server killed with SIGKILL loses no pending event: after a restart on
//! the same database every event is delivered, each under its stable id.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;
use crate::process::ServerProcess;
use crate::receiver::Receiver;

#[tokio::test]
async fn events_pending_at_a_sigkill_are_delivered_after_restart() {
    let database_url = fresh_database().await;
    let receiver = Receiver::start().await;
    receiver.script(&[(503, "down for maintenance"); 500]);

    let mut first = ServerProcess::start(&database_url, &[]);
    let app = first.connect(&database_url).await;
    let webhook = app.request_webhook(&receiver.url).await;
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
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("reaped");

    receiver.heal();
    let second = ServerProcess::start(&database_url, &[]);
    let app = second.connect(&database_url).await;
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
    drop(second);
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

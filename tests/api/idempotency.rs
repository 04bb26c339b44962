//! `Idempotency-Key` on creating POSTs.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_retried_post_replays_the_first_answer_and_creates_nothing_new() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let body = json!({"name": "王秀英", "category": "elderly_alone", "address": "3 号楼", "location": {"lat": 39.9, "lng": 116.4}});
    let send = |body: serde_json::Value, key: &str| {
        app.client
            .post(app.url("/residents"))
            .bearer_auth(&caseworker.token)
            .header("Idempotency-Key", key)
            .json(&body)
    };
    let first = app.send(send(body.clone(), "key-1")).await;
    assert_eq!(first.status, 201);
    let second = app.send(send(body.clone(), "key-1")).await;
    assert_eq!(second.status, 201);
    assert_eq!(second.body, first.body);
    let list = app.get("/residents", Some(&caseworker)).await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    let mut changed = body.clone();
    changed["name"] = json!("李桂兰");
    let reused = app.send(send(changed, "key-1")).await;
    assert_eq!(reused.status, 422);
    assert_eq!(reused.code(), "idempotency_key_reused");

    // Keys belong to their caller: another caseworker's same key is fresh.
    let other = app.staff("caseworker", "钱社工").await;
    let theirs = app
        .send(
            app.client
                .post(app.url("/residents"))
                .bearer_auth(&other.token)
                .header("Idempotency-Key", "key-1")
                .json(&body),
        )
        .await;
    assert_eq!(theirs.status, 201);
    assert_ne!(theirs.body["id"], first.body["id"]);
}

#[tokio::test]
async fn a_refusal_is_replayed_too() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let bad = json!({"name": "", "category": "elderly_alone", "address": "3 号楼", "location": {"lat": 39.9, "lng": 116.4}});
    let req = || {
        app.client
            .post(app.url("/residents"))
            .bearer_auth(&caseworker.token)
            .header("Idempotency-Key", "k")
            .json(&bad)
    };
    let first = app.send(req()).await;
    assert_eq!(first.status, 422);
    let second = app.send(req()).await;
    assert_eq!(second.status, 422);
    assert_eq!(second.body, first.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_retries_with_one_key_create_one_sign_up() {
    let app = spawn_app().await;
    let c = community(&app, 5).await;
    let v = app.volunteer("甲").await;
    app.join(&c.team_id, &v).await;
    let url = app.url(&format!("/requests/{}/signups", c.request_id));
    let replies = futures::future::join_all((0..8).map(|_| {
        app.send(
            app.client
                .post(&url)
                .bearer_auth(&v.token)
                .header("Idempotency-Key", "tap-1"),
        )
    }))
    .await;
    let created: Vec<&serde_json::Value> = replies
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| &r.body)
        .collect();
    assert!(!created.is_empty());
    assert!(
        created.iter().all(|b| b["id"] == created[0]["id"]),
        "replays carry the first answer"
    );
    for r in &replies {
        assert!(
            r.status == 201 || (r.status == 409 && r.code() == "idempotency_key_in_flight"),
            "{} {}",
            r.status,
            r.body
        );
    }
    let request = app
        .get(&format!("/requests/{}", c.request_id), Some(&c.caseworker))
        .await
        .expect(200);
    assert_eq!(request["signups_count"], 1);
}

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

/// `POST /residents` as `caseworker` under `key`.
fn post_resident(
    app: &TestApp,
    caseworker: &Actor,
    key: &str,
    body: &serde_json::Value,
) -> reqwest::RequestBuilder {
    app.client
        .post(app.url("/residents"))
        .bearer_auth(&caseworker.token)
        .header("Idempotency-Key", key)
        .json(body)
}

fn resident_body() -> serde_json::Value {
    json!({"name": "王秀英", "category": "elderly_alone", "phone": "13612345678",
           "address": "阳光社区 3 号楼 2 单元 501", "location": {"lat": 39.9, "lng": 116.4}})
}

#[tokio::test]
async fn a_disabled_caseworker_gets_no_replay() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let first = app
        .send(post_resident(&app, &caseworker, "k1", &resident_body()))
        .await;
    assert_eq!(first.status, 201);
    app.post_empty(
        &format!("/users/{}/disable", caseworker.id),
        Some(&app.admin),
    )
    .await
    .expect(200);
    let replay = app
        .send(post_resident(&app, &caseworker, "k1", &resident_body()))
        .await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert_eq!(replay.code(), "account_disabled");
    assert!(replay.body.get("address").is_none() && replay.body.get("phone").is_none());
}

#[tokio::test]
async fn a_revoked_token_gets_no_replay() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let first = app
        .send(post_resident(&app, &caseworker, "k1", &resident_body()))
        .await;
    assert_eq!(first.status, 201);
    app.post(
        "/me/password",
        Some(&caseworker),
        json!({"current_password": PASSWORD, "new_password": "new-password-1"}),
    )
    .await
    .expect(204);
    let replay = app
        .send(post_resident(&app, &caseworker, "k1", &resident_body()))
        .await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert_eq!(replay.code(), "token_revoked");
}

/// Entries of `resident`'s access log naming `actor`.
async fn entries_by(app: &TestApp, resident: &str, actor: &Actor) -> usize {
    let path = format!("/residents/{resident}/access-log?limit=100");
    app.get(&path, Some(&app.admin)).await.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_id"] == actor.id.as_str())
        .count()
}

#[tokio::test]
async fn a_replayed_residents_record_is_logged_like_the_first() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let first = app
        .send(post_resident(&app, &caseworker, "k1", &resident_body()))
        .await;
    assert_eq!(first.status, 201);
    let resident = id(&first.body);
    let before = entries_by(&app, &resident, &caseworker).await;
    let replay = app
        .send(post_resident(&app, &caseworker, "k1", &resident_body()))
        .await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    assert_eq!(replay.body, first.body);
    assert_eq!(
        entries_by(&app, &resident, &caseworker).await,
        before + 1,
        "the replay shows the address again"
    );
}

#[tokio::test]
async fn with_a_secrets_key_a_kept_answer_holds_no_address_or_phone_in_clear() {
    let key = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
    let app = spawn_app_with(&[("SECRETS_KEY", key)]).await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let first = app
        .send(post_resident(&app, &caseworker, "k1", &resident_body()))
        .await;
    assert_eq!(first.status, 201);
    let kept = crate::secrets::column(
        &app.database_url,
        "SELECT response_body FROM idempotency_keys",
    )
    .await;
    assert_eq!(kept.len(), 1, "the answer is kept");
    assert!(!kept[0].contains("13612345678"), "{}", kept[0]);
    assert!(!kept[0].contains("3 号楼"), "{}", kept[0]);
    assert!(!kept[0].contains("王秀英"), "{}", kept[0]);
    let replay = app
        .send(post_resident(&app, &caseworker, "k1", &resident_body()))
        .await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    assert_eq!(replay.body, first.body);
}

#[tokio::test]
async fn a_refusal_of_who_may_do_it_is_not_kept_and_the_retry_runs() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let volunteer = app.volunteer("张志愿").await;
    let sign_up = |path: String| {
        app.client
            .post(app.url(&path))
            .bearer_auth(&volunteer.token)
            .header("Idempotency-Key", "tap-1")
    };
    // 403: not a member of the request's team yet.
    let path = format!("/requests/{}/signups", c.request_id);
    let refused = app.send(sign_up(path.clone())).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    app.join(&c.team_id, &volunteer).await;
    let retried = app.send(sign_up(path.clone())).await;
    assert_eq!(retried.status, 201, "{}", retried.body);
    assert!(retried.headers.get("idempotent-replayed").is_none());

    // 404: no such request yet, under another key; then the same key on
    // a real request runs (nothing was kept under it).
    let missing = format!("/requests/{}/signups", uuid::Uuid::now_v7());
    let gone = app
        .send(
            app.client
                .post(app.url(&missing))
                .bearer_auth(&volunteer.token)
                .header("Idempotency-Key", "tap-2"),
        )
        .await;
    assert_eq!(gone.status, 404);
    let kept = crate::secrets::column(&app.database_url, "SELECT key FROM idempotency_keys").await;
    assert_eq!(kept, vec!["tap-1".to_string()], "only the sign-up is kept");
}

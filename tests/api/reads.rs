//! The read cache (`api/src/read_cache.rs`): repeated reads of a request
//! and of the request list come from memory, yet every caller sees every
//! write at once, and sees only what they may see.

use serde_json::Value;

use crate::helpers::*;

async fn detail(app: &TestApp, request: &str, who: &Actor) -> Value {
    app.get(&format!("/requests/{request}"), Some(who))
        .await
        .expect(200)
}

async fn listed(app: &TestApp, who: &Actor) -> Vec<String> {
    app.get("/requests?limit=20", Some(who)).await.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect()
}

#[tokio::test]
async fn repeated_reads_come_from_memory_and_still_show_every_write_at_once() {
    let app = spawn_app().await;
    let c = community(&app, 3).await;
    let (ann, bo) = (app.volunteer("安志愿").await, app.volunteer("薄志愿").await);
    app.join(&c.team_id, &ann).await;

    let first = detail(&app, &c.request_id, &ann).await;
    assert_eq!(first["places_left"], 3);
    assert!(first["resident"]["address"].is_null());
    // Read again until the answers come from memory. (On PostgreSQL this
    // process also hears its own writes' notifications a moment later,
    // which retire the entries once more; hence a loop, not one re-read.)
    let hits_before = metric(&app.metrics().await, CACHE_HITS);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while metric(&app.metrics().await, CACHE_HITS) < hits_before + 2.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "repeated reads with no write between never came from memory"
        );
        assert_eq!(detail(&app, &c.request_id, &ann).await, first);
        assert_eq!(listed(&app, &ann).await, vec![c.request_id.clone()]);
    }

    // Somebody else's sign-up: the places left drop for Ann at once.
    app.join(&c.team_id, &bo).await;
    app.post_empty(&format!("/requests/{}/signups", c.request_id), Some(&bo))
        .await
        .expect(201);
    assert_eq!(detail(&app, &c.request_id, &ann).await["places_left"], 2);

    // Her own sign-up: she now sees where to go, at once.
    app.post_empty(&format!("/requests/{}/signups", c.request_id), Some(&ann))
        .await
        .expect(201);
    let signed_up = detail(&app, &c.request_id, &ann).await;
    assert_eq!(signed_up["places_left"], 1);
    assert!(signed_up["resident"]["address"].is_string());

    // Withdrawing takes the address away again.
    app.delete(
        &format!("/requests/{}/signups/me", c.request_id),
        Some(&ann),
    )
    .await
    .expect(204);
    let withdrawn = detail(&app, &c.request_id, &ann).await;
    assert_eq!(withdrawn["places_left"], 2);
    assert!(withdrawn["resident"]["address"].is_null());

    // Cancelled by the caseworker: the status changes in her list too.
    app.post_empty(
        &format!("/requests/{}/cancel", c.request_id),
        Some(&c.caseworker),
    )
    .await
    .expect(200);
    let page = app.get("/requests?limit=20", Some(&ann)).await.expect(200);
    assert_eq!(page["items"][0]["status"], "cancelled");
}

#[tokio::test]
async fn joining_a_team_shows_its_requests_at_once() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let newcomer = app.volunteer("新志愿").await;
    assert!(listed(&app, &newcomer).await.is_empty());
    assert!(listed(&app, &newcomer).await.is_empty());
    app.get(&format!("/requests/{}", c.request_id), Some(&newcomer))
        .await
        .expect(404);

    app.join(&c.team_id, &newcomer).await;
    assert_eq!(listed(&app, &newcomer).await, vec![c.request_id.clone()]);
    detail(&app, &c.request_id, &newcomer).await;
}

#[tokio::test]
async fn a_remembered_answer_never_reaches_another_caller() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let (helper, onlooker) = (app.volunteer("帮忙者").await, app.volunteer("旁观者").await);
    app.join(&c.team_id, &helper).await;
    app.join(&c.team_id, &onlooker).await;
    app.post_empty(
        &format!("/requests/{}/signups", c.request_id),
        Some(&helper),
    )
    .await
    .expect(201);

    // Interleaved, so each could be answered from the other's entry.
    for _ in 0..3 {
        let mine = detail(&app, &c.request_id, &helper).await;
        assert!(mine["resident"]["address"].is_string());
        let theirs = detail(&app, &c.request_id, &onlooker).await;
        assert!(theirs["resident"]["address"].is_null(), "{theirs}");
        assert!(theirs["resident"]["phone"].is_null());
        let page = app
            .get("/requests?limit=20", Some(&onlooker))
            .await
            .expect(200);
        assert!(page["items"][0]["resident"]["address"].is_null());
        let managers = detail(&app, &c.request_id, &c.manager).await;
        assert!(managers["resident"]["address"].is_string());
    }
    // And nobody outside the team, however often the URI was read.
    let stranger = app.volunteer("陌生人").await;
    app.get(&format!("/requests/{}", c.request_id), Some(&stranger))
        .await
        .expect(404);
}

#[tokio::test]
async fn with_the_cache_off_every_read_goes_to_the_database() {
    let app = spawn_app_with(&[("READ_CACHE_MB", "0")]).await;
    let c = community(&app, 2).await;
    for _ in 0..3 {
        detail(&app, &c.request_id, &c.caseworker).await;
    }
    let text = app.metrics().await;
    assert_eq!(metric(&text, CACHE_HITS), 0.0);
    assert_eq!(
        metric(&text, r#"read_cache_lookups_total{outcome="bypass"}"#),
        3.0
    );
}

//! The access log of residents' personal data: every answer that carries
//! a resident's address, phone or ID number leaves an entry (who, when,
//! which route); answers without them leave none; managers read it.

use serde_json::{Value, json};

use crate::helpers::*;

async fn access_log(app: &TestApp, resident: &str) -> Vec<Value> {
    app.get(
        &format!("/residents/{resident}/access-log?limit=100"),
        Some(&app.admin),
    )
    .await
    .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn routes_by(entries: &[Value], actor: &Actor) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e["actor_id"] == actor.id.as_str())
        .map(|e| e["route"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_answer_with_a_residents_address_is_logged_and_others_are_not() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let request = format!("/requests/{}", c.request_id);

    // The caseworker reads the request twice: the second answer comes from
    // the read cache and is logged all the same.
    for _ in 0..2 {
        let body = app.get(&request, Some(&c.caseworker)).await.expect(200);
        assert!(body["resident"]["address"].is_string());
    }
    app.get(&format!("/residents/{}", c.resident_id), Some(&c.manager))
        .await
        .expect(200);

    // A volunteer who is not signed up sees the masked resident: no entry.
    let volunteer = app.volunteer("小李").await;
    app.join(&c.team_id, &volunteer).await;
    let masked = app.get(&request, Some(&volunteer)).await.expect(200);
    assert!(masked["resident"]["address"].is_null());
    assert!(routes_by(&access_log(&app, &c.resident_id).await, &volunteer).is_empty());

    // Signed up, the same read carries the address and is logged.
    app.post_empty(&format!("{request}/signups"), Some(&volunteer))
        .await
        .expect(201);
    let full = app.get(&request, Some(&volunteer)).await.expect(200);
    assert!(full["resident"]["address"].is_string());

    let entries = access_log(&app, &c.resident_id).await;
    assert_eq!(
        routes_by(&entries, &c.caseworker)
            .iter()
            .filter(|r| *r == "GET /api/v1/requests/{id}")
            .count(),
        2,
        "{entries:?}"
    );
    assert_eq!(
        routes_by(&entries, &c.manager),
        vec!["GET /api/v1/residents/{id}".to_string()]
    );
    assert_eq!(
        routes_by(&entries, &volunteer),
        vec!["GET /api/v1/requests/{id}".to_string()]
    );
    // Newest first, with who and when.
    assert_eq!(entries[0]["actor_id"], volunteer.id.as_str());
    assert_eq!(entries[0]["actor_name"], "小李");
    assert_eq!(entries[0]["actor_role"], "volunteer");
    assert_eq!(entries[0]["resident_id"], c.resident_id.as_str());
    assert!(
        entries[0]["accessed_at"]
            .as_str()
            .unwrap()
            .ends_with("+08:00")
    );
}

#[tokio::test]
async fn a_list_logs_each_resident_it_shows_and_only_in_that_residents_log() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let other = id(&app.resident(&c.caseworker, json!({"name": "李大爷"})).await);
    // Only `other`'s creation is in its log so far.
    assert_eq!(access_log(&app, &other).await.len(), 1);
    app.request(&c.caseworker, &other, json!({})).await;

    let page = app.get("/requests", Some(&c.manager)).await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    for resident in [&c.resident_id, &other] {
        let routes = routes_by(&access_log(&app, resident).await, &c.manager);
        assert_eq!(
            routes,
            vec!["GET /api/v1/requests".to_string()],
            "{resident}"
        );
    }
    // The resident list carries both residents' records.
    app.get("/residents", Some(&c.caseworker)).await.expect(200);
    for resident in [&c.resident_id, &other] {
        let routes = routes_by(&access_log(&app, resident).await, &c.caseworker);
        assert!(
            routes.contains(&"GET /api/v1/residents".to_string()),
            "{routes:?}"
        );
    }
}

#[tokio::test]
async fn changes_that_answer_with_the_residents_details_are_logged() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let request = format!("/requests/{}", c.request_id);
    app.patch(&request, Some(&c.caseworker), json!({"title": "改期探访"}))
        .await
        .expect(200);
    app.patch(
        &format!("/residents/{}", c.resident_id),
        Some(&c.caseworker),
        json!({"address": "阳光社区 4 号楼"}),
    )
    .await
    .expect(200);
    app.post_empty(&format!("{request}/cancel"), Some(&c.caseworker))
        .await
        .expect(200);
    let entries = access_log(&app, &c.resident_id).await;
    let routes = routes_by(&entries, &c.caseworker);
    for route in [
        "POST /api/v1/residents",
        "POST /api/v1/requests",
        "POST /api/v1/requests/{id}/assign",
        "POST /api/v1/requests/{id}/cancel",
        "PATCH /api/v1/requests/{id}",
        "PATCH /api/v1/residents/{id}",
    ] {
        assert!(
            routes.contains(&route.to_string()),
            "{route} missing in {routes:?}"
        );
    }
}

#[tokio::test]
async fn only_managers_read_the_access_log_and_nobody_edits_it() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let volunteer = app.volunteer("小王").await;
    let path = format!("/residents/{}/access-log", c.resident_id);
    assert_eq!(app.get(&path, None).await.status, 401);
    assert_eq!(app.get(&path, Some(&volunteer)).await.status, 403);
    assert_eq!(app.get(&path, Some(&c.caseworker)).await.status, 403);
    app.get(&path, Some(&c.manager)).await.expect(200);
    let unknown = format!("/residents/{}/access-log", uuid::Uuid::new_v4());
    assert_eq!(app.get(&unknown, Some(&c.manager)).await.status, 404);
    for reply in [
        app.delete(&path, Some(&app.admin)).await,
        app.post(&path, Some(&app.admin), json!({})).await,
        app.patch(&path, Some(&app.admin), json!({})).await,
    ] {
        assert!(
            matches!(reply.status.as_u16(), 404 | 405),
            "{}",
            reply.status
        );
    }
    assert!(!access_log(&app, &c.resident_id).await.is_empty());
}

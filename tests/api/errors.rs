//! Bad input of every kind gets the contract's JSON error and changes
//! nothing; the docs and health endpoints answer.

use serde_json::{Value, json};

use crate::helpers::*;

fn assert_error_shape(body: &Value) {
    let code = body["error"]["code"].as_str().expect("error.code");
    assert!(
        !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "{code}"
    );
    assert!(body["error"]["message"].is_string());
}

async fn team_count(app: &TestApp) -> usize {
    app.get("/teams?limit=100", Some(&app.admin))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn malformed_bodies_get_json_errors_and_change_nothing() {
    let app = spawn_app().await;
    let url = app.url("/teams");
    let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
        (
            app.client
                .post(&url)
                .header("content-type", "application/json")
                .body("{\"name\": "),
            400,
        ),
        (
            app.client
                .post(&url)
                .header("content-type", "application/json")
                .body("not json"),
            400,
        ),
        (
            app.client
                .post(&url)
                .header("content-type", "application/json")
                .body(""),
            400,
        ),
        (
            app.client
                .post(&url)
                .header("content-type", "text/plain")
                .body("{}"),
            415,
        ),
        (app.client.post(&url).body("{}"), 415),
        (
            app.client
                .post(&url)
                .header("content-type", "application/json")
                .body(vec![b' '; 300 * 1024]),
            413,
        ),
    ];
    for (req, status) in cases {
        let r = app.send(req.bearer_auth(&app.admin.token)).await;
        assert_eq!(r.status, status, "{}", r.body);
        assert_error_shape(&r.body);
    }
    let wrong_types = [
        json!({"name": 5, "kind": "lei_feng", "service_categories": ["repair"], "location": {"lat": 1, "lng": 1}, "service_radius_km": 1}),
        json!({"name": "队", "kind": "pirates", "service_categories": ["repair"], "location": {"lat": 1, "lng": 1}, "service_radius_km": 1}),
        json!({"name": "队", "kind": "lei_feng", "service_categories": ["repair"], "location": {"lat": "north", "lng": 1}, "service_radius_km": 1}),
        json!({"name": "队", "kind": "lei_feng", "service_categories": ["repair"], "location": {"lat": 1, "lng": 1}, "service_radius_km": "3"}),
        json!({"name": "队", "kind": "lei_feng", "service_categories": ["repair"], "location": {"lat": 1, "lng": 1}, "service_radius_km": -1}),
        json!({"name": "队", "kind": "lei_feng", "service_categories": [], "location": {"lat": 1, "lng": 1}, "service_radius_km": 1}),
        json!({"name": "队", "kind": "lei_feng", "service_categories": ["repair"], "location": {"lat": 1, "lng": 200}, "service_radius_km": 1}),
        json!([1, 2, 3]),
        json!("string"),
    ];
    for body in wrong_types {
        let r = app.post("/teams", Some(&app.admin), body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_error_shape(&r.body);
    }
    assert_eq!(team_count(&app).await, 0);
}

#[tokio::test]
async fn a_wrong_type_names_its_field() {
    let app = spawn_app().await;
    let r = app
        .post("/teams", Some(&app.admin), json!({"name": "队", "kind": "lei_feng", "service_categories": ["repair"], "location": {"lat": "x", "lng": 1}, "service_radius_km": 1}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["error"]["details"][0]["field"], "location.lat");
}

#[tokio::test]
async fn bad_paths_queries_and_unknown_routes_are_json_4xx() {
    let app = spawn_app().await;
    let token = Some(&app.admin);
    let r = app.get("/teams/not-a-uuid", token).await;
    assert_eq!(r.status, 404);
    assert_error_shape(&r.body);
    let r = app
        .get(&format!("/teams/{}", uuid::Uuid::new_v4()), token)
        .await;
    assert_eq!(r.status, 404);
    for query in [
        "/requests?status=sleeping",
        "/requests?limit=abc",
        "/requests?limit=0",
        "/teams?cursor=nope",
        "/requests?limit=-1",
    ] {
        let r = app.get(query, token).await;
        assert_eq!(r.status, 422, "{query}: {}", r.body);
        assert_error_shape(&r.body);
    }
    let r = app.get("/no/such/route", token).await;
    assert_eq!(r.status, 404);
    assert_error_shape(&r.body);
    let r = app.get("/api/v2/teams", None).await;
    assert_eq!(r.status, 404);
    assert_error_shape(&r.body);
}

#[tokio::test]
async fn chinese_and_hostile_strings_round_trip_exactly() {
    let app = spawn_app().await;
    for name in [
        "阳光社区「学雷锋」志愿服务队 🌞",
        "'; DROP TABLE teams; --",
        "<script>alert(1)</script>",
        "Robert\"); DELETE FROM users;",
    ] {
        let team = app.team(&app.admin, json!({"name": name})).await;
        assert_eq!(team["name"], name);
        let again = app
            .get(&format!("/teams/{}", id(&team)), Some(&app.admin))
            .await
            .expect(200);
        assert_eq!(again["name"], name);
    }
    let r = app.post("/teams", Some(&app.admin), json!({"name": "a\u{0}b", "kind": "other", "service_categories": ["repair"], "location": {"lat": 1, "lng": 1}, "service_radius_km": 1})).await;
    assert_eq!(r.status, 422);
    assert_eq!(team_count(&app).await, 4);
}

#[tokio::test]
async fn lists_page_with_a_cursor() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.team(&app.admin, json!({"name": format!("第{i}队")}))
            .await;
    }
    let first = app
        .get("/teams?limit=2", Some(&app.admin))
        .await
        .expect(200);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["items"][0]["name"], "第4队", "newest first");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/teams?limit=2&cursor={cursor}"), Some(&app.admin))
        .await
        .expect(200);
    assert_eq!(second["items"][0]["name"], "第2队");
    let cursor = second["next_cursor"].as_str().unwrap();
    let last = app
        .get(&format!("/teams?limit=2&cursor={cursor}"), Some(&app.admin))
        .await
        .expect(200);
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert!(last["next_cursor"].is_null());
    let capped = app
        .get("/teams?limit=1000", Some(&app.admin))
        .await
        .expect(200);
    assert_eq!(capped["items"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn health_openapi_and_docs_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz", None).await.expect(200)["status"], "ok");
    assert_eq!(
        app.get("/api/v1/healthz", None).await.expect(200)["status"],
        "ok"
    );
    let doc = app.get("/api-docs/openapi.json", None).await.expect(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/teams",
        "/api/v1/teams/{id}",
        "/api/v1/teams/{id}/members",
        "/api/v1/residents",
        "/api/v1/residents/{id}",
        "/api/v1/requests",
        "/api/v1/requests/{id}",
        "/api/v1/requests/{id}/matches",
        "/api/v1/requests/{id}/assign",
        "/api/v1/requests/{id}/cancel",
        "/api/v1/requests/{id}/complete",
        "/api/v1/me/recommended-requests",
        "/api/v1/requests/{id}/signups",
        "/api/v1/requests/{id}/signups/me",
        "/api/v1/requests/{id}/check-in",
        "/api/v1/requests/{id}/check-out",
        "/api/v1/service-records",
        "/api/v1/service-records/{id}/approve",
        "/api/v1/service-records/{id}/reject",
        "/api/v1/stats/service-hours",
        "/api/v1/exports/service-hours",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/{id}/deliveries",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["paths"]["/api/v1/teams"]["post"]["responses"]["422"].is_object());
    // Clients generate code from the document: enums carry the wire codes.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Role"]["enum"],
        json!(["volunteer", "caseworker", "manager", "admin"])
    );
    assert!(
        schemas["ServiceCategory"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("home_visit"))
    );
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger"), "the docs UI is served");
    assert!(
        !html.contains("cdn.") && !html.contains("unpkg.com"),
        "the docs UI needs no internet"
    );
}

#[tokio::test]
async fn well_formed_json_of_the_wrong_shape_is_422_and_null_means_no_body() {
    let app = spawn_app().await;
    let before = team_count(&app).await;
    for body in ["[null, null]", "[]", "\"AAA\"", "42"] {
        let reply = app
            .send(
                app.client
                    .post(app.url("/teams"))
                    .bearer_auth(&app.admin.token)
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.body);
        assert_eq!(reply.body["error"]["details"][0]["field"], "body");
    }
    assert_eq!(team_count(&app).await, before);

    let caseworker = app.staff("caseworker", "孔社工").await;
    let resident = id(&app.resident(&caseworker, json!({})).await);
    let request = id(&app.request(&caseworker, &resident, json!({})).await);
    let reply = app
        .send(
            app.client
                .post(app.url(&format!("/requests/{request}/cancel")))
                .bearer_auth(&caseworker.token)
                .header("content-type", "application/json")
                .body("null"),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], "cancelled");
}

#[tokio::test]
async fn times_outside_this_century_are_refused() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "严社工").await;
    let resident = id(&app.resident(&caseworker, json!({})).await);
    let reply = app
        .post(
            "/requests",
            Some(&caseworker),
            json!({"resident_id": resident, "category": "home_visit", "title": "探访",
                   "description": "", "starts_at": "9999-12-31T08:00:00+08:00",
                   "ends_at": "9999-12-31T10:00:00+08:00", "volunteers_needed": 1,
                   "urgency": "normal"}),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(reply.body["error"]["details"][0]["field"], "starts_at");
}

#[tokio::test]
async fn nul_bytes_and_control_characters_are_refused_not_crashed_on() {
    let app = spawn_app_with(&[("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")]).await;
    let r = app
        .post(
            "/auth/login",
            None,
            json!({"phone": "1380013\u{0}8000", "password": "x\u{0}y"}),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = app
        .post(
            "/auth/register",
            None,
            json!({"phone": "13800138000", "password": "pass\u{0}word1", "name": "甲\u{0}"}),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = app
        .post("/webhooks", Some(&app.admin), json!({"url": "http://127.0.0.1:9/ho\u{0}ok", "kind": "generic", "events": ["request.created"]}))
        .await;
    assert!(
        r.status.is_client_error() || r.status == 201,
        "{} {}",
        r.status,
        r.body
    );
    let r = app.get("/teams?cursor=%00", Some(&app.admin)).await;
    assert_eq!(r.status, 422);
}

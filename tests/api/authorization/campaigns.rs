//! Rows: campaigns.

use serde_json::json;

use super::*;

/// Managers and admins create.
const MANAGERS_CREATE: Expected = [401, 403, 403, 403, 403, 403, 403, 201, 201];

pub async fn campaigns(w: &World) {
    let app = &w.app;
    let body = &json!({
        "name": "学雷锋日", "resident_categories": ["migrant_worker"], "category": "other",
        "title": "学雷锋日服务", "starts_at": "2030-03-05T09:00:00+08:00",
        "ends_at": "2030-03-05T11:00:00+08:00", "volunteers_per_request": 1
    });
    w.check("POST /campaigns", MANAGERS_CREATE, |a, _| async move {
        app.post("/campaigns", a.as_ref(), body.clone()).await
    })
    .await;
    w.check("GET /campaigns", STAFF, |a, _| async move {
        app.get("/campaigns", a.as_ref()).await
    })
    .await;
    let campaign = id(&app
        .post("/campaigns", Some(&w.manager), body.clone())
        .await
        .expect(201));
    let path = &format!("/campaigns/{campaign}");
    w.check("GET /campaigns/{id}", STAFF, |a, _| async move {
        app.get(path, a.as_ref()).await
    })
    .await;
    let path = &format!("/campaigns/{campaign}/auto-assign");
    w.check(
        "POST /campaigns/{id}/auto-assign",
        MANAGERS,
        |a, _| async move { app.post_empty(path, a.as_ref()).await },
    )
    .await;
}

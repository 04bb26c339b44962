//! Rows: residents and the log of who read their personal data.

use serde_json::json;

use super::*;

pub async fn residents(w: &World) {
    let app = &w.app;
    w.check("POST /residents", STAFF_CREATE, |a, _| async move {
        let body = json!({"name": "李桂兰", "category": "elderly_alone", "address": "5 号楼", "location": {"lat": 39.92, "lng": 116.40}});
        app.post("/residents", a.as_ref(), body).await
    })
    .await;
    w.check("GET /residents", STAFF, |a, _| async move {
        app.get("/residents", a.as_ref()).await
    })
    .await;
    let path = &format!("/residents/{}", w.resident);
    w.check("GET /residents/{id}", STAFF, |a, _| async move {
        app.get(path, a.as_ref()).await
    })
    .await;
    // Any caseworker, as for reading: the contract gives residents to
    // caseworkers, not to the one who registered them.
    w.check("PATCH /residents/{id}", STAFF, |a, _| async move {
        app.patch(path, a.as_ref(), json!({"notes": "独居，行动不便，需轮椅"}))
            .await
    })
    .await;
    let path = &format!("/residents/{}/access-log", w.resident);
    w.check(
        "GET /residents/{id}/access-log",
        MANAGERS,
        |a, _| async move { app.get(path, a.as_ref()).await },
    )
    .await;
}

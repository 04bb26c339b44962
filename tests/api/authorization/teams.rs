//! Rows: teams and their members.

use serde_json::{Value, json};

use super::*;

/// The team's leader, managers and admins.
const LEADS_T: Expected = [401, 403, 403, 200, 403, 403, 403, 200, 200];

pub async fn teams(w: &World) {
    let app = &w.app;
    let team = &w.team;
    w.check(
        "POST /teams",
        [401, 403, 403, 403, 403, 403, 403, 201, 201],
        |a, _| async move {
            let body = json!({"name": "新队", "kind": "other", "service_categories": ["repair"], "location": {"lat": 39.9, "lng": 116.4}, "service_radius_km": 2});
            app.post("/teams", a.as_ref(), body).await
        },
    )
    .await;
    w.check("GET /teams", SIGNED_IN, |a, _| async move {
        app.get("/teams", a.as_ref()).await
    })
    .await;
    let path = &format!("/teams/{team}");
    w.check("GET /teams/{id}", SIGNED_IN, |a, _| async move {
        app.get(path, a.as_ref()).await
    })
    .await;
    w.check("PATCH /teams/{id}", LEADS_T, |a, _| async move {
        app.patch(path, a.as_ref(), json!({"service_radius_km": 3.5}))
            .await
    })
    .await;
    let path = &format!("/teams/{team}/members");
    w.check(
        "GET /teams/{id}/members",
        [401, 403, 200, 200, 403, 403, 403, 200, 200],
        |a, _| async move { app.get(path, a.as_ref()).await },
    )
    .await;
    w.check(
        "POST /teams/{id}/members/{user_id}/approve of a fresh vetted volunteer held as pending",
        LEADS_T,
        |a, _| async move {
            let fresh = app.volunteer("新申请").await;
            app.vet(&fresh, Some(&days_from_today(365))).await;
            assert_eq!(app.join_pending(team, &fresh).await["status"], "pending");
            let path = format!("/teams/{team}/members/{}/approve", fresh.id);
            app.post_empty(&path, a.as_ref()).await
        },
    )
    .await;
    w.check(
        "DELETE /teams/{id}/members/{user_id} of a fresh member",
        [401, 403, 403, 204, 403, 403, 403, 204, 204],
        |a, _| async move {
            let fresh = app.volunteer("要离队").await;
            app.join(team, &fresh).await;
            let path = format!("/teams/{team}/members/{}", fresh.id);
            app.delete(&path, a.as_ref()).await
        },
    )
    .await;
}

/// Last but one: joining T and leaving it change who belongs to it.
pub async fn joining_and_leaving(w: &World) {
    let app = &w.app;
    let path = &format!("/teams/{}/members", w.team);
    // Volunteers join themselves (T is vetted: pending); its member and
    // leader are members already; managers add a vetted person.
    w.check(
        "POST /teams/{id}/members",
        [401, 201, 409, 409, 201, 403, 403, 201, 201],
        |a, i| async move {
            let body: Value = if i >= MANAGER {
                let newcomer = app.volunteer("新队员").await;
                app.vet(&newcomer, Some(&days_from_today(30))).await;
                json!({"user_id": newcomer.id, "role": "member"})
            } else {
                json!({})
            };
            app.post(path, a.as_ref(), body).await
        },
    )
    .await;
    // Leaving oneself: everyone who now belongs to T (the two who just
    // asked to join withdraw); the others belong to nothing here.
    w.check(
        "DELETE /teams/{id}/members/{user_id} of the caller",
        [401, 204, 204, 204, 204, 404, 404, 404, 404],
        |a, _| async move {
            let me = a
                .as_ref()
                .map_or(uuid::Uuid::nil().to_string(), |a| a.id.clone());
            app.delete(&format!("{path}/{me}"), a.as_ref()).await
        },
    )
    .await;
}

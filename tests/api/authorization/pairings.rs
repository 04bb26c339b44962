//! Rows: pairings (结对帮扶) of the resident with T.

use serde_json::json;

use super::*;

impl World {
    /// A weekly pairing of the caseworker's resident with T.
    pub async fn fresh_pairing(&self) -> String {
        let body = json!({
            "resident_id": self.resident, "team_id": self.team, "category": "home_visit",
            "title": "每周探访", "rrule": "FREQ=WEEKLY;COUNT=2", "start_time": "09:30",
            "duration_minutes": 60, "volunteers_needed": 1, "starts_on": days_from_today(3),
        });
        id(&self
            .app
            .post("/pairings", Some(&self.caseworker), body)
            .await
            .expect(201))
    }
}

pub async fn pairings(w: &World) {
    let app = &w.app;
    let body = &json!({
        "resident_id": w.resident, "team_id": w.team, "category": "home_visit",
        "title": "每周探访", "rrule": "FREQ=WEEKLY;COUNT=1", "start_time": "09:30",
        "duration_minutes": 60, "volunteers_needed": 1, "starts_on": days_from_today(3),
    });
    w.check("POST /pairings", STAFF_CREATE, |a, _| async move {
        app.post("/pairings", a.as_ref(), body.clone()).await
    })
    .await;
    w.check("GET /pairings", SIGNED_IN, |a, _| async move {
        app.get("/pairings", a.as_ref()).await
    })
    .await;
    let pairing = w.fresh_pairing().await;
    // Outsiders may not know a pairing of T exists.
    let path = &format!("/pairings/{pairing}");
    w.check(
        "GET /pairings/{id}",
        [401, 404, 200, 200, 404, 200, 200, 200, 200],
        |a, _| async move { app.get(path, a.as_ref()).await },
    )
    .await;
    let not_yours = &[(OTHER_CASEWORKER, "not_your_pairing")];
    w.check_codes(
        "PATCH /pairings/{id}",
        REQUEST_OWNER,
        not_yours,
        |a, _| async move {
            app.patch(path, a.as_ref(), json!({"title": "每周探访（改）"}))
                .await
        },
    )
    .await;
    w.check_codes(
        "POST /pairings/{id}/end",
        REQUEST_OWNER,
        not_yours,
        |a, _| async move {
            let fresh = w.fresh_pairing().await;
            app.post_empty(&format!("/pairings/{fresh}/end"), a.as_ref())
                .await
        },
    )
    .await;
}

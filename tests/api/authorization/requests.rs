//! Rows: help requests, their changes, and sign-ups.

use serde_json::json;

use super::*;

/// Volunteers only: team members of the request's team where it matters.
const T_MEMBERS: [u16; 9] = [401, 403, 201, 201, 403, 403, 403, 403, 403];

pub async fn requests(w: &World) {
    let app = &w.app;
    let body = &json!({
        "resident_id": w.resident, "category": "home_visit", "title": "探访", "description": "",
        "starts_at": "2030-12-03T09:00:00+08:00", "ends_at": "2030-12-03T11:00:00+08:00",
        "volunteers_needed": 1, "urgency": "normal"
    });
    w.check("POST /requests", STAFF_CREATE, |a, _| async move {
        app.post("/requests", a.as_ref(), body.clone()).await
    })
    .await;
    w.check("GET /requests", SIGNED_IN, |a, _| async move {
        app.get("/requests", a.as_ref()).await
    })
    .await;
    // R is assigned to T: outsiders may not know it exists.
    let path = &format!("/requests/{}", w.request);
    w.check(
        "GET /requests/{id} assigned to T",
        [401, 404, 200, 200, 404, 200, 200, 200, 200],
        |a, _| async move { app.get(path, a.as_ref()).await },
    )
    .await;
    let open = &format!("/requests/{}", w.fresh_request(false).await);
    w.check("GET /requests/{id} open", SIGNED_IN, |a, _| async move {
        app.get(open, a.as_ref()).await
    })
    .await;
    let path = &format!("/requests/{}/matches", w.request);
    w.check("GET /requests/{id}/matches", STAFF, |a, _| async move {
        app.get(path, a.as_ref()).await
    })
    .await;
    w.check(
        "GET /me/recommended-requests",
        [401, 200, 200, 200, 200, 403, 403, 403, 403],
        |a, _| async move { app.get("/me/recommended-requests", a.as_ref()).await },
    )
    .await;
    changes(w).await;
}

/// Each caller changes a fresh request of the caseworker.
async fn changes(w: &World) {
    let app = &w.app;
    let team = &w.team;
    let not_yours = &[(OTHER_CASEWORKER, "not_your_request")];
    w.check_codes(
        "PATCH /requests/{id}",
        REQUEST_OWNER,
        not_yours,
        |a, _| async move {
            let fresh = w.fresh_request(true).await;
            let body = json!({"title": "陪王阿姨聊天（改期）", "volunteers_needed": 3});
            app.patch(&format!("/requests/{fresh}"), a.as_ref(), body)
                .await
        },
    )
    .await;
    w.check_codes(
        "POST /requests/{id}/assign",
        REQUEST_OWNER,
        not_yours,
        |a, _| async move {
            let fresh = w.fresh_request(false).await;
            let path = format!("/requests/{fresh}/assign");
            app.post(&path, a.as_ref(), json!({"team_id": team})).await
        },
    )
    .await;
    w.check_codes(
        "POST /requests/{id}/cancel",
        REQUEST_OWNER,
        not_yours,
        |a, _| async move {
            let fresh = w.fresh_request(false).await;
            app.post_empty(&format!("/requests/{fresh}/cancel"), a.as_ref())
                .await
        },
    )
    .await;
    w.check_codes(
        "POST /requests/{id}/complete",
        REQUEST_OWNER,
        not_yours,
        |a, _| async move {
            let fresh = w.fresh_request(true).await;
            app.post_empty(&format!("/requests/{fresh}/complete"), a.as_ref())
                .await
        },
    )
    .await;
}

/// On a fresh request S of T with two places: the member and the leader
/// sign up, withdraw, sign up again, check in and out.
pub async fn sign_ups(w: &World) {
    let app = &w.app;
    let request = w.fresh_request(true).await;
    let path = &format!("/requests/{request}/signups");
    w.check(
        "POST /requests/{id}/signups",
        T_MEMBERS,
        |a, _| async move { app.post_empty(path, a.as_ref()).await },
    )
    .await;
    w.check(
        "GET /requests/{id}/signups",
        [401, 404, 403, 200, 404, 200, 200, 200, 200],
        |a, _| async move { app.get(path, a.as_ref()).await },
    )
    .await;
    let mine = &format!("/requests/{request}/signups/me");
    w.check(
        "DELETE /requests/{id}/signups/me",
        [401, 404, 204, 204, 404, 403, 403, 403, 403],
        |a, _| async move { app.delete(mine, a.as_ref()).await },
    )
    .await;
    for signed in [MEMBER, LEADER] {
        app.post_empty(path, Some(w.actor(signed)))
            .await
            .expect(201);
    }
    let path = &format!("/requests/{request}/check-in");
    w.check(
        "POST /requests/{id}/check-in",
        T_MEMBERS,
        |a, _| async move { app.post_empty(path, a.as_ref()).await },
    )
    .await;
    // A record lasts at least into the next second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let path = &format!("/requests/{request}/check-out");
    w.check(
        "POST /requests/{id}/check-out",
        [401, 403, 200, 200, 403, 403, 403, 403, 403],
        |a, _| async move { app.post_empty(path, a.as_ref()).await },
    )
    .await;
}

//! Rows: feedback after a visit, its statistics, and calendar feeds.

use serde_json::json;

use super::*;

/// A fresh request of the caseworker, assigned to T and completed.
async fn completed(w: &World) -> String {
    let request = w.fresh_request(true).await;
    w.app
        .post_empty(
            &format!("/requests/{request}/complete"),
            Some(&w.caseworker),
        )
        .await
        .expect(200);
    request
}

pub async fn feedback(w: &World) {
    let app = &w.app;
    w.check_codes(
        "POST /requests/{id}/feedback",
        [401, 403, 403, 403, 403, 201, 403, 201, 201],
        &[(OTHER_CASEWORKER, "not_your_request")],
        |a, _| async move {
            let request = completed(w).await;
            let body = json!({"satisfaction": 5, "concern": false});
            app.post(&format!("/requests/{request}/feedback"), a.as_ref(), body)
                .await
        },
    )
    .await;
    let request = completed(w).await;
    app.post(
        &format!("/requests/{request}/feedback"),
        Some(&w.caseworker),
        json!({"satisfaction": 4, "concern": false}),
    )
    .await
    .expect(201);
    // Outsiders may not know the request exists; a member of T and
    // another caseworker do, and are refused.
    let path = &format!("/requests/{request}/feedback");
    w.check_codes(
        "GET /requests/{id}/feedback",
        [401, 404, 403, 200, 404, 200, 403, 200, 200],
        &[
            (MEMBER, "not_team_leader"),
            (OTHER_CASEWORKER, "not_your_request"),
        ],
        |a, _| async move { app.get(path, a.as_ref()).await },
    )
    .await;
    w.check("GET /stats/feedback", MANAGERS, |a, _| async move {
        app.get("/stats/feedback?group_by=month", a.as_ref()).await
    })
    .await;
}

pub async fn calendar(w: &World) {
    let app = &w.app;
    w.check(
        "POST /me/calendar",
        [401, 201, 201, 201, 201, 403, 403, 403, 403],
        |a, _| async move { app.post_empty("/me/calendar", a.as_ref()).await },
    )
    .await;
    // The address is the credential: whoever holds it reads the feed.
    let minted = app
        .post_empty("/me/calendar", Some(&w.member))
        .await
        .expect(201);
    let url = minted["url"].as_str().unwrap();
    let file = url.rsplit('/').next().unwrap();
    let feed = &format!("{}/calendar/{file}", app.base);
    w.check("GET /calendar/{file}", ANYONE, |a, _| async move {
        raw_get(app, feed, a.as_ref().map(|a| a.token.as_str())).await
    })
    .await;
}

//! `GET /stats/requests`: requests counted by status in the database, for
//! the console's dashboard, with `from`/`to` on the request's start.

use serde_json::{Value, json};

use crate::helpers::*;

fn counts(body: &Value) -> [i64; 5] {
    let s = &body["by_status"];
    assert_eq!(s.as_object().map(|o| o.len()), Some(5), "five keys: {body}");
    ["open", "assigned", "in_progress", "completed", "cancelled"]
        .map(|k| s[k].as_i64().unwrap_or_else(|| panic!("{k} in {body}")))
}

#[tokio::test]
async fn request_statistics_count_what_was_created_in_each_status_within_the_dates() {
    let app = spawn_app().await;
    // One assigned request (December 2030) comes with the community.
    let c = community(&app, 2).await;
    let member = app.volunteer("队员").await;
    app.join(&c.team_id, &member).await;
    let december = |day: u32| {
        json!({"starts_at": format!("2030-12-{day:02}T09:00:00+08:00"),
               "ends_at": format!("2030-12-{day:02}T11:00:00+08:00")})
    };
    let new = |day| app.request(&c.caseworker, &c.resident_id, december(day));
    // Open: two.
    new(4).await;
    new(31).await;
    // Assigned then completed; assigned then cancelled.
    for action in ["complete", "cancel"] {
        let r = id(&new(10).await);
        app.assign(&c.caseworker, &r, &c.team_id).await;
        app.post_empty(&format!("/requests/{r}/{action}"), Some(&c.caseworker))
            .await
            .expect(200);
    }
    // In progress: a member checked in.
    let r = id(&new(12).await);
    app.assign(&c.caseworker, &r, &c.team_id).await;
    app.post_empty(&format!("/requests/{r}/signups"), Some(&member))
        .await
        .expect(201);
    app.post_empty(&format!("/requests/{r}/check-in"), Some(&member))
        .await
        .expect(201);
    // January 2031: outside December.
    app.request(
        &c.caseworker,
        &c.resident_id,
        json!({"starts_at": "2031-01-01T00:30:00+08:00", "ends_at": "2031-01-01T02:00:00+08:00"}),
    )
    .await;

    let stats = |query: &str| {
        let path = format!("/stats/requests{query}");
        let (app, manager) = (&app, &c.manager);
        async move { app.get(&path, Some(manager)).await }
    };
    let december = stats("?from=2030-12-01&to=2030-12-31").await.expect(200);
    assert_eq!(counts(&december), [2, 1, 1, 1, 1]);
    let everything = stats("").await.expect(200);
    assert_eq!(counts(&everything), [3, 1, 1, 1, 1]);
    // The dates are local days: 00:30 on 1 January in Shanghai is still
    // 31 December in UTC, and counts for January.
    let january = stats("?from=2031-01-01").await.expect(200);
    assert_eq!(counts(&january), [1, 0, 0, 0, 0]);
    let until_the_tenth = stats("?to=2030-12-10").await.expect(200);
    assert_eq!(counts(&until_the_tenth), [1, 1, 0, 1, 1]);
    let nothing = stats("?from=2029-01-01&to=2029-12-31").await.expect(200);
    assert_eq!(counts(&nothing), [0; 5], "every status, even when none");
    // The counts agree with listing the same dates.
    let listed = app
        .get(
            "/requests?from=2030-12-01&to=2030-12-31&limit=100",
            Some(&c.manager),
        )
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 6);

    let backwards = stats("?from=2030-12-31&to=2030-12-01").await;
    assert_eq!(backwards.status, 422);
    assert_eq!(stats("?from=yesterday").await.status, 422);
    // Statistics are for managers and admins.
    let path = "/stats/requests";
    assert_eq!(app.get(path, Some(&c.caseworker)).await.status, 403);
    assert_eq!(app.get(path, Some(&member)).await.status, 403);
    assert_eq!(app.get(path, None).await.status, 401);
    app.get(path, Some(&app.admin)).await.expect(200);
}

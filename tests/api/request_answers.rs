//! Every answer that carries a request says whether it is a pairing's
//! visit: `pairing_id`, `null` outside a pairing — in the request itself,
//! in lists, in recommendations and in webhook payloads.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::receiver::Receiver;

/// `pairing_id` is in `request` (present, not just absent-means-null).
#[track_caller]
fn pairing_of(request: &Value) -> &Value {
    assert!(
        request
            .as_object()
            .is_some_and(|r| r.contains_key("pairing_id")),
        "no pairing_id in {request}"
    );
    &request["pairing_id"]
}

#[tokio::test]
async fn every_request_answer_carries_pairing_id_null_outside_a_pairing_and_set_on_its_visits() {
    let receiver = Receiver::start().await;
    let app = spawn_app_with(&[
        ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
        ("WEBHOOK_RETRY_BASE_MS", "100"),
    ])
    .await;
    app.request_webhook(&receiver.url).await;
    let c = community(&app, 2).await;
    let member = app.volunteer("常来的志愿者").await;
    app.join(&c.team_id, &member).await;

    // A request outside any pairing: null wherever it appears.
    let posted = app
        .request(
            &c.caseworker,
            &c.resident_id,
            json!({"title": "另一次探访"}),
        )
        .await;
    assert_eq!(pairing_of(&posted), &Value::Null);
    let read = app
        .get(&format!("/requests/{}", c.request_id), Some(&c.caseworker))
        .await
        .expect(200);
    assert_eq!(pairing_of(&read), &Value::Null);
    let listed = app.get("/requests", Some(&c.manager)).await.expect(200);
    for item in listed["items"].as_array().unwrap() {
        assert_eq!(pairing_of(item), &Value::Null);
    }
    // The webhook's `data` is the request as a non-member sees it: the
    // same field.
    let got = receiver.wait_for(1, 15).await;
    let created = got
        .iter()
        .find(|d| d.body["data"]["id"] == c.request_id.as_str())
        .expect("request.created for the request");
    assert_eq!(pairing_of(&created.body["data"]), &Value::Null);

    // A pairing's visits carry its id, for staff and for its team.
    let pairing = app
        .post(
            "/pairings",
            Some(&c.caseworker),
            json!({
                "resident_id": c.resident_id, "team_id": c.team_id,
                "category": "home_visit", "title": "每周探访王阿姨",
                "rrule": "FREQ=WEEKLY;BYDAY=TU,FR", "start_time": "09:30",
                "duration_minutes": 90, "volunteers_needed": 2,
                "starts_on": days_from_today(1),
            }),
        )
        .await
        .expect(201);
    let pairing_id = id(&pairing);
    let visits = app
        .get(
            &format!("/requests?pairing_id={pairing_id}"),
            Some(&c.caseworker),
        )
        .await
        .expect(200);
    let visits = visits["items"].as_array().unwrap();
    assert!(!visits.is_empty(), "the pairing made visits");
    for visit in visits {
        assert_eq!(pairing_of(visit), pairing_id.as_str());
    }
    let visit = id(&visits[0]);
    let seen = app
        .get(&format!("/requests/{visit}"), Some(&member))
        .await
        .expect(200);
    assert_eq!(pairing_of(&seen), pairing_id.as_str());
    let recommended = app
        .get("/me/recommended-requests", Some(&member))
        .await
        .expect(200);
    let recommended = recommended["items"].as_array().unwrap();
    assert!(
        recommended.iter().any(|r| r["id"] == visit.as_str()),
        "{recommended:?}"
    );
    for item in recommended {
        let expected = if item["id"] == c.request_id.as_str() {
            Value::Null
        } else {
            Value::from(pairing_id.as_str())
        };
        assert_eq!(pairing_of(item), &expected, "{item}");
    }
}

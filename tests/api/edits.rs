//! Edits users expect: who may change a request, `PATCH /requests/{id}`
//! and `PATCH /residents/{id}`, the capacity backstop in the database, and
//! free text that refuses invisible characters.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::receiver::Receiver;

fn path(request: &str) -> String {
    format!("/requests/{request}")
}

#[tokio::test]
async fn only_its_caseworker_and_managers_assign_cancel_complete_or_edit_a_request() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let other = app.staff("caseworker", "钱社工").await;
    let request = &c.request_id;

    let tries = [
        app.post(
            &format!("{}/assign", path(request)),
            Some(&other),
            json!({"team_id": c.team_id}),
        )
        .await,
        app.post_empty(&format!("{}/cancel", path(request)), Some(&other))
            .await,
        app.post_empty(&format!("{}/complete", path(request)), Some(&other))
            .await,
        app.patch(&path(request), Some(&other), json!({"title": "改个标题"}))
            .await,
    ];
    for reply in tries {
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (403, "not_your_request"),
            "{}",
            reply.body
        );
    }
    let unchanged = app.get(&path(request), Some(&other)).await.expect(200);
    assert_eq!(unchanged["status"], "assigned");
    assert_eq!(unchanged["title"], "陪王阿姨聊天");

    // Its caseworker and a manager may.
    app.patch(
        &path(request),
        Some(&c.caseworker),
        json!({"title": "社工改的"}),
    )
    .await
    .expect(200);
    let edited = app
        .patch(&path(request), Some(&c.manager), json!({"urgency": "high"}))
        .await
        .expect(200);
    assert_eq!(edited["title"], "社工改的");
    assert_eq!(edited["urgency"], "high");
    app.post_empty(&format!("{}/complete", path(request)), Some(&c.manager))
        .await
        .expect(200);
}

#[tokio::test]
async fn a_request_is_edited_field_by_field_and_validated_like_a_new_one() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let p = path(&c.request_id);
    let cw = Some(&c.caseworker);

    let edited = app
        .patch(
            &p,
            cw,
            json!({"title": "  陪王阿姨下棋 ", "description": "带上象棋", "volunteers_needed": 4,
                   "starts_at": "2030-12-04T14:00:00+08:00", "ends_at": "2030-12-04T16:30:00+08:00"}),
        )
        .await
        .expect(200);
    assert_eq!(edited["title"], "陪王阿姨下棋");
    assert_eq!(edited["description"], "带上象棋");
    assert_eq!(edited["volunteers_needed"], 4);
    assert_eq!(edited["places_left"], 4);
    assert_eq!(edited["starts_at"], "2030-12-04T14:00:00+08:00");
    assert_eq!(edited["ends_at"], "2030-12-04T16:30:00+08:00");
    assert_eq!(
        edited["urgency"], "normal",
        "fields left out keep their value"
    );
    assert_eq!(edited["status"], "assigned");

    let refusals: [(Value, &str); 7] = [
        (json!({"title": "  "}), "title"),
        (json!({"title": "长".repeat(101)}), "title"),
        (json!({"volunteers_needed": 0}), "volunteers_needed"),
        (json!({"volunteers_needed": 1001}), "volunteers_needed"),
        // Against the stored start: before it, or over 7 days after it.
        (json!({"ends_at": "2030-12-04T13:00:00+08:00"}), "ends_at"),
        (json!({"ends_at": "2030-12-12T14:00:00+08:00"}), "ends_at"),
        (
            json!({"starts_at": "1999-12-31T09:00:00+08:00"}),
            "starts_at",
        ),
    ];
    for (body, field) in refusals {
        let r = app.patch(&p, cw, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(r.body["error"]["details"][0]["field"], field, "{body}");
    }
    let r = app.patch(&p, cw, json!({"urgency": "whenever"})).await;
    assert_eq!(r.status, 422);
    let r = app
        .patch(&path(&uuid::Uuid::new_v4().to_string()), cw, json!({}))
        .await;
    assert_eq!(r.status, 404);
    let after = app.get(&p, cw).await.expect(200);
    assert_eq!(after, edited, "refused edits change nothing");
}

#[tokio::test]
async fn a_request_is_not_edited_once_someone_has_checked_in_or_it_is_over() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let team = app
        .team(&c.manager, json!({"name": "邻里守望队", "vetted": false}))
        .await;
    app.assign(&c.caseworker, &c.request_id, &id(&team)).await;
    let v = app.volunteer("张志愿").await;
    app.join(&id(&team), &v).await;
    let p = path(&c.request_id);
    app.post_empty(&format!("{p}/signups"), Some(&v))
        .await
        .expect(201);
    app.post_empty(&format!("{p}/check-in"), Some(&v))
        .await
        .expect(201);
    let r = app
        .patch(&p, Some(&c.caseworker), json!({"title": "晚了"}))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "invalid_status"));

    let cancelled = id(&app.request(&c.caseworker, &c.resident_id, json!({})).await);
    app.post_empty(&format!("{}/cancel", path(&cancelled)), Some(&c.caseworker))
        .await
        .expect(200);
    let r = app
        .patch(
            &path(&cancelled),
            Some(&c.manager),
            json!({"volunteers_needed": 3}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "invalid_status"));
}

/// An assigned request with places for `needed`, a non-vetted team (so
/// joining is immediate) and `taken` of its members signed up.
async fn signed_up(app: &TestApp, needed: u32, taken: usize) -> (Community, Vec<Actor>) {
    let c = community(app, needed).await;
    let team = app
        .team(&c.manager, json!({"name": "邻里守望队", "vetted": false}))
        .await;
    app.assign(&c.caseworker, &c.request_id, &id(&team)).await;
    let mut volunteers = Vec::new();
    for i in 0..taken {
        let v = app.volunteer(&format!("志愿者{i}")).await;
        app.join(&id(&team), &v).await;
        app.post_empty(&format!("{}/signups", path(&c.request_id)), Some(&v))
            .await
            .expect(201);
        volunteers.push(v);
    }
    let c = Community {
        team_id: id(&team),
        ..c
    };
    (c, volunteers)
}

#[tokio::test]
async fn places_never_drop_below_the_sign_ups_already_taken() {
    let app = spawn_app().await;
    let (c, _) = signed_up(&app, 3, 2).await;
    let p = path(&c.request_id);
    let r = app
        .patch(&p, Some(&c.caseworker), json!({"volunteers_needed": 1}))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "below_signups"));
    let down_to_taken = app
        .patch(&p, Some(&c.caseworker), json!({"volunteers_needed": 2}))
        .await
        .expect(200);
    assert_eq!(down_to_taken["places_left"], 0);
    let late = app.volunteer("晚来的").await;
    app.join(&c.team_id, &late).await;
    let r = app.post_empty(&format!("{p}/signups"), Some(&late)).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "request_full"));
}

#[tokio::test]
async fn the_database_refuses_more_sign_ups_than_places_whatever_writes_it() {
    use sea_orm::{ConnectionTrait, Database};
    let app = spawn_app().await;
    let (c, _) = signed_up(&app, 2, 1).await;
    let db = Database::connect(&app.database_url).await.unwrap();
    for sql in [
        "UPDATE help_requests SET signups_count = volunteers_needed + 1",
        "UPDATE help_requests SET volunteers_needed = signups_count - 1 WHERE signups_count > 0",
        "UPDATE help_requests SET signups_count = -1",
    ] {
        let refused = db.execute_unprepared(sql).await;
        assert!(refused.is_err(), "the database let through: {sql}");
    }
    // A write within the places still passes: the backstop is exact.
    db.execute_unprepared("UPDATE help_requests SET signups_count = volunteers_needed")
        .await
        .unwrap();
    db.close().await.unwrap();
    let request = app
        .get(&path(&c.request_id), Some(&c.caseworker))
        .await
        .expect(200);
    assert_eq!(request["signups_count"], 2);
    assert_eq!(request["places_left"], 0);
}

#[tokio::test]
async fn a_new_time_tells_the_teams_webhooks_without_the_residents_details() {
    let app = spawn_app_with(&[("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")]).await;
    let receiver = Receiver::start().await;
    let (c, _) = signed_up(&app, 3, 1).await;
    app.post(
        "/webhooks",
        Some(&app.admin),
        json!({"url": receiver.url, "kind": "generic", "team_id": c.team_id, "events": ["request.updated"]}),
    )
    .await
    .expect(201);
    let p = path(&c.request_id);
    // No new time, no event.
    app.patch(&p, Some(&c.caseworker), json!({"title": "陪王阿姨散步"}))
        .await
        .expect(200);
    app.patch(
        &p,
        Some(&c.caseworker),
        json!({"starts_at": "2030-12-05T15:00:00+08:00", "ends_at": "2030-12-05T17:00:00+08:00"}),
    )
    .await
    .expect(200);
    let got = receiver.wait_for(1, 10).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let body = &got[0].body;
    assert_eq!(body["type"], "request.updated");
    assert_eq!(body["data"]["id"], c.request_id.as_str());
    assert_eq!(body["data"]["title"], "陪王阿姨散步");
    assert_eq!(body["data"]["starts_at"], "2030-12-05T15:00:00+08:00");
    assert_eq!(body["data"]["resident"]["masked_name"], "王**");
    let text = body.to_string();
    for secret in ["3 号楼", "13612345678", "王秀英", "39.921", "116.401"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

#[tokio::test]
async fn a_resident_is_edited_retired_and_brought_back() {
    let app = spawn_app().await;
    let c = community(&app, 1).await;
    let p = format!("/residents/{}", c.resident_id);
    let cw = Some(&c.caseworker);
    let edited = app
        .patch(
            &p,
            cw,
            json!({"address": "阳光社区 5 号楼 101", "phone": null, "notes": "已搬到一楼",
                   "location": {"lat": 39.93, "lng": 116.41}, "id_number": "110105194912310038"}),
        )
        .await
        .expect(200);
    assert_eq!(edited["address"], "阳光社区 5 号楼 101");
    assert_eq!(
        edited["phone"],
        Value::Null,
        "null clears an optional field"
    );
    assert_eq!(edited["notes"], "已搬到一楼");
    assert_eq!(edited["location"]["lat"], 39.93);
    assert_eq!(edited["id_number"], "110***********0038");
    assert_eq!(edited["name"], "王秀英", "fields left out keep their value");
    assert_eq!(edited["guardian_phone"], "13712345678");
    assert_eq!(edited["active"], true);

    for (body, field) in [
        (json!({"name": " "}), "name"),
        (json!({"guardian_phone": "<script>"}), "guardian_phone"),
        (json!({"id_number": "110105194912310022"}), "id_number"),
        (
            json!({"location": {"lat": 91.0, "lng": 116.4}}),
            "location.lat",
        ),
    ] {
        let r = app.patch(&p, cw, body.clone()).await;
        assert_eq!(r.status, 422, "{body}");
        assert_eq!(r.body["error"]["details"][0]["field"], field, "{body}");
    }
    let volunteer = app.volunteer("张志愿").await;
    assert_eq!(
        app.patch(&p, Some(&volunteer), json!({"active": false}))
            .await
            .status,
        403
    );

    let retired = app
        .patch(&p, Some(&c.manager), json!({"active": false}))
        .await
        .expect(200);
    assert_eq!(retired["active"], false);
    let body = json!({"resident_id": c.resident_id, "category": "home_visit", "title": "探访",
        "starts_at": "2030-12-03T09:00:00+08:00", "ends_at": "2030-12-03T11:00:00+08:00",
        "volunteers_needed": 1});
    let r = app.post("/requests", cw, body.clone()).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "resident_inactive"));
    let listed = |q: &'static str| {
        let app = &app;
        let cw = c.caseworker.clone();
        async move {
            app.get(&format!("/residents{q}"), Some(&cw))
                .await
                .expect(200)["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (id(r), r["active"].as_bool().unwrap()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed("").await, vec![(c.resident_id.clone(), false)]);
    assert_eq!(listed("?active=false").await.len(), 1);
    assert!(listed("?active=true").await.is_empty());

    app.patch(&p, cw, json!({"active": true})).await.expect(200);
    app.post("/requests", cw, body).await.expect(201);
    assert_eq!(listed("?active=true").await.len(), 1);
}

#[tokio::test]
async fn names_titles_and_descriptions_refuse_bidi_controls_and_zero_width_characters() {
    let app = spawn_app().await;
    let c = community(&app, 1).await;
    let (cw, manager) = (&c.caseworker, &c.manager);
    let record_volunteer = app.volunteer("张志愿").await;
    app.join(&c.team_id, &record_volunteer).await;
    // A right-to-left override makes "1234" read as "4321"; a zero-width
    // space makes two equal-looking names differ; U+FEFF hides at the start.
    for bad in [
        "王\u{202E}4321",
        "王\u{200B}秀英",
        "\u{FEFF}王秀英",
        "王\u{2066}秀英",
    ] {
        let request_body = json!({"resident_id": c.resident_id, "category": "home_visit",
            "title": "探访", "description": bad,
            "starts_at": "2030-12-03T09:00:00+08:00", "ends_at": "2030-12-03T11:00:00+08:00",
            "volunteers_needed": 1});
        let cases: Vec<(&str, Reply, &str)> = vec![
            (
                "POST /auth/register",
                app.post(
                    "/auth/register",
                    None,
                    json!({"phone": random_phone(), "password": PASSWORD, "name": bad}),
                )
                .await,
                "name",
            ),
            (
                "POST /users",
                app.post(
                    "/users",
                    Some(&app.admin),
                    json!({"phone": random_phone(), "password": PASSWORD, "name": bad, "role": "caseworker"}),
                )
                .await,
                "name",
            ),
            (
                "PATCH /me",
                app.patch("/me", Some(cw), json!({"name": bad})).await,
                "name",
            ),
            (
                "POST /teams",
                app.post(
                    "/teams",
                    Some(manager),
                    json!({"name": bad, "kind": "other", "service_categories": ["repair"],
                           "location": {"lat": 39.9, "lng": 116.4}, "service_radius_km": 2}),
                )
                .await,
                "name",
            ),
            (
                "POST /residents",
                app.post(
                    "/residents",
                    Some(cw),
                    json!({"name": bad, "category": "other", "address": "5 号楼",
                           "location": {"lat": 39.9, "lng": 116.4}}),
                )
                .await,
                "name",
            ),
            (
                "PATCH /residents/{id}",
                app.patch(
                    &format!("/residents/{}", c.resident_id),
                    Some(cw),
                    json!({"address": bad}),
                )
                .await,
                "address",
            ),
            (
                "POST /requests",
                app.post("/requests", Some(cw), request_body).await,
                "description",
            ),
            (
                "PATCH /requests/{id}",
                app.patch(&path(&c.request_id), Some(cw), json!({"title": bad}))
                    .await,
                "title",
            ),
            (
                "POST /service-records",
                app.post(
                    "/service-records",
                    Some(cw),
                    json!({"volunteer_id": record_volunteer.id, "request_id": c.request_id,
                           "started_at": "2026-01-05T09:00:00+08:00",
                           "ended_at": "2026-01-05T10:00:00+08:00", "note": bad}),
                )
                .await,
                "note",
            ),
        ];
        for (route, reply, field) in cases {
            assert_eq!(reply.status, 422, "{route} took {bad:?}: {}", reply.body);
            assert_eq!(
                reply.body["error"]["details"][0]["field"], field,
                "{route}: {}",
                reply.body
            );
        }
    }
    // Chinese text with ordinary punctuation still round-trips exactly.
    let fine = "王秀英（独居）· 三号楼";
    let r = app
        .patch(&path(&c.request_id), Some(cw), json!({"title": fine}))
        .await
        .expect(200);
    assert_eq!(r["title"], fine);
}

#[tokio::test]
async fn sign_ups_racing_an_edit_of_the_places_never_overfill_the_request() {
    let app = spawn_app().await;
    let (c, _) = signed_up(&app, 6, 0).await;
    let p = path(&c.request_id);
    let mut volunteers = Vec::new();
    for i in 0..5 {
        let v = app.volunteer(&format!("抢报{i}")).await;
        app.join(&c.team_id, &v).await;
        volunteers.push(v);
    }
    let signups = format!("{p}/signups");
    let sign_ups =
        futures::future::join_all(volunteers.iter().map(|v| app.post_empty(&signups, Some(v))));
    let edit = app.patch(&p, Some(&c.caseworker), json!({"volunteers_needed": 2}));
    let (signed, edited) = tokio::join!(sign_ups, edit);
    let taken = signed.iter().filter(|r| r.status == 201).count();
    let request = app.get(&p, Some(&c.caseworker)).await.expect(200);
    assert_eq!(request["signups_count"], taken);
    match edited.status.as_u16() {
        200 => {
            assert!(taken <= 2, "{taken} sign-ups for 2 places");
            assert_eq!(request["volunteers_needed"], 2);
        }
        409 => {
            assert_eq!(edited.code(), "below_signups");
            assert!(taken > 2);
            assert_eq!(request["volunteers_needed"], 6);
        }
        other => panic!("edit answered {other}: {}", edited.body),
    }
    for r in signed.iter().filter(|r| r.status != 201) {
        assert_eq!(r.code(), "request_full", "{}", r.body);
    }
}

#[tokio::test]
async fn the_edit_routes_are_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc = app.get("/api-docs/openapi.json", None).await.expect(200);
    for path in ["/api/v1/requests/{id}", "/api/v1/residents/{id}"] {
        let patch = &doc["paths"][path]["patch"];
        assert!(patch["requestBody"].is_object(), "{path}: {patch}");
        assert!(patch["responses"]["422"].is_object(), "{path}");
    }
    let events = doc.to_string();
    assert!(events.contains("request.updated"), "the event vocabulary");
}

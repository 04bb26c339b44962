//! Certificates carry the real name: a volunteer renames themselves only
//! until their service is on record; then a manager does, and every
//! change of a name is kept in the person's trail.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

/// A volunteer in the community's team.
async fn scene(app: &TestApp) -> (Community, Actor) {
    let c = community(app, 2).await;
    let volunteer = app.volunteer("张三").await;
    app.join(&c.team_id, &volunteer).await;
    (c, volunteer)
}

/// An hour of paper-recorded service ending `ends_ago` minutes ago,
/// approved by the manager.
async fn approved_service(app: &TestApp, c: &Community, volunteer: &Actor, ends_ago: i64) {
    let ago = |m: i64| (Utc::now() - Duration::minutes(m)).to_rfc3339();
    let body = json!({
        "volunteer_id": volunteer.id, "request_id": c.request_id,
        "started_at": ago(ends_ago + 60), "ended_at": ago(ends_ago),
    });
    let record = id(&app
        .post("/service-records", Some(&c.caseworker), body)
        .await
        .expect(201));
    app.post_empty(
        &format!("/service-records/{record}/approve"),
        Some(&c.manager),
    )
    .await
    .expect(200);
}

async fn rename_self(app: &TestApp, who: &Actor, name: &str) -> Reply {
    app.patch("/me", Some(who), json!({"name": name})).await
}

async fn trail(app: &TestApp, manager: &Actor, person: &Actor) -> Vec<Value> {
    app.get(&format!("/users/{}/name/history", person.id), Some(manager))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn after_an_approved_record_a_volunteer_cannot_rename_themselves_but_a_manager_can() {
    let app = spawn_app().await;
    let (c, volunteer) = scene(&app).await;
    // Before any approved service, a typo is theirs to fix.
    let fixed = rename_self(&app, &volunteer, "张叁").await.expect(200);
    assert_eq!(fixed["name"], "张叁");

    approved_service(&app, &c, &volunteer, 120).await;
    let refused = rename_self(&app, &volunteer, "张三丰").await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (409, "name_locked")
    );
    // The rest of the profile stays theirs, and so does the same name.
    app.patch(
        "/me",
        Some(&volunteer),
        json!({"name": "张叁", "skills": ["home_visit"]}),
    )
    .await
    .expect(200);
    let me = app.get("/me", Some(&volunteer)).await.expect(200);
    assert_eq!(me["name"], "张叁");
    assert_eq!(me["skills"], json!(["home_visit"]));

    // A manager renames them, after checking the ID card.
    let path = format!("/users/{}", volunteer.id);
    let renamed = app
        .patch(
            &path,
            Some(&c.manager),
            json!({"name": "张三丰", "note": "核对身份证"}),
        )
        .await
        .expect(200);
    assert_eq!(renamed["name"], "张三丰");
    assert_eq!(
        app.get("/me", Some(&volunteer)).await.expect(200)["name"],
        "张三丰"
    );
    // Only managers and admins; an unknown person is 404.
    assert_eq!(
        app.patch(&path, Some(&volunteer), json!({"name": "张四"}))
            .await
            .status,
        403
    );
    assert_eq!(
        app.patch(&path, Some(&c.caseworker), json!({"name": "张四"}))
            .await
            .status,
        403
    );
    let nobody = format!("/users/{}", uuid::Uuid::now_v7());
    assert_eq!(
        app.patch(&nobody, Some(&c.manager), json!({"name": "张四"}))
            .await
            .status,
        404
    );
    let bad = app
        .patch(&path, Some(&c.manager), json!({"name": ""}))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["error"]["details"][0]["field"], "name");

    // The trail: newest first, who changed what to what, and why.
    let items = trail(&app, &c.manager, &volunteer).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["previous_name"], "张叁");
    assert_eq!(items[0]["name"], "张三丰");
    assert_eq!(items[0]["changed_by"], c.manager.id.as_str());
    assert_eq!(items[0]["changed_by_name"], "李经理");
    assert_eq!(items[0]["note"], "核对身份证");
    assert_eq!(items[1]["previous_name"], "张三");
    assert_eq!(items[1]["name"], "张叁");
    assert_eq!(items[1]["changed_by"], volunteer.id.as_str());
    assert_eq!(
        app.get(
            &format!("/users/{}/name/history", volunteer.id),
            Some(&volunteer)
        )
        .await
        .status,
        403
    );
}

#[tokio::test]
async fn after_a_certificate_the_name_is_locked_and_a_managers_rename_reaches_only_new_certificates()
 {
    let app = spawn_app().await;
    let (c, volunteer) = scene(&app).await;
    approved_service(&app, &c, &volunteer, 120).await;
    let first = app
        .post("/certificates", Some(&volunteer), json!({}))
        .await
        .expect(201);
    assert_eq!(first["volunteer_name"], "张三");
    let refused = rename_self(&app, &volunteer, "张珊").await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (409, "name_locked")
    );

    app.patch(
        &format!("/users/{}", volunteer.id),
        Some(&c.manager),
        json!({"name": "张珊"}),
    )
    .await
    .expect(200);
    let second = app
        .post("/certificates", Some(&volunteer), json!({}))
        .await
        .expect(201);
    assert_eq!(second["volunteer_name"], "张珊");
    let kept = app
        .get(&format!("/certificates/{}", id(&first)), Some(&volunteer))
        .await
        .expect(200);
    assert_eq!(kept["volunteer_name"], "张三", "issued certificates stay");
    let items = trail(&app, &c.manager, &volunteer).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["note"], Value::Null);
}

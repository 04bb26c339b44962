//! A calendar address ends with the person's access: a password change,
//! an admin's reset, disabling, leaving or being removed from the team,
//! and a manager's `DELETE /users/{id}/calendar` each make the old
//! address answer 404.

use serde_json::json;

use crate::helpers::*;

/// The status of the feed at the address `POST /me/calendar` gave.
async fn feed_status(app: &TestApp, url: &str) -> u16 {
    let file = url.rsplit('/').next().expect("a file name");
    app.client
        .get(format!("{}/calendar/{file}", app.base))
        .send()
        .await
        .expect("feed")
        .status()
        .as_u16()
}

/// A fresh member of the team with a calendar address that works.
async fn subscribed(app: &TestApp, c: &Community, name: &str) -> (Actor, String) {
    let volunteer = app.volunteer(name).await;
    app.join(&c.team_id, &volunteer).await;
    app.post_empty(
        &format!("/requests/{}/signups", c.request_id),
        Some(&volunteer),
    )
    .await
    .expect(201);
    let minted = app
        .post_empty("/me/calendar", Some(&volunteer))
        .await
        .expect(201);
    let url = minted["url"].as_str().expect("url").to_string();
    assert_eq!(feed_status(app, &url).await, 200, "{name}: works at first");
    (volunteer, url)
}

#[tokio::test]
async fn each_way_a_persons_access_ends_also_ends_their_calendar_address() {
    let app = spawn_app().await;
    let c = community(&app, 10).await;
    let team = &c.team_id;

    let (v, url) = subscribed(&app, &c, "改密码").await;
    app.post(
        "/me/password",
        Some(&v),
        json!({"current_password": PASSWORD, "new_password": "a-new-password-1"}),
    )
    .await
    .expect(204);
    assert_eq!(feed_status(&app, &url).await, 404, "own password change");
    // A new address after logging in again works.
    let again = app.login(&v.phone, "a-new-password-1").await;
    let minted = app
        .post_empty("/me/calendar", Some(&again))
        .await
        .expect(201);
    assert_eq!(
        feed_status(&app, minted["url"].as_str().unwrap()).await,
        200
    );

    let (v, url) = subscribed(&app, &c, "被重置").await;
    app.post(
        &format!("/users/{}/password", v.id),
        Some(&app.admin),
        json!({"new_password": "reset-password-1"}),
    )
    .await
    .expect(204);
    assert_eq!(feed_status(&app, &url).await, 404, "admin reset");

    let (v, url) = subscribed(&app, &c, "被停用").await;
    app.post_empty(&format!("/users/{}/disable", v.id), Some(&c.manager))
        .await
        .expect(200);
    assert_eq!(feed_status(&app, &url).await, 404, "disabled");
    app.post_empty(&format!("/users/{}/enable", v.id), Some(&c.manager))
        .await
        .expect(200);
    assert_eq!(
        feed_status(&app, &url).await,
        404,
        "enabling again does not bring the old address back"
    );

    let (v, url) = subscribed(&app, &c, "自己退队").await;
    app.delete(&format!("/teams/{team}/members/{}", v.id), Some(&v))
        .await
        .expect(204);
    assert_eq!(feed_status(&app, &url).await, 404, "left the team");

    let (v, url) = subscribed(&app, &c, "被移出").await;
    app.delete(&format!("/teams/{team}/members/{}", v.id), Some(&c.manager))
        .await
        .expect(204);
    assert_eq!(feed_status(&app, &url).await, 404, "removed from the team");

    let (v, url) = subscribed(&app, &c, "手机丢了").await;
    let path = format!("/users/{}/calendar", v.id);
    assert_eq!(app.delete(&path, Some(&v)).await.status, 403);
    assert_eq!(app.delete(&path, Some(&c.caseworker)).await.status, 403);
    assert_eq!(
        feed_status(&app, &url).await,
        200,
        "refused calls end nothing"
    );
    app.delete(&path, Some(&c.manager)).await.expect(204);
    assert_eq!(feed_status(&app, &url).await, 404, "ended by a manager");
    // Again, or for someone without an address: still 204.
    app.delete(&path, Some(&app.admin)).await.expect(204);
    let nobody = format!("/users/{}/calendar", uuid::Uuid::now_v7());
    assert_eq!(app.delete(&nobody, Some(&c.manager)).await.status, 404);
    // The person makes a new one.
    let minted = app.post_empty("/me/calendar", Some(&v)).await.expect(201);
    assert_eq!(
        feed_status(&app, minted["url"].as_str().unwrap()).await,
        200
    );
}

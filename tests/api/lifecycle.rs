//! The account lifecycle: password changes end earlier tokens, disabled
//! accounts are refused everywhere and lose their future places.

use chrono::Utc;
use serde_json::json;

use crate::helpers::*;

pub async fn login_reply(app: &TestApp, phone: &str, password: &str) -> Reply {
    app.post(
        "/auth/login",
        None,
        json!({"phone": phone, "password": password}),
    )
    .await
}

#[track_caller]
pub fn assert_refused(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.code(), code, "{}", reply.body);
}

#[tokio::test]
async fn a_password_change_ends_every_earlier_token() {
    let app = spawn_app().await;
    let phone_token = app.volunteer("陈静").await;
    let tablet_token = app.login(&phone_token.phone, PASSWORD).await;

    let wrong = app
        .post(
            "/me/password",
            Some(&phone_token),
            json!({"current_password": "not-my-password", "new_password": "new-password-1"}),
        )
        .await;
    assert_refused(&wrong, 401, "invalid_credentials");
    let short = app
        .post(
            "/me/password",
            Some(&phone_token),
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_refused(&short, 422, "validation_failed");
    assert_eq!(short.body["error"]["details"][0]["field"], "new_password");
    app.get("/me", Some(&tablet_token)).await.expect(200);

    app.post(
        "/me/password",
        Some(&phone_token),
        json!({"current_password": PASSWORD, "new_password": "new-password-1"}),
    )
    .await
    .expect(204);
    for token in [&phone_token, &tablet_token] {
        assert_refused(&app.get("/me", Some(token)).await, 401, "token_revoked");
        let write = app.patch("/me", Some(token), json!({"name": "改名"})).await;
        assert_refused(&write, 401, "token_revoked");
    }
    assert_refused(
        &login_reply(&app, &phone_token.phone, PASSWORD).await,
        401,
        "invalid_credentials",
    );
    let fresh = app.login(&phone_token.phone, "new-password-1").await;
    let me = app.get("/me", Some(&fresh)).await.expect(200);
    assert_eq!(me["name"], "陈静", "the refused write changed nothing");
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_like_logins() {
    let app = spawn_app().await;
    let volunteer = app.volunteer("许仙").await;
    let guess = json!({"current_password": "a-guess-123", "new_password": "new-password-1"});
    for _ in 0..5 {
        let reply = app
            .post("/me/password", Some(&volunteer), guess.clone())
            .await;
        assert_refused(&reply, 401, "invalid_credentials");
    }
    let right = json!({"current_password": PASSWORD, "new_password": "new-password-1"});
    let reply = app.post("/me/password", Some(&volunteer), right).await;
    assert_refused(&reply, 429, "too_many_attempts");
    app.get("/me", Some(&volunteer)).await.expect(200);
}

#[tokio::test]
async fn an_admin_sets_a_password_and_the_old_tokens_stop_working() {
    let app = spawn_app().await;
    let volunteer = app.volunteer("林涛").await;
    let manager = app.staff("manager", "李经理").await;
    let path = format!("/users/{}/password", volunteer.id);
    let body = json!({"new_password": "set-by-admin-1"});

    assert_eq!(
        app.post(&path, Some(&manager), body.clone()).await.status,
        403
    );
    assert_eq!(
        app.post(&path, Some(&volunteer), body.clone()).await.status,
        403
    );
    let unknown = format!("/users/{}/password", uuid::Uuid::now_v7());
    assert_eq!(
        app.post(&unknown, Some(&app.admin), body.clone())
            .await
            .status,
        404
    );
    assert_refused(
        &app.post(&path, Some(&app.admin), json!({"new_password": "1234567"}))
            .await,
        422,
        "validation_failed",
    );
    app.get("/me", Some(&volunteer)).await.expect(200);

    app.post(&path, Some(&app.admin), body).await.expect(204);
    assert_refused(
        &app.get("/me", Some(&volunteer)).await,
        401,
        "token_revoked",
    );
    app.login(&volunteer.phone, "set-by-admin-1").await;
    // The admin's own token is untouched.
    app.get("/me", Some(&app.admin)).await.expect(200);
}

#[tokio::test]
async fn a_disabled_account_is_refused_everywhere_until_enabled() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let volunteer = app.volunteer("赵敏").await;
    app.get("/me", Some(&volunteer)).await.expect(200);

    let disabled = app
        .post_empty(&format!("/users/{}/disable", volunteer.id), Some(&manager))
        .await
        .expect(200);
    assert_eq!(disabled["status"], "disabled");
    assert_eq!(disabled["id"], volunteer.id.as_str());

    assert_refused(
        &app.get("/me", Some(&volunteer)).await,
        401,
        "account_disabled",
    );
    assert_refused(
        &app.patch("/me", Some(&volunteer), json!({"name": "x"}))
            .await,
        401,
        "account_disabled",
    );
    // A wrong password learns nothing about the account's status.
    assert_refused(
        &login_reply(&app, &volunteer.phone, "wrong-password").await,
        401,
        "invalid_credentials",
    );
    assert_refused(
        &login_reply(&app, &volunteer.phone, PASSWORD).await,
        403,
        "account_disabled",
    );
    let seen = app
        .get(&format!("/users/{}", volunteer.id), Some(&manager))
        .await
        .expect(200);
    assert_eq!(seen["status"], "disabled");

    let enabled = app
        .post_empty(&format!("/users/{}/enable", volunteer.id), Some(&manager))
        .await
        .expect(200);
    assert_eq!(enabled["status"], "active");
    // Tokens from before the disable stay dead: the person logs in afresh.
    assert_refused(
        &app.get("/me", Some(&volunteer)).await,
        401,
        "token_revoked",
    );
    let again = app.login(&volunteer.phone, PASSWORD).await;
    app.get("/me", Some(&again)).await.expect(200);
}

#[tokio::test]
async fn managers_disable_volunteers_and_caseworkers_only_and_nobody_themselves() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let other_manager = app.staff("manager", "王经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let volunteer = app.volunteer("钱多").await;
    let disable = |who: &Actor| format!("/users/{}/disable", who.id);

    for (actor, target) in [
        (&manager, &other_manager),
        (&manager, &app.admin),
        (&caseworker, &volunteer),
        (&volunteer, &caseworker),
    ] {
        let reply = app.post_empty(&disable(target), Some(actor)).await;
        assert_eq!(reply.status, 403, "{} may not: {}", actor.id, reply.body);
    }
    assert_refused(
        &app.post_empty(&disable(&app.admin), Some(&app.admin)).await,
        403,
        "cannot_change_own_status",
    );
    assert_refused(
        &app.post_empty(&disable(&manager), Some(&manager)).await,
        403,
        "cannot_change_own_status",
    );
    let unknown = format!("/users/{}/disable", uuid::Uuid::now_v7());
    assert_eq!(app.post_empty(&unknown, Some(&manager)).await.status, 404);

    // Nobody above was disabled.
    for who in [&other_manager, &caseworker, &volunteer, &manager] {
        app.get("/me", Some(who)).await.expect(200);
    }
    app.post_empty(&disable(&caseworker), Some(&manager))
        .await
        .expect(200);
    app.post_empty(&disable(&other_manager), Some(&app.admin))
        .await
        .expect(200);
    assert_refused(
        &app.get("/me", Some(&other_manager)).await,
        401,
        "account_disabled",
    );
    // A disabled manager's token no longer reaches manager routes.
    assert_refused(
        &app.post_empty(&disable(&volunteer), Some(&other_manager))
            .await,
        401,
        "account_disabled",
    );
}

#[tokio::test]
async fn disabling_frees_the_places_of_future_sign_ups_and_keeps_past_service() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let volunteer = app.volunteer("周到").await;
    app.join(&c.team_id, &volunteer).await;
    let started = app
        .request(
            &c.caseworker,
            &c.resident_id,
            json!({
                "starts_at": (Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
                "ends_at": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
            }),
        )
        .await;
    let started = id(&started);
    app.assign(&c.caseworker, &started, &c.team_id).await;
    for request in [&c.request_id, &started] {
        app.post_empty(&format!("/requests/{request}/signups"), Some(&volunteer))
            .await
            .expect(201);
    }
    app.post_empty(&format!("/requests/{started}/check-in"), Some(&volunteer))
        .await
        .expect(201);
    let future_path = format!("/requests/{}", c.request_id);
    let before = app.get(&future_path, Some(&c.manager)).await.expect(200);
    assert_eq!(before["places_left"], 1);

    app.post_empty(
        &format!("/users/{}/disable", volunteer.id),
        Some(&c.manager),
    )
    .await
    .expect(200);

    let future = app.get(&future_path, Some(&c.manager)).await.expect(200);
    assert_eq!(future["places_left"], 2, "the future place is free again");
    assert_eq!(future["signups_count"], 0);
    let past = app
        .get(&format!("/requests/{started}"), Some(&c.manager))
        .await
        .expect(200);
    assert_eq!(
        past["signups_count"], 1,
        "the visit under way keeps its sign-up"
    );
    let records = app
        .get(
            &format!("/service-records?volunteer_id={}", volunteer.id),
            Some(&c.manager),
        )
        .await
        .expect(200);
    assert_eq!(
        records["items"].as_array().unwrap().len(),
        1,
        "records stay"
    );

    // Enabling does not sign them up again.
    app.post_empty(&format!("/users/{}/enable", volunteer.id), Some(&c.manager))
        .await
        .expect(200);
    let future = app.get(&future_path, Some(&c.manager)).await.expect(200);
    assert_eq!(future["places_left"], 2);
}

//! The account lifecycle: password changes end earlier tokens, disabled
//! accounts are refused everywhere (and lose their future places),
//! managers find accounts — in one process and across two.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;

use crate::helpers::*;
use crate::process::{ServerProcess, on_postgres};

async fn login_reply(app: &TestApp, phone: &str, password: &str) -> Reply {
    app.post(
        "/auth/login",
        None,
        json!({"phone": phone, "password": password}),
    )
    .await
}

#[track_caller]
fn assert_refused(reply: &Reply, status: u16, code: &str) {
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
async fn the_account_routes_are_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc = app.get("/api-docs/openapi.json", None).await.expect(200);
    for (path, method) in [
        ("/api/v1/users", "get"),
        ("/api/v1/users/{id}", "get"),
        ("/api/v1/me/password", "post"),
        ("/api/v1/users/{id}/password", "post"),
        ("/api/v1/users/{id}/disable", "post"),
        ("/api/v1/users/{id}/enable", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
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

#[tokio::test]
async fn managers_find_accounts_by_role_status_and_the_start_of_a_name_or_phone() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let zhang_san = app.volunteer("张三").await;
    let zhang_si = app.volunteer("张四").await;
    let wang = app.volunteer("王五").await;
    app.post_empty(&format!("/users/{}/disable", zhang_si.id), Some(&manager))
        .await
        .expect(200);

    let ids = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect()
    };
    let list = |query: String| {
        let (app, manager) = (&app, &manager);
        async move {
            app.get(&format!("/users{query}"), Some(manager))
                .await
                .expect(200)
        }
    };

    let everyone = list("".into()).await;
    assert_eq!(
        ids(&everyone).len(),
        6,
        "admin, manager, caseworker, three volunteers"
    );
    assert_eq!(everyone["items"][0]["id"], wang.id.as_str(), "newest first");
    assert!(everyone["items"][0]["status"] == "active");

    let zhangs = list("?q=%E5%BC%A0".into()).await; // 张
    assert_eq!(
        ids(&zhangs),
        vec![zhang_si.id.clone(), zhang_san.id.clone()]
    );
    let active_zhangs = list("?q=%E5%BC%A0&status=active".into()).await;
    assert_eq!(ids(&active_zhangs), vec![zhang_san.id.clone()]);
    let disabled = list("?status=disabled".into()).await;
    assert_eq!(ids(&disabled), vec![zhang_si.id.clone()]);
    assert_eq!(disabled["items"][0]["status"], "disabled");
    let caseworkers = list("?role=caseworker".into()).await;
    assert_eq!(ids(&caseworkers), vec![caseworker.id.clone()]);
    let by_phone = list(format!("?q={}", &wang.phone[..9])).await;
    assert!(ids(&by_phone).contains(&wang.id));
    assert!(
        list("?q=%25".into()).await["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "% is literal"
    );

    let first = list("?role=volunteer&limit=2".into()).await;
    assert_eq!(ids(&first).len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = list(format!("?role=volunteer&limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&second), vec![zhang_san.id.clone()]);
    assert!(second["next_cursor"].is_null());

    let one = app
        .get(&format!("/users/{}", zhang_san.id), Some(&app.admin))
        .await
        .expect(200);
    assert_eq!(one["name"], "张三");
    assert_eq!(one["status"], "active");
    let unknown = format!("/users/{}", uuid::Uuid::now_v7());
    assert_eq!(app.get(&unknown, Some(&manager)).await.status, 404);
    for bad in ["?role=chief", "?status=gone", "?limit=0"] {
        let reply = app.get(&format!("/users{bad}"), Some(&manager)).await;
        assert_eq!(reply.status, 422, "{bad}: {}", reply.body);
    }
    for outsider in [&caseworker, &zhang_san] {
        assert_eq!(app.get("/users", Some(outsider)).await.status, 403);
        let one = format!("/users/{}", wang.id);
        assert_eq!(app.get(&one, Some(outsider)).await.status, 403);
    }
    assert_eq!(app.get("/users", None).await.status, 401);
}

async fn two_processes() -> Option<(ServerProcess, ServerProcess, TestApp, TestApp)> {
    if !on_postgres() {
        eprintln!("skipped: several processes share PostgreSQL, not an SQLite file");
        return None;
    }
    let database_url = fresh_database().await;
    let a = ServerProcess::start(&database_url, &[]);
    let b = ServerProcess::start(&database_url, &[]);
    let app_a = a.connect(&database_url).await;
    let app_b = b.connect(&database_url).await;
    Some((a, b, app_a, app_b))
}

const ACCOUNT_CHECKS_FROM_MEMORY: &str = r#"account_checks_total{source="memory"}"#;

/// Reads `/me` on B until B answers the account check from memory: its
/// change listener is live and the volunteer's standing is remembered.
async fn until_b_remembers(app: &TestApp, reader: &Actor) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let start = metric(&app.metrics().await, ACCOUNT_CHECKS_FROM_MEMORY);
    while metric(&app.metrics().await, ACCOUNT_CHECKS_FROM_MEMORY) < start + 2.0 {
        assert!(
            Instant::now() < deadline,
            "process B never checked from memory"
        );
        app.get("/me", Some(reader)).await.expect(200);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads `/me` on B until it answers 401 `code`, at most 2 s; how long
/// that took and how many reads were still answered meanwhile.
async fn read_until_refused(app: &TestApp, reader: &Actor, code: &str) -> (Duration, u32) {
    let since = Instant::now();
    let mut answered = 0;
    loop {
        let reply = app.get("/me", Some(reader)).await;
        if reply.status == 401 {
            assert_eq!(reply.code(), code);
            return (since.elapsed(), answered);
        }
        assert_eq!(reply.status, 200);
        answered += 1;
        assert!(
            since.elapsed() < Duration::from_secs(2),
            "B still accepts the token after 2 s"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test]
async fn a_volunteer_disabled_on_one_process_is_refused_on_the_other() {
    let Some((_a, _b, app_a, app_b)) = two_processes().await else {
        return;
    };
    let manager = app_a.staff("manager", "李经理").await;
    let volunteer = app_a.volunteer("吴用").await;
    let other = app_a.volunteer("吴二").await;
    until_b_remembers(&app_b, &volunteer).await;
    until_b_remembers(&app_b, &other).await;

    app_a
        .post_empty(&format!("/users/{}/disable", volunteer.id), Some(&manager))
        .await
        .expect(200);
    // A read on B may trail by the notification's delay.
    let (delay, answered) = read_until_refused(&app_b, &volunteer, "account_disabled").await;
    eprintln!(
        "B refused the disabled volunteer's reads {delay:?} after A's disable answered \
         ({answered} reads answered before)"
    );
    // A write on B asks the database: refused at once.
    until_b_remembers(&app_b, &other).await;
    app_a
        .post_empty(&format!("/users/{}/disable", other.id), Some(&manager))
        .await
        .expect(200);
    assert_refused(
        &app_b.patch("/me", Some(&other), json!({"name": "x"})).await,
        401,
        "account_disabled",
    );
    assert_refused(
        &login_reply(&app_b, &volunteer.phone, PASSWORD).await,
        403,
        "account_disabled",
    );
}

#[tokio::test]
async fn a_password_changed_on_one_process_revokes_the_token_on_the_other() {
    let Some((_a, _b, app_a, app_b)) = two_processes().await else {
        return;
    };
    let volunteer = app_a.volunteer("郑和").await;
    let second_token = app_a.login(&volunteer.phone, PASSWORD).await;
    until_b_remembers(&app_b, &volunteer).await;

    app_a
        .post(
            "/me/password",
            Some(&volunteer),
            json!({"current_password": PASSWORD, "new_password": "new-password-1"}),
        )
        .await
        .expect(204);
    let (delay, answered) = read_until_refused(&app_b, &volunteer, "token_revoked").await;
    eprintln!(
        "B refused the revoked token's reads {delay:?} after A's change answered \
         ({answered} reads answered before)"
    );
    assert_refused(
        &app_b
            .patch("/me", Some(&second_token), json!({"name": "x"}))
            .await,
        401,
        "token_revoked",
    );
    app_b.login(&volunteer.phone, "new-password-1").await;
}

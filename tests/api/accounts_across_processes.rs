//! Two server processes on one PostgreSQL database: a disable or a
//! password change through one is refused by the other — writes at once,
//! reads within the change notification's delay (measured and printed).
//! (An SQLite file belongs to one process; these tests need PostgreSQL.)

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;
use crate::lifecycle::{assert_refused, login_reply};
use crate::process::{ServerProcess, on_postgres};

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

//! What a certificate may be asked for when it is issued: a period that
//! is over (ending today at the latest, in `TIME_ZONE`), and at most
//! `CERTIFICATES_PER_DAY` a day for a volunteer asking for their own,
//! counted in the database so that it holds across processes.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::helpers::*;
use crate::process::{ServerProcess, on_postgres};

/// A member of the community's team with an hour of approved service.
async fn served(app: &TestApp) -> (Community, Actor) {
    let c = community(app, 2).await;
    let volunteer = app.volunteer("李四").await;
    app.join(&c.team_id, &volunteer).await;
    let ago = |m: i64| (Utc::now() - Duration::minutes(m)).to_rfc3339();
    let body = json!({
        "volunteer_id": volunteer.id, "request_id": c.request_id,
        "started_at": ago(180), "ended_at": ago(120),
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
    (c, volunteer)
}

#[tokio::test]
async fn a_certificate_period_ending_tomorrow_is_refused_on_to() {
    let app = spawn_app().await;
    let (c, volunteer) = served(&app).await;
    let tomorrow = days_from_today(1);
    for who in [&volunteer, &c.manager] {
        let reply = app
            .post(
                "/certificates",
                Some(who),
                json!({"volunteer_id": volunteer.id, "from": days_from_today(-30), "to": tomorrow}),
            )
            .await;
        assert_eq!(reply.status, 422, "{}", reply.body);
        assert_eq!(reply.body["error"]["details"][0]["field"], "to");
    }
    let cert = app
        .post(
            "/certificates",
            Some(&volunteer),
            json!({"from": days_from_today(-30), "to": days_from_today(0)}),
        )
        .await
        .expect(201);
    assert_eq!(cert["period_to"], days_from_today(0), "today is allowed");
    let listed = app.get("/certificates", Some(&volunteer)).await.expect(200);
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "no refused one was kept"
    );
}

#[tokio::test]
async fn the_sixth_certificate_a_volunteer_asks_for_in_a_day_is_429_and_managers_are_not_counted() {
    let app = spawn_app().await;
    let (c, volunteer) = served(&app).await;
    for _ in 0..5 {
        app.post("/certificates", Some(&volunteer), json!({}))
            .await
            .expect(201);
    }
    let sixth = app.post("/certificates", Some(&volunteer), json!({})).await;
    assert_eq!(sixth.status, 429, "{}", sixth.body);
    assert_eq!(sixth.code(), "too_many_attempts");
    let wait: i64 = sixth.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=86_400).contains(&wait),
        "until the next day begins: {wait}"
    );
    // A manager at the service desk still issues one for them, and it
    // does not count against the volunteer's own.
    app.post(
        "/certificates",
        Some(&c.manager),
        json!({"volunteer_id": volunteer.id}),
    )
    .await
    .expect(201);
    let listed = app
        .get("/certificates?limit=100", Some(&volunteer))
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 6);
    // Another volunteer's day is their own.
    let other = app.volunteer("王五").await;
    app.join(&c.team_id, &other).await;
    let none = app.post("/certificates", Some(&other), json!({})).await;
    assert_eq!(
        none.code(),
        "no_service",
        "counted per volunteer, not at large"
    );
}

#[tokio::test]
async fn the_daily_certificate_count_holds_across_processes_and_starts_again_the_next_day() {
    let database_url = fresh_database().await;
    let limit = [("CERTIFICATES_PER_DAY", "2")];
    let first = ServerProcess::start(&database_url, &limit);
    let app = first.connect(&database_url).await;
    let (_, volunteer) = served(&app).await;
    app.post("/certificates", Some(&volunteer), json!({}))
        .await
        .expect(201);
    // Another process on the same database (at the same time where that
    // is possible: PostgreSQL) sees the first one.
    let (second, other) = if on_postgres() {
        let second = ServerProcess::start(&database_url, &limit);
        let other = second.connect(&database_url).await;
        (Some(second), other)
    } else {
        eprintln!(
            "the_daily_certificate_count_holds_across_processes: one process at a time on SQLite (a file belongs to one process); restarting instead"
        );
        let mut first = first;
        first.terminate();
        first.wait_exit(30).await;
        let second = ServerProcess::start(&database_url, &limit);
        let other = second.connect(&database_url).await;
        (Some(second), other)
    };
    other
        .post("/certificates", Some(&volunteer), json!({}))
        .await
        .expect(201);
    let third = other
        .post("/certificates", Some(&volunteer), json!({}))
        .await;
    assert_eq!(third.status, 429, "{}", third.body);
    drop(second);

    // Tomorrow at 00:05 in the community's zone the count starts again.
    let tomorrow = format!("{}T00:05:00+08:00", days_from_today(1));
    let next_day = ServerProcess::start(
        &database_url,
        &[("CERTIFICATES_PER_DAY", "2"), ("CLOCK_START", &tomorrow)],
    );
    let later = next_day.connect(&database_url).await;
    later
        .post("/certificates", Some(&volunteer), json!({}))
        .await
        .expect(201);
}

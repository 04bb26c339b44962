//! Two server processes on one PostgreSQL database, as behind a load
//! balancer: capacity, login throttling, idempotency keys and webhook
//! delivery hold across them, because none of them lives in a process.
//! (An SQLite file belongs to one process; these tests need PostgreSQL.)

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;

use crate::helpers::*;
use crate::process::{ServerProcess, on_postgres};
use crate::receiver::Receiver;

async fn two_processes() -> Option<(ServerProcess, ServerProcess, TestApp, TestApp)> {
    two_processes_with(&[]).await
}

async fn two_processes_with(
    extra: &[(&str, &str)],
) -> Option<(ServerProcess, ServerProcess, TestApp, TestApp)> {
    if !on_postgres() {
        eprintln!("skipped: several processes share PostgreSQL, not an SQLite file");
        return None;
    }
    let database_url = fresh_database().await;
    // Both start at once on the empty database: one migrates, the other
    // waits for it instead of failing on half-created tables.
    let a = ServerProcess::start(&database_url, extra);
    let b = ServerProcess::start(&database_url, extra);
    let app_a = a.connect(&database_url).await;
    let app_b = b.connect(&database_url).await;
    Some((a, b, app_a, app_b))
}

#[tokio::test]
async fn a_rush_over_two_processes_fills_exactly_the_places() {
    // This test counts places, not latency: on a loaded CI machine a
    // sign-up may wait more than the default second for one of the pool's
    // connections, which would answer 503 instead of queueing.
    let Some((_a, _b, app_a, app_b)) =
        two_processes_with(&[("DATABASE_ACQUIRE_TIMEOUT_SECS", "10")]).await
    else {
        return;
    };
    let Community {
        manager,
        team_id: team,
        request_id: request,
        ..
    } = community(&app_a, 7).await;
    let mut volunteers = Vec::new();
    for i in 0..40 {
        let app = if i % 2 == 0 { &app_a } else { &app_b };
        let volunteer = app.volunteer(&format!("志愿者{i}")).await;
        app.join(&team, &volunteer).await;
        volunteers.push(volunteer);
    }
    let answers = join_all(volunteers.iter().enumerate().map(|(i, v)| {
        let app = if i % 2 == 0 { &app_a } else { &app_b };
        let request = request.clone();
        async move {
            app.post_empty(&format!("/requests/{request}/signups"), Some(v))
                .await
        }
    }))
    .await;
    let accepted = answers.iter().filter(|r| r.status == 201).count();
    let full = answers
        .iter()
        .filter(|r| r.status == 409 && r.code() == "request_full")
        .count();
    assert_eq!(accepted, 7, "exactly the places were given");
    assert_eq!(full, 33, "everyone else heard the request is full");
    for app in [&app_a, &app_b] {
        let seen = app
            .get(&format!("/requests/{request}"), Some(&manager))
            .await
            .expect(200);
        assert_eq!(seen["signups_count"], 7);
        assert_eq!(seen["places_left"], 0);
    }
}

#[tokio::test]
async fn a_phone_locked_on_one_process_is_locked_on_the_other() {
    let Some((_a, _b, app_a, app_b)) = two_processes().await else {
        return;
    };
    let volunteer = app_a.volunteer("孙丽").await;
    for _ in 0..5 {
        let reply = app_a
            .post(
                "/auth/login",
                None,
                json!({"phone": volunteer.phone, "password": "wrong-password"}),
            )
            .await;
        assert_eq!(reply.status, 401);
    }
    let reply = app_b
        .post(
            "/auth/login",
            None,
            json!({"phone": volunteer.phone, "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, 429, "{}", reply.body);
    assert_eq!(reply.code(), "too_many_attempts");
}

#[tokio::test]
async fn one_idempotency_key_creates_one_request_whichever_process_answers() {
    let Some((_a, _b, app_a, app_b)) = two_processes().await else {
        return;
    };
    let caseworker = app_a.staff("caseworker", "周社工").await;
    let resident = id(&app_a.resident(&caseworker, json!({})).await);
    let body = json!({
        "resident_id": resident, "category": "home_visit", "title": "代购米面油",
        "description": "腿脚不便", "starts_at": "2030-12-03T09:00:00+08:00",
        "ends_at": "2030-12-03T11:00:00+08:00", "volunteers_needed": 1, "urgency": "normal"
    });
    // A phone on a flaky network retries the same call; the balancer
    // sends the retries to both processes, some at the same moment.
    let answers = join_all((0..10).map(|i| {
        let app = if i % 2 == 0 { &app_a } else { &app_b };
        let req = app
            .client
            .post(app.url("/requests"))
            .bearer_auth(&caseworker.token)
            .header("Idempotency-Key", "rush-retry-1")
            .json(&body);
        app.send(req)
    }))
    .await;
    let created: HashSet<String> = answers
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| r.body["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        answers.iter().all(
            |r| r.status == 201 || (r.status == 409 && r.code() == "idempotency_key_in_flight")
        ),
        "only the answer or 'still in flight'"
    );
    assert_eq!(created.len(), 1, "every 201 is the same request");
    // A later retry on either process replays the first answer.
    for app in [&app_a, &app_b] {
        let req = app
            .client
            .post(app.url("/requests"))
            .bearer_auth(&caseworker.token)
            .header("Idempotency-Key", "rush-retry-1")
            .json(&body);
        let replay = app.send(req).await;
        assert_eq!(replay.status, 201);
        assert!(created.contains(replay.body["id"].as_str().unwrap()));
    }
    let listed = app_b.get("/requests", Some(&caseworker)).await.expect(200);
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "one request exists"
    );
}

#[tokio::test]
async fn each_event_reaches_the_webhook_once_from_two_processes() {
    let Some((_a, _b, app_a, app_b)) = two_processes().await else {
        return;
    };
    let receiver = Receiver::start().await;
    app_a.request_webhook(&receiver.url).await;
    let caseworker = app_a.staff("caseworker", "吴社工").await;
    let resident = id(&app_a.resident(&caseworker, json!({})).await);
    for i in 0..20 {
        let app = if i % 2 == 0 { &app_a } else { &app_b };
        app.request(
            &caseworker,
            &resident,
            json!({"title": format!("求助 {i}")}),
        )
        .await;
    }
    receiver.wait_for(20, 20).await;
    // Time for a duplicate to show up, were there one.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received = receiver.received();
    let ids: HashSet<&str> = received
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    assert_eq!(ids.len(), 20, "every event arrived");
    assert_eq!(received.len(), 20, "and none twice");
}

#[tokio::test]
async fn a_receiver_slower_than_the_lease_gets_each_event_once() {
    // Leases of 600 ms; the receiver sits 2 s on every delivery, so one
    // process's lane of deliveries lasts many leases.
    let Some((_a, _b, app_a, app_b)) = two_processes_with(&[("WEBHOOK_LEASE_MS", "600")]).await
    else {
        return;
    };
    let receiver = Receiver::start().await;
    receiver.stall(Duration::from_secs(2));
    let webhook = app_a.request_webhook(&receiver.url).await;
    let caseworker = app_a.staff("caseworker", "吴社工").await;
    let resident = id(&app_a.resident(&caseworker, json!({})).await);
    let events = 5;
    for i in 0..events {
        let app = if i % 2 == 0 { &app_a } else { &app_b };
        app.request(
            &caseworker,
            &resident,
            json!({"title": format!("求助 {i}")}),
        )
        .await;
    }
    receiver.wait_for(events, 30).await;
    // Time for a duplicate to show up, were there one: longer than a
    // lease and a send.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = receiver.received();
    let ids: HashSet<&str> = received
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    assert_eq!(ids.len(), events, "every event arrived");
    assert_eq!(received.len(), events, "and none twice");
    let items = app_b
        .get(
            &format!("/webhooks/{}/deliveries", id(&webhook)),
            Some(&app_b.admin),
        )
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), events);
    assert!(
        items
            .iter()
            .all(|d| d["status"] == "delivered" && d["attempts"] == 1),
        "{items:?}"
    );
}

/// `places_left` of a request as `reader` reads it at `path` on `app`.
async fn places_seen(app: &TestApp, reader: &Actor, path: &str) -> i64 {
    app.get(path, Some(reader)).await.expect(200)["places_left"]
        .as_i64()
        .unwrap()
}

/// Reads until two more answers came from memory, each showing `left`.
async fn read_until_cached(app: &TestApp, reader: &Actor, path: &str, left: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let start = metric(&app.metrics().await, CACHE_HITS);
    while metric(&app.metrics().await, CACHE_HITS) < start + 2.0 {
        assert!(Instant::now() < deadline, "the process never cached");
        assert_eq!(places_seen(app, reader, path).await, left);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads until `left` places show, at most 2 s; how long that took.
async fn read_until_places(app: &TestApp, reader: &Actor, path: &str, left: i64) -> Duration {
    let since = Instant::now();
    loop {
        let seen = places_seen(app, reader, path).await;
        if seen == left {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(2),
            "the process still shows {seen} places after 2 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn sign_up(app: &TestApp, team: &str, path: &str, name: &str) {
    let volunteer = app.volunteer(name).await;
    app.join(team, &volunteer).await;
    app.post_empty(&format!("{path}/signups"), Some(&volunteer))
        .await
        .expect(201);
}

#[tokio::test]
async fn a_write_on_one_process_reaches_remembered_reads_on_the_other() {
    let Some((_a, _b, app_a, app_b)) = two_processes().await else {
        return;
    };
    let Community {
        team_id: team,
        request_id: request,
        ..
    } = community(&app_a, 3).await;
    let reader = app_b.volunteer("读者").await;
    app_b.join(&team, &reader).await;
    let path = format!("/requests/{request}");

    // Process B answers the reader from memory once its listener is up.
    read_until_cached(&app_b, &reader, &path, 3).await;
    // A sign-up through process A: B's remembered answer is dropped.
    sign_up(&app_a, &team, &path, "报名者").await;
    let delay = read_until_places(&app_b, &reader, &path, 2).await;
    eprintln!("B saw A's write after {delay:?}");
}

#[tokio::test]
async fn a_process_whose_listener_is_cut_serves_no_stale_answer_and_recovers() {
    use sea_orm::{ConnectionTrait, Database};
    let Some((_a, _b, app_a, app_b)) = two_processes().await else {
        return;
    };
    let Community {
        team_id: team,
        request_id: request,
        ..
    } = community(&app_a, 5).await;
    let reader = app_b.volunteer("读者").await;
    app_b.join(&team, &reader).await;
    let path = format!("/requests/{request}");
    read_until_cached(&app_b, &reader, &path, 5).await;

    // Cut every listener (as a database restart or a network cut would),
    // and write at once: B missed the notification, yet shows the write.
    let db = Database::connect(&app_a.database_url).await.unwrap();
    let cut = db
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND (query LIKE 'LISTEN%' OR query LIKE 'SELECT pg_notify%')",
        )
        .await
        .unwrap();
    assert!(cut.rows_affected() >= 1, "no listener found to cut");
    sign_up(&app_a, &team, &path, "报名一").await;
    read_until_places(&app_b, &reader, &path, 4).await;

    // B reconnects, answers from memory again, and follows writes again.
    read_until_cached(&app_b, &reader, &path, 4).await;
    sign_up(&app_a, &team, &path, "报名二").await;
    read_until_places(&app_b, &reader, &path, 3).await;
    db.close().await.unwrap();
}

#[tokio::test]
async fn certificate_checks_share_one_limit_across_two_processes() {
    let Some((_a, _b, app_a, app_b)) =
        two_processes_with(&[("VERIFY_REQUESTS_PER_MINUTE", "10")]).await
    else {
        return;
    };
    let first_minute = chrono::Utc::now().timestamp().div_euclid(60);
    let mut answered = 0;
    for i in 0..30 {
        let app = if i % 2 == 0 { &app_a } else { &app_b };
        let check = app.get("/verify/ZM-0000-0000-0000-0000", None).await;
        match check.status.as_u16() {
            404 => answered += 1,
            429 => assert_eq!(check.code(), "too_many_attempts"),
            other => panic!("{other}: {}", check.body),
        }
    }
    let minutes = chrono::Utc::now().timestamp().div_euclid(60) - first_minute + 1;
    // Each process allows its share (10 / 2), not 10 of its own.
    assert!(
        answered <= 10 * minutes,
        "{answered} answered in {minutes} minute(s)"
    );
    assert!(answered >= 10, "{answered}");
    let rows = crate::secrets::column(
        &app_a.database_url,
        "SELECT address FROM client_attempts WHERE address LIKE 'verify %'",
    )
    .await;
    assert!(rows.len() as i64 <= minutes, "one row a minute: {rows:?}");
}

//! Bounds on guessing and on load: per phone, per client address, and on
//! the password hashes running at once.

use futures::future::join_all;
use serde_json::json;

use crate::helpers::*;

fn wrong_login(phone: &str) -> serde_json::Value {
    json!({"phone": phone, "password": "wrong-password"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_wrong_guesses_get_at_most_five_401s() {
    let app = spawn_app().await;
    let volunteer = app.volunteer("孙丽").await;
    let answers =
        join_all((0..20).map(|_| app.post("/auth/login", None, wrong_login(&volunteer.phone))))
            .await;
    let wrong = answers.iter().filter(|r| r.status == 401).count();
    let locked = answers
        .iter()
        .filter(|r| r.status == 429 && r.code() == "too_many_attempts")
        .count();
    eprintln!("20 parallel guesses: {wrong} × 401, {locked} × 429");
    assert!(wrong <= 5, "{wrong} guesses reached the password check");
    assert_eq!(wrong + locked, 20, "every other answer is 429");
    assert!(
        answers
            .iter()
            .filter(|r| r.status == 429)
            .all(|r| r.headers.contains_key("retry-after"))
    );
    // Whatever the burst left, the phone is not open to more guessing.
    let mut later = Vec::new();
    for _ in wrong..6 {
        later.push(
            app.post("/auth/login", None, wrong_login(&volunteer.phone))
                .await,
        );
    }
    assert_eq!(later.last().unwrap().status, 429);
    let right = app
        .post(
            "/auth/login",
            None,
            json!({"phone": volunteer.phone, "password": PASSWORD}),
        )
        .await;
    assert_eq!(right.status, 429, "locked even for the right password");
}

#[tokio::test]
async fn attempts_from_one_address_are_limited_per_minute() {
    let app = spawn_app_with(&[("LOGIN_ATTEMPTS_PER_MINUTE", "4")]).await;
    // The admin's login counted once. A minute may turn during the
    // burst, so at most two windows' worth gets through.
    let mut answers = Vec::new();
    for i in 0..10 {
        let reply = if i % 2 == 0 {
            app.post("/auth/login", None, wrong_login(&random_phone()))
                .await
        } else {
            app.post(
                "/auth/register",
                None,
                json!({"phone": random_phone(), "password": PASSWORD, "name": "甲"}),
            )
            .await
        };
        answers.push(reply);
    }
    let limited: Vec<&Reply> = answers.iter().filter(|r| r.status == 429).collect();
    assert!(limited.len() >= 2, "{} of 10 limited", limited.len());
    for reply in &limited {
        assert_eq!(reply.code(), "too_many_attempts");
        let retry: i64 = reply.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
    }
    assert!(
        answers
            .iter()
            .all(|r| [201, 401, 429].contains(&r.status.as_u16())),
        "only answers, limits"
    );
    // A forged X-Forwarded-For does not buy a fresh budget: the socket
    // is the client unless it is a trusted proxy.
    let mut forged = Vec::new();
    for i in 0..5 {
        let req = app
            .client
            .post(app.url("/auth/login"))
            .header("X-Forwarded-For", format!("203.0.113.{i}"))
            .json(&wrong_login(&random_phone()));
        forged.push(app.send(req).await.status.as_u16());
    }
    assert!(forged.contains(&429), "{forged:?}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let app = spawn_app_with(&[
        ("LOGIN_ATTEMPTS_PER_MINUTE", "3"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let from = |client: &str| {
        app.client
            .post(app.url("/auth/login"))
            // The client's own claim, then what our proxy saw.
            .header("X-Forwarded-For", format!("198.51.100.1, {client}"))
            .json(&wrong_login(&random_phone()))
    };
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.send(from("203.0.113.7")).await.status.as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(
        app.send(from("203.0.113.8")).await.status,
        401,
        "another client is not held back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn past_the_hashing_queue_registrations_are_told_busy_and_nothing_is_created() {
    let app = spawn_app_with(&[
        ("PASSWORD_HASH_CONCURRENCY", "1"),
        ("PASSWORD_HASH_QUEUE", "1"),
    ])
    .await;
    let phones: Vec<String> = (0..16).map(|_| random_phone()).collect();
    let answers = join_all(phones.iter().map(|phone| {
        app.post(
            "/auth/register",
            None,
            json!({"phone": phone, "password": PASSWORD, "name": "王芳"}),
        )
    }))
    .await;
    let busy: Vec<&String> = phones
        .iter()
        .zip(&answers)
        .filter(|(_, r)| r.status == 503)
        .map(|(phone, _)| phone)
        .collect();
    eprintln!("16 parallel registrations: {} × busy", busy.len());
    assert!(!busy.is_empty(), "some registrations were refused");
    for reply in &answers {
        match reply.status.as_u16() {
            201 => {}
            503 => {
                assert_eq!(reply.code(), "busy");
                assert!(reply.headers.contains_key("retry-after"));
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    for phone in busy {
        let found = app
            .get(&format!("/users?q={phone}"), Some(&app.admin))
            .await
            .expect(200);
        assert!(
            found["items"].as_array().unwrap().is_empty(),
            "a refused registration made an account"
        );
    }
}

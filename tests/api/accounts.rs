//! Registration, login, throttling, tokens and profiles.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_volunteer_registers_and_sees_their_profile() {
    let app = spawn_app().await;
    let phone = random_phone();
    let body = app
        .post(
            "/auth/register",
            None,
            json!({"phone": phone, "password": PASSWORD, "name": "张小明"}),
        )
        .await
        .expect(201);
    assert_eq!(body["user"]["role"], "volunteer");
    assert_eq!(body["user"]["name"], "张小明");
    assert_eq!(body["user"]["approved_hours"], 0.0);
    assert_eq!(body["user"]["star_level"], 0);
    let me = Actor {
        id: id(&body["user"]),
        token: body["access_token"].as_str().unwrap().into(),
        phone,
    };
    let profile = app.get("/me", Some(&me)).await.expect(200);
    assert_eq!(profile["id"], body["user"]["id"]);
    assert!(profile.get("password_hash").is_none());
    assert!(profile["created_at"].as_str().unwrap().ends_with("+08:00"));
}

#[tokio::test]
async fn registration_refuses_bad_phones_short_passwords_and_taken_phones() {
    let app = spawn_app().await;
    for phone in ["12345678901", "1380013800", "+8613800138000", "1380013800x"] {
        let r = app
            .post(
                "/auth/register",
                None,
                json!({"phone": phone, "password": PASSWORD, "name": "甲"}),
            )
            .await;
        assert_eq!(r.status, 422, "{phone}");
        assert_eq!(r.body["error"]["details"][0]["field"], "phone");
    }
    let r = app
        .post(
            "/auth/register",
            None,
            json!({"phone": random_phone(), "password": "short", "name": "甲"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["error"]["details"][0]["field"], "password");

    let v = app.volunteer("甲").await;
    let r = app
        .post(
            "/auth/register",
            None,
            json!({"phone": v.phone, "password": PASSWORD, "name": "乙"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "phone_taken");
}

#[tokio::test]
async fn login_answers_with_a_bearer_token_and_refuses_wrong_passwords() {
    let app = spawn_app().await;
    let v = app.volunteer("甲").await;
    let body = app
        .post(
            "/auth/login",
            None,
            json!({"phone": v.phone, "password": PASSWORD}),
        )
        .await
        .expect(200);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    assert_eq!(body["user"]["id"], v.id.as_str());

    let r = app
        .post(
            "/auth/login",
            None,
            json!({"phone": v.phone, "password": "wrong-password"}),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "invalid_credentials");
    let r = app
        .post(
            "/auth/login",
            None,
            json!({"phone": random_phone(), "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "invalid_credentials");
}

#[tokio::test]
async fn five_failures_lock_a_phone_even_for_the_right_password() {
    let app = spawn_app().await;
    let v = app.volunteer("甲").await;
    let other = app.volunteer("乙").await;
    for _ in 0..5 {
        let r = app
            .post(
                "/auth/login",
                None,
                json!({"phone": v.phone, "password": "wrong-password"}),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = app
        .post(
            "/auth/login",
            None,
            json!({"phone": v.phone, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.code(), "too_many_attempts");
    assert!(r.headers.get("retry-after").is_some());
    // Other phones are not affected.
    app.post(
        "/auth/login",
        None,
        json!({"phone": other.phone, "password": PASSWORD}),
    )
    .await
    .expect(200);
}

fn b64(value: serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn claims(sub: &str, iat: i64, exp: i64) -> serde_json::Value {
    json!({"sub": sub, "iat": iat, "exp": exp, "iss": "volunteer-service", "aud": "volunteer-app", "role": "admin"})
}

fn sign(claims: &serde_json::Value, secret: &[u8]) -> String {
    use jsonwebtoken::{EncodingKey, Header, encode};
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn forged_expired_and_unsigned_tokens_get_401() {
    let app = spawn_app().await;
    let v = app.volunteer("甲").await;
    let now = chrono::Utc::now().timestamp();
    let good_secret = b"test-secret-that-is-long-enough-for-hs256";
    // Sanity: a token we sign the same way is accepted.
    let ok = sign(&claims(&v.id, now, now + 600), good_secret);
    let actor = |token: String| Actor {
        id: v.id.clone(),
        token,
        phone: v.phone.clone(),
    };
    app.get("/me", Some(&actor(ok))).await.expect(200);

    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(claims(&v.id, now, now + 600))
    );
    let expired = sign(&claims(&v.id, now - 7200, now - 3600), good_secret);
    let other_key = sign(&claims(&v.id, now, now + 600), b"another-secret");
    let mut no_aud = claims(&v.id, now, now + 600);
    no_aud.as_object_mut().unwrap().remove("aud");
    let no_aud = sign(&no_aud, good_secret);
    for token in [unsigned, expired, other_key, no_aud, "garbage".to_string()] {
        let r = app.get("/me", Some(&actor(token.clone()))).await;
        assert_eq!(r.status, 401, "{token}");
        assert_eq!(r.code(), "unauthorized");
    }
    let r = app.get("/me", None).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn a_volunteer_updates_skills_location_and_availability() {
    let app = spawn_app().await;
    let v = app.volunteer("甲").await;
    let body = app
        .patch(
            "/me",
            Some(&v),
            json!({
                "name": "甲乙丙",
                "skills": ["meal_delivery", "companionship"],
                "location": {"lat": 39.92, "lng": 116.40},
                "availability": [{"weekday": 2, "start": "08:00", "end": "12:00"}]
            }),
        )
        .await
        .expect(200);
    assert_eq!(body["name"], "甲乙丙");
    assert_eq!(body["skills"].as_array().unwrap().len(), 2);
    assert_eq!(body["location"]["lat"], 39.92);
    assert_eq!(body["availability"][0]["weekday"], 2);
    // null clears the location; absent fields stay.
    let body = app
        .patch("/me", Some(&v), json!({"location": null}))
        .await
        .expect(200);
    assert!(body["location"].is_null());
    assert_eq!(body["name"], "甲乙丙");

    for (bad, field) in [
        (json!({"skills": ["flying"]}), "skills[0]"),
        (json!({"location": {"lat": 91, "lng": 0}}), "location.lat"),
        (
            json!({"availability": [{"weekday": 8, "start": "08:00", "end": "09:00"}]}),
            "availability[0]",
        ),
        (
            json!({"availability": [{"weekday": 1, "start": "10:00", "end": "09:00"}]}),
            "availability[0]",
        ),
        (json!({"name": ""}), "name"),
    ] {
        let r = app.patch("/me", Some(&v), bad.clone()).await;
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(r.body["error"]["details"][0]["field"], field, "{bad}");
    }
    let body = app.get("/me", Some(&v)).await.expect(200);
    assert_eq!(
        body["skills"].as_array().unwrap().len(),
        2,
        "refused changes change nothing"
    );
}

#[tokio::test]
async fn admins_create_staff_accounts_and_others_cannot() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let me = app.get("/me", Some(&caseworker)).await.expect(200);
    assert_eq!(me["role"], "caseworker");
    let manager = app.staff("manager", "李经理").await;
    let body =
        json!({"phone": random_phone(), "password": PASSWORD, "name": "钱", "role": "admin"});
    assert_eq!(
        app.post("/users", Some(&manager), body.clone())
            .await
            .status,
        403
    );
    let r = app
        .post(
            "/users",
            Some(&app.admin),
            json!({"phone": random_phone(), "password": PASSWORD, "name": "钱", "role": "king"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["error"]["details"][0]["field"], "role");
}

#[tokio::test]
async fn the_bootstrap_admin_is_never_overwritten() {
    let app = spawn_app().await;
    let settings = api::Settings::from_lookup(|key| match key {
        "DATABASE_URL" => Some(app.database_url.clone()),
        "BIND_ADDR" => Some("127.0.0.1:0".into()),
        // Required on PostgreSQL.
        "JWT_SECRET" => Some("another-secret-of-at-least-32-bytes".into()),
        "BOOTSTRAP_ADMIN_PHONE" => Some(ADMIN_PHONE.into()),
        "BOOTSTRAP_ADMIN_PASSWORD" => Some("a-different-password".into()),
        _ => None,
    })
    .unwrap();
    let again = api::Application::build(settings).await.unwrap();
    drop(again);
    app.login(ADMIN_PHONE, ADMIN_PASSWORD).await;
    let r = app
        .post(
            "/auth/login",
            None,
            json!({"phone": ADMIN_PHONE, "password": "a-different-password"}),
        )
        .await;
    assert_eq!(r.status, 401);
}

//! Recurrence rules the server can read back: ASCII only, refused with
//! `invalid_rrule` and nothing stored when the stored text would not read
//! back as the same rule; `starts_on` within a year back and two ahead;
//! and a visit maker that skips a pairing it cannot process and goes on
//! with the others.

use std::time::{Duration, Instant};

use chrono::{Months, NaiveDate};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::helpers::*;

struct Scene {
    caseworker: Actor,
    team_id: String,
    resident_id: String,
}

async fn scene(app: &TestApp) -> Scene {
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let team = app.team(&manager, json!({})).await;
    let resident = app.resident(&caseworker, json!({})).await;
    Scene {
        caseworker,
        team_id: id(&team),
        resident_id: id(&resident),
    }
}

fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

fn pairing(s: &Scene, rrule: &str, starts_on: NaiveDate) -> Value {
    json!({
        "resident_id": s.resident_id,
        "team_id": s.team_id,
        "category": "home_visit",
        "title": "每周探访王阿姨",
        "rrule": rrule,
        "start_time": "09:30",
        "duration_minutes": 60,
        "volunteers_needed": 1,
        "starts_on": starts_on.format("%Y-%m-%d").to_string(),
    })
}

async fn visits(app: &TestApp, actor: &Actor, pairing: &str) -> Vec<Value> {
    app.get(
        &format!("/requests?pairing_id={pairing}&limit=100"),
        Some(actor),
    )
    .await
    .expect(200)["items"]
        .as_array()
        .expect("items")
        .clone()
}

async fn pairings_of(app: &TestApp, s: &Scene) -> Vec<Value> {
    app.get(
        &format!("/pairings?resident_id={}", s.resident_id),
        Some(&s.caseworker),
    )
    .await
    .expect(200)["items"]
        .as_array()
        .expect("items")
        .clone()
}

#[tokio::test]
async fn a_rule_with_letters_that_fold_into_ascii_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let tomorrow = today() + chrono::Duration::days(1);
    for sneaky in [
        // Dotless ı: the rule library reads BYMINUTE.
        "FREQ=DAILY;BYM\u{131}NUTE=0,30",
        // Long s: BYSECOND.
        "FREQ=DAILY;BY\u{17f}ECOND=0",
        // Kelvin sign for K.
        "FREQ=WEEKLY;WKST=SU;BYDAY=\u{212a}O",
    ] {
        let refused = app
            .post(
                "/pairings",
                Some(&s.caseworker),
                pairing(&s, sneaky, tomorrow),
            )
            .await;
        assert_eq!(refused.status, 422, "{sneaky}: {}", refused.body);
        assert_eq!(refused.code(), "invalid_rrule", "{sneaky}");
    }
    assert_eq!(pairings_of(&app, &s).await, Vec::<Value>::new());

    // A pairing made afterwards gets its visits.
    let made = app
        .post(
            "/pairings",
            Some(&s.caseworker),
            pairing(&s, "FREQ=DAILY;COUNT=3", tomorrow),
        )
        .await
        .expect(201);
    let pairing_id = id(&made);
    assert_eq!(visits(&app, &s.caseworker, &pairing_id).await.len(), 3);
    assert_eq!(pairings_of(&app, &s).await.len(), 1);

    // PATCH applies the same check and keeps the rule it had.
    let refused = app
        .patch(
            &format!("/pairings/{pairing_id}"),
            Some(&s.caseworker),
            json!({"rrule": "FREQ=DAILY;BY\u{17f}ECOND=0"}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.code(), "invalid_rrule");
    let kept = app
        .get(&format!("/pairings/{pairing_id}"), Some(&s.caseworker))
        .await
        .expect(200);
    assert_eq!(kept["rrule"], "FREQ=DAILY;COUNT=3");
    assert_eq!(visits(&app, &s.caseworker, &pairing_id).await.len(), 3);
}

#[tokio::test]
async fn the_first_monday_of_the_month_is_stored_as_the_first_monday() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let made = app
        .post(
            "/pairings",
            Some(&s.caseworker),
            pairing(&s, "FREQ=MONTHLY;BYDAY=+1MO", today()),
        )
        .await
        .expect(201);
    assert_eq!(made["rrule"], "FREQ=MONTHLY;BYDAY=1MO");
    // At most one visit in the default four weeks (every Monday would
    // make four).
    let made = visits(&app, &s.caseworker, &id(&made)).await;
    assert!(made.len() <= 1, "{} visits", made.len());
}

#[tokio::test]
async fn starts_on_lies_within_a_year_before_and_two_years_after_today() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let today = today();
    let latest = today.checked_add_months(Months::new(24)).unwrap();
    let earliest = today.checked_sub_months(Months::new(12)).unwrap();
    for day in [
        latest + chrono::Duration::days(1),
        earliest - chrono::Duration::days(1),
    ] {
        let refused = app
            .post(
                "/pairings",
                Some(&s.caseworker),
                pairing(&s, "FREQ=WEEKLY", day),
            )
            .await;
        assert_eq!(refused.status, 422, "{day}: {}", refused.body);
        assert_eq!(refused.code(), "validation_failed");
        assert_eq!(refused.body["error"]["details"][0]["field"], "starts_on");
    }
    assert_eq!(pairings_of(&app, &s).await, Vec::<Value>::new());
    for day in [latest, earliest] {
        app.post(
            "/pairings",
            Some(&s.caseworker),
            pairing(&s, "FREQ=WEEKLY", day),
        )
        .await
        .expect(201);
    }
}

/// Overwrites a pairing's stored rule, as a faulty migration or a manual
/// edit of the database might.
async fn corrupt_rule(database_url: &str, pairing: &str, rule: &str) {
    let db = Database::connect(database_url).await.unwrap();
    let update = Query::update()
        .table(Alias::new("pairings"))
        .value(Alias::new("rrule"), rule)
        .and_where(ExprTrait::eq(
            Expr::col(Alias::new("id")),
            uuid::Uuid::parse_str(pairing).unwrap(),
        ))
        .to_owned();
    let done = db.execute(&update).await.unwrap();
    assert_eq!(done.rows_affected(), 1);
    db.close().await.unwrap();
}

#[tokio::test]
async fn the_visit_maker_skips_a_pairing_it_cannot_read_and_makes_the_others_visits() {
    // First a one-day horizon: pairings starting in three days have no
    // visit yet, so the visit maker is the one to make them.
    let first =
        spawn_app_with(&[("PAIRING_HORIZON_DAYS", "1"), ("PAIRING_TICK_SECS", "3600")]).await;
    let s = scene(&first).await;
    let starts_on = today() + chrono::Duration::days(3);
    let mut made = Vec::new();
    for _ in 0..3 {
        let pairing = first
            .post(
                "/pairings",
                Some(&s.caseworker),
                pairing(&s, "FREQ=DAILY;COUNT=5", starts_on),
            )
            .await
            .expect(201);
        assert!(
            visits(&first, &s.caseworker, &id(&pairing))
                .await
                .is_empty()
        );
        made.push(id(&pairing));
    }
    // The oldest, which the visit maker reaches first, holds a rule the
    // server cannot read.
    corrupt_rule(&first.database_url, &made[0], "FREQ=DAILY;BYMINUTE=0,30").await;

    let second = spawn_on(
        &first.database_url,
        &[("PAIRING_HORIZON_DAYS", "40"), ("PAIRING_TICK_SECS", "1")],
    )
    .await;
    let caseworker = second.login(&s.caseworker.phone, PASSWORD).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    for pairing in &made[1..] {
        while visits(&second, &caseworker, pairing).await.len() < 5 {
            assert!(Instant::now() < deadline, "{pairing} got no visits");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(visits(&second, &caseworker, &made[0]).await.is_empty());
    let skipped = metric(&second.metrics().await, "pairing_visits_skipped_total");
    assert!(skipped >= 1.0, "skipped {skipped}");
    // The pairing itself still reads; the answer shows what is stored.
    let broken = second
        .get(&format!("/pairings/{}", made[0]), Some(&caseworker))
        .await
        .expect(200);
    assert_eq!(broken["rrule"], "FREQ=DAILY;BYMINUTE=0,30");
}

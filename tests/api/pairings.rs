//! Pairings (结对帮扶): a resident visited by one team on a recurrence
//! rule; every visit is an ordinary request carrying `pairing_id`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::process::{ServerProcess, on_postgres};

struct Pairing {
    manager: Actor,
    caseworker: Actor,
    team_id: String,
    resident_id: String,
    member: Actor,
}

async fn setup(app: &TestApp) -> Pairing {
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let team = app.team(&manager, json!({})).await;
    let resident = app.resident(&caseworker, json!({})).await;
    let member = app.volunteer("常来的志愿者").await;
    app.join(&id(&team), &member).await;
    Pairing {
        manager,
        caseworker,
        team_id: id(&team),
        resident_id: id(&resident),
        member,
    }
}

fn body(p: &Pairing, rrule: &str, starts_on: NaiveDate, overrides: Value) -> Value {
    let mut body = json!({
        "resident_id": p.resident_id,
        "team_id": p.team_id,
        "category": "home_visit",
        "title": "每周探访王阿姨",
        "description": "量血压，陪聊天",
        "rrule": rrule,
        "start_time": "09:30",
        "duration_minutes": 90,
        "volunteers_needed": 2,
        "starts_on": starts_on.format("%Y-%m-%d").to_string(),
    });
    merge(&mut body, overrides);
    body
}

/// The pairing's visits as `actor` lists them, earliest first.
async fn visits(app: &TestApp, actor: &Actor, pairing: &str) -> Vec<Value> {
    let page = app
        .get(
            &format!("/requests?pairing_id={pairing}&limit=100"),
            Some(actor),
        )
        .await
        .expect(200);
    let mut items = page["items"].as_array().expect("items").clone();
    items.sort_by_key(|v| {
        chrono::DateTime::parse_from_rfc3339(v["starts_at"].as_str().expect("starts_at"))
            .expect("RFC 3339")
    });
    items
}

fn starts(visits: &[Value]) -> Vec<String> {
    visits
        .iter()
        .map(|v| v["starts_at"].as_str().expect("starts_at").to_string())
        .collect()
}

fn today_in(tz: Tz) -> NaiveDate {
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

/// `09:30` on `day` in `tz`, as the API writes times.
fn local_930(tz: Tz, day: NaiveDate) -> String {
    tz.from_local_datetime(&day.and_hms_opt(9, 30, 0).expect("a time"))
        .single()
        .expect("09:30 exists")
        .fixed_offset()
        .to_rfc3339()
}

fn first_of_next_month(day: NaiveDate) -> NaiveDate {
    let (y, m) = if day.month() == 12 {
        (day.year() + 1, 1)
    } else {
        (day.year(), day.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).expect("a date")
}

#[tokio::test]
async fn a_weekly_pairing_makes_exactly_its_visits_across_a_month_boundary() {
    let app = spawn_app_with(&[("PAIRING_HORIZON_DAYS", "70")]).await;
    let p = setup(&app).await;
    let tz = chrono_tz::Asia::Shanghai;
    // Four weekly visits, two before the first of a month and two after.
    let boundary = first_of_next_month(today_in(tz) + chrono::Duration::days(11));
    let starts_on = boundary - chrono::Duration::days(10);
    let created = app
        .post(
            "/pairings",
            Some(&p.caseworker),
            body(
                &p,
                "FREQ=WEEKLY;COUNT=4",
                starts_on,
                json!({"regular_volunteer_ids": [p.member.id]}),
            ),
        )
        .await
        .expect(201);
    let pairing = id(&created);
    let expected: Vec<String> = (0..4)
        .map(|week| local_930(tz, starts_on + chrono::Duration::days(7 * week)))
        .collect();
    assert_eq!(created["active"], true);
    assert_eq!(created["next_occurrence_at"], json!(expected[0]));
    assert_eq!(created["regular_volunteer_ids"], json!([p.member.id]));
    assert_eq!(created["visits_completed"], 0);
    assert_eq!(created["visits_missed"], 0);
    assert_eq!(created["approved_hours"], 0.0);
    assert_eq!(created["last_visit_at"], Value::Null);

    let listed = visits(&app, &p.caseworker, &pairing).await;
    assert_eq!(starts(&listed), expected, "exactly the four visits");
    for visit in &listed {
        assert_eq!(visit["status"], "assigned");
        assert_eq!(visit["team_id"], json!(p.team_id));
        assert_eq!(visit["title"], "每周探访王阿姨");
        // The regular volunteer holds a place on each.
        assert_eq!(visit["signups_count"], 1);
        let ends = chrono::DateTime::parse_from_rfc3339(visit["ends_at"].as_str().unwrap())
            .unwrap()
            - chrono::DateTime::parse_from_rfc3339(visit["starts_at"].as_str().unwrap()).unwrap();
        assert_eq!(ends.num_minutes(), 90);
    }
    // The member sees them as their own team's requests, signed up.
    let seen = visits(&app, &p.member, &pairing).await;
    assert_eq!(seen.len(), 4);
    let mine = app
        .get(&format!("/requests/{}", id(&seen[0])), Some(&p.member))
        .await
        .expect(200);
    assert!(mine["resident"]["address"].is_string(), "signed up: {mine}");

    // Reading the pairing: the team's member sees the resident masked.
    let as_member = app
        .get(&format!("/pairings/{pairing}"), Some(&p.member))
        .await
        .expect(200);
    assert!(as_member["resident"]["address"].is_null(), "{as_member}");
    assert_eq!(as_member["resident"]["masked_name"], "王**");
    let as_caseworker = app
        .get(&format!("/pairings/{pairing}"), Some(&p.caseworker))
        .await
        .expect(200);
    assert!(as_caseworker["resident"]["address"].is_string());
    let outsider = app.volunteer("路人").await;
    app.get(&format!("/pairings/{pairing}"), Some(&outsider))
        .await
        .expect(404);
    let none = app.get("/pairings", Some(&outsider)).await.expect(200);
    assert_eq!(none["items"], json!([]));
    let listed = app
        .get(
            &format!("/pairings?resident_id={}&active=true", p.resident_id),
            Some(&p.manager),
        )
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

/// The first day at or after `from` whose noon offset differs from the
/// day before's: a daylight-saving change.
fn next_offset_change(tz: Tz, from: NaiveDate) -> NaiveDate {
    let offset = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(12, 0, 0).unwrap())
            .single()
            .unwrap()
            .fixed_offset()
            .offset()
            .local_minus_utc()
    };
    let mut day = from;
    while offset(day) == offset(day - chrono::Duration::days(1)) {
        day += chrono::Duration::days(1);
    }
    day
}

#[tokio::test]
async fn visits_keep_their_wall_clock_time_across_a_daylight_saving_change() {
    let app = spawn_app_with(&[
        ("TIME_ZONE", "Europe/Berlin"),
        ("PAIRING_HORIZON_DAYS", "366"),
    ])
    .await;
    let p = setup(&app).await;
    let tz = chrono_tz::Europe::Berlin;
    let change = next_offset_change(tz, today_in(tz) + chrono::Duration::days(16));
    let starts_on = change - chrono::Duration::days(14);
    let created = app
        .post(
            "/pairings",
            Some(&p.caseworker),
            body(&p, "FREQ=WEEKLY;COUNT=4", starts_on, json!({})),
        )
        .await
        .expect(201);
    let expected: Vec<String> = (0..4)
        .map(|week| local_930(tz, starts_on + chrono::Duration::days(7 * week)))
        .collect();
    assert_ne!(
        &expected[0][19..],
        &expected[3][19..],
        "the offset changes between the first and the last visit"
    );
    let listed = visits(&app, &p.caseworker, &id(&created)).await;
    assert_eq!(starts(&listed), expected, "09:30 local before and after");
}

#[tokio::test]
async fn editing_remakes_only_the_visits_nobody_chose_and_ending_cancels_the_rest() {
    let app = spawn_app().await;
    let p = setup(&app).await;
    let tz = chrono_tz::Asia::Shanghai;
    let starts_on = today_in(tz) + chrono::Duration::days(1);
    let pairing = id(&app
        .post(
            "/pairings",
            Some(&p.caseworker),
            body(&p, "FREQ=WEEKLY;COUNT=3", starts_on, json!({})),
        )
        .await
        .expect(201));
    let before = visits(&app, &p.caseworker, &pairing).await;
    assert_eq!(before.len(), 3);
    // The member chooses the second visit.
    let chosen = id(&before[1]);
    app.post_empty(&format!("/requests/{chosen}/signups"), Some(&p.member))
        .await
        .expect(201);

    let other = app.staff("caseworker", "钱社工").await;
    let refused = app
        .patch(
            &format!("/pairings/{pairing}"),
            Some(&other),
            json!({"start_time": "14:00"}),
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.code(), "not_your_pairing");
    let unreadable = app
        .patch(
            &format!("/pairings/{pairing}"),
            Some(&p.caseworker),
            json!({"rrule": "FREQ=SOMETIMES"}),
        )
        .await;
    assert_eq!(unreadable.status, 422);
    assert_eq!(unreadable.code(), "invalid_rrule");

    let edited = app
        .patch(
            &format!("/pairings/{pairing}"),
            Some(&p.caseworker),
            json!({"start_time": "14:00", "title": "每周下午探访"}),
        )
        .await
        .expect(200);
    assert_eq!(edited["start_time"], "14:00");
    let after = visits(&app, &p.caseworker, &pairing).await;
    let ids: HashSet<String> = after.iter().map(id).collect();
    // The chosen visit stays as agreed; the others are made again at 14:00.
    assert!(ids.contains(&chosen));
    for untouched in [id(&before[0]), id(&before[2])] {
        assert!(!ids.contains(&untouched), "{untouched} was remade");
        app.get(&format!("/requests/{untouched}"), Some(&p.caseworker))
            .await
            .expect(404);
    }
    let day = |d: i64| starts_on + chrono::Duration::days(d);
    let at_14 = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(14, 0, 0).unwrap())
            .single()
            .unwrap()
            .fixed_offset()
            .to_rfc3339()
    };
    let mut expected = vec![
        at_14(day(0)),
        local_930(tz, day(7)),
        at_14(day(7)),
        at_14(day(14)),
    ];
    expected.sort();
    assert_eq!(starts(&after), expected);
    for visit in &after {
        let title = if id(visit) == chosen {
            "每周探访王阿姨"
        } else {
            "每周下午探访"
        };
        assert_eq!(visit["title"], title);
    }

    let ended = app
        .post_empty(&format!("/pairings/{pairing}/end"), Some(&p.caseworker))
        .await
        .expect(200);
    assert_eq!(ended["active"], false);
    assert_eq!(ended["next_occurrence_at"], Value::Null);
    for visit in visits(&app, &p.caseworker, &pairing).await {
        assert_eq!(visit["status"], "cancelled", "{visit}");
    }
    let again = app
        .patch(
            &format!("/pairings/{pairing}"),
            Some(&p.caseworker),
            json!({"title": "再改"}),
        )
        .await;
    assert_eq!(again.status, 409);
    let ended_list = app
        .get("/pairings?active=false", Some(&p.manager))
        .await
        .expect(200);
    assert_eq!(ended_list["items"][0]["id"], json!(pairing));
}

#[tokio::test]
async fn a_retired_residents_pairing_ends() {
    let app = spawn_app().await;
    let p = setup(&app).await;
    let starts_on = today_in(chrono_tz::Asia::Shanghai) + chrono::Duration::days(2);
    let pairing = id(&app
        .post(
            "/pairings",
            Some(&p.caseworker),
            body(&p, "FREQ=WEEKLY;BYDAY=TU,FR", starts_on, json!({})),
        )
        .await
        .expect(201));
    // Twice a week over the default 28 days.
    let listed = visits(&app, &p.caseworker, &pairing).await;
    assert!((7..=9).contains(&listed.len()), "{}", listed.len());
    app.patch(
        &format!("/residents/{}", p.resident_id),
        Some(&p.caseworker),
        json!({"active": false}),
    )
    .await
    .expect(200);
    let seen = app
        .get(&format!("/pairings/{pairing}"), Some(&p.caseworker))
        .await
        .expect(200);
    assert_eq!(seen["active"], false);
    for visit in visits(&app, &p.caseworker, &pairing).await {
        assert_eq!(visit["status"], "cancelled");
    }
}

#[tokio::test]
async fn a_pairing_keeps_the_rules_of_requests() {
    let app = spawn_app().await;
    let p = setup(&app).await;
    let starts_on = today_in(chrono_tz::Asia::Shanghai) + chrono::Duration::days(2);
    let unreadable = app
        .post(
            "/pairings",
            Some(&p.caseworker),
            body(&p, "FREQ=HOURLY", starts_on, json!({})),
        )
        .await;
    assert_eq!(unreadable.status, 422);
    assert_eq!(unreadable.code(), "invalid_rrule");
    let unvetted = app
        .team(&p.manager, json!({"name": "新队", "vetted": false}))
        .await;
    let child = app
        .resident(&p.caseworker, json!({"category": "left_behind_child"}))
        .await;
    let refused = app
        .post(
            "/pairings",
            Some(&p.caseworker),
            body(
                &p,
                "FREQ=WEEKLY",
                starts_on,
                json!({"team_id": id(&unvetted), "resident_id": id(&child)}),
            ),
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.code(), "team_not_vetted");
    let stranger = app.volunteer("路人").await;
    let not_member = app
        .post(
            "/pairings",
            Some(&p.caseworker),
            body(
                &p,
                "FREQ=WEEKLY",
                starts_on,
                json!({"regular_volunteer_ids": [stranger.id]}),
            ),
        )
        .await;
    assert_eq!(not_member.status, 422, "{}", not_member.body);
    let volunteer = app
        .post(
            "/pairings",
            Some(&p.member),
            body(&p, "FREQ=WEEKLY", starts_on, json!({})),
        )
        .await;
    assert_eq!(volunteer.status, 403);
}

#[tokio::test]
async fn two_processes_topping_up_at_once_make_each_visit_once() {
    if !on_postgres() {
        eprintln!("skipped: several processes share PostgreSQL, not an SQLite file");
        return;
    }
    let database_url = fresh_database().await;
    // First a short horizon: each pairing has at most its first visit.
    let short = [("PAIRING_HORIZON_DAYS", "1"), ("PAIRING_TICK_SECS", "3600")];
    let first = ServerProcess::start(&database_url, &short);
    let app = first.connect(&database_url).await;
    let p = setup(&app).await;
    let starts_on = today_in(chrono_tz::Asia::Shanghai) + chrono::Duration::days(1);
    let mut pairings = Vec::new();
    for _ in 0..8 {
        let created = app
            .post(
                "/pairings",
                Some(&p.caseworker),
                body(
                    &p,
                    "FREQ=DAILY;COUNT=20",
                    starts_on,
                    json!({"regular_volunteer_ids": [p.member.id]}),
                ),
            )
            .await
            .expect(201);
        pairings.push(id(&created));
    }
    first.terminate();
    // Then two processes with a long horizon start together, and both
    // workers top the same pairings up at the same moment.
    let long = [("PAIRING_HORIZON_DAYS", "40"), ("PAIRING_TICK_SECS", "1")];
    let a = ServerProcess::start(&database_url, &long);
    let b = ServerProcess::start(&database_url, &long);
    let app_a = a.connect(&database_url).await;
    let _app_b = b.connect(&database_url).await;
    let caseworker = app_a.login(&p.caseworker.phone, PASSWORD).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    for pairing in &pairings {
        let mut listed = visits(&app_a, &caseworker, pairing).await;
        while listed.len() < 20 {
            assert!(Instant::now() < deadline, "the workers did not top up");
            tokio::time::sleep(Duration::from_millis(200)).await;
            listed = visits(&app_a, &caseworker, pairing).await;
        }
        let distinct: HashSet<String> = starts(&listed).into_iter().collect();
        assert_eq!(listed.len(), 20, "each visit exactly once");
        assert_eq!(distinct.len(), 20);
        for visit in &listed {
            assert_eq!(visit["signups_count"], 1, "the regular signed up once");
        }
    }
}

/// A visit moved to a past day, as a caseworker does when a visit was
/// rescheduled after the fact.
async fn move_visit(
    app: &TestApp,
    caseworker: &Actor,
    visit: &str,
    days_ago: i64,
) -> (String, String) {
    let start = chrono::Utc::now() - chrono::Duration::days(days_ago);
    let (starts_at, ends_at) = (
        start.to_rfc3339(),
        (start + chrono::Duration::minutes(90)).to_rfc3339(),
    );
    app.patch(
        &format!("/requests/{visit}"),
        Some(caseworker),
        json!({"starts_at": starts_at, "ends_at": ends_at}),
    )
    .await
    .expect(200);
    (starts_at, ends_at)
}

#[tokio::test]
async fn a_caseworker_sees_which_visits_were_made_and_which_were_missed() {
    let app = spawn_app().await;
    let p = setup(&app).await;
    let tz = chrono_tz::Asia::Shanghai;
    let starts_on = today_in(tz) + chrono::Duration::days(1);
    let pairing = id(&app
        .post(
            "/pairings",
            Some(&p.caseworker),
            body(&p, "FREQ=WEEKLY;COUNT=4", starts_on, json!({})),
        )
        .await
        .expect(201));
    let listed = visits(&app, &p.caseworker, &pairing).await;
    assert_eq!(listed.len(), 4);
    let [made, missed, called_off, to_come] = [0, 1, 2, 3].map(|i| id(&listed[i]));

    // Made three days ago: the manager enters the paper sign-in sheet
    // (90 minutes) and the caseworker approves it.
    let (made_at, made_end) = move_visit(&app, &p.caseworker, &made, 3).await;
    let record = app
        .post(
            "/service-records",
            Some(&p.manager),
            json!({"volunteer_id": p.member.id, "request_id": made,
                   "started_at": made_at, "ended_at": made_end, "note": "纸质签到表"}),
        )
        .await
        .expect(201);
    app.post_empty(
        &format!("/service-records/{}/approve", id(&record)),
        Some(&p.caseworker),
    )
    .await
    .expect(200);
    // Due two days ago, nobody went and nothing was recorded.
    move_visit(&app, &p.caseworker, &missed, 2).await;
    // Called off beforehand, then its day passed: not a missed visit.
    move_visit(&app, &p.caseworker, &called_off, 1).await;
    app.post(
        &format!("/requests/{called_off}/cancel"),
        Some(&p.caseworker),
        json!({"reason": "老人住院"}),
    )
    .await
    .expect(200);

    let figures = app
        .get(&format!("/pairings/{pairing}"), Some(&p.caseworker))
        .await
        .expect(200);
    assert_eq!(figures["visits_completed"], 1, "{figures}");
    assert_eq!(figures["visits_missed"], 1, "{figures}");
    assert_eq!(figures["approved_hours"], 1.5);
    let instant = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time")).expect("RFC 3339")
    };
    assert_eq!(
        instant(&figures["last_visit_at"]).timestamp(),
        instant(&json!(made_at)).timestamp()
    );
    assert_eq!(
        figures["next_occurrence_at"], listed[3]["starts_at"],
        "{to_come}"
    );
    // The list shows the same figures, so slipping pairings stand out.
    let page = app
        .get(
            &format!("/pairings?resident_id={}", p.resident_id),
            Some(&p.caseworker),
        )
        .await
        .expect(200);
    assert_eq!(page["items"][0]["visits_missed"], 1);
    assert_eq!(page["items"][0]["visits_completed"], 1);
}

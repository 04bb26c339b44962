//! Vetting holds after the fact, not only at the moment of a sign-up: a
//! check cleared or shortened, a resident recategorised, a start moved, a
//! check that runs out (the daily pass), a member removed, an account
//! disabled — each withdraws what the rule no longer allows, with a
//! `signup.withdrawn` saying why; and reads show a child's address only
//! to a signed-up volunteer whose check covers the visit.

use chrono::{Duration, TimeZone, Timelike};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::process::{ServerProcess, on_postgres};
use crate::receiver::Receiver;

const CHILD_ADDRESS: &str = "幸福里 7 号楼 302";

/// `days` from now (negative: ago) at `hour`:00 Shanghai time, RFC 3339.
fn shanghai(days: i64, hour: u32) -> String {
    let tz = chrono_tz::Asia::Shanghai;
    let day = chrono::Utc::now().with_timezone(&tz).date_naive() + Duration::days(days);
    let at = tz
        .from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
        .single()
        .unwrap();
    at.to_rfc3339()
}

async fn hooked_app() -> TestApp {
    spawn_app_with(&[
        ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
        ("WEBHOOK_RETRY_BASE_MS", "100"),
    ])
    .await
}

/// A generic webhook for `signup.withdrawn`, of `team` when given.
async fn withdrawals_hook(app: &TestApp, receiver: &Receiver, team: Option<&str>) -> String {
    let mut body = json!({"url": receiver.url, "kind": "generic", "events": ["signup.withdrawn"]});
    if let Some(team) = team {
        body["team_id"] = json!(team);
    }
    id(&app
        .post("/webhooks", Some(&app.admin), body)
        .await
        .expect(201))
}

async fn resident(app: &TestApp, c: &Community, category: &str) -> String {
    id(&app
        .resident(
            &c.caseworker,
            json!({"name": "刘小明", "category": category, "address": CHILD_ADDRESS}),
        )
        .await)
}

/// A request for `resident` in `window`, assigned to `team`.
async fn assigned(
    app: &TestApp,
    c: &Community,
    resident: &str,
    team: &str,
    window: Value,
) -> String {
    let request = id(&app.request(&c.caseworker, resident, window).await);
    app.assign(&c.caseworker, &request, team).await;
    request
}

fn days_ahead(days: i64, title: &str) -> Value {
    json!({"starts_at": shanghai(days, 9), "ends_at": shanghai(days, 11), "title": title})
}

/// Started an hour ago, ending in two: still open for check-in.
fn under_way(title: &str) -> Value {
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    json!({
        "starts_at": (now - Duration::hours(1)).with_nanosecond(0).unwrap().to_rfc3339(),
        "ends_at": (now + Duration::hours(2)).with_nanosecond(0).unwrap().to_rfc3339(),
        "title": title,
    })
}

async fn sign_up(app: &TestApp, request: &str, volunteer: &Actor) {
    app.post_empty(&format!("/requests/{request}/signups"), Some(volunteer))
        .await
        .expect(201);
}

async fn read(app: &TestApp, request: &str, reader: &Actor) -> Reply {
    app.get(&format!("/requests/{request}"), Some(reader)).await
}

async fn places(app: &TestApp, request: &str) -> i64 {
    read(app, request, &app.admin).await.expect(200)["signups_count"]
        .as_i64()
        .unwrap()
}

async fn member_status(app: &TestApp, team: &str, who: &Actor) -> Option<String> {
    let listed = app
        .get(&format!("/teams/{team}/members"), Some(&app.admin))
        .await
        .expect(200);
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == who.id.as_str())
        .map(|m| m["status"].as_str().unwrap().to_string())
}

/// The volunteer's calendar feed as text.
async fn calendar(app: &TestApp, volunteer: &Actor) -> String {
    let minted = app
        .post_empty("/me/calendar", Some(volunteer))
        .await
        .expect(201);
    let url = minted["url"].as_str().unwrap();
    let path = &url[url.find("/calendar/").unwrap()..];
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap().replace("\r\n ", "")
}

/// The `signup.withdrawn` bodies received, by volunteer id.
fn withdrawn(received: &[crate::receiver::Received]) -> Vec<(String, String, String)> {
    received
        .iter()
        .filter(|r| r.body["type"] == "signup.withdrawn")
        .map(|r| {
            let data = &r.body["data"];
            (
                data["volunteer_id"].as_str().unwrap().to_string(),
                data["id"].as_str().unwrap().to_string(),
                data["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn clearing_a_check_withdraws_the_sign_up_hides_the_address_and_refuses_check_in() {
    let app = hooked_app().await;
    let (general, team_group) = (Receiver::start().await, Receiver::start().await);
    let c = community(&app, 2).await;
    withdrawals_hook(&app, &general, None).await;
    withdrawals_hook(&app, &team_group, Some(&c.team_id)).await;
    let kid = resident(&app, &c, "left_behind_child").await;
    let upcoming = assigned(&app, &c, &kid, &c.team_id, days_ahead(20, "辅导作业")).await;
    let started = assigned(&app, &c, &kid, &c.team_id, under_way("陪伴玩耍")).await;
    let visited = assigned(&app, &c, &kid, &c.team_id, under_way("上门探望")).await;
    let v = app.volunteer("志愿者").await;
    app.join(&c.team_id, &v).await;
    for request in [&upcoming, &started, &visited] {
        sign_up(&app, request, &v).await;
    }
    let ago = |minutes: i64| (chrono::Utc::now() - Duration::minutes(minutes)).to_rfc3339();
    let record = app
        .post(
            "/service-records",
            Some(&c.caseworker),
            json!({"volunteer_id": v.id, "request_id": visited, "started_at": ago(50), "ended_at": ago(10)}),
        )
        .await
        .expect(201);
    let shown = read(&app, &upcoming, &v).await.expect(200);
    assert_eq!(shown["resident"]["address"], CHILD_ADDRESS);
    assert!(calendar(&app, &v).await.contains(CHILD_ADDRESS));

    app.vet(&v, None).await;

    assert_eq!(places(&app, &upcoming).await, 0, "the place is free again");
    assert_eq!(
        member_status(&app, &c.team_id, &v).await.as_deref(),
        Some("pending")
    );
    // No longer signed up, nor an active member: the request is not theirs
    // to read; and where a visit under way keeps the sign-up, the address
    // is gone from it.
    assert_eq!(read(&app, &upcoming, &v).await.status, 404);
    let kept = read(&app, &started, &v).await.expect(200);
    assert_eq!(kept["resident"]["masked_name"], "刘**");
    assert!(kept["resident"]["address"].is_null(), "{kept}");
    assert!(kept["resident"]["phone"].is_null(), "{kept}");
    assert!(kept["resident"]["location"].is_null(), "{kept}");
    let listed = app.get("/requests?limit=100", Some(&v)).await.expect(200);
    assert!(!listed.to_string().contains(CHILD_ADDRESS), "{listed}");
    let feed = calendar(&app, &v).await;
    assert!(feed.contains("SUMMARY:陪伴玩耍"), "{feed}");
    assert!(!feed.contains("辅导作业"), "withdrawn: {feed}");
    assert!(!feed.contains(CHILD_ADDRESS), "{feed}");
    assert!(!feed.contains("LOCATION"), "{feed}");

    let refused = app
        .post(
            &format!("/requests/{started}/check-in"),
            Some(&v),
            json!({}),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.code(), "volunteer_not_vetted");
    // The hours of a visit the check does not cover are not approved;
    // they can be rejected.
    let approve = format!("/service-records/{}/approve", id(&record));
    let refused = app.post_empty(&approve, Some(&c.manager)).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.code(), "volunteer_not_vetted");
    app.post(
        &format!("/service-records/{}/reject", id(&record)),
        Some(&c.manager),
        json!({"reason": "无犯罪记录证明已失效"}),
    )
    .await
    .expect(200);

    for receiver in [&general, &team_group] {
        let got = receiver.wait_for(1, 15).await;
        assert_eq!(
            withdrawn(&got),
            [(v.id.clone(), upcoming.clone(), "vetting".to_string())],
            "one withdrawal, of the visit not yet started"
        );
        let body = &got[0].body;
        assert_eq!(body["data"]["places_left"], 2);
        assert_eq!(body["data"]["resident"]["masked_name"], "刘**");
        let text = String::from_utf8_lossy(&got[0].raw).to_string();
        assert!(!text.contains(CHILD_ADDRESS), "{text}");
        assert!(!text.contains(&v.phone), "no volunteer's phone: {text}");
    }
}

#[tokio::test]
async fn recategorising_a_resident_as_disabled_takes_the_visits_from_unvetted_hands() {
    let app = hooked_app().await;
    let receiver = Receiver::start().await;
    let c = community(&app, 2).await;
    withdrawals_hook(&app, &receiver, None).await;
    let open_team = id(&app
        .team(&c.manager, json!({"name": "邻里守望队", "vetted": false}))
        .await);
    let resident = resident(&app, &c, "elderly_alone").await;
    let stranger = app.volunteer("未审核").await;
    assert_eq!(
        app.join_pending(&open_team, &stranger).await["status"],
        "active"
    );
    let vetted = app.volunteer("已审核").await;
    app.join(&c.team_id, &vetted).await;
    let with_stranger = assigned(
        &app,
        &c,
        &resident,
        &open_team,
        days_ahead(10, "代购米面油"),
    )
    .await;
    sign_up(&app, &with_stranger, &stranger).await;
    let with_vetted = assigned(&app, &c, &resident, &c.team_id, days_ahead(12, "陪同就医")).await;
    sign_up(&app, &with_vetted, &vetted).await;
    let tomorrow = (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai)
        + Duration::days(1))
    .date_naive();
    let pairing = id(&app
        .post(
            "/pairings",
            Some(&c.caseworker),
            json!({
                "resident_id": resident, "team_id": open_team, "category": "home_visit",
                "title": "每周探访", "rrule": "FREQ=WEEKLY;COUNT=3", "start_time": "09:30",
                "duration_minutes": 60, "volunteers_needed": 1,
                "starts_on": tomorrow.format("%Y-%m-%d").to_string(),
            }),
        )
        .await
        .expect(201));

    app.patch(
        &format!("/residents/{resident}"),
        Some(&c.caseworker),
        json!({"category": "disabled"}),
    )
    .await
    .expect(200);

    let back = read(&app, &with_stranger, &app.admin).await.expect(200);
    assert_eq!(back["status"], "open", "{back}");
    assert!(back["team_id"].is_null(), "{back}");
    assert_eq!(back["signups_count"], 0);
    // Open requests are public: the stranger still reads it, without the
    // address.
    let seen = read(&app, &with_stranger, &stranger).await.expect(200);
    assert!(seen["resident"]["address"].is_null(), "{seen}");
    let ended = app
        .get(&format!("/pairings/{pairing}"), Some(&c.caseworker))
        .await
        .expect(200);
    assert_eq!(ended["active"], false);
    let visits = app
        .get(
            &format!("/requests?pairing_id={pairing}"),
            Some(&c.caseworker),
        )
        .await
        .expect(200);
    let statuses: Vec<&str> = visits["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["cancelled"; 3], "{visits}");
    // The vetted team's visit and its vetted volunteer stay.
    let kept = read(&app, &with_vetted, &vetted).await.expect(200);
    assert_eq!(kept["status"], "assigned");
    assert_eq!(kept["signups_count"], 1);
    assert_eq!(kept["resident"]["address"], CHILD_ADDRESS);

    let got = receiver.wait_for(1, 15).await;
    assert_eq!(
        withdrawn(&got),
        [(
            stranger.id.clone(),
            with_stranger.clone(),
            "vetting".to_string()
        )]
    );
}

#[tokio::test]
async fn moving_a_start_past_a_volunteers_check_withdraws_only_their_sign_up() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let kid = resident(&app, &c, "left_behind_child").await;
    let request = assigned(&app, &c, &kid, &c.team_id, days_ahead(10, "辅导作业")).await;
    let short = app.volunteer("短期").await;
    let long = app.volunteer("长期").await;
    for v in [&short, &long] {
        app.join(&c.team_id, v).await;
    }
    app.vet(&short, Some(&days_from_today(15))).await;
    for v in [&short, &long] {
        sign_up(&app, &request, v).await;
    }
    assert_eq!(places(&app, &request).await, 2);

    app.patch(
        &format!("/requests/{request}"),
        Some(&c.caseworker),
        json!({"starts_at": shanghai(16, 9), "ends_at": shanghai(16, 11)}),
    )
    .await
    .expect(200);

    assert_eq!(places(&app, &request).await, 1);
    let theirs = read(&app, &request, &short).await.expect(200);
    assert!(theirs["resident"]["address"].is_null(), "{theirs}");
    let kept = read(&app, &request, &long).await.expect(200);
    assert_eq!(kept["resident"]["address"], CHILD_ADDRESS);
    // Their check still holds today: still a member, just not for this day.
    assert_eq!(
        member_status(&app, &c.team_id, &short).await.as_deref(),
        Some("active")
    );
}

#[tokio::test]
async fn removing_disabling_and_withdrawing_oneself_each_say_why() {
    let app = hooked_app().await;
    let receiver = Receiver::start().await;
    let c = community(&app, 3).await;
    withdrawals_hook(&app, &receiver, Some(&c.team_id)).await;
    let (leaves, removed, disabled) = (
        app.volunteer("甲").await,
        app.volunteer("乙").await,
        app.volunteer("丙").await,
    );
    for v in [&leaves, &removed, &disabled] {
        app.join(&c.team_id, v).await;
        sign_up(&app, &c.request_id, v).await;
    }

    app.delete(
        &format!("/requests/{}/signups/me", c.request_id),
        Some(&leaves),
    )
    .await
    .expect(204);
    app.delete(
        &format!("/teams/{}/members/{}", c.team_id, removed.id),
        Some(&c.manager),
    )
    .await
    .expect(204);
    app.post_empty(&format!("/users/{}/disable", disabled.id), Some(&app.admin))
        .await
        .expect(200);

    assert_eq!(places(&app, &c.request_id).await, 0);
    let got = receiver.wait_for(3, 15).await;
    let mut reasons = withdrawn(&got);
    reasons.sort();
    let mut expected = vec![
        (
            leaves.id.clone(),
            c.request_id.clone(),
            "volunteer".to_string(),
        ),
        (
            removed.id.clone(),
            c.request_id.clone(),
            "member_removed".to_string(),
        ),
        (
            disabled.id.clone(),
            c.request_id.clone(),
            "account_disabled".to_string(),
        ),
    ];
    expected.sort();
    assert_eq!(reasons, expected);
    for r in &got {
        let text = String::from_utf8_lossy(&r.raw).to_string();
        for v in [&leaves, &removed, &disabled] {
            assert!(!text.contains(&v.phone), "no volunteer's phone: {text}");
        }
        assert!(!text.contains("阳光社区 3 号楼"), "no address: {text}");
    }
}

#[tokio::test]
async fn the_daily_pass_withdraws_when_a_check_runs_out_once_a_day_whoever_runs() {
    let database_url = fresh_database().await;
    let receiver = Receiver::start().await;
    let setup = ServerProcess::start(&database_url, &[]);
    let app = setup.connect(&database_url).await;
    let c = community(&app, 2).await;
    withdrawals_hook(&app, &receiver, None).await;
    let v = app.volunteer("志愿者").await;
    app.join(&c.team_id, &v).await;
    // Valid for three more days; the visit (to an elderly resident, in a
    // vetted team) is in ten.
    app.vet(&v, Some(&days_from_today(3))).await;
    let request = assigned(&app, &c, &c.resident_id, &c.team_id, days_ahead(10, "代购")).await;
    sign_up(&app, &request, &v).await;
    assert_eq!(places(&app, &request).await, 1, "today the check holds");
    let hooks = app.get("/webhooks", Some(&app.admin)).await.expect(200);
    let hook = id(&hooks["items"][0]);
    let mut setup = setup;
    setup.terminate();
    setup.wait_exit(30).await;

    // Five days on, processes come back: the pass runs before they serve.
    let clock = [("CLOCK_START", shanghai(5, 9))];
    let clock: Vec<(&str, &str)> = clock.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut processes = vec![ServerProcess::start(&database_url, &clock)];
    if on_postgres() {
        processes.push(ServerProcess::start(&database_url, &clock));
    } else {
        eprintln!(
            "the_daily_pass…: two processes at once on PostgreSQL only (an SQLite file belongs to one process); restarts instead"
        );
    }
    let mut apps = Vec::new();
    for p in &processes {
        apps.push(p.connect(&database_url).await);
    }
    for app in &apps {
        assert_eq!(places(app, &request).await, 0, "the place is free again");
        assert_eq!(
            member_status(app, &c.team_id, &v).await.as_deref(),
            Some("pending")
        );
    }
    let got = receiver.wait_for(1, 15).await;
    assert_eq!(
        withdrawn(&got),
        [(v.id.clone(), request.clone(), "vetting".to_string())]
    );
    for p in processes.iter_mut() {
        p.terminate();
        p.wait_exit(30).await;
    }

    // Restarted later that day: nothing happens twice.
    let later = [("CLOCK_START", shanghai(5, 15))];
    let later: Vec<(&str, &str)> = later.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let again = ServerProcess::start(&database_url, &later);
    let app = again.connect(&database_url).await;
    let deliveries = app
        .get(&format!("/webhooks/{hook}/deliveries"), Some(&app.admin))
        .await
        .expect(200);
    assert_eq!(
        deliveries["items"].as_array().unwrap().len(),
        1,
        "once: {deliveries}"
    );
    assert_eq!(places(&app, &request).await, 0);
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn switching_a_teams_vetting_rechecks_its_visits_both_ways() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let team = id(&app
        .team(&c.manager, json!({"name": "邻里守望队", "vetted": false}))
        .await);
    let stranger = app.volunteer("未审核").await;
    app.join_pending(&team, &stranger).await;
    let elderly = assigned(&app, &c, &c.resident_id, &team, days_ahead(10, "代购")).await;
    sign_up(&app, &elderly, &stranger).await;

    // Vetted: the stranger is held as pending, and their place freed.
    app.patch(
        &format!("/teams/{team}"),
        Some(&c.manager),
        json!({"vetted": true}),
    )
    .await
    .expect(200);
    assert_eq!(
        member_status(&app, &team, &stranger).await.as_deref(),
        Some("pending")
    );
    assert_eq!(places(&app, &elderly).await, 0);

    // Unvetted again: a child's visit in its hands goes back to open.
    let kid = resident(&app, &c, "left_behind_child").await;
    let visit = assigned(&app, &c, &kid, &team, days_ahead(11, "辅导作业")).await;
    app.patch(
        &format!("/teams/{team}"),
        Some(&c.manager),
        json!({"vetted": false}),
    )
    .await
    .expect(200);
    let back = read(&app, &visit, &app.admin).await.expect(200);
    assert_eq!(back["status"], "open", "{back}");
    assert!(back["team_id"].is_null(), "{back}");
    let kept = read(&app, &elderly, &app.admin).await.expect(200);
    assert_eq!(
        kept["status"], "assigned",
        "an elderly resident's visit stays"
    );
}

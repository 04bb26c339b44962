//! The monthly bulletin (`report.monthly`): sent at 09:00 on the first in
//! `TIME_ZONE`, once however many processes run and however often they
//! restart, and late (once) by a process that was down at 09:00. Time is
//! moved by restarting with `CLOCK_START`, never by waiting.

use chrono::{Datelike, Duration, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::process::{ServerProcess, on_postgres};
use crate::receiver::Receiver;

/// The first of the month after `month` (a local date), at `time`.
fn first_of_next_month(year: i32, month: u32, time: &str) -> String {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    format!("{y:04}-{m:02}-01T{time}+08:00")
}

/// A clock for the processes that set the scene: the middle of this
/// month, when no bulletin is due. On the real clock, a run in the first
/// days of a month would have last month's bulletin go out to the
/// webhook the scene registers, before the test moves the clock.
fn mid_month() -> String {
    let now = Utc::now().with_timezone(&Shanghai);
    format!("{:04}-{:02}-15T12:00:00+08:00", now.year(), now.month())
}

struct Scene {
    webhook: String,
    team_hook: String,
    /// The month the approved record falls in (local): what is reported.
    year: i32,
    month: u32,
}

/// One approved hour of a volunteer's service, a completed visit, and a
/// general and a team webhook that subscribe to the bulletin.
async fn scene(app: &TestApp, receiver: &Receiver, team_receiver: &Receiver) -> Scene {
    let c = community(app, 1).await;
    let volunteer = app.volunteer("张志愿").await;
    app.join(&c.team_id, &volunteer).await;
    let start = Utc::now() - Duration::minutes(90);
    let end = start + Duration::minutes(60);
    let record = app
        .post(
            "/service-records",
            Some(&c.caseworker),
            json!({"volunteer_id": volunteer.id, "request_id": c.request_id,
                   "started_at": start.to_rfc3339(), "ended_at": end.to_rfc3339()}),
        )
        .await
        .expect(201);
    app.post_empty(
        &format!("/service-records/{}/approve", id(&record)),
        Some(&c.manager),
    )
    .await
    .expect(200);
    // A visit that started in the same month, completed.
    let visit = id(&app
        .request(
            &c.caseworker,
            &c.resident_id,
            json!({"starts_at": start.to_rfc3339(), "ends_at": end.to_rfc3339()}),
        )
        .await);
    app.assign(&c.caseworker, &visit, &c.team_id).await;
    app.post_empty(&format!("/requests/{visit}/complete"), Some(&c.caseworker))
        .await
        .expect(200);
    let webhook = app
        .post(
            "/webhooks",
            Some(&app.admin),
            json!({"url": receiver.url, "kind": "generic", "events": ["report.monthly"]}),
        )
        .await
        .expect(201);
    let team_hook = app
        .post(
            "/webhooks",
            Some(&app.admin),
            json!({"url": team_receiver.url, "kind": "generic", "team_id": c.team_id, "events": ["report.monthly"]}),
        )
        .await
        .expect(201);
    let local = Shanghai.from_utc_datetime(&start.naive_utc());
    Scene {
        webhook: id(&webhook),
        team_hook: id(&team_hook),
        year: local.year(),
        month: local.month(),
    }
}

async fn deliveries(app: &TestApp, webhook: &str) -> Vec<Value> {
    app.get(&format!("/webhooks/{webhook}/deliveries"), Some(&app.admin))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn the_bulletin_goes_out_once_at_nine_on_the_first_whoever_runs() {
    let database_url = fresh_database().await;
    let (receiver, team_receiver) = (Receiver::start().await, Receiver::start().await);
    let mut setup = ServerProcess::start(&database_url, &[("CLOCK_START", &mid_month())]);
    let app = setup.connect(&database_url).await;
    let s = scene(&app, &receiver, &team_receiver).await;
    setup.terminate();
    setup.wait_exit(30).await;

    // A minute before nine on the first: not yet. The check runs before
    // a process serves, so this answer already reflects it.
    let early = first_of_next_month(s.year, s.month, "08:59:00");
    let mut before = ServerProcess::start(&database_url, &[("CLOCK_START", &early)]);
    let app = before.connect(&database_url).await;
    assert!(
        deliveries(&app, &s.webhook).await.is_empty(),
        "not before 09:00"
    );
    before.terminate();
    before.wait_exit(30).await;

    // Everything was down at nine; processes come back at 09:20, two at
    // once where they share a database.
    let late = first_of_next_month(s.year, s.month, "09:20:00");
    let clock = [("CLOCK_START", late.as_str())];
    let mut processes = vec![ServerProcess::start(&database_url, &clock)];
    if on_postgres() {
        processes.push(ServerProcess::start(&database_url, &clock));
    } else {
        eprintln!(
            "two processes at once: PostgreSQL only (an SQLite file belongs to one process); restarts instead"
        );
    }
    let mut apps = Vec::new();
    for p in &processes {
        apps.push(p.connect(&database_url).await);
    }
    let got = receiver.wait_for(1, 15).await;
    assert_eq!(got.len(), 1);
    let body = &got[0].body;
    assert_eq!(body["type"], "report.monthly");
    let data = &body["data"];
    assert_eq!(data["month"], format!("{:04}-{:02}", s.year, s.month));
    assert_eq!(data["approved_hours"], 1.0);
    assert_eq!(data["active_volunteers"], 1);
    assert_eq!(data["visits_completed"], 1);
    assert_eq!(data["campaigns"], 0);
    assert_eq!(data["top_teams"][0]["name"], "阳光社区学雷锋志愿服务队");
    assert_eq!(data["top_teams"][0]["hours"], 1.0);
    for p in processes.iter_mut() {
        p.terminate();
        p.wait_exit(30).await;
    }

    // Restarted again later that day: still once.
    let later = first_of_next_month(s.year, s.month, "15:00:00");
    let again = ServerProcess::start(&database_url, &[("CLOCK_START", &later)]);
    let app = again.connect(&database_url).await;
    assert_eq!(deliveries(&app, &s.webhook).await.len(), 1, "once a month");
    assert!(
        deliveries(&app, &s.team_hook).await.is_empty(),
        "a team's group does not get the community's bulletin"
    );
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn every_provider_gets_the_bulletin_in_its_own_format() {
    let database_url = fresh_database().await;
    let (wecom, ding) = (Receiver::start().await, Receiver::start().await);
    let first = ServerProcess::start(&database_url, &[("CLOCK_START", &mid_month())]);
    let app = first.connect(&database_url).await;
    for (receiver, kind) in [(&wecom, "wecom"), (&ding, "dingtalk")] {
        app.post(
            "/webhooks",
            Some(&app.admin),
            json!({"url": format!("{}?key=k", receiver.url), "kind": kind, "events": ["report.monthly"]}),
        )
        .await
        .expect(201);
    }
    drop(first);
    let now = Utc::now().with_timezone(&Shanghai);
    let clock = first_of_next_month(now.year(), now.month(), "09:00:10");
    let second = ServerProcess::start(
        &database_url,
        &[("CLOCK_START", &clock), ("COMMUNITY_NAME", "阳光社区")],
    );
    second.connect(&database_url).await;
    let w = &wecom.wait_for(1, 15).await[0];
    assert_eq!(w.body["msgtype"], "markdown");
    let content = w.body["markdown"]["content"].as_str().unwrap();
    assert!(content.contains("志愿服务月报"), "{content}");
    assert!(
        content.contains(&format!("阳光社区 {}年{}月", now.year(), now.month())),
        "{content}"
    );
    assert!(content.contains("服务时长：0 小时"), "{content}");
    let d = &ding.wait_for(1, 15).await[0];
    assert_eq!(d.body["msgtype"], "text");
    let text = d.body["text"]["content"].as_str().unwrap();
    assert!(text.contains("服务时长前三的队伍：暂无"), "{text}");
}

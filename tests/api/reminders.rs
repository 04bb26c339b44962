//! Timed events (reminder, unfilled alert, no-show) arrive exactly once,
//! across a kill -9 and restart and with two processes at once; sign-ups
//! show how they stand; leaders and managers see members' no-shows.
//!
//! Time moves through the server's own `CLOCK_START`: each
//! restart starts the scheduler later on the clock, never by sleeping.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;
use crate::process::{ServerProcess, on_postgres};
use crate::receiver::{Received, Receiver};

fn at(from_now_secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(from_now_secs)).to_rfc3339()
}

fn of_type<'a>(got: &'a [Received], event: &str) -> Vec<&'a Received> {
    got.iter().filter(|r| r.body["type"] == event).collect()
}

/// Waits until `receiver` holds at least `n` deliveries of `event`.
async fn wait_for_event(receiver: &Receiver, event: &str, n: usize) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = receiver.received();
        if of_type(&got, event).len() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{event} did not arrive: {:?}",
            got.iter()
                .map(|r| r.body["type"].clone())
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Several more ticks of every running scheduler (one a second), so a
/// second sending would have happened.
async fn a_few_ticks() {
    tokio::time::sleep(Duration::from_millis(3_500)).await;
}

/// Starts one process, or two on PostgreSQL, with the server's clock
/// (`CLOCK_START`) `offset` seconds ahead of the real one.
async fn start(database_url: &str, offset: i64) -> (Vec<ServerProcess>, TestApp) {
    let clock = (chrono::Utc::now() + chrono::Duration::seconds(offset)).to_rfc3339();
    let settings = [
        ("SCHEDULER_TICK_SECS", "1"),
        ("CLOCK_START", clock.as_str()),
    ];
    let count = if on_postgres() { 2 } else { 1 };
    let processes: Vec<ServerProcess> = (0..count)
        .map(|_| ServerProcess::start(database_url, &settings))
        .collect();
    let app = processes[0].connect(database_url).await;
    for other in &processes[1..] {
        other.connect(database_url).await;
    }
    (processes, app)
}

fn kill_all(processes: &mut Vec<ServerProcess>) {
    for p in processes.iter_mut() {
        p.child.kill().expect("SIGKILL");
        p.child.wait().expect("reaped");
    }
    processes.clear();
}

#[tokio::test]
async fn reminder_unfilled_alert_and_no_show_each_arrive_once_across_kill_and_restart() {
    if !on_postgres() {
        eprintln!(
            "note: on SQLite one process at a time runs (kill -9 and restarts); two at once only on PostgreSQL"
        );
    }
    let database_url = fresh_database().await;
    let (mut running, app) = start(&database_url, 0).await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let team = id(&app.team(&manager, json!({})).await);
    let resident = id(&app.resident(&caseworker, json!({})).await);
    let leader = app.volunteer("张队长").await;
    app.add_leader(&manager, &team, &leader).await;
    let comes = app.volunteer("刘到场").await;
    let absent = app.volunteer("陈缺席").await;
    let withdraws = app.volunteer("王撤销").await;
    for v in [&comes, &absent, &withdraws] {
        app.join(&team, v).await;
    }
    let team_hook = Receiver::start().await;
    let wecom = Receiver::start().await;
    let general = Receiver::start().await;
    for body in [
        json!({"url": team_hook.url, "kind": "generic", "team_id": team,
               "events": ["signup.reminder", "request.unfilled", "signup.no_show"]}),
        json!({"url": format!("{}?key=robot-key-1234", wecom.url), "kind": "wecom",
               "team_id": team, "events": ["signup.reminder"]}),
        json!({"url": general.url, "kind": "generic", "events": ["request.unfilled"]}),
    ] {
        app.post("/webhooks", Some(&app.admin), body)
            .await
            .expect(201);
    }
    // Three hours ahead, three places: within the day and unfilled
    // however the sign-ups interleave with ticks; the reminder (two
    // hours ahead) is not due yet.
    let request = app
        .request(
            &caseworker,
            &resident,
            json!({"starts_at": at(3 * 3600), "ends_at": at(5 * 3600), "volunteers_needed": 3}),
        )
        .await;
    let request = id(&request);
    app.assign(&caseworker, &request, &team).await;
    let signups = format!("/requests/{request}/signups");
    for v in [&comes, &absent, &withdraws] {
        let signed = app.post_empty(&signups, Some(v)).await.expect(201);
        assert_eq!(signed["status"], "signed_up");
    }
    app.delete(&format!("{signups}/me"), Some(&withdraws))
        .await
        .expect(204);
    app.post_empty(&format!("/requests/{request}/check-in"), Some(&comes))
        .await
        .expect(201);
    let got = wait_for_event(&general, "request.unfilled", 1).await;
    assert_eq!(got[0].body["data"]["id"], request.as_str());
    wait_for_event(&team_hook, "request.unfilled", 1).await;
    assert!(of_type(&team_hook.received(), "signup.reminder").is_empty());

    // Killed; back an hour and a half later: the reminder is due.
    kill_all(&mut running);
    let (mut running, _app) = start(&database_url, 90 * 60).await;
    let got = wait_for_event(&team_hook, "signup.reminder", 1).await;
    let reminder = of_type(&got, "signup.reminder")[0];
    assert_eq!(reminder.body["data"]["id"], request.as_str());
    let mentioned = wait_for(&wecom, 1).await;
    assert_eq!(mentioned[0].body["msgtype"], "text");
    let mut phones: Vec<String> = mentioned[0].body["text"]["mentioned_mobile_list"]
        .as_array()
        .expect("a mention list")
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    phones.sort();
    let mut expected = vec![comes.phone.clone(), absent.phone.clone()];
    expected.sort();
    assert_eq!(
        phones, expected,
        "the signed-up volunteers, not who withdrew"
    );
    let text = mentioned[0].body["text"]["content"].as_str().unwrap();
    assert!(text.contains("服务提醒"), "{text}");

    // Killed again; back 40 minutes after the start: a no-show.
    kill_all(&mut running);
    let (mut running, app) = start(&database_url, 3 * 3600 + 40 * 60).await;
    let got = wait_for_event(&team_hook, "signup.no_show", 1).await;
    let no_show = of_type(&got, "signup.no_show")[0];
    assert_eq!(no_show.body["data"]["volunteer_id"], absent.id.as_str());
    assert_eq!(no_show.body["data"]["status"], "no_show");
    assert_eq!(no_show.body["data"]["request"]["id"], request.as_str());
    a_few_ticks().await;

    // Each exactly once, whatever the ticks, processes and restarts.
    let all = team_hook.received();
    for event in ["request.unfilled", "signup.reminder", "signup.no_show"] {
        assert_eq!(of_type(&all, event).len(), 1, "{event} once");
    }
    assert_eq!(general.received().len(), 1, "one unfilled alert");
    assert_eq!(wecom.received().len(), 1, "one reminder");

    // How each sign-up stands, as the caseworker reads it.
    let caseworker = app.login(&caseworker.phone, PASSWORD).await;
    let list = app.get(&signups, Some(&caseworker)).await.expect(200);
    let status_of = |who: &Actor| -> Value {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["volunteer_id"] == who.id.as_str())
            .map(|s| s["status"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(status_of(&comes), "attended");
    assert_eq!(status_of(&absent), "no_show");
    assert_eq!(status_of(&withdraws), "withdrawn");

    // The no-show in the member list: leaders and managers only.
    let members = format!("/teams/{team}/members");
    let no_shows_seen_by = |body: Value| -> Vec<Value> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["user_id"] == absent.id.as_str())
            .map(|m| m["no_shows"].clone())
            .collect()
    };
    let leader = app.login(&leader.phone, PASSWORD).await;
    let manager = app.login(&manager.phone, PASSWORD).await;
    let member = app.login(&comes.phone, PASSWORD).await;
    for reader in [&leader, &manager] {
        let body = app.get(&members, Some(reader)).await.expect(200);
        assert_eq!(no_shows_seen_by(body), vec![json!(1)]);
    }
    let body = app.get(&members, Some(&member)).await.expect(200);
    assert_eq!(no_shows_seen_by(body), vec![Value::Null], "not for members");
    let list = app.get(&signups, Some(&member)).await;
    assert_eq!(list.status, 403, "a member does not read the sign-ups");
    kill_all(&mut running);
}

async fn wait_for(receiver: &Receiver, n: usize) -> Vec<Received> {
    let got = receiver.wait_for(n, 30).await;
    assert!(got.len() >= n, "{} of {n} arrived", got.len());
    got
}

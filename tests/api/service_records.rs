//! Paper records, approval, rejection, corrections, history, hours and stars.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

fn ago(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).to_rfc3339()
}

struct Setup {
    c: Community,
    volunteer: Actor,
    leader: Actor,
}

async fn setup(app: &TestApp) -> Setup {
    let c = community(app, 2).await;
    let volunteer = app.volunteer("张志愿").await;
    app.join(&c.team_id, &volunteer).await;
    let leader = app.volunteer("刘队长").await;
    app.add_leader(&c.manager, &c.team_id, &leader).await;
    Setup {
        c,
        volunteer,
        leader,
    }
}

async fn paper(
    app: &TestApp,
    by: &Actor,
    volunteer: &Actor,
    request: &str,
    from_min_ago: i64,
    to_min_ago: i64,
) -> crate::helpers::Reply {
    app.post(
        "/service-records",
        Some(by),
        json!({"volunteer_id": volunteer.id, "request_id": request, "started_at": ago(from_min_ago), "ended_at": ago(to_min_ago), "note": "纸质签到表第 3 页"}),
    )
    .await
}

#[tokio::test]
async fn a_caseworker_enters_a_paper_record_with_its_particulars() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let record = paper(
        &app,
        &s.c.caseworker,
        &s.volunteer,
        &s.c.request_id,
        150,
        60,
    )
    .await
    .expect(201);
    assert_eq!(record["status"], "pending");
    assert_eq!(record["source"], "paper");
    assert_eq!(record["minutes"], 90);
    assert_eq!(record["hours"], 1.5);
    assert_eq!(record["team_id"], s.c.team_id.as_str());
    let activity = &record["activity"];
    assert_eq!(activity["recorder"], "赵社工");
    assert_eq!(activity["leader"], "刘队长");
    assert_eq!(activity["place"], "本社区");
    assert!(
        activity["content"]
            .as_str()
            .unwrap()
            .starts_with("上门探访")
    );
}

#[tokio::test]
async fn paper_records_refuse_bad_times_and_overlaps() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let cw = &s.c.caseworker;
    let r = paper(&app, cw, &s.volunteer, &s.c.request_id, -60, -120).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "record_in_future"));
    let r = paper(&app, cw, &s.volunteer, &s.c.request_id, 60, 90).await;
    assert_eq!(r.status, 422, "end before start");
    let r = paper(&app, cw, &s.volunteer, &s.c.request_id, 60 * 26, 60).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "record_too_long"));
    paper(&app, cw, &s.volunteer, &s.c.request_id, 300, 200)
        .await
        .expect(201);
    let r = paper(&app, cw, &s.volunteer, &s.c.request_id, 250, 100).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "overlapping_record"));
    paper(&app, cw, &s.volunteer, &s.c.request_id, 200, 100)
        .await
        .expect(201);
    let r = app.post("/service-records", Some(cw), json!({"volunteer_id": uuid::Uuid::new_v4(), "request_id": s.c.request_id, "started_at": ago(50), "ended_at": ago(40)})).await;
    assert_eq!(r.status, 422);
    assert_eq!(
        paper(&app, &s.volunteer, &s.volunteer, &s.c.request_id, 40, 30)
            .await
            .status,
        403
    );
    let list = app.get("/service-records", Some(cw)).await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn approval_by_the_right_people_grows_approved_hours() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let record = id(&paper(
        &app,
        &s.c.caseworker,
        &s.volunteer,
        &s.c.request_id,
        200,
        80,
    )
    .await
    .expect(201));
    let approve = format!("/service-records/{record}/approve");

    let other_caseworker = app.staff("caseworker", "钱社工").await;
    let stranger = app.volunteer("路人").await;
    assert_eq!(
        app.post_empty(&approve, Some(&other_caseworker))
            .await
            .status,
        403
    );
    assert_eq!(
        app.post_empty(&approve, Some(&s.volunteer)).await.status,
        403,
        "nobody approves their own record"
    );
    assert_eq!(app.post_empty(&approve, Some(&stranger)).await.status, 404);

    let approved = app.post_empty(&approve, Some(&s.leader)).await.expect(200);
    assert_eq!(approved["status"], "approved");
    let me = app.get("/me", Some(&s.volunteer)).await.expect(200);
    assert_eq!(me["approved_hours"], 2.0);
    assert_eq!(
        app.post_empty(&approve, Some(&s.c.manager)).await.status,
        409,
        "approved once"
    );
    let r = app
        .post(
            &format!("/service-records/{record}/reject"),
            Some(&s.c.manager),
            json!({"reason": "重复"}),
        )
        .await;
    assert_eq!(r.status, 409, "an approved record is not rejected in place");
}

#[tokio::test]
async fn a_leader_cannot_approve_their_own_record_but_the_caseworker_can() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    // Entered by the manager: the caseworker did not enter it themselves.
    let leaders_record = id(
        &paper(&app, &s.c.manager, &s.leader, &s.c.request_id, 100, 40)
            .await
            .expect(201),
    );
    let approve = format!("/service-records/{leaders_record}/approve");
    let r = app.post_empty(&approve, Some(&s.leader)).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "own_entry"));
    app.post(&approve, Some(&s.c.caseworker), json!({}))
        .await
        .expect(200);
}

#[tokio::test]
async fn rejection_needs_a_reason_and_frees_the_time() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let record = id(&paper(
        &app,
        &s.c.caseworker,
        &s.volunteer,
        &s.c.request_id,
        100,
        40,
    )
    .await
    .expect(201));
    let reject = format!("/service-records/{record}/reject");
    assert_eq!(
        app.post(&reject, Some(&s.c.manager), json!({"reason": " "}))
            .await
            .status,
        422
    );
    assert_eq!(
        app.post(&reject, Some(&s.c.manager), json!({}))
            .await
            .status,
        422
    );
    let rejected = app
        .post(
            &reject,
            Some(&s.c.manager),
            json!({"reason": "签到表上没有本人签名"}),
        )
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reject_reason"], "签到表上没有本人签名");
    // Rejected records do not count for overlap.
    paper(
        &app,
        &s.c.caseworker,
        &s.volunteer,
        &s.c.request_id,
        100,
        40,
    )
    .await
    .expect(201);
    let me = app.get("/me", Some(&s.volunteer)).await.expect(200);
    assert_eq!(me["approved_hours"], 0.0);
}

#[tokio::test]
async fn a_correction_is_a_new_entry_and_the_history_shows_it_all() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let original = id(&paper(
        &app,
        &s.c.caseworker,
        &s.volunteer,
        &s.c.request_id,
        300,
        180,
    )
    .await
    .expect(201));
    // The leader approves: the caseworker entered it.
    app.post_empty(
        &format!("/service-records/{original}/approve"),
        Some(&s.leader),
    )
    .await
    .expect(200);
    assert_eq!(
        app.get("/me", Some(&s.volunteer)).await.expect(200)["approved_hours"],
        2.0
    );

    let fix = app
        .post(
            &format!("/service-records/{original}/corrections"),
            Some(&s.c.manager),
            json!({"started_at": ago(300), "ended_at": ago(240), "reason": "实际只服务了 1 小时"}),
        )
        .await
        .expect(201);
    assert_eq!(fix["supersedes_id"], original.as_str());
    assert_eq!(fix["status"], "pending");
    let unchanged = app
        .get(&format!("/service-records/{original}"), Some(&s.c.manager))
        .await
        .expect(200);
    assert_eq!(
        unchanged["minutes"], 120,
        "the approved record is never edited in place"
    );
    assert_eq!(unchanged["status"], "approved");
    assert_eq!(
        app.get("/me", Some(&s.volunteer)).await.expect(200)["approved_hours"],
        2.0
    );

    app.post_empty(
        &format!("/service-records/{}/approve", id(&fix)),
        Some(&s.leader),
    )
    .await
    .expect(200);
    assert_eq!(
        app.get("/me", Some(&s.volunteer)).await.expect(200)["approved_hours"],
        1.0,
        "the correction replaces the original"
    );

    let history = app
        .get(
            &format!("/service-records/{original}/history"),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    let actions: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["created", "approved", "corrected"]);
    assert!(
        history["items"][2]["reason"]
            .as_str()
            .unwrap()
            .contains("实际只服务了 1 小时")
    );
    let fix_history = app
        .get(
            &format!("/service-records/{}/history", id(&fix)),
            Some(&s.volunteer),
        )
        .await
        .expect(200);
    let actions: Vec<&str> = fix_history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["created", "approved"]);
}

#[tokio::test]
async fn volunteers_list_only_their_own_records() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let other = app.volunteer("李志愿").await;
    app.join(&s.c.team_id, &other).await;
    paper(
        &app,
        &s.c.caseworker,
        &s.volunteer,
        &s.c.request_id,
        100,
        40,
    )
    .await
    .expect(201);
    let theirs = id(
        &paper(&app, &s.c.caseworker, &other, &s.c.request_id, 100, 40)
            .await
            .expect(201),
    );
    let mine = app
        .get("/service-records", Some(&s.volunteer))
        .await
        .expect(200);
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["volunteer_id"], s.volunteer.id.as_str());
    assert_eq!(
        app.get(
            &format!("/service-records?volunteer_id={}", other.id),
            Some(&s.volunteer)
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.get(&format!("/service-records/{theirs}"), Some(&s.volunteer))
            .await
            .status,
        404
    );
    let all = app
        .get(
            &format!("/service-records?volunteer_id={}&status=pending", other.id),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    let led = app
        .get("/service-records", Some(&s.leader))
        .await
        .expect(200);
    assert_eq!(
        led["items"].as_array().unwrap().len(),
        2,
        "a leader sees the team's records to approve them"
    );
    // Both records started 100 minutes ago: the day filter works on the
    // local (Asia/Shanghai) day they started, which may be yesterday.
    let started = (chrono::Utc::now() - chrono::Duration::minutes(100))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let on_that_day = app
        .get(
            &format!("/service-records?from={started}&to={started}"),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    assert_eq!(on_that_day["items"].as_array().unwrap().len(), 2);
    let day_before = started.pred_opt().unwrap();
    let before = app
        .get(
            &format!("/service-records?to={day_before}"),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    assert_eq!(before["items"].as_array().unwrap().len(), 0);
    let after = app
        .get(
            &format!("/service-records?from={}", started.succ_opt().unwrap()),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    assert_eq!(after["items"].as_array().unwrap().len(), 0);
    assert_eq!(
        app.get("/service-records?from=2026-13-01", Some(&s.c.manager))
            .await
            .status,
        422
    );
}

#[tokio::test]
async fn star_levels_follow_configured_thresholds() {
    let app = spawn_app_with(&[("STAR_THRESHOLDS_HOURS", "1,2,3,4,5")]).await;
    let s = setup(&app).await;
    let approve = |record: Value| {
        let app = &app;
        let by = s.c.manager.clone();
        async move {
            app.post_empty(
                &format!("/service-records/{}/approve", id(&record)),
                Some(&by),
            )
            .await
            .expect(200)
        }
    };
    approve(
        paper(
            &app,
            &s.c.caseworker,
            &s.volunteer,
            &s.c.request_id,
            600,
            470,
        )
        .await
        .expect(201),
    )
    .await;
    let me = app.get("/me", Some(&s.volunteer)).await.expect(200);
    assert_eq!(me["approved_hours"], 2.17);
    assert_eq!(me["star_level"], 2);
    approve(
        paper(
            &app,
            &s.c.caseworker,
            &s.volunteer,
            &s.c.request_id,
            460,
            180,
        )
        .await
        .expect(201),
    )
    .await;
    assert_eq!(
        app.get("/me", Some(&s.volunteer)).await.expect(200)["star_level"],
        5
    );
}

#[tokio::test]
async fn nobody_approves_or_rejects_a_record_they_entered_or_their_own() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let entered = id(&paper(
        &app,
        &s.c.caseworker,
        &s.volunteer,
        &s.c.request_id,
        200,
        140,
    )
    .await
    .expect(201));
    let approve = format!("/service-records/{entered}/approve");
    let reject = format!("/service-records/{entered}/reject");
    for reply in [
        app.post_empty(&approve, Some(&s.c.caseworker)).await,
        app.post(&reject, Some(&s.c.caseworker), json!({"reason": "写错了"}))
            .await,
        app.post_empty(&approve, Some(&s.volunteer)).await,
    ] {
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (403, "own_entry"),
            "{}",
            reply.body
        );
    }
    app.post_empty(&approve, Some(&s.c.manager))
        .await
        .expect(200);

    // A correction is entered by whoever corrects: they do not approve it.
    let fix = id(&app
        .post(
            &format!("/service-records/{entered}/corrections"),
            Some(&s.c.manager),
            json!({"started_at": ago(200), "ended_at": ago(170), "reason": "只服务了半小时"}),
        )
        .await
        .expect(201));
    let r = app
        .post_empty(
            &format!("/service-records/{fix}/approve"),
            Some(&s.c.manager),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "own_entry"));
    app.post_empty(
        &format!("/service-records/{fix}/approve"),
        Some(&s.c.caseworker),
    )
    .await
    .expect(200);
    assert_eq!(
        app.get("/me", Some(&s.volunteer)).await.expect(200)["approved_hours"],
        0.5
    );
}

#[tokio::test]
async fn a_paper_record_is_only_for_an_active_member_of_the_team_or_someone_signed_up() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let stranger = app.volunteer("路人").await;
    let r = paper(&app, &s.c.caseworker, &stranger, &s.c.request_id, 100, 40).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "not_team_member"));
    let records = app
        .get(
            &format!("/service-records?volunteer_id={}", stranger.id),
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    assert!(records["items"].as_array().unwrap().is_empty());
    paper(
        &app,
        &s.c.caseworker,
        &s.volunteer,
        &s.c.request_id,
        100,
        40,
    )
    .await
    .expect(201);
}

/// An approved paper record of 2 hours, and its approved correction.
async fn corrected_once(app: &TestApp, s: &Setup) -> (String, String) {
    let original = id(&paper(
        app,
        &s.c.caseworker,
        &s.volunteer,
        &s.c.request_id,
        600,
        480,
    )
    .await
    .expect(201));
    app.post_empty(
        &format!("/service-records/{original}/approve"),
        Some(&s.c.manager),
    )
    .await
    .expect(200);
    let fix = id(&app
        .post(
            &format!("/service-records/{original}/corrections"),
            Some(&s.c.manager),
            json!({"started_at": ago(600), "ended_at": ago(540), "reason": "实际 1 小时"}),
        )
        .await
        .expect(201));
    app.post_empty(&format!("/service-records/{fix}/approve"), Some(&s.leader))
        .await
        .expect(200);
    (original, fix)
}

#[tokio::test]
async fn only_the_newest_version_of_a_record_is_corrected_so_service_counts_once() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (original, fix) = corrected_once(&app, &s).await;
    let hours =
        || async { app.get("/me", Some(&s.volunteer)).await.expect(200)["approved_hours"].clone() };
    assert_eq!(hours().await, 1.0);

    // Times that overlap nothing live: before this rule, this second
    // correction of the old version was approved and counted as well.
    let r = app
        .post(
            &format!("/service-records/{original}/corrections"),
            Some(&s.c.manager),
            json!({"started_at": ago(530), "ended_at": ago(480), "reason": "再改一次"}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "already_corrected"));
    assert_eq!(hours().await, 1.0);

    // The newest version is corrected as usual.
    let newer = app
        .post(
            &format!("/service-records/{fix}/corrections"),
            Some(&s.c.manager),
            json!({"started_at": ago(600), "ended_at": ago(510), "reason": "实际 1.5 小时"}),
        )
        .await
        .expect(201);
    assert_eq!(newer["supersedes_id"], fix.as_str());
    app.post_empty(
        &format!("/service-records/{}/approve", id(&newer)),
        Some(&s.c.caseworker),
    )
    .await
    .expect(200);
    assert_eq!(hours().await, 1.5);
}

#[tokio::test]
async fn racing_corrections_of_one_record_leave_exactly_one() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let (_, fix) = corrected_once(&app, &s).await;
    let path = format!("/service-records/{fix}/corrections");
    let tries = (0..6).map(|i| {
        let (app, path, by) = (&app, &path, &s.c.manager);
        async move {
            // Disjoint times, so overlap cannot be what refuses them.
            let start = 470 - 20 * i;
            app.post(
                path,
                Some(by),
                json!({"started_at": ago(start), "ended_at": ago(start - 10), "reason": "并发更正"}),
            )
            .await
        }
    });
    let replies = futures::future::join_all(tries).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(
            ["correction_pending", "already_corrected"].contains(&r.code()),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn the_database_itself_refuses_a_second_live_correction_of_a_record() {
    use sea_orm::{ConnectionTrait, Database};
    let app = spawn_app().await;
    let s = setup(&app).await;
    let original = id(&paper(
        &app,
        &s.c.caseworker,
        &s.volunteer,
        &s.c.request_id,
        300,
        200,
    )
    .await
    .expect(201));
    app.post_empty(
        &format!("/service-records/{original}/approve"),
        Some(&s.c.manager),
    )
    .await
    .expect(200);
    let correct = |minutes: i64| {
        let app = &app;
        let path = format!("/service-records/{original}/corrections");
        let by = s.c.manager.clone();
        async move {
            app.post(
                &path,
                Some(&by),
                json!({"started_at": ago(300), "ended_at": ago(300 - minutes), "reason": "更正"}),
            )
            .await
            .expect(201)
        }
    };
    let first = id(&correct(60).await);
    app.post(
        &format!("/service-records/{first}/reject"),
        Some(&s.c.caseworker),
        json!({"reason": "更正也错了"}),
    )
    .await
    .expect(200);
    // A rejected correction frees the record to be corrected again.
    correct(30).await;
    // Reviving the rejected one would give the record two live
    // corrections: the unique index refuses, whatever writes it.
    let db = Database::connect(&app.database_url).await.unwrap();
    let revived = db
        .execute_unprepared(
            "UPDATE service_records SET status = 'pending' WHERE status = 'rejected'",
        )
        .await;
    assert!(revived.is_err(), "two live corrections of one record");
    // The same connection may write what keeps one live correction.
    db.execute_unprepared("UPDATE service_records SET note = 'checked' WHERE status = 'rejected'")
        .await
        .unwrap();
    db.close().await.unwrap();
}

/// The approved minutes `GET /me` shows are kept as records are reviewed
/// (not summed on every read); after approvals, rejections and
/// corrections of corrections they still equal the sum of the approved
/// records that no approved correction replaced, as the record list, the
/// manager's view and the statistics show them.
#[tokio::test]
async fn kept_approved_hours_equal_the_sum_of_the_current_approved_records() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let enter = |from: i64, to: i64| {
        let (app, s) = (&app, &s);
        async move {
            id(&paper(
                app,
                &s.c.caseworker,
                &s.volunteer,
                &s.c.request_id,
                from,
                to,
            )
            .await
            .expect(201))
        }
    };
    let approve = |record: String| {
        let (app, leader) = (&app, &s.leader);
        async move {
            app.post_empty(&format!("/service-records/{record}/approve"), Some(leader))
                .await
                .expect(200);
        }
    };
    let reject = |record: String| {
        let (app, leader) = (&app, &s.leader);
        async move {
            app.post(
                &format!("/service-records/{record}/reject"),
                Some(leader),
                json!({"reason": "签到表上没有这一行"}),
            )
            .await
            .expect(200);
        }
    };
    let correct = |record: String, from: i64, to: i64| {
        let (app, manager) = (&app, &s.c.manager);
        async move {
            id(&app
                .post(
                    &format!("/service-records/{record}/corrections"),
                    Some(manager),
                    json!({"started_at": ago(from), "ended_at": ago(to), "reason": "时间有误"}),
                )
                .await
                .expect(201))
        }
    };
    let shown_minutes = || async {
        let me = app.get("/me", Some(&s.volunteer)).await.expect(200);
        (me["approved_hours"].as_f64().unwrap() * 60.0).round() as i64
    };

    let a = enter(1000, 910).await; // 90
    approve(a).await;
    assert_eq!(shown_minutes().await, 90);
    let b = enter(900, 840).await;
    reject(b).await;
    assert_eq!(shown_minutes().await, 90, "a rejected record never counts");

    let c = enter(800, 680).await; // 120
    approve(c.clone()).await;
    assert_eq!(shown_minutes().await, 210);
    let refused = correct(c.clone(), 800, 740).await;
    reject(refused).await;
    assert_eq!(
        shown_minutes().await,
        210,
        "a rejected correction replaces nothing"
    );
    let c2 = correct(c, 800, 770).await; // 30 instead of 120
    approve(c2.clone()).await;
    assert_eq!(shown_minutes().await, 120);
    let c3 = correct(c2, 800, 700).await; // 100 instead of 30
    approve(c3).await;
    assert_eq!(shown_minutes().await, 190);

    enter(600, 555).await; // pending: not yet
    let e = enter(500, 440).await; // 60
    approve(e.clone()).await;
    correct(e, 500, 450).await; // pending: the original still counts
    let kept = shown_minutes().await;
    assert_eq!(kept, 90 + 100 + 60);

    // The sum over the records as listed: approved, not replaced by an
    // approved correction.
    let list = app
        .get("/service-records?limit=100", Some(&s.volunteer))
        .await
        .expect(200);
    let records = list["items"].as_array().unwrap();
    let replaced: Vec<&Value> = records
        .iter()
        .filter(|r| r["status"] == "approved")
        .map(|r| &r["supersedes_id"])
        .filter(|s| !s.is_null())
        .collect();
    let summed: i64 = records
        .iter()
        .filter(|r| r["status"] == "approved" && !replaced.contains(&&r["id"]))
        .map(|r| r["minutes"].as_i64().unwrap())
        .sum();
    assert_eq!(kept, summed);

    let stats = app
        .get(
            "/stats/service-hours?group_by=volunteer",
            Some(&s.c.manager),
        )
        .await
        .expect(200);
    let mine = stats["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == s.volunteer.id.as_str())
        .unwrap_or_else(|| panic!("the volunteer is missing from {stats}"));
    assert_eq!(mine["minutes"], summed);
    let as_managers_see_it = app
        .get(&format!("/users/{}", s.volunteer.id), Some(&s.c.manager))
        .await
        .expect(200);
    assert_eq!(as_managers_see_it["approved_hours"], 4.17, "250 minutes");
}

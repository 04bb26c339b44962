//! Feedback after a visit (回访): once, after completion, by the right
//! people; a concern reaches the community's general groups without the
//! resident's personal data; statistics by team and month.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::receiver::Receiver;

fn path(request: &str) -> String {
    format!("/requests/{request}/feedback")
}

async fn complete(app: &TestApp, by: &Actor, request: &str) {
    app.post_empty(&format!("/requests/{request}/complete"), Some(by))
        .await
        .expect(200);
}

fn fine() -> Value {
    json!({"satisfaction": 4, "comment": "志愿者很耐心", "concern": false})
}

#[tokio::test]
async fn feedback_is_recorded_once_and_only_after_the_visit() {
    let app = spawn_app().await;
    let c = community(&app, 1).await;
    let early = app
        .post(&path(&c.request_id), Some(&c.caseworker), fine())
        .await;
    assert_eq!(early.status, 409, "{}", early.body);
    assert_eq!(early.code(), "invalid_status");
    complete(&app, &c.caseworker, &c.request_id).await;
    assert_eq!(
        app.get(&path(&c.request_id), Some(&c.caseworker))
            .await
            .status,
        404,
        "no feedback yet"
    );

    for (body, field) in [
        (json!({"satisfaction": 0, "concern": false}), "satisfaction"),
        (json!({"satisfaction": 6, "concern": false}), "satisfaction"),
        (
            json!({"satisfaction": 3, "concern": false, "concern_note": "有情况"}),
            "concern_note",
        ),
        (
            json!({"satisfaction": 3, "concern": false, "comment": "长".repeat(2001)}),
            "comment",
        ),
    ] {
        let reply = app
            .post(&path(&c.request_id), Some(&c.caseworker), body.clone())
            .await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.body);
        assert_eq!(
            reply.body["error"]["details"][0]["field"], field,
            "{}",
            reply.body
        );
    }
    let missing = app
        .post(
            &path(&c.request_id),
            Some(&c.caseworker),
            json!({"satisfaction": 3}),
        )
        .await;
    assert_eq!(missing.status, 422, "concern is required: {}", missing.body);

    let made = app
        .post(&path(&c.request_id), Some(&c.caseworker), fine())
        .await
        .expect(201);
    assert_eq!(made["satisfaction"], 4);
    assert_eq!(made["comment"], "志愿者很耐心");
    assert_eq!(made["concern"], false);
    assert_eq!(made["request_id"], c.request_id.as_str());
    let again = app
        .post(&path(&c.request_id), Some(&c.manager), fine())
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), "feedback_exists");
    let read = app
        .get(&path(&c.request_id), Some(&c.caseworker))
        .await
        .expect(200);
    assert_eq!(read, made);
}

#[tokio::test]
async fn the_caseworker_managers_and_the_teams_leader_read_feedback() {
    let app = spawn_app().await;
    let c = community(&app, 1).await;
    let leader = app.volunteer("刘队长").await;
    app.add_leader(&c.manager, &c.team_id, &leader).await;
    let member = app.volunteer("张队员").await;
    app.join(&c.team_id, &member).await;
    let outsider = app.volunteer("路人").await;
    let other_caseworker = app.staff("caseworker", "钱社工").await;
    complete(&app, &c.caseworker, &c.request_id).await;
    app.post(&path(&c.request_id), Some(&c.manager), fine())
        .await
        .expect(201);
    for (who, status) in [
        (&c.caseworker, 200),
        (&c.manager, 200),
        (&app.admin, 200),
        (&leader, 200),
        (&member, 403),
        (&other_caseworker, 403),
        (&outsider, 404),
    ] {
        let reply = app.get(&path(&c.request_id), Some(who)).await;
        assert_eq!(reply.status, status, "{who:?}: {}", reply.body);
    }
    let posted = app
        .post(&path(&c.request_id), Some(&other_caseworker), fine())
        .await;
    assert_eq!(posted.status, 403);
    assert_eq!(posted.code(), "not_your_request");
}

#[tokio::test]
async fn a_concern_reaches_general_groups_without_the_residents_details() {
    let app = spawn_app_with(&[
        ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
        ("WEBHOOK_RETRY_BASE_MS", "100"),
    ])
    .await;
    let c = community(&app, 1).await;
    let (generic, wecom, team) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    let events = json!(["resident.concern"]);
    app.post(
        "/webhooks",
        Some(&app.admin),
        json!({"url": generic.url, "kind": "generic", "events": events}),
    )
    .await
    .expect(201);
    app.post(
        "/webhooks",
        Some(&app.admin),
        json!({"url": format!("{}?key=k", wecom.url), "kind": "wecom", "events": events}),
    )
    .await
    .expect(201);
    let team_hook = app
        .post(
            "/webhooks",
            Some(&app.admin),
            json!({"url": team.url, "kind": "generic", "team_id": c.team_id, "events": events}),
        )
        .await
        .expect(201);
    complete(&app, &c.caseworker, &c.request_id).await;
    let secret_note = "老人说燃气灶打不着火，家里电话13912345678";
    app.post(
        &path(&c.request_id),
        Some(&c.caseworker),
        json!({"satisfaction": 2, "comment": "老人情绪低落", "concern": true, "concern_note": secret_note}),
    )
    .await
    .expect(201);

    let got = generic.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    let body = &got[0].body;
    assert_eq!(body["type"], "resident.concern");
    assert_eq!(body["data"]["feedback"]["satisfaction"], 2);
    assert_eq!(body["data"]["request"]["id"], c.request_id.as_str());
    let md = &wecom.wait_for(1, 10).await[0];
    let content = md.body["markdown"]["content"].as_str().unwrap();
    assert!(content.contains("回访发现需关注的情况"), "{content}");
    assert!(content.contains("陪王阿姨聊天"), "{content}");
    for received in [&got[0], md] {
        let text = String::from_utf8_lossy(&received.raw);
        for private in [
            "3 号楼",
            "13612345678",
            "11010519491231002X",
            "燃气",
            "13912345678",
            "情绪低落",
        ] {
            assert!(!text.contains(private), "{private} leaked: {text}");
        }
    }
    let team_deliveries = app
        .get(
            &format!("/webhooks/{}/deliveries", id(&team_hook)),
            Some(&app.admin),
        )
        .await
        .expect(200);
    assert_eq!(
        team_deliveries["items"].as_array().unwrap().len(),
        0,
        "a team's group does not hear of concerns"
    );
}

#[tokio::test]
async fn statistics_add_feedback_up_by_team_and_month() {
    let app = spawn_app().await;
    let c = community(&app, 1).await;
    let other = app
        .team(
            &c.manager,
            json!({"name": "邻里守望队", "kind": "neighborhood_watch"}),
        )
        .await;
    let visits = [
        (&c.team_id, "2030-12-03", 5, false),
        (&c.team_id, "2030-12-10", 4, true),
        (&c.team_id, "2031-01-05", 3, false),
        (&id(&other), "2031-01-07", 2, true),
    ];
    for (team, day, satisfaction, concern) in visits {
        let request = id(&app
            .request(
                &c.caseworker,
                &c.resident_id,
                json!({"starts_at": format!("{day}T09:00:00+08:00"), "ends_at": format!("{day}T11:00:00+08:00")}),
            )
            .await);
        app.assign(&c.caseworker, &request, team).await;
        complete(&app, &c.caseworker, &request).await;
        app.post(
            &path(&request),
            Some(&c.caseworker),
            json!({"satisfaction": satisfaction, "concern": concern}),
        )
        .await
        .expect(201);
    }
    let by_team = app
        .get("/stats/feedback?group_by=team", Some(&c.manager))
        .await
        .expect(200);
    let items = by_team["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{by_team}");
    assert_eq!(items[0]["key"], c.team_id.as_str());
    assert_eq!(items[0]["label"], "阳光社区学雷锋志愿服务队");
    assert_eq!(items[0]["responses"], 3);
    assert_eq!(items[0]["satisfaction_avg"], 4.0);
    assert_eq!(items[0]["concerns"], 1);
    assert_eq!(items[1]["label"], "邻里守望队");
    assert_eq!(items[1]["satisfaction_avg"], 2.0);

    let by_month = app
        .get("/stats/feedback?group_by=month", Some(&c.manager))
        .await
        .expect(200);
    let months: Vec<(String, String, i64, f64, i64)> = by_month["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().into(),
                i["label"].as_str().unwrap().into(),
                i["responses"].as_i64().unwrap(),
                i["satisfaction_avg"].as_f64().unwrap(),
                i["concerns"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        months,
        [
            ("2030-12".into(), "2030年12月".into(), 2, 4.5, 1),
            ("2031-01".into(), "2031年1月".into(), 2, 2.5, 1),
        ]
    );
    let december = app
        .get(
            "/stats/feedback?group_by=month&from=2030-12-01&to=2030-12-31",
            Some(&c.manager),
        )
        .await
        .expect(200);
    assert_eq!(december["items"].as_array().unwrap().len(), 1);
    let bad = app
        .get("/stats/feedback?group_by=volunteer", Some(&c.manager))
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let refused = app
        .get("/stats/feedback?group_by=team", Some(&c.caseworker))
        .await;
    assert_eq!(refused.status, 403);
}

//! Campaigns: one request per active resident of the chosen groups, made
//! once however often the phone retries; progress by status; and fair
//! auto-assignment that keeps the vetting rule.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::*;

fn double_ninth(groups: &[&str]) -> Value {
    json!({
        "name": "2030 重阳节敬老活动",
        "resident_categories": groups,
        "category": "home_visit",
        "title": "重阳节上门送温暖",
        "description": "送重阳糕、陪老人聊天",
        "starts_at": "2030-10-05T09:00:00+08:00",
        "ends_at": "2030-10-05T11:00:00+08:00",
        "volunteers_per_request": 2
    })
}

async fn campaign_requests(app: &TestApp, staff: &Actor, campaign: &str) -> Vec<Value> {
    let page = app
        .get(
            &format!("/requests?campaign_id={campaign}&limit=100"),
            Some(staff),
        )
        .await
        .expect(200);
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_campaign_posts_one_request_per_active_resident_of_its_groups_once() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let alone = id(&app.resident(&caseworker, json!({"name": "王秀英"})).await);
    let worker = id(&app
        .resident(
            &caseworker,
            json!({"name": "刘建国", "category": "migrant_worker"}),
        )
        .await);
    let moved_away = id(&app.resident(&caseworker, json!({"name": "张桂兰"})).await);
    app.patch(
        &format!("/residents/{moved_away}"),
        Some(&caseworker),
        json!({"active": false}),
    )
    .await
    .expect(200);
    app.resident(
        &caseworker,
        json!({"name": "李明", "category": "left_behind_child"}),
    )
    .await;

    let body = double_ninth(&["elderly_alone", "migrant_worker"]);
    let post = || {
        app.client
            .post(app.url("/campaigns"))
            .bearer_auth(&manager.token)
            .header("Idempotency-Key", "double-ninth-2030")
            .json(&body)
    };
    let first = app.send(post()).await.expect(201);
    assert_eq!(first["requests"], 2);
    assert_eq!(first["by_status"]["open"], 2);
    assert_eq!(first["volunteers"], 0);
    assert_eq!(first["approved_hours"], 0.0);
    // The phone retries on a flaky network: the same campaign, no new requests.
    let retried = app.send(post()).await.expect(201);
    assert_eq!(retried["id"], first["id"]);
    let campaign = id(&first);

    let posted = campaign_requests(&app, &manager, &campaign).await;
    let mut residents: Vec<String> = posted
        .iter()
        .map(|r| r["resident"]["id"].as_str().unwrap().to_string())
        .collect();
    residents.sort();
    let mut expected = vec![alone.clone(), worker];
    expected.sort();
    assert_eq!(
        residents, expected,
        "none for the retired resident or other groups"
    );
    for request in &posted {
        assert_eq!(request["status"], "open");
        assert_eq!(request["campaign_id"], campaign.as_str());
        assert_eq!(request["title"], "重阳节上门送温暖");
        assert_eq!(request["volunteers_needed"], 2);
    }
    let listed = app.get("/campaigns", Some(&caseworker)).await.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["requests"], 2);

    // The other new filters narrow the list of requests as well.
    let one = app
        .get(&format!("/requests?resident_id={alone}"), Some(&caseworker))
        .await
        .expect(200);
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    let that_day = app
        .get("/requests?from=2030-10-05&to=2030-10-05", Some(&caseworker))
        .await
        .expect(200);
    assert_eq!(that_day["items"].as_array().unwrap().len(), 2);
    let before = app
        .get("/requests?to=2030-10-04", Some(&caseworker))
        .await
        .expect(200);
    assert_eq!(before["items"].as_array().unwrap().len(), 0);
    let backwards = app
        .get("/requests?from=2030-10-05&to=2030-10-04", Some(&caseworker))
        .await;
    assert_eq!(backwards.status.as_u16(), 422);
}

#[tokio::test]
async fn a_campaign_refuses_an_empty_group_list_and_non_managers() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let refused = app
        .post("/campaigns", Some(&manager), double_ninth(&[]))
        .await;
    assert_eq!(refused.status.as_u16(), 422);
    assert!(refused.body.to_string().contains("resident_categories"));
    let refused = app
        .post(
            "/campaigns",
            Some(&caseworker),
            double_ninth(&["elderly_alone"]),
        )
        .await;
    assert_eq!(refused.status.as_u16(), 403);
}

#[tokio::test]
async fn auto_assign_keeps_the_vetting_rule_and_the_fair_share() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let open_team = |name: &'static str| app.team(&manager, json!({"name": name, "vetted": false}));
    let first = id(&open_team("邻里守望一队").await);
    let second = id(&open_team("邻里守望二队").await);
    let vetted = id(&app.team(&manager, json!({"name": "专业服务队"})).await);
    for i in 0..6 {
        app.resident(&caseworker, json!({"name": format!("老人{i}")}))
            .await;
    }
    let mut children = Vec::new();
    for i in 0..2 {
        let child = app
            .resident(
                &caseworker,
                json!({"name": format!("儿童{i}"), "category": "left_behind_child"}),
            )
            .await;
        children.push(id(&child));
    }
    // 30 km away: no team's radius reaches them.
    let far = id(&app
        .resident(
            &caseworker,
            json!({"name": "远郊老人", "location": {"lat": 40.19, "lng": 116.40}}),
        )
        .await);

    let campaign = app
        .post(
            "/campaigns",
            Some(&manager),
            double_ninth(&["elderly_alone", "left_behind_child"]),
        )
        .await
        .expect(201);
    assert_eq!(campaign["requests"], 9);
    let path = format!("/campaigns/{}/auto-assign", id(&campaign));
    let answer = app.post_empty(&path, Some(&manager)).await.expect(200);

    let requests = campaign_requests(&app, &manager, &id(&campaign)).await;
    let resident_of: HashMap<String, String> = requests
        .iter()
        .map(|r| (id(r), r["resident"]["id"].as_str().unwrap().to_string()))
        .collect();
    let unmatched: Vec<&str> = answer["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| resident_of[r.as_str().unwrap()].as_str())
        .collect();
    assert_eq!(unmatched, [far.as_str()]);
    let mut load: HashMap<String, usize> = HashMap::new();
    for pair in answer["assigned"].as_array().unwrap() {
        let team = pair["team_id"].as_str().unwrap().to_string();
        let resident = &resident_of[pair["request_id"].as_str().unwrap()];
        if children.contains(resident) {
            assert_eq!(team, vetted, "a child's visit goes to the vetted team");
        }
        *load.entry(team).or_default() += 1;
    }
    // Eight requests, three teams that could take the elderly's: 3, 3, 2
    // in some order — never one team idle while another has four.
    let mut loads: Vec<usize> = [&first, &second, &vetted]
        .iter()
        .map(|t| load.get(*t).copied().unwrap_or(0))
        .collect();
    loads.sort();
    assert_eq!(loads, [2, 3, 3]);

    let progress = app
        .get(&format!("/campaigns/{}", id(&campaign)), Some(&caseworker))
        .await
        .expect(200);
    assert_eq!(progress["by_status"]["assigned"], 8);
    assert_eq!(progress["by_status"]["open"], 1);
    let child_request = requests
        .iter()
        .find(|r| r["resident"]["id"] == children[0].as_str())
        .unwrap();
    let seen = app
        .get(&format!("/requests/{}", id(child_request)), Some(&manager))
        .await
        .expect(200);
    assert_eq!(seen["status"], "assigned");
    assert_eq!(seen["team_id"], vetted.as_str());

    // Run again: only the far resident's request is still open.
    let again = app.post_empty(&path, Some(&manager)).await.expect(200);
    assert_eq!(again["assigned"], json!([]));
    assert_eq!(again["unmatched"].as_array().unwrap().len(), 1);
}

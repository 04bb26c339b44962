//! Help requests: validation, status changes, assignment, privacy and
//! recommendations.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_request_is_posted_open_and_validated() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let resident = id(&app.resident(&caseworker, json!({})).await);
    let request = app
        .request(
            &caseworker,
            &resident,
            json!({"starts_at": "2030-12-03T01:00:00Z", "ends_at": "2030-12-03T03:00:00Z"}),
        )
        .await;
    assert_eq!(request["status"], "open");
    assert_eq!(request["resident"]["masked_name"], "王**");
    assert_eq!(request["resident"]["category"], "elderly_alone");
    assert_eq!(
        request["starts_at"], "2030-12-03T09:00:00+08:00",
        "Z times come back in the community's zone"
    );
    assert!(request["team_id"].is_null());

    for (override_, field) in [
        (json!({"ends_at": "2030-12-03T08:00:00+08:00"}), "ends_at"),
        (json!({"ends_at": "2030-12-03T09:00:00+08:00"}), "ends_at"),
        (json!({"volunteers_needed": 0}), "volunteers_needed"),
        (json!({"volunteers_needed": 2.5}), "volunteers_needed"),
        (json!({"urgency": "yesterday"}), "urgency"),
        (json!({"category": "astrology"}), "category"),
        (json!({"starts_at": "next tuesday"}), "starts_at"),
        (json!({"starts_at": "2030-12-03T09:00:00"}), "starts_at"),
        (json!({"resident_id": uuid::Uuid::new_v4()}), "resident_id"),
        (json!({"resident_id": "nope"}), "resident_id"),
        (json!({"title": ""}), "title"),
    ] {
        let mut body = json!({
            "resident_id": resident, "category": "home_visit", "title": "探访", "description": "",
            "starts_at": "2030-12-03T09:00:00+08:00", "ends_at": "2030-12-03T11:00:00+08:00",
            "volunteers_needed": 1, "urgency": "normal"
        });
        merge(&mut body, override_.clone());
        let r = app.post("/requests", Some(&caseworker), body).await;
        assert_eq!(r.status, 422, "{override_}: {}", r.body);
        assert_eq!(r.body["error"]["details"][0]["field"], field, "{override_}");
    }
    let list = app.get("/requests", Some(&caseworker)).await.expect(200);
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "refused requests were not stored"
    );
}

#[tokio::test]
async fn status_follows_assign_cancel_and_complete() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let request = app
        .get(&format!("/requests/{}", c.request_id), Some(&c.caseworker))
        .await
        .expect(200);
    assert_eq!(request["status"], "assigned");
    assert_eq!(request["team_id"], c.team_id.as_str());

    let done = app
        .post_empty(
            &format!("/requests/{}/complete", c.request_id),
            Some(&c.caseworker),
        )
        .await
        .expect(200);
    assert_eq!(done["status"], "completed");
    let r = app
        .post_empty(
            &format!("/requests/{}/cancel", c.request_id),
            Some(&c.caseworker),
        )
        .await;
    assert_eq!(r.status, 409);
    let r = app
        .post(
            &format!("/requests/{}/assign", c.request_id),
            Some(&c.caseworker),
            json!({"team_id": c.team_id}),
        )
        .await;
    assert_eq!(r.status, 409);

    let open = app.request(&c.caseworker, &c.resident_id, json!({})).await;
    let r = app
        .post_empty(
            &format!("/requests/{}/complete", id(&open)),
            Some(&c.caseworker),
        )
        .await;
    assert_eq!(r.status, 409, "an open request cannot be completed");
    let cancelled = app
        .post(
            &format!("/requests/{}/cancel", id(&open)),
            Some(&c.manager),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "cancelled");
}

#[tokio::test]
async fn children_and_disabled_residents_are_assigned_only_to_vetted_teams() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let unvetted = id(&app.team(&manager, json!({"vetted": false})).await);
    let vetted = id(&app.team(&manager, json!({"vetted": true})).await);
    for category in ["left_behind_child", "disabled"] {
        let resident = id(&app
            .resident(&caseworker, json!({"category": category, "name": "小明"}))
            .await);
        let request = id(&app
            .request(&caseworker, &resident, json!({"category": "home_visit"}))
            .await);
        let r = app
            .post(
                &format!("/requests/{request}/assign"),
                Some(&caseworker),
                json!({"team_id": unvetted}),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.code(), "team_not_vetted");
        let still = app
            .get(&format!("/requests/{request}"), Some(&caseworker))
            .await
            .expect(200);
        assert_eq!(still["status"], "open");
        app.assign(&caseworker, &request, &vetted).await;
    }
    let elderly = id(&app.resident(&caseworker, json!({})).await);
    let request = id(&app.request(&caseworker, &elderly, json!({})).await);
    app.assign(&caseworker, &request, &unvetted).await;
    let r = app
        .post(
            &format!("/requests/{request}/assign"),
            Some(&caseworker),
            json!({"team_id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_eq!(r.status, 422, "unknown teams are refused");
}

#[tokio::test]
async fn an_assigned_request_can_be_reassigned_to_another_team() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let other = id(&app
        .team(
            &c.manager,
            json!({"name": "邻里守望队", "kind": "neighborhood_watch"}),
        )
        .await);
    let moved = app.assign(&c.caseworker, &c.request_id, &other).await;
    assert_eq!(moved["team_id"], other.as_str());
    assert_eq!(moved["status"], "assigned");
}

#[tokio::test]
async fn the_residents_address_reaches_only_its_caseworker_and_managers() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let path = format!("/requests/{}", c.request_id);
    for actor in [&c.caseworker, &c.manager, &app.admin] {
        let r = app.get(&path, Some(actor)).await.expect(200);
        assert_eq!(r["resident"]["address"], "阳光社区 3 号楼 2 单元 501");
        assert_eq!(r["resident"]["phone"], "13612345678");
        assert!(r["resident"]["location"]["lat"].is_number());
    }
    let member = app.volunteer("甲").await;
    app.join(&c.team_id, &member).await;
    let other_caseworker = app.staff("caseworker", "钱社工").await;
    for actor in [&member, &other_caseworker] {
        let r = app.get(&path, Some(actor)).await.expect(200);
        assert_eq!(r["resident"]["masked_name"], "王**");
        let text = r.to_string();
        for secret in [
            "3 号楼",
            "13612345678",
            "11010519491231002X",
            "110***********002X",
            "王秀英",
            "39.921",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        let list = app
            .get("/requests", Some(actor))
            .await
            .expect(200)
            .to_string();
        assert!(!list.contains("3 号楼") && !list.contains("13612345678"));
    }
}

#[tokio::test]
async fn volunteers_see_open_requests_and_those_of_their_teams_only() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let open = id(&app
        .request(
            &c.caseworker,
            &c.resident_id,
            json!({"title": "公开的求助"}),
        )
        .await);
    let other_team = id(&app.team(&c.manager, json!({"name": "别的队"})).await);
    let elsewhere = id(&app
        .request(
            &c.caseworker,
            &c.resident_id,
            json!({"title": "别队的求助"}),
        )
        .await);
    app.assign(&c.caseworker, &elsewhere, &other_team).await;

    let outsider = app.volunteer("甲").await;
    let seen: Vec<String> = app.get("/requests", Some(&outsider)).await.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    assert_eq!(seen, vec![open.clone()]);
    assert_eq!(
        app.get(&format!("/requests/{elsewhere}"), Some(&outsider))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&format!("/requests/{}", c.request_id), Some(&outsider))
            .await
            .status,
        404
    );

    let member = app.volunteer("乙").await;
    app.join(&c.team_id, &member).await;
    let mut seen: Vec<String> = app.get("/requests", Some(&member)).await.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    seen.sort();
    let mut expected = vec![open.clone(), c.request_id.clone()];
    expected.sort();
    assert_eq!(seen, expected);

    let filtered = app
        .get("/requests?status=assigned", Some(&member))
        .await
        .expect(200);
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let by_category = app
        .get("/requests?category=repair", Some(&c.caseworker))
        .await
        .expect(200);
    assert!(by_category["items"].as_array().unwrap().is_empty());
    let all = app.get("/requests", Some(&c.caseworker)).await.expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn recommended_requests_rank_what_suits_the_volunteer() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    // A second request of the team, for a skill the volunteer has, in
    // their free time (2030-12-03 is a Tuesday).
    let fitting = id(&app
        .request(
            &c.caseworker,
            &c.resident_id,
            json!({"category": "meal_delivery", "title": "送午餐", "urgency": "high"}),
        )
        .await);
    app.assign(&c.caseworker, &fitting, &c.team_id).await;
    // Requests that must not be recommended: other team, finished, in the past.
    let other_team = id(&app.team(&c.manager, json!({"name": "别的队"})).await);
    let elsewhere = id(&app.request(&c.caseworker, &c.resident_id, json!({})).await);
    app.assign(&c.caseworker, &elsewhere, &other_team).await;
    let finished = id(&app.request(&c.caseworker, &c.resident_id, json!({})).await);
    app.assign(&c.caseworker, &finished, &c.team_id).await;
    app.post_empty(
        &format!("/requests/{finished}/complete"),
        Some(&c.caseworker),
    )
    .await
    .expect(200);
    let past = id(&app.request(&c.caseworker, &c.resident_id, json!({"starts_at": "2020-01-01T09:00:00+08:00", "ends_at": "2020-01-01T10:00:00+08:00"})).await);
    app.assign(&c.caseworker, &past, &c.team_id).await;

    let v = app.volunteer("甲").await;
    app.join(&c.team_id, &v).await;
    app.patch(
        "/me",
        Some(&v),
        json!({
            "skills": ["meal_delivery"],
            "location": {"lat": 39.92, "lng": 116.40},
            "availability": [{"weekday": 2, "start": "08:00", "end": "12:00"}]
        }),
    )
    .await
    .expect(200);

    let body = app
        .get("/me/recommended-requests", Some(&v))
        .await
        .expect(200);
    let items = body["items"].as_array().unwrap();
    let ids: Vec<String> = items.iter().map(id).collect();
    assert_eq!(ids, vec![fitting.clone(), c.request_id.clone()]);
    assert!(items[0]["score"].as_f64().unwrap() > items[1]["score"].as_f64().unwrap());
    let codes: Vec<&str> = items[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"matches_skills") && codes.contains(&"available"),
        "{codes:?}"
    );
    assert!(
        !items[0].to_string().contains("3 号楼"),
        "recommendations do not carry the address"
    );

    let outsider = app.volunteer("乙").await;
    let body = app
        .get("/me/recommended-requests", Some(&outsider))
        .await
        .expect(200);
    assert!(body["items"].as_array().unwrap().is_empty());
    assert_eq!(
        app.get("/me/recommended-requests", Some(&c.caseworker))
            .await
            .status,
        403
    );
}

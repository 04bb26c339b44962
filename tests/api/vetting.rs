//! Vetting of people (无犯罪记录证明): the vetting route and its trail,
//! pending memberships of vetted teams and their approval, sign-ups for
//! left-behind children and disabled residents, leaving a team, and a
//! team that becomes vetted.

use chrono::{Duration, TimeZone, Timelike};
use serde_json::{Value, json};

use crate::helpers::*;

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

/// A request for `resident` starting `days` from today, 09:00–11:00.
async fn visit(app: &TestApp, c: &Community, resident: &str, days: i64, needed: u32) -> String {
    let request = app
        .request(
            &c.caseworker,
            resident,
            json!({
                "starts_at": shanghai(days, 9),
                "ends_at": shanghai(days, 11),
                "volunteers_needed": needed,
            }),
        )
        .await;
    app.assign(&c.caseworker, &id(&request), &c.team_id).await;
    id(&request)
}

async fn child(app: &TestApp, c: &Community) -> String {
    id(&app
        .resident(
            &c.caseworker,
            json!({"name": "刘小明", "category": "left_behind_child", "address": "幸福里 7 号楼 302"}),
        )
        .await)
}

async fn sign_up(app: &TestApp, request: &str, volunteer: &Actor) -> Reply {
    app.post_empty(&format!("/requests/{request}/signups"), Some(volunteer))
        .await
}

async fn places(app: &TestApp, request: &str) -> i64 {
    app.get(&format!("/requests/{request}"), Some(&app.admin))
        .await
        .expect(200)["signups_count"]
        .as_i64()
        .unwrap()
}

async fn members(app: &TestApp, team: &str, reader: &Actor) -> Vec<Value> {
    app.get(&format!("/teams/{team}/members"), Some(reader))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn status_of<'a>(items: &'a [Value], who: &Actor) -> Option<&'a str> {
    items
        .iter()
        .find(|m| m["user_id"] == who.id.as_str())
        .map(|m| m["status"].as_str().unwrap())
}

async fn approve(app: &TestApp, team: &str, who: &Actor, by: &Actor) -> Reply {
    app.post_empty(
        &format!("/teams/{team}/members/{}/approve", who.id),
        Some(by),
    )
    .await
}

#[tokio::test]
async fn managers_vet_people_and_the_trail_says_who_vouched_and_why() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let v = app.volunteer("张志愿").await;
    let me = app.get("/me", Some(&v)).await.expect(200);
    assert!(me["vetted_until"].is_null());

    let path = format!("/users/{}/vetting", v.id);
    let user = app
        .put(
            &path,
            Some(&manager),
            json!({"vetted_until": "2027-06-30", "note": "派出所无犯罪记录证明 No.2026-118"}),
        )
        .await
        .expect(200);
    assert_eq!(user["id"], v.id.as_str());
    assert_eq!(user["vetted_until"], "2027-06-30");
    let me = app.get("/me", Some(&v)).await.expect(200);
    assert_eq!(me["vetted_until"], "2027-06-30");

    let cleared = app
        .put(&path, Some(&app.admin), json!({"vetted_until": null}))
        .await
        .expect(200);
    assert!(cleared["vetted_until"].is_null());

    let trail = app
        .get(&format!("{path}/history"), Some(&manager))
        .await
        .expect(200);
    let items = trail["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{trail}");
    assert!(items[0]["vetted_until"].is_null());
    assert_eq!(items[0]["previous_until"], "2027-06-30");
    assert_eq!(items[0]["changed_by"], app.admin.id.as_str());
    assert_eq!(items[1]["vetted_until"], "2027-06-30");
    assert_eq!(items[1]["changed_by"], manager.id.as_str());
    assert_eq!(items[1]["changed_by_name"], "李经理");
    assert_eq!(items[1]["note"], "派出所无犯罪记录证明 No.2026-118");

    // Only managers and admins vet, or read the trail.
    let caseworker = app.staff("caseworker", "赵社工").await;
    for who in [&v, &caseworker] {
        let r = app
            .put(&path, Some(who), json!({"vetted_until": "2030-01-01"}))
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = app.get(&format!("{path}/history"), Some(who)).await;
        assert_eq!(r.status, 403);
    }
    let r = app.put(&path, None, json!({"vetted_until": null})).await;
    assert_eq!(r.status, 401);

    // Bad input is a 422 naming the field, and changes nothing.
    for (body, field) in [
        (json!({"vetted_until": "2027-02-30"}), "vetted_until"),
        (json!({"vetted_until": "30/06/2027"}), "vetted_until"),
        (json!({"vetted_until": 20270630}), "vetted_until"),
        (json!({"note": "忘了日期"}), "vetted_until"),
        (
            json!({"vetted_until": "2027-06-30", "note": "a\u{7}b"}),
            "note",
        ),
        (
            json!({"vetted_until": "2027-06-30", "note": "证".repeat(501)}),
            "note",
        ),
    ] {
        let r = app.put(&path, Some(&manager), body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(r.body["error"]["details"][0]["field"], field, "{}", r.body);
    }
    let unknown = format!("/users/{}/vetting", uuid::Uuid::new_v4());
    let r = app
        .put(&unknown, Some(&manager), json!({"vetted_until": null}))
        .await;
    assert_eq!(r.status, 404);
    let trail = app
        .get(&format!("{path}/history"), Some(&manager))
        .await
        .expect(200);
    assert_eq!(trail["items"].as_array().unwrap().len(), 2);
    let me = app.get("/me", Some(&v)).await.expect(200);
    assert!(me["vetted_until"].is_null());
}

#[tokio::test]
async fn an_unvetted_volunteer_who_joins_a_vetted_team_waits_and_never_reads_a_childs_address() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let kid = child(&app, &c).await;
    let request = visit(&app, &c, &kid, 10, 2).await;
    let v = app.volunteer("新人").await;

    let joined = app.join_pending(&c.team_id, &v).await;
    assert_eq!(
        joined,
        json!({"team_id": c.team_id, "user_id": v.id, "role": "member", "status": "pending"})
    );

    // Not a member: no sign-up, and the team's assigned request is not
    // theirs to read, let alone its address.
    let r = sign_up(&app, &request, &v).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = app.get(&format!("/requests/{request}"), Some(&v)).await;
    assert!(r.status == 404 || r.status == 403, "{}", r.body);
    assert!(!r.body.to_string().contains("幸福里"));
    let list = app.get("/requests", Some(&v)).await.expect(200);
    assert!(!list.to_string().contains(&request), "{list}");
    let recommended = app
        .get("/me/recommended-requests", Some(&v))
        .await
        .expect(200);
    assert_eq!(recommended["items"], json!([]));
    let r = app
        .get(&format!("/teams/{}/members", c.team_id), Some(&v))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(places(&app, &request).await, 0);
}

#[tokio::test]
async fn approval_needs_a_check_valid_today_and_makes_a_member() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let leader = app.volunteer("队长").await;
    app.add_leader(&c.manager, &c.team_id, &leader).await;
    let member = app.volunteer("老队员").await;
    app.join(&c.team_id, &member).await;
    let v = app.volunteer("新人").await;
    app.join_pending(&c.team_id, &v).await;

    // Neither a fellow member nor the newcomer approves.
    for who in [&member, &v] {
        let r = approve(&app, &c.team_id, &v, who).await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
    // Never vetted, or vetted until yesterday: refused.
    let r = approve(&app, &c.team_id, &v, &leader).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "volunteer_not_vetted");
    app.vet(&v, Some(&days_from_today(-1))).await;
    let r = approve(&app, &c.team_id, &v, &c.manager).await;
    assert_eq!(r.code(), "volunteer_not_vetted");
    let r = sign_up(&app, &c.request_id, &v).await;
    assert_eq!(r.status, 403);

    // Valid through today: the leader approves, and they are a member.
    app.vet(&v, Some(&days_from_today(0))).await;
    let body = approve(&app, &c.team_id, &v, &leader).await.expect(200);
    assert_eq!(
        body,
        json!({"team_id": c.team_id, "user_id": v.id, "role": "member", "status": "active"})
    );
    assert_eq!(
        status_of(&members(&app, &c.team_id, &member).await, &v),
        Some("active")
    );
    sign_up(&app, &c.request_id, &v).await.expect(201);

    // Someone who never asked to join is not there to approve.
    let stranger = app.volunteer("路人").await;
    let r = approve(&app, &c.team_id, &stranger, &c.manager).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_manager_adds_only_vetted_people_to_a_vetted_team() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let vetted_team = id(&app.team(&manager, json!({})).await);
    let open_team = id(&app
        .team(&manager, json!({"name": "邻里守望队", "vetted": false}))
        .await);
    let v = app.volunteer("甲").await;
    let add = |team: String, who: String| {
        let app = &app;
        let manager = &manager;
        async move {
            app.post(
                &format!("/teams/{team}/members"),
                Some(manager),
                json!({"user_id": who, "role": "member"}),
            )
            .await
        }
    };
    let r = add(vetted_team.clone(), v.id.clone()).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "volunteer_not_vetted");
    let r = add(open_team.clone(), v.id.clone()).await;
    assert_eq!(r.expect(201)["status"], "active");

    app.vet(&v, Some(&days_from_today(1))).await;
    let r = add(vetted_team.clone(), v.id.clone()).await;
    assert_eq!(r.expect(201)["status"], "active");

    // Joining a team that is not vetted is active at once, as before.
    let w = app.volunteer("乙").await;
    assert_eq!(app.join_pending(&open_team, &w).await["status"], "active");
}

#[tokio::test]
async fn a_check_that_lapses_before_the_visit_refuses_the_sign_up() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let v = app.volunteer("志愿者").await;
    app.join(&c.team_id, &v).await;
    let kid = child(&app, &c).await;
    let disabled = id(&app
        .resident(
            &c.caseworker,
            json!({"name": "孙建国", "category": "disabled"}),
        )
        .await);
    let elderly = c.resident_id.clone();
    let for_kid = visit(&app, &c, &kid, 20, 2).await;
    let for_disabled = visit(&app, &c, &disabled, 20, 2).await;
    let for_elderly = visit(&app, &c, &elderly, 20, 2).await;

    // Valid today, but only until the day before the visits.
    app.vet(&v, Some(&days_from_today(19))).await;
    for request in [&for_kid, &for_disabled] {
        let r = sign_up(&app, request, &v).await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(r.code(), "volunteer_not_vetted");
        assert_eq!(places(&app, request).await, 0);
    }
    let recommended = app
        .get("/me/recommended-requests", Some(&v))
        .await
        .expect(200)
        .to_string();
    assert!(!recommended.contains(&for_kid), "{recommended}");
    assert!(recommended.contains(&for_elderly), "{recommended}");
    // Visits to elderly residents need no check.
    sign_up(&app, &for_elderly, &v).await.expect(201);

    // Valid through the day of the visit: accepted, and the address shows.
    app.vet(&v, Some(&days_from_today(20))).await;
    sign_up(&app, &for_kid, &v).await.expect(201);
    sign_up(&app, &for_disabled, &v).await.expect(201);
    let read = app
        .get(&format!("/requests/{for_kid}"), Some(&v))
        .await
        .expect(200);
    assert_eq!(read["resident"]["address"], "幸福里 7 号楼 302");
}

#[tokio::test]
async fn leaving_a_team_frees_places_of_requests_not_yet_started_only() {
    let app = spawn_app().await;
    let c = community(&app, 3).await;
    let v = app.volunteer("志愿者").await;
    app.join(&c.team_id, &v).await;
    let upcoming = c.request_id.clone();
    // Two visits that started an hour ago (visits get moved, so they are
    // still open for sign-ups and check-in); one of them already visited.
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    let window = json!({
        "starts_at": (now - Duration::hours(1)).with_nanosecond(0).unwrap().to_rfc3339(),
        "ends_at": (now + Duration::hours(2)).with_nanosecond(0).unwrap().to_rfc3339(),
    });
    let mut started = Vec::new();
    for _ in 0..2 {
        let request = id(&app
            .request(&c.caseworker, &c.resident_id, window.clone())
            .await);
        app.assign(&c.caseworker, &request, &c.team_id).await;
        started.push(request);
    }
    let (started, visited) = (started[0].clone(), started[1].clone());
    for request in [&upcoming, &started, &visited] {
        sign_up(&app, request, &v).await.expect(201);
    }
    app.post(
        &format!("/requests/{visited}/check-in"),
        Some(&v),
        json!({}),
    )
    .await
    .expect(201);

    // A fellow member may not remove them; they leave themselves.
    let other = app.volunteer("队友").await;
    app.join(&c.team_id, &other).await;
    let path = format!("/teams/{}/members/{}", c.team_id, v.id);
    assert_eq!(app.delete(&path, Some(&other)).await.status, 403);
    app.delete(&path, Some(&v)).await.expect(204);

    assert_eq!(places(&app, &upcoming).await, 0, "the place is free again");
    assert_eq!(
        places(&app, &started).await,
        1,
        "a started visit keeps them"
    );
    assert_eq!(places(&app, &visited).await, 1);
    let records = app.get("/service-records", Some(&v)).await.expect(200);
    assert_eq!(records["items"].as_array().unwrap().len(), 1, "{records}");
    let listed = members(&app, &c.team_id, &c.manager).await;
    assert_eq!(status_of(&listed, &v), None);
    let r = sign_up(&app, &upcoming, &v).await;
    assert_eq!(r.status, 403, "no longer a member");
    assert_eq!(app.delete(&path, Some(&v)).await.status, 404);
    let unknown_team = format!("/teams/{}/members/{}", uuid::Uuid::new_v4(), v.id);
    assert_eq!(
        app.delete(&unknown_team, Some(&c.manager)).await.status,
        404
    );
}

#[tokio::test]
async fn leaders_and_managers_remove_members_and_pending_ones_may_withdraw() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let leader = app.volunteer("队长").await;
    app.add_leader(&c.manager, &c.team_id, &leader).await;
    let a = app.volunteer("甲").await;
    let b = app.volunteer("乙").await;
    let pending = app.volunteer("丙").await;
    app.join(&c.team_id, &a).await;
    app.join(&c.team_id, &b).await;
    app.join_pending(&c.team_id, &pending).await;
    sign_up(&app, &c.request_id, &a).await.expect(201);

    let path = |who: &Actor| format!("/teams/{}/members/{}", c.team_id, who.id);
    // A pending member is not a member: they cannot remove others.
    assert_eq!(app.delete(&path(&a), Some(&pending)).await.status, 403);
    assert_eq!(app.delete(&path(&a), Some(&c.caseworker)).await.status, 403);
    app.delete(&path(&a), Some(&leader)).await.expect(204);
    assert_eq!(places(&app, &c.request_id).await, 0);
    app.delete(&path(&b), Some(&app.admin)).await.expect(204);
    app.delete(&path(&pending), Some(&pending))
        .await
        .expect(204);
    let left = members(&app, &c.team_id, &c.manager).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(status_of(&left, &leader), Some("active"));
}

#[tokio::test]
async fn member_lists_show_pending_members_to_the_leader_and_managers_only() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let leader = app.volunteer("王队长").await;
    app.add_leader(&c.manager, &c.team_id, &leader).await;
    let member = app.volunteer("李队员").await;
    app.join(&c.team_id, &member).await;
    let pending = app.volunteer("赵新人").await;
    app.join_pending(&c.team_id, &pending).await;

    let as_manager = members(&app, &c.team_id, &c.manager).await;
    assert_eq!(as_manager.len(), 3);
    let item = as_manager
        .iter()
        .find(|m| m["user_id"] == pending.id.as_str())
        .unwrap();
    let mut keys: Vec<&str> = item
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "joined_at",
            "name",
            "no_shows",
            "phone",
            "role",
            "status",
            "team_id",
            "user_id"
        ]
    );
    assert_eq!(item["no_shows"], 0);
    assert_eq!(item["status"], "pending");
    assert_eq!(item["name"], "赵新人");
    assert_eq!(item["phone"], pending.phone.as_str());

    let as_leader = members(&app, &c.team_id, &leader).await;
    assert_eq!(status_of(&as_leader, &pending), Some("pending"));
    assert_eq!(status_of(&as_leader, &leader), Some("active"));
    let masked = as_leader
        .iter()
        .all(|m| m["phone"].as_str().unwrap().contains("****"));
    assert!(masked, "{as_leader:?}");

    let as_member = members(&app, &c.team_id, &member).await;
    assert_eq!(as_member.len(), 2);
    assert_eq!(status_of(&as_member, &pending), None);
}

#[tokio::test]
async fn making_a_team_vetted_holds_its_unvetted_members_as_pending() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let manager = c.manager.clone();
    let team = id(&app
        .team(&manager, json!({"name": "邻里守望队", "vetted": false}))
        .await);
    let leader = app.volunteer("队长").await;
    app.post(
        &format!("/teams/{team}/members"),
        Some(&manager),
        json!({"user_id": leader.id, "role": "leader"}),
    )
    .await
    .expect(201);
    let unvetted = app.volunteer("未审核").await;
    let lapsed = app.volunteer("已过期").await;
    let vetted = app.volunteer("已审核").await;
    for v in [&unvetted, &lapsed, &vetted] {
        assert_eq!(app.join_pending(&team, v).await["status"], "active");
    }
    app.vet(&lapsed, Some(&days_from_today(-1))).await;
    app.vet(&vetted, Some(&days_from_today(0))).await;
    let request = id(&app.request(&c.caseworker, &c.resident_id, json!({})).await);
    app.assign(&c.caseworker, &request, &team).await;

    // The leader may rename the team but not loosen vetting; nobody else
    // changes it.
    let path = format!("/teams/{team}");
    let renamed = app
        .patch(&path, Some(&leader), json!({"name": "幸福里邻里守望队"}))
        .await
        .expect(200);
    assert_eq!(renamed["name"], "幸福里邻里守望队");
    assert_eq!(renamed["vetted"], false);
    for who in [&unvetted, &c.caseworker] {
        let r = app
            .patch(&path, Some(who), json!({"name": "别的名字"}))
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
    }

    let body = app
        .patch(
            &path,
            Some(&manager),
            json!({"vetted": true, "service_radius_km": 5, "service_categories": ["repair", "home_visit"]}),
        )
        .await
        .expect(200);
    assert_eq!(body["vetted"], true);
    assert_eq!(body["service_radius_km"], 5.0);
    assert_eq!(body["service_categories"], json!(["home_visit", "repair"]));
    assert_eq!(body["name"], "幸福里邻里守望队");
    let read = app.get(&path, Some(&unvetted)).await.expect(200);
    assert_eq!(read["vetted"], true);

    let listed = members(&app, &team, &manager).await;
    assert_eq!(status_of(&listed, &unvetted), Some("pending"));
    assert_eq!(status_of(&listed, &lapsed), Some("pending"));
    assert_eq!(status_of(&listed, &leader), Some("pending"));
    assert_eq!(status_of(&listed, &vetted), Some("active"));
    let r = sign_up(&app, &request, &unvetted).await;
    assert_eq!(r.status, 403);
    sign_up(&app, &request, &vetted).await.expect(201);
    // A pending leader no longer runs the team.
    let r = app
        .patch(&path, Some(&leader), json!({"name": "x队"}))
        .await;
    assert_eq!(r.status, 403);

    // Only managers make a vetted team unvetted.
    app.vet(&leader, Some(&days_from_today(365))).await;
    approve(&app, &team, &leader, &manager).await.expect(200);
    let r = app
        .patch(&path, Some(&leader), json!({"vetted": false}))
        .await;
    assert_eq!(r.status, 403);
    let body = app
        .patch(&path, Some(&manager), json!({"vetted": false}))
        .await
        .expect(200);
    assert_eq!(body["vetted"], false);
}

#[tokio::test]
async fn team_edits_are_validated_like_new_teams() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let team = id(&app.team(&manager, json!({})).await);
    let path = format!("/teams/{team}");
    for (body, field) in [
        (json!({"name": "  "}), "name"),
        (json!({"name": "队".repeat(101)}), "name"),
        (json!({"service_categories": []}), "service_categories"),
        (
            json!({"service_categories": ["flying"]}),
            "service_categories[0]",
        ),
        (json!({"service_radius_km": 0}), "service_radius_km"),
        (json!({"service_radius_km": 100.5}), "service_radius_km"),
        (
            json!({"location": {"lat": 91, "lng": 116.4}}),
            "location.lat",
        ),
        (json!({"vetted": "yes"}), "vetted"),
    ] {
        let r = app.patch(&path, Some(&manager), body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(r.body["error"]["details"][0]["field"], field, "{}", r.body);
    }
    let unchanged = app.get(&path, Some(&manager)).await.expect(200);
    assert_eq!(unchanged["name"], "阳光社区学雷锋志愿服务队");
    // Nothing to change is no error, and changes nothing.
    let same = app
        .patch(&path, Some(&manager), json!({}))
        .await
        .expect(200);
    assert_eq!(same, unchanged);
    let r = app
        .patch(
            &format!("/teams/{}", uuid::Uuid::new_v4()),
            Some(&manager),
            json!({"name": "新名"}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app.patch(&path, Some(&manager), json!([])).await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn the_openapi_document_describes_the_vetting_and_membership_routes() {
    let app = spawn_app().await;
    let doc = app.get("/api-docs/openapi.json", None).await.expect(200);
    let paths = &doc["paths"];
    for (path, method) in [
        ("/api/v1/users/{id}/vetting", "put"),
        ("/api/v1/users/{id}/vetting/history", "get"),
        ("/api/v1/teams/{id}", "patch"),
        ("/api/v1/teams/{id}/members/{user_id}/approve", "post"),
        ("/api/v1/teams/{id}/members/{user_id}", "delete"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path}");
    }
    let body = &doc["components"]["schemas"]["VettingBody"];
    assert_eq!(body["required"], json!(["vetted_until"]), "{body}");
}

#[tokio::test]
async fn a_leader_held_as_pending_approves_no_records_until_approved_again() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let team = id(&app
        .team(&c.manager, json!({"name": "邻里守望队", "vetted": false}))
        .await);
    let leader = app.volunteer("队长").await;
    app.post(
        &format!("/teams/{team}/members"),
        Some(&c.manager),
        json!({"user_id": leader.id, "role": "leader"}),
    )
    .await
    .expect(201);
    let member = app.volunteer("队员").await;
    app.join(&team, &member).await;
    app.vet(&member, Some(&days_from_today(365))).await;
    let request = id(&app.request(&c.caseworker, &c.resident_id, json!({})).await);
    app.assign(&c.caseworker, &request, &team).await;
    sign_up(&app, &request, &member).await.expect(201);
    let ago = |minutes: i64| (chrono::Utc::now() - Duration::minutes(minutes)).to_rfc3339();
    let record = app
        .post(
            "/service-records",
            Some(&c.caseworker),
            json!({"volunteer_id": member.id, "request_id": request, "started_at": ago(120), "ended_at": ago(60)}),
        )
        .await
        .expect(201);
    let approve_record = format!("/service-records/{}/approve", id(&record));

    app.patch(
        &format!("/teams/{team}"),
        Some(&c.manager),
        json!({"vetted": true}),
    )
    .await
    .expect(200);
    // Not their team's record any more: refused, or not even shown.
    let r = app.post_empty(&approve_record, Some(&leader)).await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.body);

    app.vet(&leader, Some(&days_from_today(365))).await;
    approve(&app, &team, &leader, &c.manager).await.expect(200);
    let approved = app
        .post_empty(&approve_record, Some(&leader))
        .await
        .expect(200);
    assert_eq!(approved["status"], "approved");
}

#[tokio::test]
async fn matching_counts_only_active_members_as_free_hands() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let tuesday_mornings =
        json!({"availability": [{"weekday": 2, "start": "08:00", "end": "12:00"}]});
    let active = app.volunteer("甲").await;
    app.join(&c.team_id, &active).await;
    let pending = app.volunteer("乙").await;
    app.join_pending(&c.team_id, &pending).await;
    for v in [&active, &pending] {
        app.patch("/me", Some(v), tuesday_mornings.clone())
            .await
            .expect(200);
    }
    // The default request is on Tuesday 2030-12-03, 09:00–11:00.
    let request = id(&app.request(&c.caseworker, &c.resident_id, json!({})).await);
    let body = app
        .get(&format!("/requests/{request}/matches"), Some(&c.caseworker))
        .await
        .expect(200);
    let texts = body["items"][0]["reasons"].to_string();
    assert!(texts.contains("1 名队员"), "{texts}");
}

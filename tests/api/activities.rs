//! Community activities: requests without a resident, at a public place,
//! served, counted and exported like visits; and the fourth care group.

use serde_json::{Value, json};

use crate::helpers::*;

/// A 学雷锋日 service stall at the community square, 100 m from the
/// default team's base.
fn stall() -> Value {
    json!({
        "resident_id": null,
        "location": {"lat": 39.9209, "lng": 116.4000},
        "address": "阳光社区文化广场",
        "category": "other",
        "title": "学雷锋日便民服务摊位",
        "description": "义务理发、量血压、小家电维修",
        "starts_at": "2025-03-05T09:00:00+08:00",
        "ends_at": "2025-03-05T11:30:00+08:00",
        "volunteers_needed": 500,
        "urgency": "normal"
    })
}

#[tokio::test]
async fn an_activity_goes_from_posting_to_approved_hours_and_is_counted_as_such() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    // Only teams offering the category, near the square, are matches.
    let far = app
        .team(
            &c.manager,
            json!({"name": "远处服务队", "service_categories": ["other"],
                   "location": {"lat": 40.2, "lng": 116.4}, "vetted": false}),
        )
        .await;
    let near = app
        .team(
            &c.manager,
            json!({"name": "广场服务队", "service_categories": ["other"], "vetted": false}),
        )
        .await;
    let activity = app
        .post("/requests", Some(&c.caseworker), stall())
        .await
        .expect(201);
    assert!(activity["resident"].is_null());
    assert_eq!(activity["address"], "阳光社区文化广场");
    assert_eq!(activity["location"]["lat"], 39.9209);
    assert_eq!(activity["volunteers_needed"], 500);
    let activity_id = id(&activity);

    let matches = app
        .get(
            &format!("/requests/{activity_id}/matches"),
            Some(&c.caseworker),
        )
        .await
        .expect(200);
    let teams: Vec<&Value> = matches["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["team"]["id"])
        .collect();
    assert_eq!(teams, [&near["id"]], "not {far}");
    assert_eq!(matches["items"][0]["distance_km"], 0.1);

    app.assign(&c.caseworker, &activity_id, &id(&near)).await;
    // A volunteer who has not signed up sees the place: it is public.
    let v = app.volunteer("王志愿").await;
    app.join(&id(&near), &v).await;
    let seen = app
        .get(&format!("/requests/{activity_id}"), Some(&v))
        .await
        .expect(200);
    assert_eq!(seen["address"], "阳光社区文化广场");
    assert!(seen["resident"].is_null());
    app.post_empty(&format!("/requests/{activity_id}/signups"), Some(&v))
        .await
        .expect(201);

    let record = app
        .post(
            "/service-records",
            Some(&c.caseworker),
            json!({"volunteer_id": v.id, "request_id": activity_id,
                   "started_at": "2025-03-05T09:00:00+08:00",
                   "ended_at": "2025-03-05T11:30:00+08:00"}),
        )
        .await
        .expect(201);
    app.post_empty(
        &format!("/service-records/{}/approve", id(&record)),
        Some(&c.manager),
    )
    .await
    .expect(200);
    let me = app.get("/me", Some(&v)).await.expect(200);
    assert_eq!(me["approved_hours"], 2.5);

    let stats = app
        .get(
            "/stats/service-hours?group_by=resident_category",
            Some(&c.manager),
        )
        .await
        .expect(200);
    let group = stats["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "community_activity")
        .unwrap_or_else(|| panic!("no community_activity in {stats}"));
    assert_eq!(group["label"], "社区活动");
    assert_eq!(group["minutes"], 150);
    assert_eq!(stats["total_minutes"], 150);

    let csv = app
        .client
        .get(app.url("/exports/service-hours?format=csv"))
        .bearer_auth(&c.manager.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][3], "社区活动");
    assert_eq!(&rows[0][7], "2.50");

    let xlsx = app
        .client
        .get(app.url("/exports/service-hours?format=xlsx"))
        .bearer_auth(&c.manager.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec())).expect("a workbook");
    let sheet = workbook.worksheet_range("服务时长").expect("the sheet");
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    assert_eq!(rows.len(), 2, "header and the activity's record");
    assert_eq!(rows[1][3], Data::String("社区活动".into()));
}

#[tokio::test]
async fn an_activity_discloses_no_resident_and_a_visit_keeps_its_place_private() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let activity = app
        .post("/requests", Some(&c.manager), stall())
        .await
        .expect(201);
    let stranger = app.volunteer("路人").await;
    let listed = app.get("/requests", Some(&stranger)).await.expect(200);
    let items = listed["items"].as_array().unwrap();
    let shown = items.iter().find(|i| i["id"] == activity["id"]).unwrap();
    assert_eq!(shown["address"], "阳光社区文化广场");
    // An open visit in the same list shows neither its resident's
    // address nor a place of its own.
    let open_visit = app.request(&c.caseworker, &c.resident_id, json!({})).await;
    let listed = app.get("/requests", Some(&stranger)).await.expect(200);
    let visit = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == open_visit["id"])
        .unwrap();
    assert!(visit.get("address").is_none() && visit["resident"].get("address").is_none());

    // Reading the activity tells nobody about any resident: the access
    // log of the community's resident does not grow.
    let log_len = |log: Value| log["items"].as_array().unwrap().len();
    let log_path = format!("/residents/{}/access-log", c.resident_id);
    let before = log_len(app.get(&log_path, Some(&c.manager)).await.expect(200));
    app.get(&format!("/requests/{}", id(&activity)), Some(&c.manager))
        .await
        .expect(200);
    let after = log_len(app.get(&log_path, Some(&c.manager)).await.expect(200));
    assert_eq!(before, after);
}

#[tokio::test]
async fn an_activity_needs_a_place_and_a_visit_takes_none() {
    let app = spawn_app().await;
    let c = community(&app, 1).await;
    let mut no_place = stall();
    no_place.as_object_mut().unwrap().remove("location");
    no_place.as_object_mut().unwrap().remove("resident_id");
    let refused = app.post("/requests", Some(&c.caseworker), no_place).await;
    assert_eq!(refused.status.as_u16(), 422);
    assert!(refused.body.to_string().contains("location"));

    let mut both = stall();
    both["resident_id"] = json!(c.resident_id);
    let refused = app.post("/requests", Some(&c.caseworker), both).await;
    assert_eq!(refused.status.as_u16(), 422);

    let mut too_many = stall();
    too_many["volunteers_needed"] = json!(1001);
    assert_eq!(
        app.post("/requests", Some(&c.caseworker), too_many)
            .await
            .status
            .as_u16(),
        422
    );
}

#[tokio::test]
async fn migrant_workers_are_the_fourth_care_group() {
    let app = spawn_app().await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let worker = app
        .resident(
            &caseworker,
            json!({"name": "刘建国", "category": "migrant_worker"}),
        )
        .await;
    assert_eq!(worker["category"], "migrant_worker");
    let request = app.request(&caseworker, &id(&worker), json!({})).await;
    assert_eq!(request["resident"]["category"], "migrant_worker");
}

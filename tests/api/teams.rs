//! Teams and membership.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_manager_creates_a_team_that_everyone_can_read() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let team = app
        .team(&manager, json!({"kind": "party_member", "vetted": false}))
        .await;
    assert_eq!(team["kind"], "party_member");
    assert_eq!(team["vetted"], false);
    assert_eq!(team["service_radius_km"], 3.0);
    let v = app.volunteer("甲").await;
    let read = app
        .get(&format!("/teams/{}", id(&team)), Some(&v))
        .await
        .expect(200);
    assert_eq!(read["name"], team["name"]);
    let list = app.get("/teams", Some(&v)).await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["next_cursor"].is_null());
}

#[tokio::test]
async fn volunteers_join_once_and_managers_add_leaders() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let team = id(&app.team(&manager, json!({})).await);
    let v = app.volunteer("甲").await;
    let body = app
        .post(&format!("/teams/{team}/members"), Some(&v), json!({}))
        .await
        .expect(201);
    // The default test team is vetted: a volunteer who joins it waits for
    // approval (second round).
    assert_eq!(
        body,
        json!({"team_id": team, "user_id": v.id, "role": "member", "status": "pending"})
    );
    let again = app
        .post_empty(&format!("/teams/{team}/members"), Some(&v))
        .await;
    assert_eq!(again.status, 409);

    // A volunteer cannot make themselves leader or add someone else.
    let w = app.volunteer("乙").await;
    let r = app
        .post(
            &format!("/teams/{team}/members"),
            Some(&w),
            json!({"role": "leader"}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post(
            &format!("/teams/{team}/members"),
            Some(&w),
            json!({"user_id": v.id}),
        )
        .await;
    assert_eq!(r.status, 403);

    // A manager adds to a vetted team only people vetted today.
    app.vet(&w, Some(&days_from_today(30))).await;
    let body = app
        .post(
            &format!("/teams/{team}/members"),
            Some(&manager),
            json!({"user_id": w.id, "role": "leader"}),
        )
        .await
        .expect(201);
    assert_eq!(body["role"], "leader");

    let r = app
        .post(
            &format!("/teams/{team}/members"),
            Some(&manager),
            json!({"user_id": uuid::Uuid::new_v4(), "role": "member"}),
        )
        .await;
    assert_eq!(r.status, 422, "unknown users cannot be added");
    let r = app
        .post(
            &format!("/teams/{}/members", uuid::Uuid::new_v4()),
            Some(&v),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .post(
            &format!("/teams/{team}/members"),
            Some(&manager),
            json!({"user_id": v.id, "role": "captain"}),
        )
        .await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn members_see_masked_phones_and_managers_see_them_whole() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let team = id(&app.team(&manager, json!({})).await);
    let v = app.volunteer("甲").await;
    let w = app.volunteer("乙").await;
    app.join(&team, &v).await;
    app.join(&team, &w).await;
    let as_member = app
        .get(&format!("/teams/{team}/members"), Some(&v))
        .await
        .expect(200);
    let items = as_member["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        let phone = item["phone"].as_str().unwrap();
        assert!(phone.contains("****"), "{phone}");
    }
    let as_manager = app
        .get(&format!("/teams/{team}/members"), Some(&manager))
        .await
        .expect(200);
    let phones: Vec<&str> = as_manager["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["phone"].as_str().unwrap())
        .collect();
    assert!(phones.contains(&v.phone.as_str()));
    let outsider = app.volunteer("丙").await;
    assert_eq!(
        app.get(&format!("/teams/{team}/members"), Some(&outsider))
            .await
            .status,
        403
    );
}

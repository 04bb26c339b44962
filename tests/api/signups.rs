//! Sign-ups under a rush, withdrawal, and phone check-in/out.

use futures::future::join_all;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_simultaneous_sign_ups_fill_exactly_three_places() {
    let app = spawn_app().await;
    let c = community(&app, 3).await;
    let volunteers = join_all((0..50).map(|i| {
        let app = &app;
        let team = c.team_id.clone();
        async move {
            let v = app.volunteer(&format!("志愿者{i}")).await;
            app.join(&team, &v).await;
            v
        }
    }))
    .await;
    let path = format!("/requests/{}/signups", c.request_id);
    let replies = join_all(volunteers.iter().map(|v| app.post_empty(&path, Some(v)))).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let full = replies
        .iter()
        .filter(|r| r.status == 409 && r.code() == "request_full")
        .count();
    let others: Vec<String> = replies
        .iter()
        .filter(|r| r.status != 201 && !(r.status == 409 && r.code() == "request_full"))
        .map(|r| format!("{} {}", r.status, r.body))
        .collect();
    assert!(others.is_empty(), "unexpected answers: {others:?}");
    assert_eq!(created, 3);
    assert_eq!(full, 47);
    let request = app
        .get(&format!("/requests/{}", c.request_id), Some(&c.caseworker))
        .await
        .expect(200);
    assert_eq!(request["signups_count"], 3);
    assert_eq!(request["places_left"], 0);
}

#[tokio::test]
async fn only_members_of_the_assigned_team_sign_up_and_only_once() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let member = app.volunteer("甲").await;
    app.join(&c.team_id, &member).await;
    let path = format!("/requests/{}/signups", c.request_id);
    let signup = app.post_empty(&path, Some(&member)).await.expect(201);
    assert_eq!(signup["request_id"], c.request_id.as_str());
    assert_eq!(signup["volunteer_id"], member.id.as_str());
    assert_eq!(signup["places_left"], 1);
    let again = app.post_empty(&path, Some(&member)).await;
    assert_eq!(
        (again.status.as_u16(), again.code()),
        (409, "already_signed_up")
    );

    let outsider = app.volunteer("乙").await;
    assert_eq!(app.post_empty(&path, Some(&outsider)).await.status, 403);
    assert_eq!(app.post_empty(&path, Some(&c.caseworker)).await.status, 403);
    assert_eq!(app.post_empty(&path, None).await.status, 401);

    // An open (unassigned) request takes no sign-ups from anyone.
    let open = id(&app.request(&c.caseworker, &c.resident_id, json!({})).await);
    assert_eq!(
        app.post_empty(&format!("/requests/{open}/signups"), Some(&member))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn withdrawing_frees_the_place() {
    let app = spawn_app().await;
    let c = community(&app, 1).await;
    let (a, b) = (app.volunteer("甲").await, app.volunteer("乙").await);
    app.join(&c.team_id, &a).await;
    app.join(&c.team_id, &b).await;
    let path = format!("/requests/{}/signups", c.request_id);
    app.post_empty(&path, Some(&a)).await.expect(201);
    assert_eq!(app.post_empty(&path, Some(&b)).await.code(), "request_full");
    let r = app.delete(&format!("{path}/me"), Some(&a)).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        app.delete(&format!("{path}/me"), Some(&a)).await.status,
        404
    );
    app.post_empty(&path, Some(&b)).await.expect(201);
}

#[tokio::test]
async fn a_signed_up_volunteer_sees_the_address_and_others_do_not() {
    let app = spawn_app().await;
    let c = community(&app, 2).await;
    let (a, b) = (app.volunteer("甲").await, app.volunteer("乙").await);
    app.join(&c.team_id, &a).await;
    app.join(&c.team_id, &b).await;
    app.post_empty(&format!("/requests/{}/signups", c.request_id), Some(&a))
        .await
        .expect(201);
    let path = format!("/requests/{}", c.request_id);
    let seen = app.get(&path, Some(&a)).await.expect(200);
    assert_eq!(seen["resident"]["address"], "阳光社区 3 号楼 2 单元 501");
    assert_eq!(seen["resident"]["phone"], "13612345678");
    let unseen = app.get(&path, Some(&b)).await.expect(200);
    assert!(unseen["resident"].get("address").is_none());
    assert!(!unseen.to_string().contains("13612345678"));
    let listed = app.get("/requests", Some(&b)).await.expect(200);
    assert!(!listed.to_string().contains("3 号楼"));

    // Withdrawn, the sign-up is kept as history but shows nothing more.
    app.delete(&format!("/requests/{}/signups/me", c.request_id), Some(&a))
        .await
        .expect(204);
    let after = app.get(&path, Some(&a)).await.expect(200);
    assert!(after["resident"].get("address").is_none(), "{after}");
    let listed = app.get("/requests", Some(&a)).await.expect(200);
    assert!(!listed.to_string().contains("3 号楼"), "{listed}");
}

#[tokio::test]
async fn check_in_and_out_move_the_request_along() {
    let app = spawn_app().await;
    let c = community(&app, 1).await;
    let v = app.volunteer("甲").await;
    app.join(&c.team_id, &v).await;
    let checkin = format!("/requests/{}/check-in", c.request_id);
    assert_eq!(
        app.post_empty(&checkin, Some(&v)).await.status,
        403,
        "sign up first"
    );
    app.post_empty(&format!("/requests/{}/signups", c.request_id), Some(&v))
        .await
        .expect(201);

    // Checked in 5 km away: stored and flagged, but not shown to the volunteer.
    let record = app
        .post(&checkin, Some(&v), json!({"lat": 39.966, "lng": 116.401}))
        .await
        .expect(201);
    assert_eq!(record["status"], "in_progress");
    assert_eq!(record["source"], "phone");
    assert!(record["minutes"].is_null());
    assert!(
        record.get("check_in_distance_m").is_none() && record.get("location_flagged").is_none()
    );
    let request = app
        .get(&format!("/requests/{}", c.request_id), Some(&v))
        .await
        .expect(200);
    assert_eq!(request["status"], "in_progress");
    assert_eq!(
        app.post_empty(&checkin, Some(&v)).await.code(),
        "overlapping_record"
    );
    // A record ends after it starts: give the clock a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let record = app
        .post_empty(&format!("/requests/{}/check-out", c.request_id), Some(&v))
        .await
        .expect(200);
    assert_eq!(record["status"], "pending");
    assert_eq!(record["minutes"], 0);
    assert_eq!(record["activity"]["organiser"], "阳光社区学雷锋志愿服务队");
    assert_eq!(record["activity"]["name"], "陪王阿姨聊天");
    assert!(
        !record.to_string().contains("3 号楼"),
        "the place is the community, never the address"
    );
    let request = app
        .get(&format!("/requests/{}", c.request_id), Some(&v))
        .await
        .expect(200);
    assert_eq!(
        request["status"], "completed",
        "everyone signed up has checked out"
    );

    let as_caseworker = app
        .get(
            &format!("/service-records/{}", id(&record)),
            Some(&c.caseworker),
        )
        .await
        .expect(200);
    assert_eq!(as_caseworker["location_flagged"], true);
    assert!(as_caseworker["check_in_distance_m"].as_f64().unwrap() > 4000.0);
    let again = app
        .post_empty(&format!("/requests/{}/check-out", c.request_id), Some(&v))
        .await;
    assert_eq!(again.code(), "not_checked_in");
    assert_eq!(
        app.delete(&format!("/requests/{}/signups/me", c.request_id), Some(&v))
            .await
            .status,
        409
    );
}

#[tokio::test]
async fn positions_must_be_whole_and_in_range() {
    let app = spawn_app().await;
    let c = community(&app, 1).await;
    let v = app.volunteer("甲").await;
    app.join(&c.team_id, &v).await;
    app.post_empty(&format!("/requests/{}/signups", c.request_id), Some(&v))
        .await
        .expect(201);
    let checkin = format!("/requests/{}/check-in", c.request_id);
    assert_eq!(
        app.post(&checkin, Some(&v), json!({"lat": 39.9}))
            .await
            .status,
        422
    );
    assert_eq!(
        app.post(&checkin, Some(&v), json!({"lat": 99.0, "lng": 1.0}))
            .await
            .status,
        422
    );
    assert_eq!(
        app.post(&checkin, Some(&v), json!({"lat": "x", "lng": 1.0}))
            .await
            .status,
        422
    );
    let records = app.get("/service-records", Some(&v)).await.expect(200);
    assert!(
        records["items"].as_array().unwrap().is_empty(),
        "refused check-ins leave nothing behind"
    );
}

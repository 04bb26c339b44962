//! `GET /requests/{id}/matches`: hard rules, ranking and reasons.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn matches_keep_only_teams_that_pass_the_hard_rules_best_first() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    // The resident lives at (39.9210, 116.4010).
    let near = id(&app
        .team(
            &manager,
            json!({"name": "近队", "location": {"lat": 39.9215, "lng": 116.4010}}),
        )
        .await);
    let far_but_busy_free = id(&app
        .team(
            &manager,
            json!({"name": "远队", "location": {"lat": 39.9400, "lng": 116.4010}}),
        )
        .await);
    let _out_of_radius = app
        .team(
            &manager,
            json!({"name": "太远", "location": {"lat": 40.1, "lng": 116.4}}),
        )
        .await;
    let _wrong_category = app
        .team(
            &manager,
            json!({"name": "修理队", "service_categories": ["repair"]}),
        )
        .await;
    let _unvetted = app
        .team(&manager, json!({"name": "未审核", "vetted": false}))
        .await;

    let resident = id(&app
        .resident(
            &caseworker,
            json!({"category": "left_behind_child", "name": "小明"}),
        )
        .await);
    let request = id(&app
        .request(&caseworker, &resident, json!({"urgency": "urgent"}))
        .await);

    // Give the near team two members free on Tuesday mornings.
    for name in ["甲", "乙"] {
        let v = app.volunteer(name).await;
        app.join(&near, &v).await;
        app.patch(
            "/me",
            Some(&v),
            json!({"availability": [{"weekday": 2, "start": "08:00", "end": "12:00"}]}),
        )
        .await
        .expect(200);
    }

    let body = app
        .get(&format!("/requests/{request}/matches"), Some(&caseworker))
        .await
        .expect(200);
    let items = body["items"].as_array().unwrap();
    let names: Vec<&str> = items
        .iter()
        .map(|m| m["team"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["近队", "远队"]);
    assert_eq!(items[0]["team"]["id"], near.as_str());
    assert_eq!(items[1]["team"]["id"], far_but_busy_free.as_str());
    let best = items[0]["score"].as_f64().unwrap();
    let second = items[1]["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&best) && (0.0..=1.0).contains(&second));
    assert!(best > second);
    assert!(items[0]["distance_km"].as_f64().unwrap() < 0.1);
    let reasons = items[0]["reasons"].as_array().unwrap();
    let codes: Vec<&str> = reasons
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"vetted_team")
            && codes.contains(&"members_available")
            && codes.contains(&"urgency_priority"),
        "{codes:?}"
    );
    let texts: Vec<&str> = reasons
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert!(texts.iter().any(|t| t.contains("2 名队员")), "{texts:?}");
}

#[tokio::test]
async fn a_team_that_served_the_resident_before_says_so() {
    let app = spawn_app().await;
    let c = community(&app, 1).await;
    app.post_empty(
        &format!("/requests/{}/complete", c.request_id),
        Some(&c.caseworker),
    )
    .await
    .expect(200);
    let next = id(&app
        .request(&c.caseworker, &c.resident_id, json!({"urgency": "low"}))
        .await);
    let body = app
        .get(&format!("/requests/{next}/matches"), Some(&c.caseworker))
        .await
        .expect(200);
    let codes: Vec<&str> = body["items"][0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"served_before"), "{codes:?}");
}

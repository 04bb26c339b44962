//! Location privacy: volunteers who may not see a resident's address see
//! distances in whole kilometres (rounded up), ranked as such, so readings
//! from several places cannot pin the resident down.

use serde_json::{Value, json};

use crate::helpers::*;

const LAT: f64 = 39.92;
const LNG: f64 = 116.40;
const KM_LAT: f64 = 1.0 / 111.2;
const KM_LNG: f64 = 1.0 / 85.37;

fn at(km_north: f64, km_east: f64) -> Value {
    json!({"lat": LAT + km_north * KM_LAT, "lng": LNG + km_east * KM_LNG})
}

/// `(distance_km, score)` of each of `requests` as `volunteer` is
/// recommended them.
async fn readings(app: &TestApp, volunteer: &Actor, requests: &[&str]) -> Vec<(f64, f64)> {
    let items = app
        .get("/me/recommended-requests", Some(volunteer))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone();
    requests
        .iter()
        .map(|r| {
            let item = items
                .iter()
                .find(|i| i["id"] == *r)
                .unwrap_or_else(|| panic!("{r} not recommended: {items:?}"));
            (
                item["distance_km"].as_f64().unwrap(),
                item["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn three_readings_from_three_places_do_not_tell_residents_half_a_kilometre_apart() {
    let app = spawn_app().await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let team = id(&app
        .team(
            &manager,
            json!({"vetted": false, "location": at(0.0, 0.0), "service_radius_km": 10.0}),
        )
        .await);
    // Two residents 500 m apart, north and south of the same point.
    let mut requests = Vec::new();
    for (name, km_north) in [("王秀英", -0.25), ("李桂兰", 0.25)] {
        let resident = app
            .resident(
                &caseworker,
                json!({"name": name, "location": at(km_north, 0.0)}),
            )
            .await;
        let request = id(&app.request(&caseworker, &id(&resident), json!({})).await);
        app.assign(&caseworker, &request, &team).await;
        requests.push(request);
    }
    let (south, north) = (requests[0].as_str(), requests[1].as_str());
    let volunteer = app.volunteer("张志愿").await;
    app.join(&team, &volunteer).await;

    // Three places: exact distances differ by up to 0.5 km between the two
    // residents, and the readings are the same for both every time.
    for (place, expected) in [
        (at(-2.5, 0.0), 3.0),
        (at(0.0, 4.5), 5.0),
        (at(6.5, 0.0), 7.0),
    ] {
        app.patch("/me", Some(&volunteer), json!({"location": place}))
            .await
            .expect(200);
        let got = readings(&app, &volunteer, &[south, north]).await;
        assert_eq!(got[0].0, expected, "from {place}: {got:?}");
        assert_eq!(got[0].0, got[1].0, "from {place}: {got:?}");
        assert_eq!(got[0].1, got[1].1, "the ranking must not tell them apart");
    }

    // Its caseworker still sees exact figures: the team's distance in the
    // matches, and the resident's location in the request.
    let matches = app
        .get(&format!("/requests/{south}/matches"), Some(&caseworker))
        .await
        .expect(200);
    assert_eq!(matches["items"][0]["distance_km"], 0.25);
    // A volunteer signed up for a request sees where the resident lives;
    // one who is not does not.
    app.post_empty(&format!("/requests/{south}/signups"), Some(&volunteer))
        .await
        .expect(201);
    let theirs = app
        .get(&format!("/requests/{south}"), Some(&volunteer))
        .await
        .expect(200);
    let lat = theirs["resident"]["location"]["lat"].as_f64().unwrap();
    assert!((lat - (LAT - 0.25 * KM_LAT)).abs() < 1e-9, "{theirs}");
    let other = app
        .get(&format!("/requests/{north}"), Some(&volunteer))
        .await
        .expect(200);
    assert!(other["resident"].get("location").is_none(), "{other}");
    assert!(other["resident"].get("address").is_none(), "{other}");
}

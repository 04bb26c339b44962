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

/// Where `volunteer` stands, in km east and north of `origin`.
fn place(origin: (f64, f64), east: f64, north: f64) -> Value {
    let (lat, lng) = origin;
    json!({"lat": lat + north / KM_PER_DEG, "lng": lng + east / (KM_PER_DEG * lat.to_radians().cos())})
}

/// Kilometres in a degree of latitude (the server's Earth radius).
const KM_PER_DEG: f64 = 6371.0088 * std::f64::consts::PI / 180.0;

/// The one `distance_km` the volunteer is shown for `request` from `at`.
async fn reading_from(app: &TestApp, volunteer: &Actor, at: &Value, request: &str) -> f64 {
    app.patch("/me", Some(volunteer), json!({"location": at}))
        .await
        .expect(200);
    readings(app, volunteer, &[request]).await[0].0
}

/// The centre of the circle through three points (x east, y north, km).
fn circumcentre(p: [(f64, f64); 3]) -> (f64, f64) {
    let [(ax, ay), (bx, by), (cx, cy)] = p;
    let d = 2.0 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by));
    let (a2, b2, c2) = (ax * ax + ay * ay, bx * bx + by * by, cx * cx + cy * cy);
    (
        (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d,
        (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d,
    )
}

#[tokio::test]
async fn trilateration_from_the_one_kilometre_flip_finds_the_cell_never_the_resident() {
    // The review's attack: walk out along three rays from a point where the
    // reading is 1 km, bisect to where it turns 2, and take the centre of
    // the circle through the three flips. The server allows the walk here.
    let app = spawn_app_with(&[("LOCATION_CHANGES_PER_DAY", "100000")]).await;
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let team = id(&app
        .team(
            &manager,
            json!({"vetted": false, "location": at(0.0, 0.0), "service_radius_km": 10.0}),
        )
        .await);
    let centre =
        api::domain::geo::cell_centre(api::domain::geo::Coordinates { lat: LAT, lng: LNG });
    let origin = (centre.lat, centre.lng);
    // Three residents in one cell (a kilometre square around `centre`), at
    // different offsets from its centre, each over 300 m from it.
    let offsets = [(0.30, 0.35), (-0.38, 0.12), (0.15, -0.40)];
    let mut requests = Vec::new();
    for (i, (east, north)) in offsets.iter().enumerate() {
        let home = place(origin, *east, *north);
        let point = api::domain::geo::Coordinates {
            lat: home["lat"].as_f64().unwrap(),
            lng: home["lng"].as_f64().unwrap(),
        };
        assert_eq!(api::domain::geo::cell_centre(point), centre, "resident {i}");
        let resident = app
            .resident(&caseworker, json!({"name": "王秀英", "location": home}))
            .await;
        let request = id(&app.request(&caseworker, &id(&resident), json!({})).await);
        app.assign(&caseworker, &request, &team).await;
        requests.push(request);
    }
    let volunteer = app.volunteer("张志愿").await;
    app.join(&team, &volunteer).await;

    let mut estimates = Vec::new();
    let mut readings_taken = 0;
    for ((east, north), request) in offsets.iter().zip(&requests) {
        let mut flips = [(0.0, 0.0); 3];
        for (ray, angle) in [90.0_f64, 210.0, 330.0].iter().enumerate() {
            let (dx, dy) = (angle.to_radians().cos(), angle.to_radians().sin());
            let along = |t: f64| place(origin, east + t * dx, north + t * dy);
            let (mut inside, mut outside) = (0.0, 3.0);
            assert_eq!(
                reading_from(&app, &volunteer, &along(inside), request).await,
                1.0
            );
            assert!(reading_from(&app, &volunteer, &along(outside), request).await >= 2.0);
            readings_taken += 2;
            while outside - inside > 0.0001 {
                let middle = (inside + outside) / 2.0;
                if reading_from(&app, &volunteer, &along(middle), request).await <= 1.0 {
                    inside = middle;
                } else {
                    outside = middle;
                }
                readings_taken += 1;
            }
            let t = (inside + outside) / 2.0;
            flips[ray] = (east + t * dx, north + t * dy);
        }
        estimates.push(circumcentre(flips));
    }

    eprintln!(
        "trilateration: {readings_taken} readings; estimates (km from the cell centre) {estimates:?}"
    );
    for (x, y) in &estimates {
        for (east, north) in &offsets {
            let off = ((x - east).powi(2) + (y - north).powi(2)).sqrt();
            assert!(
                off > 0.1,
                "{readings_taken} readings put a resident within {off:.3} km"
            );
        }
        // Every resident of the cell gives the same answer: its centre.
        let (x0, y0) = estimates[0];
        assert!(
            ((x - x0).powi(2) + (y - y0).powi(2)).sqrt() < 0.005,
            "{estimates:?}"
        );
        assert!((x.powi(2) + y.powi(2)).sqrt() < 0.005, "{estimates:?}");
    }
}

#[tokio::test]
async fn the_eleventh_location_change_of_a_day_waits_for_the_next_day() {
    use crate::process::ServerProcess;
    let database_url = fresh_database().await;
    let mut today = ServerProcess::start(
        &database_url,
        &[("CLOCK_START", "2027-03-10T10:00:00+08:00")],
    );
    let app = today.connect(&database_url).await;
    let volunteer = app.volunteer("张志愿").await;
    for step in 0..10 {
        app.patch(
            "/me",
            Some(&volunteer),
            json!({"location": at(f64::from(step), 0.0)}),
        )
        .await
        .expect(200);
    }
    // The same place again, or other fields, count nothing.
    app.patch(
        "/me",
        Some(&volunteer),
        json!({"location": at(9.0, 0.0), "name": "张志愿者"}),
    )
    .await
    .expect(200);
    let refused = app
        .patch("/me", Some(&volunteer), json!({"location": at(20.0, 0.0)}))
        .await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.code(), "too_many_location_changes");
    let retry: i64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Until local midnight: 14 hours from 10:00, less the seconds elapsed.
    assert!((50_000..=50_400).contains(&retry), "{retry}");
    let me = app.get("/me", Some(&volunteer)).await.expect(200);
    assert!(
        (me["location"]["lat"].as_f64().unwrap() - (LAT + 9.0 * KM_LAT)).abs() < 1e-9,
        "the refused change is not stored: {me}"
    );
    today.child.kill().unwrap();
    today.child.wait().unwrap();

    let tomorrow = ServerProcess::start(
        &database_url,
        &[("CLOCK_START", "2027-03-11T09:00:00+08:00")],
    );
    let app = tomorrow.connect(&database_url).await;
    let volunteer = app.login(&volunteer.phone, PASSWORD).await;
    let moved = app
        .patch("/me", Some(&volunteer), json!({"location": at(20.0, 0.0)}))
        .await
        .expect(200);
    assert!((moved["location"]["lat"].as_f64().unwrap() - (LAT + 20.0 * KM_LAT)).abs() < 1e-9);
}

//! The authorization matrix: every route of the foundation with every kind
//! of caller, and exactly the contract's answer.

use serde_json::{Value, json};

use crate::helpers::*;

const CALLERS: [&str; 8] = [
    "anonymous",
    "volunteer",
    "member",
    "leader",
    "caseworker",
    "other_caseworker",
    "manager",
    "admin",
];

struct World {
    app: TestApp,
    actors: Vec<Option<Actor>>,
    team: String,
    resident: String,
    request: String,
    caseworker: Actor,
}

impl World {
    async fn new() -> Self {
        let app = spawn_app_with(&[("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")]).await;
        let c = community(&app, 2).await;
        let volunteer = app.volunteer("路人").await;
        let member = app.volunteer("队员").await;
        app.join(&c.team_id, &member).await;
        let leader = app.volunteer("队长").await;
        app.add_leader(&c.manager, &c.team_id, &leader).await;
        let other_caseworker = app.staff("caseworker", "钱社工").await;
        let admin = app.admin.clone();
        let actors = vec![
            None,
            Some(volunteer),
            Some(member),
            Some(leader),
            Some(c.caseworker.clone()),
            Some(other_caseworker),
            Some(c.manager.clone()),
            Some(admin),
        ];
        World {
            app,
            actors,
            team: c.team_id,
            resident: c.resident_id,
            request: c.request_id,
            caseworker: c.caseworker,
        }
    }

    async fn fresh_request(&self, assigned: bool) -> String {
        let request = id(&self
            .app
            .request(&self.caseworker, &self.resident, json!({}))
            .await);
        if assigned {
            self.app
                .assign(&self.caseworker, &request, &self.team)
                .await;
        }
        request
    }

    /// Calls one route as every caller and checks the statuses.
    async fn check<F, Fut>(&self, label: &str, expected: [u16; 8], call: F)
    where
        F: Fn(Option<Actor>, usize) -> Fut,
        Fut: std::future::Future<Output = Reply>,
    {
        let mut wrong = Vec::new();
        for (i, actor) in self.actors.iter().enumerate() {
            let reply = call(actor.clone(), i).await;
            if reply.status.as_u16() != expected[i] {
                wrong.push(format!(
                    "{} got {} (expected {}): {}",
                    CALLERS[i], reply.status, expected[i], reply.body
                ));
            }
            if reply.status.is_client_error() {
                assert!(
                    reply.body["error"]["code"].is_string(),
                    "{label}: error body for {}",
                    CALLERS[i]
                );
            }
        }
        assert!(wrong.is_empty(), "{label}:\n{}", wrong.join("\n"));
    }
}

const EVERYONE: [u16; 8] = [401, 200, 200, 200, 200, 200, 200, 200];
/// Its caseworker, managers and admins; another caseworker: 403
/// `not_your_request`.
const REQUEST_OWNER: [u16; 8] = [401, 403, 403, 403, 200, 403, 200, 200];
const STAFF_READ: [u16; 8] = [401, 403, 403, 403, 200, 200, 200, 200];
const STAFF_CREATE: [u16; 8] = [401, 403, 403, 403, 201, 201, 201, 201];

#[tokio::test]
async fn every_route_answers_every_caller_as_the_contract_says() {
    let w = World::new().await;
    let app = &w.app;
    let (team, resident, request) = (w.team.clone(), w.resident.clone(), w.request.clone());

    w.check("GET /me", EVERYONE, |a, _| async move {
        app.get("/me", a.as_ref()).await
    })
    .await;
    w.check("PATCH /me", EVERYONE, |a, _| async move {
        app.patch("/me", a.as_ref(), json!({"name": "新名字"}))
            .await
    })
    .await;
    w.check("POST /users", [401, 403, 403, 403, 403, 403, 403, 201], |a, _| async move {
        let body = json!({"phone": random_phone(), "password": PASSWORD, "name": "新人", "role": "caseworker"});
        app.post("/users", a.as_ref(), body).await
    })
    .await;
    w.check("POST /teams", [401, 403, 403, 403, 403, 403, 201, 201], |a, _| async move {
        let body = json!({"name": "新队", "kind": "other", "service_categories": ["repair"], "location": {"lat": 39.9, "lng": 116.4}, "service_radius_km": 2});
        app.post("/teams", a.as_ref(), body).await
    })
    .await;
    w.check("GET /teams", EVERYONE, |a, _| async move {
        app.get("/teams", a.as_ref()).await
    })
    .await;
    let path = format!("/teams/{team}");
    w.check("GET /teams/{id}", EVERYONE, |a, _| {
        let p = path.clone();
        async move { app.get(&p, a.as_ref()).await }
    })
    .await;
    let path = format!("/teams/{team}/members");
    w.check(
        "GET /teams/{id}/members",
        [401, 403, 200, 200, 403, 403, 200, 200],
        |a, _| {
            let p = path.clone();
            async move { app.get(&p, a.as_ref()).await }
        },
    )
    .await;

    let resident_body = json!({"name": "李桂兰", "category": "elderly_alone", "address": "5 号楼", "location": {"lat": 39.92, "lng": 116.40}});
    w.check("POST /residents", STAFF_CREATE, |a, _| {
        let b = resident_body.clone();
        async move { app.post("/residents", a.as_ref(), b).await }
    })
    .await;
    w.check("GET /residents", STAFF_READ, |a, _| async move {
        app.get("/residents", a.as_ref()).await
    })
    .await;
    let path = format!("/residents/{resident}");
    w.check("GET /residents/{id}", STAFF_READ, |a, _| {
        let p = path.clone();
        async move { app.get(&p, a.as_ref()).await }
    })
    .await;

    let request_body = json!({
        "resident_id": resident, "category": "home_visit", "title": "探访", "description": "",
        "starts_at": "2030-12-03T09:00:00+08:00", "ends_at": "2030-12-03T11:00:00+08:00",
        "volunteers_needed": 1, "urgency": "normal"
    });
    w.check("POST /requests", STAFF_CREATE, |a, _| {
        let b = request_body.clone();
        async move { app.post("/requests", a.as_ref(), b).await }
    })
    .await;
    w.check("GET /requests", EVERYONE, |a, _| async move {
        app.get("/requests", a.as_ref()).await
    })
    .await;
    let path = format!("/requests/{request}");
    w.check(
        "GET /requests/{id}",
        [401, 404, 200, 200, 200, 200, 200, 200],
        |a, _| {
            let p = path.clone();
            async move { app.get(&p, a.as_ref()).await }
        },
    )
    .await;
    let path = format!("/requests/{request}/matches");
    w.check("GET /requests/{id}/matches", STAFF_READ, |a, _| {
        let p = path.clone();
        async move { app.get(&p, a.as_ref()).await }
    })
    .await;

    let world = &w;
    let team_ref = &team;
    w.check(
        "POST /requests/{id}/assign",
        REQUEST_OWNER,
        |a, _| async move {
            let fresh = world.fresh_request(false).await;
            app.post(
                &format!("/requests/{fresh}/assign"),
                a.as_ref(),
                json!({"team_id": team_ref}),
            )
            .await
        },
    )
    .await;
    w.check(
        "POST /requests/{id}/cancel",
        REQUEST_OWNER,
        |a, _| async move {
            let fresh = world.fresh_request(false).await;
            app.post_empty(&format!("/requests/{fresh}/cancel"), a.as_ref())
                .await
        },
    )
    .await;
    w.check(
        "POST /requests/{id}/complete",
        REQUEST_OWNER,
        |a, _| async move {
            let fresh = world.fresh_request(true).await;
            app.post_empty(&format!("/requests/{fresh}/complete"), a.as_ref())
                .await
        },
    )
    .await;
    w.check(
        "GET /me/recommended-requests",
        [401, 200, 200, 200, 403, 403, 403, 403],
        |a, _| async move { app.get("/me/recommended-requests", a.as_ref()).await },
    )
    .await;

    // Last, as it changes memberships: joining (volunteers) or adding (managers).
    let path = format!("/teams/{team}/members");
    w.check(
        "POST /teams/{id}/members",
        [401, 201, 409, 409, 403, 403, 201, 201],
        |a, i| {
            let p = path.clone();
            async move {
                let body: Value = if i >= 6 {
                    let newcomer = app.volunteer("新队员").await;
                    // The team is vetted: managers add vetted people only.
                    app.vet(&newcomer, Some(&days_from_today(30))).await;
                    json!({"user_id": newcomer.id, "role": "member"})
                } else {
                    json!({})
                };
                app.post(&p, a.as_ref(), body).await
            }
        },
    )
    .await;
}

#[tokio::test]
async fn only_the_requests_caseworker_and_managers_read_the_residents_details() {
    let w = World::new().await;
    let path = format!("/requests/{}", w.request);
    let sees_address = [false, false, false, false, true, false, true, true];
    for (i, actor) in w.actors.iter().enumerate().skip(1) {
        let reply = w.app.get(&path, actor.as_ref()).await;
        if reply.status != 200 {
            assert_eq!(reply.status, 404, "{}", CALLERS[i]);
            continue;
        }
        let text = reply.body.to_string();
        assert_eq!(
            text.contains("3 号楼 2 单元 501"),
            sees_address[i],
            "{}: {text}",
            CALLERS[i]
        );
        assert_eq!(
            text.contains("13612345678"),
            sees_address[i],
            "{}",
            CALLERS[i]
        );
        assert!(
            !text.contains("11010519491231002X"),
            "the ID number is never in a request"
        );
    }
}

const VOLUNTEERS_ONLY: [u16; 8] = [401, 403, 201, 201, 403, 403, 403, 403];
const MANAGERS: [u16; 8] = [401, 403, 403, 403, 403, 403, 200, 200];

fn minutes_ago(m: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(m)).to_rfc3339()
}

#[tokio::test]
async fn sign_up_hour_statistics_and_webhook_routes_answer_as_the_contract_says() {
    let w = World::new().await;
    let app = &w.app;
    let request = w.request.clone();
    let member = w.actors[2].clone().unwrap();

    let path = format!("/requests/{request}/signups");
    w.check("POST /requests/{id}/signups", VOLUNTEERS_ONLY, |a, _| {
        let p = path.clone();
        async move { app.post_empty(&p, a.as_ref()).await }
    })
    .await;
    let path = format!("/requests/{request}/signups/me");
    w.check(
        "DELETE /requests/{id}/signups/me",
        [401, 404, 204, 204, 403, 403, 403, 403],
        |a, _| {
            let p = path.clone();
            async move { app.delete(&p, a.as_ref()).await }
        },
    )
    .await;
    for signed in [&w.actors[2], &w.actors[3]] {
        app.post_empty(&format!("/requests/{request}/signups"), signed.as_ref())
            .await
            .expect(201);
    }
    let path = format!("/requests/{request}/check-in");
    w.check(
        "POST /requests/{id}/check-in",
        [401, 403, 201, 201, 403, 403, 403, 403],
        |a, _| {
            let p = path.clone();
            async move { app.post_empty(&p, a.as_ref()).await }
        },
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let path = format!("/requests/{request}/check-out");
    w.check(
        "POST /requests/{id}/check-out",
        [401, 403, 200, 200, 403, 403, 403, 403],
        |a, _| {
            let p = path.clone();
            async move { app.post_empty(&p, a.as_ref()).await }
        },
    )
    .await;

    let member_ref = &member;
    let request_ref = &request;
    w.check("POST /service-records", [401, 403, 403, 403, 201, 201, 201, 201], |a, i| async move {
        let start = 600 + 100 * i as i64;
        let body = json!({"volunteer_id": member_ref.id, "request_id": request_ref, "started_at": minutes_ago(start), "ended_at": minutes_ago(start - 30)});
        app.post("/service-records", a.as_ref(), body).await
    })
    .await;
    w.check("GET /service-records", EVERYONE, |a, _| async move {
        app.get("/service-records", a.as_ref()).await
    })
    .await;
    // Entered by the other caseworker, who may not approve anyway: nobody
    // approves a record they entered (403 own_entry).
    let entered_by = w.actors[5].clone().unwrap();
    let entered_by = &entered_by;
    w.check("POST /service-records/{id}/approve", [401, 404, 403, 200, 200, 403, 200, 200], |a, i| async move {
        let start = 3000 + 100 * i as i64;
        let body = json!({"volunteer_id": member_ref.id, "request_id": request_ref, "started_at": minutes_ago(start), "ended_at": minutes_ago(start - 30)});
        let record = app.post("/service-records", Some(entered_by), body).await.expect(201);
        app.post_empty(&format!("/service-records/{}/approve", id(&record)), a.as_ref()).await
    })
    .await;

    w.check("GET /stats/service-hours", MANAGERS, |a, _| async move {
        app.get("/stats/service-hours?group_by=team", a.as_ref())
            .await
    })
    .await;
    w.check("GET /exports/service-hours", MANAGERS, |a, _| async move {
        let mut req = app.client.get(app.url("/exports/service-hours?format=csv"));
        if let Some(actor) = a.as_ref() {
            req = req.bearer_auth(&actor.token);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
            headers: Default::default(),
        }
    })
    .await;
    w.check("POST /webhooks", [401, 403, 403, 403, 403, 403, 201, 201], |a, _| async move {
        app.post("/webhooks", a.as_ref(), json!({"url": "http://127.0.0.1:9/hook", "kind": "generic", "events": ["request.created"]})).await
    })
    .await;
    w.check("GET /webhooks", MANAGERS, |a, _| async move {
        app.get("/webhooks", a.as_ref()).await
    })
    .await;
}

//! `spawn_app` and typed helpers per endpoint.

#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

pub const ADMIN_PHONE: &str = "13900000000";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const PASSWORD: &str = "password-123";
/// The test servers' `METRICS_TOKEN`.
pub const METRICS_TOKEN: &str = "test-metrics-token";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub database_url: String,
    pub admin: Actor,
}

/// A logged-in caller.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: String,
    pub token: String,
    pub phone: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
            self.body
        );
        self.body
    }
}

/// A fresh database: an SQLite file in a temporary directory, or a new
/// PostgreSQL database next to `TEST_DATABASE_URL`.
pub async fn fresh_database() -> String {
    let name = format!("vs_test_{}", Uuid::new_v4().simple());
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if !base.trim().is_empty() => {
            use sea_orm::{ConnectionTrait, Database};
            let admin = Database::connect(&base)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.expect("close");
            let mut url = url::Url::parse(&base).expect("TEST_DATABASE_URL is a URL");
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
        _ => {
            let dir = std::env::temp_dir().join("volunteer-service-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!(
                "sqlite://{}?mode=rwc",
                dir.join(format!("{name}.db")).display()
            )
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the server with extra settings on top of the test defaults.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    spawn_on(&fresh_database().await, extra).await
}

/// Starts another server on `database_url` (a second process's view, or a
/// restart), in this test's process, with the test defaults and `extra`.
pub async fn spawn_on(database_url: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut vars: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), database_url.into()),
        ("BIND_ADDR".into(), "127.0.0.1:0".into()),
        (
            "JWT_SECRET".into(),
            "test-secret-that-is-long-enough-for-hs256".into(),
        ),
        ("BOOTSTRAP_ADMIN_PHONE".into(), ADMIN_PHONE.into()),
        ("BOOTSTRAP_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
        // Every test registers its people from 127.0.0.1; the limit has
        // tests of its own.
        ("LOGIN_ATTEMPTS_PER_MINUTE".into(), "1000000".into()),
        // Tests register fifty people at once; the hashing bound has
        // tests of its own.
        ("PASSWORD_HASH_QUEUE".into(), "1000".into()),
        ("METRICS_TOKEN".into(), METRICS_TOKEN.into()),
    ];
    for (k, v) in extra {
        vars.retain(|(key, _)| key != k);
        vars.push((k.to_string(), v.to_string()));
    }
    let settings = api::Settings::from_lookup(|key| {
        vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    })
    .expect("settings");
    let app = api::Application::build(settings).await.expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp::with_admin(base, database_url.to_string()).await
}

impl TestApp {
    /// A client for the server at `base`, logged in as the bootstrap admin.
    pub async fn with_admin(base: String, database_url: String) -> TestApp {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let mut app = TestApp {
            base,
            client,
            database_url,
            admin: Actor {
                id: String::new(),
                token: String::new(),
                phone: ADMIN_PHONE.into(),
            },
        };
        app.admin = app.login(ADMIN_PHONE, ADMIN_PASSWORD).await;
        app
    }
}

pub fn random_phone() -> String {
    let n: u64 = rand::random::<u64>() % 100_000_000;
    format!("137{n:08}")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/api/")
            || path.starts_with("/healthz")
            || path.starts_with("/livez")
            || path.starts_with("/docs")
            || path.starts_with("/api-docs")
        {
            format!("{}{path}", self.base)
        } else {
            format!("{}/api/v1{path}", self.base)
        }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            body,
            headers,
        }
    }

    fn authed(
        &self,
        req: reqwest::RequestBuilder,
        actor: Option<&Actor>,
    ) -> reqwest::RequestBuilder {
        match actor {
            Some(a) => req.bearer_auth(&a.token),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, actor: Option<&Actor>) -> Reply {
        self.send(self.authed(self.client.get(self.url(path)), actor))
            .await
    }

    pub async fn post(&self, path: &str, actor: Option<&Actor>, body: Value) -> Reply {
        self.send(
            self.authed(self.client.post(self.url(path)), actor)
                .json(&body),
        )
        .await
    }

    pub async fn post_empty(&self, path: &str, actor: Option<&Actor>) -> Reply {
        self.send(self.authed(self.client.post(self.url(path)), actor))
            .await
    }

    pub async fn patch(&self, path: &str, actor: Option<&Actor>, body: Value) -> Reply {
        self.send(
            self.authed(self.client.patch(self.url(path)), actor)
                .json(&body),
        )
        .await
    }

    pub async fn put(&self, path: &str, actor: Option<&Actor>, body: Value) -> Reply {
        self.send(
            self.authed(self.client.put(self.url(path)), actor)
                .json(&body),
        )
        .await
    }

    pub async fn delete(&self, path: &str, actor: Option<&Actor>) -> Reply {
        self.send(self.authed(self.client.delete(self.url(path)), actor))
            .await
    }

    /// `GET /metrics` as text.
    pub async fn metrics(&self) -> String {
        let res = self
            .client
            .get(format!("{}/metrics", self.base))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("metrics");
        assert_eq!(res.status(), 200);
        res.text().await.expect("metrics text")
    }

    pub async fn login(&self, phone: &str, password: &str) -> Actor {
        let body = self
            .post(
                "/auth/login",
                None,
                json!({"phone": phone, "password": password}),
            )
            .await
            .expect(200);
        Actor {
            id: body["user"]["id"].as_str().expect("id").into(),
            token: body["access_token"].as_str().expect("token").into(),
            phone: phone.into(),
        }
    }

    pub async fn volunteer(&self, name: &str) -> Actor {
        let phone = random_phone();
        let body = self
            .post(
                "/auth/register",
                None,
                json!({"phone": phone, "password": PASSWORD, "name": name}),
            )
            .await
            .expect(201);
        Actor {
            id: body["user"]["id"].as_str().expect("id").into(),
            token: body["access_token"].as_str().expect("token").into(),
            phone,
        }
    }

    /// An account of `role` made by the admin, logged in.
    pub async fn staff(&self, role: &str, name: &str) -> Actor {
        let phone = random_phone();
        self.post(
            "/users",
            Some(&self.admin),
            json!({"phone": phone, "password": PASSWORD, "name": name, "role": role}),
        )
        .await
        .expect(201);
        self.login(&phone, PASSWORD).await
    }

    pub async fn team(&self, manager: &Actor, overrides: Value) -> Value {
        let mut body = json!({
            "name": "阳光社区学雷锋志愿服务队",
            "kind": "lei_feng",
            "service_categories": ["home_visit", "companionship", "meal_delivery"],
            "location": {"lat": 39.9200, "lng": 116.4000},
            "service_radius_km": 3.0,
            "vetted": true
        });
        merge(&mut body, overrides);
        self.post("/teams", Some(manager), body).await.expect(201)
    }

    pub async fn resident(&self, caseworker: &Actor, overrides: Value) -> Value {
        let mut body = json!({
            "name": "王秀英",
            "category": "elderly_alone",
            "phone": "13612345678",
            "address": "阳光社区 3 号楼 2 单元 501",
            "location": {"lat": 39.9210, "lng": 116.4010},
            "id_number": "11010519491231002X",
            "guardian_name": "王强",
            "guardian_phone": "13712345678",
            "notes": "独居，行动不便"
        });
        merge(&mut body, overrides);
        self.post("/residents", Some(caseworker), body)
            .await
            .expect(201)
    }

    pub async fn request(&self, caseworker: &Actor, resident_id: &str, overrides: Value) -> Value {
        let mut body = json!({
            "resident_id": resident_id,
            "category": "home_visit",
            "title": "陪王阿姨聊天",
            "description": "每周一次上门陪伴",
            "starts_at": "2030-12-03T09:00:00+08:00",
            "ends_at": "2030-12-03T11:00:00+08:00",
            "volunteers_needed": 2,
            "urgency": "normal"
        });
        merge(&mut body, overrides);
        self.post("/requests", Some(caseworker), body)
            .await
            .expect(201)
    }

    /// A generic webhook for `request.created`, registered by the admin.
    pub async fn request_webhook(&self, url: &str) -> Value {
        self.post(
            "/webhooks",
            Some(&self.admin),
            json!({"url": url, "kind": "generic", "events": ["request.created"]}),
        )
        .await
        .expect(201)
    }

    /// Makes `volunteer` an active member. A vetted team (the default)
    /// holds a volunteer who joins as pending: the admin then vets them
    /// ([`VETTED_FOR_YEARS`]) and approves, so tests written before vetting
    /// keep their meaning.
    pub async fn join(&self, team_id: &str, volunteer: &Actor) {
        let joined = self.join_pending(team_id, volunteer).await;
        if joined["status"] == "pending" {
            self.vet(volunteer, Some(&vetted_years_ahead(VETTED_FOR_YEARS)))
                .await;
            let approved = self
                .post_empty(
                    &format!("/teams/{team_id}/members/{}/approve", volunteer.id),
                    Some(&self.admin),
                )
                .await
                .expect(200);
            assert_eq!(approved["status"], "active");
        }
    }

    /// `POST /teams/{id}/members` as the volunteer, nothing more: the
    /// membership as answered (`pending` on a vetted team).
    pub async fn join_pending(&self, team_id: &str, volunteer: &Actor) -> Value {
        self.post_empty(&format!("/teams/{team_id}/members"), Some(volunteer))
            .await
            .expect(201)
    }

    /// The admin sets `person`'s `vetted_until` (`None` clears it).
    pub async fn vet(&self, person: &Actor, until: Option<&str>) -> Value {
        self.put(
            &format!("/users/{}/vetting", person.id),
            Some(&self.admin),
            json!({"vetted_until": until, "note": "无犯罪记录证明已核验"}),
        )
        .await
        .expect(200)
    }

    /// Vets `volunteer` (a manager adds only vetted people to a vetted
    /// team), then adds them as the team's leader.
    pub async fn add_leader(&self, manager: &Actor, team_id: &str, volunteer: &Actor) {
        self.vet(volunteer, Some(&vetted_years_ahead(VETTED_FOR_YEARS)))
            .await;
        self.post(
            &format!("/teams/{team_id}/members"),
            Some(manager),
            json!({"user_id": volunteer.id, "role": "leader"}),
        )
        .await
        .expect(201);
    }

    pub async fn assign(&self, caseworker: &Actor, request_id: &str, team_id: &str) -> Value {
        self.post(
            &format!("/requests/{request_id}/assign"),
            Some(caseworker),
            json!({"team_id": team_id}),
        )
        .await
        .expect(200)
    }
}

/// How long [`TestApp::join`] vets volunteers for: past the default
/// request's start (2030), so every existing sign-up stays allowed.
pub const VETTED_FOR_YEARS: i64 = 10;

/// The date `years` from today in the community's zone, `YYYY-MM-DD`.
pub fn vetted_years_ahead(years: i64) -> String {
    days_from_today(years * 366)
}

/// Today plus `days` (negative: past) in `Asia/Shanghai`, `YYYY-MM-DD`.
pub fn days_from_today(days: i64) -> String {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    (today + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// Overwrites `base`'s fields with those of `overrides`.
pub fn merge(base: &mut Value, overrides: Value) {
    if let (Some(base), Value::Object(over)) = (base.as_object_mut(), overrides) {
        for (k, v) in over {
            base.insert(k, v);
        }
    }
}

/// The `/metrics` line of answers served from the read cache.
pub const CACHE_HITS: &str = r#"read_cache_lookups_total{outcome="hit"}"#;

/// The value of the first `/metrics` line starting with `prefix`; 0 when
/// there is none (a counter never touched is not printed).
pub fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

pub fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_string()
}

/// A community with one team, one caseworker, one resident and a request
/// assigned to the team.
pub struct Community {
    pub manager: Actor,
    pub caseworker: Actor,
    pub team_id: String,
    pub resident_id: String,
    pub request_id: String,
}

pub async fn community(app: &TestApp, needed: u32) -> Community {
    let manager = app.staff("manager", "李经理").await;
    let caseworker = app.staff("caseworker", "赵社工").await;
    let team = app.team(&manager, json!({})).await;
    let resident = app.resident(&caseworker, json!({})).await;
    let request = app
        .request(
            &caseworker,
            &id(&resident),
            json!({"volunteers_needed": needed}),
        )
        .await;
    app.assign(&caseworker, &id(&request), &id(&team)).await;
    Community {
        manager,
        caseworker,
        team_id: id(&team),
        resident_id: id(&resident),
        request_id: id(&request),
    }
}

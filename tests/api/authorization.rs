//! The authorization matrix: every route the server serves, called by
//! every kind of caller, answers exactly what the contract says. The rows
//! register the routes they checked, and the served OpenAPI document is
//! the list they are held to: a route added without a row fails the test.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::json;

use crate::helpers::*;

mod accounts;
mod campaigns;
mod certificates;
mod feedback;
mod pairings;
mod records;
mod requests;
mod residents;
mod teams;
mod webhooks;

pub const CALLERS: [&str; 9] = [
    "anonymous",
    "volunteer",
    "member",
    "leader",
    "other_leader",
    "caseworker",
    "other_caseworker",
    "manager",
    "admin",
];
/// Indices into [`CALLERS`], for the callers whose 403 carries a code.
pub const MEMBER: usize = 2;
pub const LEADER: usize = 3;
pub const CASEWORKER: usize = 5;
pub const OTHER_CASEWORKER: usize = 6;
pub const MANAGER: usize = 7;
pub const ADMIN: usize = 8;

/// One expected status per caller, in the order of [`CALLERS`].
pub type Expected = [u16; 9];

/// Anyone, with a token or without.
pub const ANYONE: Expected = [200; 9];
/// Any signed-in caller.
pub const SIGNED_IN: Expected = [401, 200, 200, 200, 200, 200, 200, 200, 200];
/// Caseworkers, managers and admins.
pub const STAFF: Expected = [401, 403, 403, 403, 403, 200, 200, 200, 200];
pub const STAFF_CREATE: Expected = [401, 403, 403, 403, 403, 201, 201, 201, 201];
/// Managers and admins.
pub const MANAGERS: Expected = [401, 403, 403, 403, 403, 403, 403, 200, 200];
/// The request's caseworker, managers and admins; another caseworker: 403
/// `not_your_request`.
pub const REQUEST_OWNER: Expected = [401, 403, 403, 403, 403, 200, 403, 200, 200];

/// The callers and the situation they are judged on: a vetted team T
/// with a member and a leader, a leader of another vetted team, the
/// caseworker who posted resident and request R (assigned to T), another
/// caseworker, a manager, the admin; and a volunteer who belongs to
/// nothing and is not vetted.
pub struct World {
    pub app: TestApp,
    pub actors: Vec<Option<Actor>>,
    pub team: String,
    pub resident: String,
    pub request: String,
    pub caseworker: Actor,
    pub manager: Actor,
    pub member: Actor,
    /// A caseworker who is none of the callers: enters the paper records
    /// the callers review, so no caller reviews their own entry by chance.
    pub recorder: Actor,
    checked: Mutex<BTreeSet<String>>,
    /// The routes some row expects a signed-in caller to be refused (403).
    refused: Mutex<BTreeSet<String>>,
    slots: AtomicI64,
}

impl World {
    pub async fn new() -> Self {
        let app = spawn_app_with(&[
            ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
            ("WEBHOOK_RETRY_BASE_MS", "100"),
        ])
        .await;
        let c = community(&app, 2).await;
        let volunteer = app.volunteer("路人").await;
        let member = app.volunteer("队员").await;
        app.join(&c.team_id, &member).await;
        let leader = app.volunteer("队长").await;
        app.add_leader(&c.manager, &c.team_id, &leader).await;
        let other_team = app
            .team(
                &c.manager,
                json!({"name": "邻里守望队", "kind": "neighborhood_watch"}),
            )
            .await;
        let other_leader = app.volunteer("别队队长").await;
        app.add_leader(&c.manager, &id(&other_team), &other_leader)
            .await;
        let other_caseworker = app.staff("caseworker", "钱社工").await;
        let recorder = app.staff("caseworker", "孙录入").await;
        let admin = app.admin.clone();
        let actors = vec![
            None,
            Some(volunteer),
            Some(member.clone()),
            Some(leader),
            Some(other_leader),
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
            manager: c.manager,
            member,
            recorder,
            checked: Mutex::new(BTreeSet::new()),
            refused: Mutex::new(BTreeSet::new()),
            slots: AtomicI64::new(0),
        }
    }

    pub fn actor(&self, i: usize) -> &Actor {
        self.actors[i].as_ref().expect("not the anonymous caller")
    }

    /// Calls one route as every caller and checks the statuses. `label`
    /// starts with the route as `METHOD /path/{template}` (relative to
    /// `/api/v1` the way `TestApp::url` reads paths); words after it name
    /// the situation.
    pub async fn check<F, Fut>(&self, label: &str, expected: Expected, call: F)
    where
        F: Fn(Option<Actor>, usize) -> Fut,
        Fut: std::future::Future<Output = Reply>,
    {
        self.check_codes(label, expected, &[], call).await;
    }

    /// [`World::check`], and the error code the contract names for some
    /// callers (`(caller, code)`).
    pub async fn check_codes<F, Fut>(
        &self,
        label: &str,
        expected: Expected,
        codes: &[(usize, &str)],
        call: F,
    ) where
        F: Fn(Option<Actor>, usize) -> Fut,
        Fut: std::future::Future<Output = Reply>,
    {
        let route: Vec<&str> = label.split_whitespace().take(2).collect();
        self.checked.lock().unwrap().insert(route.join(" "));
        if expected.contains(&403) {
            self.refused.lock().unwrap().insert(route.join(" "));
        }
        let mut wrong = Vec::new();
        for (i, actor) in self.actors.iter().enumerate() {
            let reply = call(actor.clone(), i).await;
            if reply.status.as_u16() != expected[i] {
                wrong.push(format!(
                    "{} got {} (expected {}): {}",
                    CALLERS[i], reply.status, expected[i], reply.body
                ));
            } else if let Some((_, code)) = codes.iter().find(|(c, _)| *c == i)
                && reply.code() != *code
            {
                wrong.push(format!(
                    "{} got code {:?} (expected {code}): {}",
                    CALLERS[i],
                    reply.code(),
                    reply.body
                ));
            }
            if reply.status.is_client_error() || reply.status.is_server_error() {
                assert!(
                    reply.body["error"]["code"].is_string(),
                    "{label}: the error body for {} is JSON with a code: {}",
                    CALLERS[i],
                    reply.body
                );
            }
        }
        assert!(wrong.is_empty(), "{label}:\n{}", wrong.join("\n"));
    }

    /// A request by the caseworker for the resident, assigned to T or open.
    pub async fn fresh_request(&self, assigned: bool) -> String {
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

    /// A half-hour in the past nobody's records use yet, as minutes ago
    /// (start, end): the records of the member never overlap.
    pub fn slot(&self) -> (i64, i64) {
        let n = self.slots.fetch_add(1, Ordering::SeqCst);
        let start = 600 + 60 * n;
        (start, start - 30)
    }

    /// A pending paper record of the member's service for R, entered by
    /// `recorder`.
    pub async fn paper_record(&self, recorder: &Actor) -> String {
        let (start, end) = self.slot();
        let body = json!({
            "volunteer_id": self.member.id, "request_id": self.request,
            "started_at": minutes_ago(start), "ended_at": minutes_ago(end),
        });
        id(&self
            .app
            .post("/service-records", Some(recorder), body)
            .await
            .expect(201))
    }

    /// Checks that every operation of the served OpenAPI document had a
    /// row, naming those that did not.
    pub async fn assert_every_route_checked(&self) {
        let doc = self
            .app
            .get("/api-docs/openapi.json", None)
            .await
            .expect(200);
        let checked = self.checked.lock().unwrap().clone();
        let mut operations = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("a path item").keys() {
                if ["get", "put", "post", "delete", "patch", "head", "options"]
                    .contains(&method.as_str())
                {
                    operations.push(format!(
                        "{} {}",
                        method.to_uppercase(),
                        self.label_path(path)
                    ));
                }
            }
        }
        assert!(
            operations.len() >= 50,
            "the document lists the routes: {operations:?}"
        );
        let missing: Vec<&String> = operations
            .iter()
            .filter(|op| !checked.contains(*op))
            .collect();
        assert!(
            missing.is_empty(),
            "routes of the OpenAPI document without a row in the matrix: {missing:?}"
        );
    }

    /// Checks the hand-kept `openapi::ANY_SIGNED_IN` (the signed-in
    /// operations documented without the shared 403) against the rows: an
    /// operation is on it exactly when no row refuses a signed-in caller
    /// with 403. So a 403 the matrix shows is documented, and a documented
    /// 403 is one the matrix shows.
    pub async fn assert_forbidden_documented(&self) {
        let doc = self
            .app
            .get("/api-docs/openapi.json", None)
            .await
            .expect(200);
        let refused = self.refused.lock().unwrap().clone();
        let mut never_refused = BTreeSet::new();
        let mut wrong = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("a path item") {
                let signed_in = op["security"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
                if !signed_in {
                    continue;
                }
                let route = format!("{} {}", method.to_uppercase(), self.label_path(path));
                let id = op["operationId"].as_str().expect("an operation id");
                let shows_403 = refused.contains(&route);
                if !shows_403 {
                    never_refused.insert(id.to_string());
                }
                if op["responses"].get("403").is_some() != shows_403 {
                    wrong.push(format!(
                        "{route} ({id}): 403 documented: {}, in the matrix: {shows_403}",
                        !shows_403
                    ));
                }
            }
        }
        let listed: BTreeSet<String> = api::openapi::ANY_SIGNED_IN
            .iter()
            .map(|id| id.to_string())
            .collect();
        assert_eq!(
            listed, never_refused,
            "openapi::ANY_SIGNED_IN against the operations no row refuses with 403"
        );
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// A path of the document the way the rows write it: relative to
    /// `/api/v1` where `TestApp::url` puts it back there, whole otherwise
    /// (`/healthz` and `/api/v1/healthz` are two routes).
    fn label_path<'a>(&self, path: &'a str) -> &'a str {
        match path.strip_prefix("/api/v1") {
            Some(short) if self.app.url(short) == format!("{}{path}", self.app.base) => short,
            _ => path,
        }
    }
}

pub fn minutes_ago(m: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(m)).to_rfc3339()
}

/// A call outside the JSON helpers: `url` as given, the caller's token
/// (or `token` instead) as bearer.
pub async fn raw_get(app: &TestApp, url: &str, token: Option<&str>) -> Reply {
    let mut req = app.client.get(url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    app.send(req).await
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_contract_says() {
    let w = World::new().await;
    accounts::outside_the_api(&w).await;
    accounts::accounts(&w).await;
    teams::teams(&w).await;
    residents::residents(&w).await;
    requests::requests(&w).await;
    requests::sign_ups(&w).await;
    pairings::pairings(&w).await;
    campaigns::campaigns(&w).await;
    records::service_records(&w).await;
    records::statistics(&w).await;
    feedback::feedback(&w).await;
    feedback::calendar(&w).await;
    certificates::certificates(&w).await;
    webhooks::webhooks(&w).await;
    // Last, as they change who belongs to T and who holds which token.
    teams::joining_and_leaving(&w).await;
    accounts::own_password(&w).await;
    w.assert_every_route_checked().await;
    w.assert_forbidden_documented().await;
}

#[tokio::test]
async fn only_the_requests_caseworker_and_managers_read_the_residents_details() {
    let w = World::new().await;
    let path = format!("/requests/{}", w.request);
    let sees_address = [false, false, false, false, false, true, false, true, true];
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

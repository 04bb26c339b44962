//! A Monday morning, as load: many volunteers open the app at once — each
//! session reads `GET /me`, their recommended requests and one request —
//! and a tenth of the sessions sign up for that request or withdraw the
//! sign-up they made earlier, while caseworkers post requests, assign them
//! to teams and approve the service records waiting for them.
//!
//! ```sh
//! MONDAY_SERVERS=http://127.0.0.1:18101,http://127.0.0.1:18102 \
//! MONDAY_VOLUNTEERS=600 MONDAY_PASSWORD=demo-password METRICS_TOKEN=... \
//!   cargo run --release -p api --example monday_morning
//! ```
//!
//! Runs against a database filled by `volunteer-service seed` (the
//! volunteers are logged in by their seeded phones, so each session has its
//! own token; every seeded volunteer is vetted and an active member of a
//! vetted team, so they see that team's requests). Sessions alternate
//! between the servers; for `MONDAY_SECONDS` `MONDAY_SESSIONS` of them run
//! at once, back to back, each for the next volunteer in turn. Caseworkers
//! act every `MONDAY_CASEWORKER_PAUSE_MS`.
//!
//! Prints throughput, p50/p99 per route, answers by status and the read
//! cache's lookups on every server (from `/metrics`, before and after).
//! Exits non-zero on any answer the mix should not get: a 5xx, no answer,
//! or a 4xx other than the 409 `request_full` a sign-up may lose in a race
//! and the 404 of a request a caseworker just posted and assigned to
//! another team between the volunteer's list and their read.
//! `bench/monday.sh` starts two processes on one PostgreSQL and runs this.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rand::Rng;
use reqwest::Method;
use serde_json::{Value, json};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

fn var(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

/// One answer: what it was and how long it took.
struct Answer {
    status: u16,
    body: Value,
}

/// Per route: latencies, answers by status, and the answers the mix
/// should not get.
#[derive(Default)]
struct Tally {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    statuses: BTreeMap<(&'static str, String), usize>,
    unexpected: Vec<String>,
}

/// The load generator's view of the servers: a client, the base URLs, and
/// the tally every call lands in.
struct Load {
    client: reqwest::Client,
    servers: Vec<String>,
    tally: Mutex<Tally>,
    /// Requests the caseworkers posted in this run: open for a moment,
    /// then assigned to one team, after which other teams' volunteers may
    /// no longer read them (404).
    posted: Mutex<HashSet<String>>,
}

impl Load {
    fn unexpected(&self, line: String) {
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        tally.unexpected.push(line);
    }

    fn was_posted(&self, request: &str) -> bool {
        let posted = self.posted.lock().unwrap_or_else(|e| e.into_inner());
        posted.contains(request)
    }

    /// Calls `path` on server `server`, counted under `route` ("METHOD
    /// /template", whose method it uses). `allowed` are the statuses the
    /// mix may get here besides 2xx, with the error code they carry.
    async fn call(
        &self,
        server: usize,
        route: &'static str,
        path: &str,
        token: &str,
        body: Option<Value>,
        allowed: &[(u16, &str)],
    ) -> Option<Answer> {
        let url = format!("{}{path}", self.servers[server % self.servers.len()]);
        let method = route.split(' ').next().unwrap_or_default();
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
        let mut req = self.client.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let sent = Instant::now();
        let answer = match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let body = res.json::<Value>().await.unwrap_or(Value::Null);
                Ok(Answer { status, body })
            }
            Err(e) => Err(e),
        };
        let took = sent.elapsed();
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        tally.latencies.entry(route).or_default().push(took);
        match answer {
            Ok(answer) => {
                let code = answer.body["error"]["code"].as_str().unwrap_or("");
                let label = if code.is_empty() {
                    answer.status.to_string()
                } else {
                    format!("{} {code}", answer.status)
                };
                *tally.statuses.entry((route, label)).or_default() += 1;
                let expected =
                    (200..300).contains(&answer.status) || allowed.contains(&(answer.status, code));
                if !expected {
                    tally.unexpected.push(format!(
                        "{route} on server {}: {} {}",
                        server % self.servers.len(),
                        answer.status,
                        answer.body
                    ));
                }
                Some(answer)
            }
            Err(e) => {
                *tally
                    .statuses
                    .entry((route, "no answer".into()))
                    .or_default() += 1;
                tally.unexpected.push(format!("{route}: {e}"));
                None
            }
        }
    }
}

async fn login(client: &reqwest::Client, api: &str, phone: &str, password: &str) -> Res<Value> {
    let res = client
        .post(format!("{api}/auth/login"))
        .json(&json!({"phone": phone, "password": password}))
        .send()
        .await?;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status != 200 {
        return Err(format!("login {phone}: {status} {body}").into());
    }
    Ok(body)
}

async fn get_json(client: &reqwest::Client, url: String, token: &str) -> Res<Value> {
    let res = client.get(&url).bearer_auth(token).send().await?;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status != 200 {
        return Err(format!("GET {url}: {status} {body}").into());
    }
    Ok(body)
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_string()
}

/// `read_cache_lookups_total` by outcome (hit, miss, bypass) on one server.
async fn cache_lookups(
    client: &reqwest::Client,
    origin: &str,
    token: &str,
) -> Res<HashMap<String, f64>> {
    let text = client
        .get(format!("{origin}/metrics"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let mut lookups = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("read_cache_lookups_total{outcome=\"")
            && let Some((outcome, value)) = rest.split_once("\"} ")
        {
            lookups.insert(outcome.to_string(), value.trim().parse()?);
        }
    }
    Ok(lookups)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A signed-in seeded volunteer and the sign-up this run made for them.
struct Volunteer {
    token: String,
    signed_up: Mutex<Option<String>>,
}

/// One volunteer opening the app: `/me`, the recommended requests, one
/// request; in a tenth of the sessions, withdraw the sign-up this run
/// made for them or sign up for that request.
async fn session(load: &Load, server: usize, volunteer: &Volunteer, act: bool) {
    let token = &volunteer.token;
    load.call(server, "GET /me", "/me", token, None, &[]).await;
    let recommended = load
        .call(
            server,
            "GET /me/recommended-requests",
            "/me/recommended-requests",
            token,
            None,
            &[],
        )
        .await;
    let items = recommended
        .and_then(|a| a.body["items"].as_array().cloned())
        .unwrap_or_default();
    let request = if items.is_empty() {
        // Nothing to sign up for: the volunteer looks at the list instead.
        let list = load
            .call(
                server,
                "GET /requests",
                "/requests?limit=20",
                token,
                None,
                &[],
            )
            .await;
        list.and_then(|a| a.body["items"].as_array()?.first().map(id_of))
    } else {
        let pick = rand::thread_rng().gen_range(0..items.len().min(5));
        Some(id_of(&items[pick]))
    };
    let Some(request) = request else { return };
    let read = load
        .call(
            server,
            "GET /requests/{id}",
            &format!("/requests/{request}"),
            token,
            None,
            &[(404, "not_found")],
        )
        .await;
    // A 404 is right only for a request just posted and, since the
    // volunteer saw it, assigned to another team.
    if read.is_some_and(|a| a.status == 404) && !load.was_posted(&request) {
        load.unexpected(format!(
            "GET /requests/{request}: 404 for a request the volunteer was shown"
        ));
    }
    if !act {
        return;
    }
    let earlier = volunteer
        .signed_up
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(earlier) = earlier {
        load.call(
            server,
            "DELETE /requests/{id}/signups/me",
            &format!("/requests/{earlier}/signups/me"),
            token,
            None,
            &[],
        )
        .await;
    } else if !items.is_empty() {
        let answer = load
            .call(
                server,
                "POST /requests/{id}/signups",
                &format!("/requests/{request}/signups"),
                token,
                Some(json!({})),
                // Another volunteer took the last place first.
                &[(409, "request_full")],
            )
            .await;
        if answer.is_some_and(|a| a.status == 201) {
            *volunteer
                .signed_up
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(request);
        }
    }
}

/// What a caseworker works through: teams to assign to, residents to post
/// for, and the phone-recorded records of their requests waiting for them.
struct Caseworker {
    token: String,
    pending: Mutex<Vec<String>>,
}

/// Every `pause`, the caseworker's next action in turn: post a request
/// and assign it to a team, approve a waiting record, look at the
/// records still waiting.
async fn caseworker_day(
    load: &Load,
    index: usize,
    caseworker: &Caseworker,
    teams: &[(String, String)],
    residents: &[String],
    pause: Duration,
    until: Instant,
) {
    let token = &caseworker.token;
    let mut tick = tokio::time::interval(pause);
    let mut step = index;
    while Instant::now() < until {
        tick.tick().await;
        let server = step;
        match step % 3 {
            0 => {
                let (team, category) = &teams[step % teams.len()];
                let resident = &residents[step % residents.len()];
                let starts = chrono::Utc::now()
                    + chrono::Duration::days(rand::thread_rng().gen_range(2..20));
                let body = json!({
                    "resident_id": resident, "category": category, "title": "周一新发布的上门探访",
                    "description": "社工周一早上发布", "starts_at": starts.to_rfc3339(),
                    "ends_at": (starts + chrono::Duration::hours(2)).to_rfc3339(),
                    "volunteers_needed": 3, "urgency": "normal",
                });
                let posted = load
                    .call(
                        server,
                        "POST /requests",
                        "/requests",
                        token,
                        Some(body),
                        &[],
                    )
                    .await;
                if let Some(posted) = posted.filter(|a| a.status == 201) {
                    load.posted
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id_of(&posted.body));
                    load.call(
                        server,
                        "POST /requests/{id}/assign",
                        &format!("/requests/{}/assign", id_of(&posted.body)),
                        token,
                        Some(json!({"team_id": team})),
                        &[],
                    )
                    .await;
                }
            }
            1 => {
                let record = caseworker
                    .pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .pop();
                if let Some(record) = record {
                    load.call(
                        server,
                        "POST /service-records/{id}/approve",
                        &format!("/service-records/{record}/approve"),
                        token,
                        Some(json!({})),
                        &[],
                    )
                    .await;
                }
            }
            _ => {
                load.call(
                    server,
                    "GET /service-records",
                    "/service-records?status=pending&limit=20",
                    token,
                    None,
                    &[],
                )
                .await;
            }
        }
        step += 1;
    }
}

#[tokio::main]
async fn main() -> Res<()> {
    let origins: Vec<String> = var("MONDAY_SERVERS", "http://127.0.0.1:8080")
        .split(',')
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .collect();
    let servers: Vec<String> = origins.iter().map(|o| format!("{o}/api/v1")).collect();
    let volunteer_count: usize = var("MONDAY_VOLUNTEERS", "600").parse()?;
    let caseworker_count: usize = var("MONDAY_CASEWORKERS", "4").parse()?;
    let sessions_at_once: usize = var("MONDAY_SESSIONS", "32").parse()?;
    let seconds: u64 = var("MONDAY_SECONDS", "60").parse()?;
    let pause = Duration::from_millis(var("MONDAY_CASEWORKER_PAUSE_MS", "250").parse()?);
    let password = var("MONDAY_PASSWORD", "demo-password");
    let metrics_token = var("METRICS_TOKEN", "");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(sessions_at_once + caseworker_count + 8)
        // Below actix-web's 5 s keep-alive: a connection the server is
        // closing is never picked for the next request.
        .pool_idle_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(60))
        .build()?;
    let api = &servers[0];

    // Set-up (not timed): everybody logs in, a few at a time (Argon2 is
    // slow on purpose, and waiting hashes are capped).
    let setup = Instant::now();
    let manager = login(&client, api, api::seed::MANAGER_PHONE, &password).await?;
    let manager = manager["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let logins = |phones: Vec<String>| {
        let client = client.clone();
        let servers = servers.clone();
        let password = password.clone();
        async move {
            futures::stream::iter(phones.into_iter().enumerate())
                .map(|(i, phone)| {
                    let (client, api, password) = (
                        client.clone(),
                        servers[i % servers.len()].clone(),
                        password.clone(),
                    );
                    async move { login(&client, &api, &phone, &password).await }
                })
                .buffer_unordered(4)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Res<Vec<Value>>>()
        }
    };
    let volunteers: Vec<Volunteer> = logins(
        (0..volunteer_count)
            .map(api::seed::volunteer_phone)
            .collect(),
    )
    .await?
    .into_iter()
    .map(|login| Volunteer {
        token: login["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        signed_up: Mutex::new(None),
    })
    .collect();
    let caseworker_logins = logins(
        (0..caseworker_count)
            .map(api::seed::caseworker_phone)
            .collect(),
    )
    .await?;
    let distinct: std::collections::HashSet<&str> =
        volunteers.iter().map(|v| v.token.as_str()).collect();
    if distinct.len() != volunteer_count {
        return Err(format!(
            "{} distinct tokens for {volunteer_count} volunteers",
            distinct.len()
        )
        .into());
    }

    // What the caseworkers work with: the teams, some residents, and the
    // records recorded by phone (so not their own entry) on their requests.
    let teams: Vec<(String, String)> =
        get_json(&client, format!("{api}/teams?limit=100"), &manager).await?["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|t| Some((id_of(t), t["service_categories"][0].as_str()?.to_string())))
            .collect();
    let residents: Vec<String> = get_json(&client, format!("{api}/residents?limit=100"), &manager)
        .await?["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(id_of)
        .collect();
    if teams.is_empty() || residents.is_empty() {
        return Err("the database holds no teams or residents: seed it first".into());
    }
    let by_id: HashMap<String, usize> = caseworker_logins
        .iter()
        .enumerate()
        .map(|(i, login)| (id_of(&login["user"]), i))
        .collect();
    let caseworkers: Vec<Caseworker> = caseworker_logins
        .iter()
        .map(|login| Caseworker {
            token: login["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            pending: Mutex::new(Vec::new()),
        })
        .collect();
    let mut owner_of_request: HashMap<String, Option<usize>> = HashMap::new();
    let mut cursor: Option<String> = None;
    let mut waiting = 0;
    loop {
        let mut url = format!("{api}/service-records?status=pending&limit=100");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page = get_json(&client, url, &manager).await?;
        for record in page["items"].as_array().cloned().unwrap_or_default() {
            if record["source"] != "phone" {
                continue;
            }
            let request = record["request_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if !owner_of_request.contains_key(&request) {
                let found =
                    get_json(&client, format!("{api}/requests/{request}"), &manager).await?;
                let owner = found["caseworker_id"]
                    .as_str()
                    .and_then(|c| by_id.get(c))
                    .copied();
                owner_of_request.insert(request.clone(), owner);
            }
            if let Some(owner) = owner_of_request[&request] {
                caseworkers[owner]
                    .pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(id_of(&record));
                waiting += 1;
            }
        }
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    eprintln!(
        "set-up: {volunteer_count} volunteers and {caseworker_count} caseworkers logged in, \
         {waiting} records waiting for them, in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let mut before = Vec::new();
    for origin in &origins {
        before.push(cache_lookups(&client, origin, &metrics_token).await?);
    }

    // The morning.
    let load = Arc::new(Load {
        client: client.clone(),
        servers: servers.clone(),
        tally: Mutex::new(Tally::default()),
        posted: Mutex::new(HashSet::new()),
    });
    let volunteers = Arc::new(volunteers);
    let caseworkers = Arc::new(caseworkers);
    let (teams, residents) = (Arc::new(teams), Arc::new(residents));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let next_session = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..sessions_at_once {
        let (load, volunteers, next_session) =
            (load.clone(), volunteers.clone(), next_session.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let n = next_session.fetch_add(1, Ordering::Relaxed);
                let act = rand::thread_rng().gen_ratio(1, 10);
                session(&load, n, &volunteers[n % volunteers.len()], act).await;
            }
        }));
    }
    for index in 0..caseworkers.len() {
        let (load, caseworkers, teams, residents) = (
            load.clone(),
            caseworkers.clone(),
            teams.clone(),
            residents.clone(),
        );
        tasks.push(tokio::spawn(async move {
            caseworker_day(
                &load,
                index,
                &caseworkers[index],
                &teams,
                &residents,
                pause,
                until,
            )
            .await;
        }));
    }
    for task in tasks {
        task.await?;
    }
    let wall = started.elapsed().as_secs_f64();
    let sessions = next_session.load(Ordering::Relaxed);

    let mut tally = std::mem::take(&mut *load.tally.lock().unwrap_or_else(|e| e.into_inner()));
    let total: usize = tally.latencies.values().map(Vec::len).sum();
    println!(
        "{} server(s), {wall:.1} s: {total} requests, {:.0} req/s; {sessions} volunteer sessions \
         ({:.1}/s, {} distinct volunteers), {} caseworkers",
        servers.len(),
        total as f64 / wall,
        sessions as f64 / wall,
        sessions.min(volunteers.len()),
        caseworkers.len(),
    );
    println!(
        "{:<36} {:>8} {:>8} {:>9} {:>9} {:>9}",
        "route", "count", "req/s", "p50 ms", "p99 ms", "max ms"
    );
    for (route, latencies) in tally.latencies.iter_mut() {
        latencies.sort();
        println!(
            "{:<36} {:>8} {:>8.1} {:>9.1} {:>9.1} {:>9.1}",
            route,
            latencies.len(),
            latencies.len() as f64 / wall,
            ms(percentile(latencies, 0.50)),
            ms(percentile(latencies, 0.99)),
            ms(percentile(latencies, 1.0)),
        );
    }
    println!("answers:");
    for ((route, status), count) in &tally.statuses {
        println!("  {route:<36} {status:<24} {count:>8}");
    }
    for (i, origin) in origins.iter().enumerate() {
        let after = cache_lookups(&client, origin, &metrics_token).await?;
        let delta = |k: &str| after.get(k).unwrap_or(&0.0) - before[i].get(k).unwrap_or(&0.0);
        let (hit, miss, bypass) = (delta("hit"), delta("miss"), delta("bypass"));
        let rate = if hit + miss > 0.0 {
            format!("{:.1} %", 100.0 * hit / (hit + miss))
        } else {
            "n/a".into()
        };
        println!(
            "read cache on {origin}: {hit:.0} hits, {miss:.0} misses, {bypass:.0} bypassed; hit rate {rate}"
        );
    }
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for line in &tally.unexpected {
        let kind: String = line.chars().take(160).collect();
        *kinds.entry(kind).or_default() += 1;
    }
    for (kind, count) in kinds.iter().take(20) {
        eprintln!("unexpected ({count}×): {kind}");
    }
    if !tally.unexpected.is_empty() {
        return Err(format!("{} unexpected answers", tally.unexpected.len()).into());
    }
    Ok(())
}

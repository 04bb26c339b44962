//! Times a campaign over many residents and its auto-assignment, over HTTP
//! against an in-process server on a fresh database, and prints the
//! spread of the work (requests per team against the fair share) and
//! whether the answer keeps the fairness rule.
//!
//! ```sh
//! DATABASE_URL=sqlite:///tmp/campaign.db?mode=rwc \
//! CAMPAIGN_RESIDENTS=2000 CAMPAIGN_TEAMS=50 \
//!   cargo run --release -p api --example campaign_timing
//! ```
//!
//! The teams stand around the community centre with radii of 2–5 km, so
//! each resident has some of them in reach, not all.

use std::collections::HashMap;
use std::error::Error;
use std::time::Instant;

use api::domain::fair_assignment::{Candidate, is_fair};
use futures::StreamExt;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

fn var(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(&self, method: &str, path: &str, token: &str, body: Value) -> Res<Value> {
        let url = format!("{}/api/v1{path}", self.base);
        let req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url).json(&body),
        };
        let res = req.bearer_auth(token).send().await?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("{method} {path}: {status} {body}").into());
        }
        Ok(body)
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

#[tokio::main]
async fn main() -> Res<()> {
    let residents: usize = var("CAMPAIGN_RESIDENTS", "2000").parse()?;
    let teams: usize = var("CAMPAIGN_TEAMS", "50").parse()?;
    let phone = "13900000000";
    let password = "campaign-timing-1";
    let settings = api::Settings::from_lookup(|key| match key {
        "BIND_ADDR" => Some("127.0.0.1:0".into()),
        "JWT_SECRET" => Some("campaign-timing-secret-long-enough-for-hs256".into()),
        "BOOTSTRAP_ADMIN_PHONE" => Some(phone.into()),
        "BOOTSTRAP_ADMIN_PASSWORD" => Some(password.into()),
        "LOGIN_ATTEMPTS_PER_MINUTE" => Some("1000000".into()),
        other => std::env::var(other).ok(),
    })?;
    let app = api::Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = Client {
        http: reqwest::Client::new(),
        base,
    };
    let login = client
        .call(
            "POST",
            "/auth/login",
            "",
            json!({"phone": phone, "password": password}),
        )
        .await?;
    let token = login["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let token = token.as_str();

    let mut rng = StdRng::seed_from_u64(12);
    let (lat0, lng0) = (39.92, 116.40);
    for t in 0..teams {
        let body = json!({
            "name": format!("服务队{t}"), "kind": "lei_feng",
            "service_categories": ["home_visit"],
            "location": {"lat": lat0 + rng.gen_range(-0.04..0.04), "lng": lng0 + rng.gen_range(-0.05..0.05)},
            "service_radius_km": rng.gen_range(2.0..5.0), "vetted": t % 5 == 0
        });
        client.call("POST", "/teams", token, body).await?;
    }
    let bodies: Vec<Value> = (0..residents)
        .map(|i| {
            // One in ten a left-behind child: vetted teams only.
            let category = if i % 10 == 0 { "left_behind_child" } else { "elderly_alone" };
            json!({
                "name": format!("居民{i}"), "category": category,
                "address": format!("阳光社区 {} 号楼", i % 40 + 1),
                "location": {"lat": lat0 + rng.gen_range(-0.03..0.03), "lng": lng0 + rng.gen_range(-0.04..0.04)}
            })
        })
        .collect();
    futures::stream::iter(bodies)
        .map(|body| client.call("POST", "/residents", token, body))
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Res<Vec<_>>>()?;

    let started = Instant::now();
    let campaign = client
        .call(
            "POST",
            "/campaigns",
            token,
            json!({
                "name": "重阳节敬老活动", "resident_categories": ["elderly_alone", "left_behind_child"],
                "category": "home_visit", "title": "重阳节上门送温暖",
                "starts_at": "2030-10-05T09:00:00+08:00", "ends_at": "2030-10-05T11:00:00+08:00",
                "volunteers_per_request": 2
            }),
        )
        .await?;
    let create_ms = started.elapsed().as_millis();

    // Each request's eligible teams, as `GET /requests/{id}/matches` says,
    // to check the answer against.
    let mut request_ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = client
            .call(
                "GET",
                &format!(
                    "/requests?campaign_id={}&limit=100&cursor={cursor}",
                    id(&campaign)
                ),
                token,
                Value::Null,
            )
            .await?;
        for item in page["items"].as_array().into_iter().flatten() {
            request_ids.push(id(item));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    let matches: Vec<Value> = futures::stream::iter(&request_ids)
        .map(|r| {
            let (client, path) = (&client, format!("/requests/{r}/matches"));
            async move { client.call("GET", &path, token, Value::Null).await }
        })
        .buffered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Res<Vec<_>>>()?;

    let started = Instant::now();
    let answer = client
        .call(
            "POST",
            &format!("/campaigns/{}/auto-assign", id(&campaign)),
            token,
            json!({}),
        )
        .await?;
    let assign_ms = started.elapsed().as_millis();

    let mut team_index: HashMap<String, usize> = HashMap::new();
    let choices: Vec<Vec<Candidate>> = matches
        .iter()
        .map(|m| {
            m["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| {
                    let next = team_index.len();
                    let team = *team_index.entry(id(&item["team"])).or_insert(next);
                    Candidate {
                        team,
                        score: item["score"].as_f64().unwrap_or(0.0),
                    }
                })
                .collect()
        })
        .collect();
    let position: HashMap<&str, usize> = request_ids
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i))
        .collect();
    let mut plan = vec![None; request_ids.len()];
    for pair in answer["assigned"].as_array().into_iter().flatten() {
        let r = position[pair["request_id"].as_str().unwrap_or_default()];
        let next = team_index.len();
        let team = *team_index
            .entry(pair["team_id"].as_str().unwrap_or_default().to_string())
            .or_insert(next);
        plan[r] = Some(team);
    }
    let mut load = vec![0usize; team_index.len().max(teams)];
    for team in plan.iter().flatten() {
        load[*team] += 1;
    }
    let used: Vec<usize> = load.iter().copied().filter(|&l| l > 0).collect();
    let assigned = plan.iter().flatten().count();
    println!("database: {}", var("DATABASE_URL", "(default)"));
    println!(
        "campaign over {} residents: {} requests, POST /campaigns {create_ms} ms",
        residents, campaign["requests"]
    );
    println!(
        "auto-assign: {assigned} assigned, {} unmatched, {assign_ms} ms",
        answer["unmatched"].as_array().map_or(0, Vec::len)
    );
    println!(
        "per team: max {} min {} (teams with work: {}; fair share {:.1}); fair rule kept: {}",
        load.iter().max().unwrap_or(&0),
        used.iter().min().unwrap_or(&0),
        used.len(),
        assigned as f64 / teams as f64,
        is_fair(load.len(), &choices, &plan)
    );
    Ok(())
}

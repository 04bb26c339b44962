//! The Monday-morning rush: N volunteers sign up at the same instant for a
//! request with P places, spread over one or more server processes (behind
//! no balancer: request i goes to server i mod S). Exits non-zero unless
//! exactly P sign-ups were accepted, every other answer was 409
//! `request_full`, and nothing answered 5xx.
//!
//! ```sh
//! RUSH_SERVERS=http://127.0.0.1:18081,http://127.0.0.1:18082 \
//! RUSH_VOLUNTEERS=1000 RUSH_PLACES=50 \
//! ADMIN_PHONE=13900000000 ADMIN_PASSWORD=... \
//!   cargo run --release -p api --example signup_rush
//! ```
//!
//! Set-up goes through the API on a database that has only the bootstrap
//! admin: a vetted team, a resident, a request assigned to the team, N
//! registered volunteers who joined the team. Then every volunteer waits at
//! one barrier and all sign-ups go at once. `bench/signup_rush.sh` starts
//! two processes on one PostgreSQL and runs this.

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Barrier;

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

fn var(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> Res<(u16, Value)> {
    let mut req = client.post(url).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

fn created(step: &str, (status, body): (u16, Value)) -> Res<Value> {
    if status == 201 || status == 200 {
        Ok(body)
    } else {
        Err(format!("{step}: {status} {body}").into())
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

#[tokio::main]
async fn main() -> Res<()> {
    let servers: Vec<String> = var("RUSH_SERVERS", "http://127.0.0.1:8080")
        .split(',')
        .map(|s| format!("{}/api/v1", s.trim().trim_end_matches('/')))
        .collect();
    let volunteers: usize = var("RUSH_VOLUNTEERS", "1000").parse()?;
    let places: usize = var("RUSH_PLACES", "50").parse()?;
    let admin_phone = var("ADMIN_PHONE", "13900000000");
    let admin_password = var("ADMIN_PASSWORD", "admin-password-1");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(volunteers)
        .timeout(Duration::from_secs(120))
        .build()?;
    let api = &servers[0];

    let (status, login) = post(
        &client,
        format!("{api}/auth/login"),
        None,
        json!({"phone": admin_phone, "password": admin_password}),
    )
    .await?;
    let admin = login["access_token"]
        .as_str()
        .ok_or_else(|| format!("admin login: {status} {login}"))?
        .to_string();
    let team = created(
        "team",
        post(
            &client,
            format!("{api}/teams"),
            Some(&admin),
            json!({"name": "周一早高峰学雷锋志愿服务队", "kind": "lei_feng",
                   "service_categories": ["home_visit"], "location": {"lat": 39.92, "lng": 116.40},
                   "service_radius_km": 5.0, "vetted": true}),
        )
        .await?,
    )?;
    let team_id = team["id"].as_str().unwrap_or_default().to_string();
    let resident = created(
        "resident",
        post(
            &client,
            format!("{api}/residents"),
            Some(&admin),
            json!({"name": "李桂英", "category": "elderly_alone", "address": "幸福里小区 3 号楼 501",
                   "location": {"lat": 39.921, "lng": 116.401}}),
        )
        .await?,
    )?;
    let starts = chrono::Utc::now() + chrono::Duration::days(2);
    let request = created(
        "request",
        post(
            &client,
            format!("{api}/requests"),
            Some(&admin),
            json!({"resident_id": resident["id"], "category": "home_visit",
                   "title": "重阳节集体探访", "description": "社区组织重阳节上门探访独居老人",
                   "starts_at": starts.to_rfc3339(),
                   "ends_at": (starts + chrono::Duration::hours(3)).to_rfc3339(),
                   "volunteers_needed": places, "urgency": "normal"}),
        )
        .await?,
    )?;
    let request_id = request["id"].as_str().unwrap_or_default().to_string();
    created(
        "assign",
        post(
            &client,
            format!("{api}/requests/{request_id}/assign"),
            Some(&admin),
            json!({"team_id": team_id}),
        )
        .await?,
    )?;

    // Volunteers register and join the team (16 at a time; Argon2 is slow
    // on purpose).
    let setup = Instant::now();
    let base: u64 = rand::random::<u64>() % 90_000_000;
    let tokens: Vec<String> = futures::stream::iter(0..volunteers)
        .map(|i| {
            let client = client.clone();
            let api = servers[i % servers.len()].clone();
            let team_id = team_id.clone();
            async move {
                let phone = format!("19{:09}", (base + i as u64) % 1_000_000_000);
                let registered = created(
                    "register",
                    post(
                        &client,
                        format!("{api}/auth/register"),
                        None,
                        json!({"phone": phone, "password": "rush-password", "name": format!("志愿者{i}")}),
                    )
                    .await?,
                )?;
                let token = registered["access_token"].as_str().unwrap_or_default().to_string();
                created(
                    "join",
                    post(&client, format!("{api}/teams/{team_id}/members"), Some(&token), json!({}))
                        .await?,
                )?;
                Res::Ok(token)
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Res<_>>()?;
    eprintln!(
        "set-up: {volunteers} volunteers registered and joined in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    // The rush.
    let barrier = Arc::new(Barrier::new(volunteers));
    let started = Instant::now();
    let tasks: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let client = client.clone();
            let url = format!(
                "{}/requests/{request_id}/signups",
                servers[i % servers.len()]
            );
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let sent = Instant::now();
                let answer = post(&client, url, Some(&token), json!({})).await;
                (answer, sent.elapsed())
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(volunteers);
    let (mut accepted, mut full, mut server_errors, mut other) = (0, 0, 0, Vec::new());
    for task in tasks {
        let (answer, latency) = task.await?;
        latencies.push(latency);
        match answer {
            Ok((201, _)) => accepted += 1,
            Ok((409, body)) if body["error"]["code"] == "request_full" => full += 1,
            Ok((status, _)) if status >= 500 => server_errors += 1,
            Ok((status, body)) => other.push(format!("{status} {body}")),
            Err(e) => other.push(e.to_string()),
        }
    }
    let wall = started.elapsed();
    latencies.sort();
    let (_, after) = {
        let res = client
            .get(format!("{api}/requests/{request_id}"))
            .bearer_auth(&admin)
            .send()
            .await?;
        (res.status().as_u16(), res.json::<Value>().await?)
    };
    println!(
        "rush: {volunteers} sign-ups over {} process(es) for {places} places in {:.2} s: \
         {accepted} × 201, {full} × 409 request_full, {server_errors} × 5xx, {} other; \
         request shows {} signed up; latency p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        servers.len(),
        wall.as_secs_f64(),
        other.len(),
        after["signups_count"],
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.90).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        percentile(&latencies, 1.0).as_secs_f64() * 1e3,
    );
    for line in other.iter().take(5) {
        eprintln!("unexpected answer: {line}");
    }
    if accepted != places || server_errors > 0 || !other.is_empty() {
        return Err("the rush broke the rules".into());
    }
    Ok(())
}

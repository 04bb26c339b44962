//! Times a service certificate for a volunteer with many approved records:
//! issuing it (`POST /certificates`, which reads every record of the
//! period) and rendering its PDF, over HTTP against an in-process server
//! on a fresh database, and prints the process's peak memory before and
//! after, and the PDF's size.
//!
//! ```sh
//! DATABASE_URL='sqlite:///tmp/certificate.db?mode=rwc' CERT_RECORDS=10000 \
//!   cargo run --release -p api --example certificate_issue
//! ```
//!
//! A small demo community comes from `api::seed`; the records of one
//! volunteer are then inserted straight into the database (approved,
//! three hours apart, over the seeded requests and so over several
//! service categories).

use std::error::Error;
use std::time::Instant;

use entity::help_request::{self, Entity as Requests};
use entity::service_record::{self, Entity as Records};
use entity::user::{self, Entity as Users};
use entity::vocab::{RecordSource, RecordStatus, Role};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

fn var(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

/// Peak resident memory of this process so far (Linux), in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() -> Res<()> {
    let records: usize = var("CERT_RECORDS", "10000").parse()?;
    let password = "certificate-timing-1";
    let settings = api::Settings::from_lookup(|key| match key {
        "BIND_ADDR" => Some("127.0.0.1:0".into()),
        "JWT_SECRET" => Some("certificate-timing-secret-long-enough-for-hs256".into()),
        "LOGIN_ATTEMPTS_PER_MINUTE" => Some("1000000".into()),
        other => std::env::var(other).ok(),
    })?;
    let db = api::startup::connect_with(&settings.database_url, settings.pool).await?;
    let app = api::Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    tokio::spawn(app.run_until_stopped());

    let now = chrono::Utc::now().timestamp();
    api::seed::seed(
        &db,
        &api::seed::SeedPlan {
            records: 0,
            volunteers: Some(50),
            password: password.into(),
            now,
        },
    )
    .await?;
    let volunteer = Users::find()
        .filter(user::Column::Role.eq(Role::Volunteer))
        .one(&db)
        .await?
        .ok_or("no seeded volunteer")?;
    let manager = Users::find()
        .filter(user::Column::Role.eq(Role::Manager))
        .one(&db)
        .await?
        .ok_or("no seeded manager")?;
    let requests: Vec<(Uuid, Option<Uuid>)> = Requests::find()
        .select_only()
        .column(help_request::Column::Id)
        .column(help_request::Column::TeamId)
        .limit(40)
        .into_tuple()
        .all(&db)
        .await?;
    let started = Instant::now();
    let rows: Vec<service_record::ActiveModel> = (0..records)
        .map(|i| {
            let (request, team) = requests[i % requests.len()];
            let start = now - 3_600 * 3 * (i as i64 + 1);
            service_record::ActiveModel {
                id: Set(Uuid::now_v7()),
                volunteer_id: Set(volunteer.id),
                request_id: Set(request),
                team_id: Set(team.unwrap_or(Uuid::nil())),
                started_at: Set(start),
                ended_at: Set(Some(start + 5_400)),
                minutes: Set(Some(90)),
                status: Set(RecordStatus::Approved),
                source: Set(RecordSource::Paper),
                note: Set(None),
                recorder_id: Set(manager.id),
                check_in_distance_m: Set(None),
                check_out_distance_m: Set(None),
                supersedes_id: Set(None),
                reviewed_by: Set(Some(manager.id)),
                reviewed_at: Set(Some(now)),
                reject_reason: Set(None),
                created_at: Set(now),
            }
        })
        .collect();
    for chunk in rows.chunks(500) {
        Records::insert_many(chunk.to_vec()).exec(&db).await?;
    }
    println!(
        "seeded {records} approved records of one volunteer in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/auth/login"))
        .json(&json!({"phone": volunteer.phone, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["access_token"].as_str().ok_or("login failed")?;
    let before = peak_mib();
    let t = Instant::now();
    let res = http
        .post(format!("{base}/certificates"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await?;
    let status = res.status();
    let cert: Value = res.json().await?;
    let issue_ms = t.elapsed().as_secs_f64() * 1000.0;
    if status != 201 {
        return Err(format!("issue: {status} {cert}").into());
    }
    let after_issue = peak_mib();
    let t = Instant::now();
    let pdf = http
        .get(format!(
            "{base}/certificates/{}/pdf",
            cert["id"].as_str().unwrap_or("")
        ))
        .bearer_auth(token)
        .send()
        .await?
        .bytes()
        .await?;
    let pdf_ms = t.elapsed().as_secs_f64() * 1000.0;
    let after_pdf = peak_mib();
    println!(
        "issue: {issue_ms:.0} ms ({} records, {} h, {} categories); pdf: {pdf_ms:.0} ms, {} bytes",
        cert["records"],
        cert["hours"],
        cert["by_category"].as_array().map_or(0, Vec::len),
        pdf.len()
    );
    println!(
        "peak RSS of the process: {before:.1} MiB before, {after_issue:.1} MiB after issuing, {after_pdf:.1} MiB after the PDF"
    );
    if let Ok(path) = std::env::var("CERT_PDF_OUT") {
        std::fs::write(path, &pdf)?;
    }
    Ok(())
}

//! A scheduler tick over a large future: seeds a small community into a
//! fresh database, adds REQUESTS assigned requests spread over the next
//! year with three sign-ups each, then times ticks of the scheduler
//! (`service::scheduler::run_once`): the first handles what is due now
//! (the next day's unfilled alerts, the next two hours' reminders), the
//! next ones find nothing due. Prints the database's plan of the due query.
//!
//! ```sh
//! REQUESTS=100000 cargo run -p api --example scheduler_tick
//! # PostgreSQL: DATABASE_URL=postgres://…/empty_db JWT_SECRET=… REQUESTS=100000 …
//! ```

use std::time::Instant;

use entity::help_request::{self, Entity as Requests};
use entity::signup::{self, Entity as Signups};
use entity::team_member::{self, Entity as Members};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, Statement,
};
use uuid::Uuid;

use api::domain::vocab::{MemberStatus, RequestStatus, ServiceCategory, SignupStatus, Urgency};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const CHUNK: usize = 1_000;

#[tokio::main]
async fn main() -> Res<()> {
    let count: usize = std::env::var("REQUESTS")
        .unwrap_or_else(|_| "100000".into())
        .parse()?;
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        let file = std::env::temp_dir().join(format!("scheduler-tick-{}.db", Uuid::new_v4()));
        format!("sqlite://{}?mode=rwc", file.display())
    });
    let settings = api::Settings::from_lookup(|key| match key {
        "DATABASE_URL" => Some(url.clone()),
        _ => std::env::var(key).ok(),
    })?;
    let db = api::startup::connect(&url).await?;
    let now = chrono::Utc::now().timestamp();
    let plan = api::seed::SeedPlan {
        records: 0,
        volunteers: None,
        password: "scheduler-tick".into(),
        now,
    };
    api::seed::seed(&db, &plan).await?;
    let members: Vec<team_member::Model> = Members::find()
        .filter(team_member::Column::Status.eq(MemberStatus::Active))
        .all(&db)
        .await?;
    let template = Requests::find()
        .one(&db)
        .await?
        .ok_or("the seed made no requests")?;
    let mut teams: Vec<(Uuid, Vec<Uuid>)> = Vec::new();
    for m in &members {
        match teams.iter_mut().find(|(t, _)| *t == m.team_id) {
            Some((_, vs)) => vs.push(m.user_id),
            None => teams.push((m.team_id, vec![m.user_id])),
        }
    }
    teams.retain(|(_, vs)| vs.len() >= 3);
    if teams.is_empty() {
        return Err("no team with three members".into());
    }
    let started = Instant::now();
    let year = 365 * 86_400;
    for chunk_start in (0..count).step_by(CHUNK) {
        let mut requests = Vec::new();
        let mut signups = Vec::new();
        for i in chunk_start..(chunk_start + CHUNK).min(count) {
            let (team, volunteers) = &teams[i % teams.len()];
            let id = Uuid::now_v7();
            // From a minute ahead to a year ahead, evenly.
            let starts_at = now + 60 + (i as i64 * year) / count as i64;
            requests.push(help_request::ActiveModel {
                id: Set(id),
                resident_id: Set(template.resident_id),
                caseworker_id: Set(template.caseworker_id),
                category: Set(ServiceCategory::HomeVisit),
                title: Set(format!("探访 {i}")),
                description: Set(String::new()),
                starts_at: Set(starts_at),
                ends_at: Set(starts_at + 7_200),
                volunteers_needed: Set(4),
                signups_count: Set(3),
                urgency: Set(Urgency::Normal),
                status: Set(RequestStatus::Assigned),
                team_id: Set(Some(*team)),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
            for k in 0..3 {
                signups.push(signup::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    request_id: Set(id),
                    volunteer_id: Set(volunteers[(i + k) % volunteers.len()]),
                    team_id: Set(*team),
                    created_at: Set(now),
                    status: Set(SignupStatus::SignedUp),
                    status_changed_at: Set(None),
                });
            }
        }
        Requests::insert_many(requests).exec(&db).await?;
        Signups::insert_many(signups).exec(&db).await?;
    }
    let future = Requests::find()
        .filter(help_request::Column::StartsAt.gt(now))
        .count(&db)
        .await?;
    let signed = Signups::find().count(&db).await?;
    println!(
        "{future} future requests, {signed} sign-ups (inserted in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    if db.get_database_backend() == DbBackend::Postgres {
        // What autovacuum does soon after a bulk load: without statistics
        // the planner guesses and scans.
        db.execute_unprepared("ANALYZE help_requests").await?;
        db.execute_unprepared("ANALYZE signups").await?;
    }
    explain(&db, now + settings.reminder_lead_secs).await?;
    let started = Instant::now();
    let first = api::service::scheduler::run_once(&db, &settings, now).await?;
    println!(
        "first tick: {first:?} in {:.3} s (the day's unfilled alerts, the next two hours' reminders)",
        started.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let sent = api::service::scheduler::run_once(&db, &settings, now).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        if sent != Default::default() {
            return Err(format!("a later tick sent again: {sent:?}").into());
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "ticks with nothing due: median {:.2} ms, max {:.2} ms",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    Ok(())
}

/// The plan of the reminder's due query.
async fn explain(db: &sea_orm::DatabaseConnection, due_by: i64) -> Res<()> {
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT id FROM help_requests WHERE reminder_sent_at IS NULL AND starts_at <= {due_by} \
         ORDER BY starts_at LIMIT 200"
    );
    let explain = match backend {
        DbBackend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        _ => format!("EXPLAIN {sql}"),
    };
    for row in db
        .query_all_raw(Statement::from_string(backend, explain))
        .await?
    {
        let line: String = match backend {
            DbBackend::Sqlite => row.try_get_by_index(3)?,
            _ => row.try_get_by_index(0)?,
        };
        println!("plan: {line}");
    }
    Ok(())
}

//! Topping up pairings' visits: seeds a small community into a fresh
//! database, adds N weekly pairings (each with one regular volunteer, so
//! every visit also takes a sign-up), then times two rounds of the pairing
//! worker. The first makes every visit within `PAIRING_HORIZON_DAYS`; the
//! second must make none.
//!
//! ```sh
//! PAIRINGS=500 cargo run --release -p api --example pairing_topup
//! # PostgreSQL: DATABASE_URL=postgres://…/empty_db JWT_SECRET=… PAIRINGS=500 …
//! ```

use std::time::Instant;

use entity::pairing::{self, Entity as Pairings};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
use uuid::Uuid;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Res<()> {
    let count: usize = std::env::var("PAIRINGS")
        .unwrap_or_else(|_| "500".into())
        .parse()?;
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        let file = std::env::temp_dir().join(format!("pairing-topup-{}.db", Uuid::new_v4()));
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
        password: "pairing-topup".into(),
        now,
    };
    api::seed::seed(&db, &plan).await?;
    // The seeded pairings are the templates: residents each team may
    // serve, a member of the team as regular volunteer.
    let templates = Pairings::find().all(&db).await?;
    if templates.is_empty() {
        return Err("the seed made no pairings".into());
    }
    for i in 0..count.saturating_sub(templates.len()) {
        let template = &templates[i % templates.len()];
        let copy = pairing::Model {
            id: Uuid::now_v7(),
            rrule: "FREQ=WEEKLY".into(),
            ..template.clone()
        };
        copy.into_active_model().insert(&db).await?;
    }
    let pairings = Pairings::find().all(&db).await?.len();
    let started = Instant::now();
    let first = api::service::pairings::run_once(&db, &settings, now)
        .await?
        .created;
    let first_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let second = api::service::pairings::run_once(&db, &settings, now)
        .await?
        .created;
    let second_secs = started.elapsed().as_secs_f64();
    println!(
        "{pairings} pairings, horizon {} days: first round made {first} visits in {first_secs:.2} s \
         ({:.2} ms a visit); second round made {second} in {second_secs:.3} s",
        settings.pairing_horizon_days,
        first_secs * 1000.0 / first.max(1) as f64,
    );
    if second != 0 {
        return Err("the second round made visits again".into());
    }
    Ok(())
}

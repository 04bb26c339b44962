//! Seeds a database for the export benchmark (`bench/export.sh`,
//! `docs/benchmarks.md`): a manager, a few teams, ~1000 volunteers,
//! residents, help requests and exactly N approved service records that
//! the export returns, plus the noise a real database holds (rejected
//! records, and approved originals replaced by approved corrections).
//!
//! ```sh
//! cargo run --release -p api --example seed_export -- <DATABASE_URL> <N>
//! ```
//!
//! The schema comes from the app's migrations (`api::startup::connect`);
//! rows go in through SeaORM's multi-row inserts, so ids are encoded the
//! way the app encodes them (16-byte BLOBs on SQLite, `uuid` on
//! PostgreSQL). Log in as the manager `13700000000`, password
//! `SEED_MANAGER_PASSWORD` (default `bench-password`). The database must be
//! empty (no users). Generation is deterministic (fixed seed).

use std::error::Error;
use std::time::Instant;

use entity::{help_request, resident, service_record, team, team_member, user};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel,
    PaginatorTrait, TransactionTrait,
};
use uuid::Uuid;

type Res<T> = Result<T, Box<dyn Error>>;

const VOLUNTEERS: usize = 1_000;
const CASEWORKERS: usize = 10;
const RESIDENTS: usize = 2_000;
const MANAGER_PHONE: &str = "13700000000";
/// 2025-01-01T00:00:00+08:00.
const EPOCH: i64 = 1_735_660_800;
/// Rows per INSERT statement: under SQLite's 32766 and PostgreSQL's 65535
/// bind parameters for the widest table (19 columns).
const CHUNK: usize = 1_000;
/// Rows per transaction.
const TXN_ROWS: usize = 50_000;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "沈",
    "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "玉兰", "志强", "淑珍", "海燕", "晓东", "子涵",
    "浩然", "雨桐", "思远", "春梅", "国庆", "卫东", "红梅", "文博", "欣怡", "梓轩", "一鸣",
];
const TEAMS: &[(&str, &str)] = &[
    ("幸福里学雷锋志愿服务队", "lei_feng"),
    ("和平街邻里守望队", "neighborhood_watch"),
    ("在职党员进社区服务队", "party_member"),
    ("仁心医护志愿服务队", "professional"),
    ("阳光助残志愿服务队", "professional"),
    ("银龄互助队", "other"),
    ("青春护航课业辅导队", "lei_feng"),
    ("法律明白人服务队", "professional"),
];
const CATEGORIES: &[&str] = &[
    "home_visit",
    "companionship",
    "housekeeping",
    "meal_delivery",
    "medical_escort",
    "shopping",
    "repair",
    "tutoring",
    "psychological_support",
    "legal_aid",
    "other",
];
const RESIDENT_CATEGORIES: &[&str] = &["elderly_alone", "disabled", "left_behind_child", "other"];

fn name(rng: &mut StdRng) -> String {
    let surname = SURNAMES[rng.gen_range(0..SURNAMES.len())];
    let given = GIVEN[rng.gen_range(0..GIVEN.len())];
    format!("{surname}{given}")
}

/// Inserts in statements of [`CHUNK`] rows, committing every [`TXN_ROWS`].
async fn insert_all<A>(db: &DatabaseConnection, rows: Vec<A>) -> Res<()>
where
    A: ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let txn = db.begin().await?;
        for _ in 0..TXN_ROWS / CHUNK {
            let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            <A::Entity as EntityTrait>::insert_many(chunk)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
    }
    Ok(())
}

fn user_row(
    id: Uuid,
    phone: String,
    name: String,
    role: &str,
    hash: &str,
    now: i64,
) -> user::ActiveModel {
    user::Model {
        id,
        phone,
        password_hash: hash.to_string(),
        name,
        role: role.into(),
        skills: "[]".into(),
        location_lat: None,
        location_lng: None,
        availability: "[]".into(),
        created_at: now,
    }
    .into_active_model()
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(n)) = (args.get(1), args.get(2)) else {
        return Err("usage: seed_export <DATABASE_URL> <N>".into());
    };
    let n: usize = n.parse()?;
    let password =
        std::env::var("SEED_MANAGER_PASSWORD").unwrap_or_else(|_| "bench-password".into());
    let started = Instant::now();
    let db = api::startup::connect(url).await?;
    if user::Entity::find().count(&db).await? > 0 {
        return Err("the database already has users; seed an empty one".into());
    }
    if db.get_database_backend() == DbBackend::Sqlite {
        // A benchmark fixture: durability does not matter while seeding.
        db.execute_unprepared("PRAGMA synchronous=OFF").await?;
    }
    let mut rng = StdRng::seed_from_u64(20261129);
    let now = EPOCH;
    let hash = api::auth::hash_password(password).await?;

    // People: one manager, caseworkers, volunteers.
    let manager = Uuid::now_v7();
    let mut users = vec![user_row(
        manager,
        MANAGER_PHONE.into(),
        "赵主任".into(),
        "manager",
        &hash,
        now,
    )];
    let caseworkers: Vec<Uuid> = (0..CASEWORKERS).map(|_| Uuid::now_v7()).collect();
    for (i, id) in caseworkers.iter().enumerate() {
        users.push(user_row(
            *id,
            format!("1360000{i:04}"),
            name(&mut rng),
            "caseworker",
            &hash,
            now,
        ));
    }
    let volunteers: Vec<Uuid> = (0..VOLUNTEERS).map(|_| Uuid::now_v7()).collect();
    for (i, id) in volunteers.iter().enumerate() {
        let prefix = ["138", "139", "158", "186", "199"][i % 5];
        let phone = format!("{prefix}{:08}", 10_000_000 + i * 7_919);
        users.push(user_row(
            *id,
            phone,
            name(&mut rng),
            "volunteer",
            &hash,
            now,
        ));
    }
    insert_all(&db, users).await?;

    // Teams and memberships: volunteer i belongs to team i % teams.
    let teams: Vec<Uuid> = TEAMS.iter().map(|_| Uuid::now_v7()).collect();
    let team_rows = TEAMS.iter().zip(&teams).map(|((name, kind), id)| {
        team::Model {
            id: *id,
            name: (*name).into(),
            kind: (*kind).into(),
            service_categories: r#"["home_visit","companionship","meal_delivery"]"#.into(),
            location_lat: 39.9087,
            location_lng: 116.3975,
            service_radius_km: 5.0,
            vetted: true,
            created_at: now,
        }
        .into_active_model()
    });
    insert_all(&db, team_rows.collect()).await?;
    let members = volunteers.iter().enumerate().map(|(i, v)| {
        team_member::Model {
            team_id: teams[i % teams.len()],
            user_id: *v,
            role: if i < teams.len() { "leader" } else { "member" }.into(),
            joined_at: now,
        }
        .into_active_model()
    });
    insert_all(&db, members.collect()).await?;

    // Residents.
    let residents: Vec<Uuid> = (0..RESIDENTS).map(|_| Uuid::now_v7()).collect();
    let mut resident_rows = Vec::with_capacity(RESIDENTS);
    for (i, id) in residents.iter().enumerate() {
        resident_rows.push(
            resident::Model {
                id: *id,
                name: name(&mut rng),
                category: RESIDENT_CATEGORIES[i % RESIDENT_CATEGORIES.len()].into(),
                phone: Some(format!("135{:08}", 20_000_000 + i)),
                address: format!(
                    "幸福里小区{}号楼{}单元{}室",
                    i % 30 + 1,
                    i % 4 + 1,
                    100 + i % 600
                ),
                location_lat: 39.9 + rng.gen_range(0.0..0.02),
                location_lng: 116.39 + rng.gen_range(0.0..0.02),
                id_number_masked: None,
                guardian_name: None,
                guardian_phone: None,
                notes: None,
                created_by: caseworkers[i % CASEWORKERS],
                created_at: now,
            }
            .into_active_model(),
        );
    }
    insert_all(&db, resident_rows).await?;

    // Help requests: one per 50 records; request r is served by team r % teams.
    let request_count = (n / 50).max(1);
    let requests: Vec<Uuid> = (0..request_count).map(|_| Uuid::now_v7()).collect();
    let mut request_rows = Vec::with_capacity(request_count);
    for (r, id) in requests.iter().enumerate() {
        let category = CATEGORIES[rng.gen_range(0..CATEGORIES.len())];
        let starts = EPOCH + (r as i64 * 3_600) % (365 * 86_400);
        request_rows.push(
            help_request::Model {
                id: *id,
                resident_id: residents[rng.gen_range(0..RESIDENTS)],
                caseworker_id: caseworkers[r % CASEWORKERS],
                category: category.into(),
                title: "每周上门探访".into(),
                description: "独居老人，需要定期探访、代购生活用品".into(),
                starts_at: starts,
                ends_at: starts + 180 * 86_400,
                volunteers_needed: 3,
                signups_count: 3,
                urgency: "normal".into(),
                status: "completed".into(),
                team_id: Some(teams[r % teams.len()]),
                created_at: starts - 86_400,
                updated_at: starts,
            }
            .into_active_model(),
        );
    }
    insert_all(&db, request_rows).await?;
    let seeded_people = started.elapsed();

    // Service records. Volunteer v's k-th record sits in its own 8-hour slot,
    // so a volunteer's records never overlap. Every 200th exported record is
    // a correction of an approved original (also inserted, not exported);
    // every 100th slot also holds a rejected record.
    let mut records = Vec::with_capacity(n + n / 50 + 1);
    let mut corrected = Vec::new();
    for i in 0..n {
        let v = i % VOLUNTEERS;
        let slot = (i / VOLUNTEERS) as i64;
        // A request of the volunteer's team, so the data is consistent.
        let team_index = v % teams.len();
        let mut r =
            rng.gen_range(0..request_count.div_ceil(teams.len())) * teams.len() + team_index;
        if r >= request_count {
            r = team_index % request_count;
        }
        let minutes: i32 = rng.gen_range(30..=240);
        let start = EPOCH + slot * 8 * 3_600 + i64::from(rng.gen_range(0..240)) * 60;
        let end = start + i64::from(minutes) * 60;
        let base = service_record::Model {
            id: Uuid::now_v7(),
            volunteer_id: volunteers[v],
            request_id: requests[r],
            team_id: teams[team_index],
            started_at: start,
            ended_at: Some(end),
            minutes: Some(minutes),
            status: "approved".into(),
            source: if i % 3 == 0 { "paper" } else { "phone" }.into(),
            note: None,
            recorder_id: if i % 3 == 0 {
                caseworkers[r % CASEWORKERS]
            } else {
                volunteers[v]
            },
            check_in_distance_m: if i % 3 == 0 {
                None
            } else {
                Some(rng.gen_range(5.0..900.0))
            },
            check_out_distance_m: if i % 3 == 0 {
                None
            } else {
                Some(rng.gen_range(5.0..900.0))
            },
            supersedes_id: None,
            reviewed_by: Some(caseworkers[r % CASEWORKERS]),
            reviewed_at: Some(end + 3_600),
            reject_reason: None,
            created_at: end,
        };
        if i % 200 == 7 {
            let original = service_record::Model {
                id: Uuid::now_v7(),
                minutes: Some(minutes + 30),
                ended_at: Some(end + 1_800),
                ..base.clone()
            };
            corrected.push(original.clone().into_active_model());
            records.push(
                service_record::Model {
                    supersedes_id: Some(original.id),
                    note: Some("更正：结束时间填写有误".into()),
                    ..base.clone()
                }
                .into_active_model(),
            );
        } else {
            records.push(base.clone().into_active_model());
        }
        if i % 100 == 42 {
            records.push(
                service_record::Model {
                    id: Uuid::now_v7(),
                    status: "rejected".into(),
                    reject_reason: Some("签到位置与服务地址不符".into()),
                    ..base
                }
                .into_active_model(),
            );
        }
        if records.len() >= TXN_ROWS {
            insert_all(&db, std::mem::take(&mut records)).await?;
        }
    }
    insert_all(&db, records).await?;
    insert_all(&db, corrected).await?;
    // Planner statistics, and on PostgreSQL hint bits and the visibility
    // map, so that the first timed reader does not pay for them.
    let analyze = match db.get_database_backend() {
        DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_unprepared(analyze).await?;
    eprintln!(
        "seeded {n} approved records (+ noise) in {:.1}s (people and requests {:.1}s); \
         manager {MANAGER_PHONE}",
        started.elapsed().as_secs_f64(),
        seeded_people.as_secs_f64()
    );
    Ok(())
}

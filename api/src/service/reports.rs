//! Statistics and exports of approved service hours. Both read the same
//! rows — approved records that no approved correction replaced — so their
//! totals agree to the minute. Exports read page by page (keyset on the
//! record id), so memory does not grow with the number of rows.

use std::collections::{HashMap, HashSet};

use chrono_tz::Tz;
use entity::help_request::{self, Entity as Requests};
use entity::resident::{self, Entity as Residents};
use entity::service_record::{self, Entity as Records};
use entity::team::{self, Entity as Teams};
use entity::user::{self, Entity as Users};
use futures::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    StreamTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::service_records::counts_as_approved;
use crate::domain::report::{ExportRecord, GroupBy, month_key, served_group};
use crate::domain::vocab::{RequestStatus, ResidentCategory, ServiceCategory};
use crate::error::AppResult;
use crate::views::{ByStatus, StatItem, Stats, round2};

/// Instants `[from, until)` matched against a record's start.
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    pub from: Option<i64>,
    pub until: Option<i64>,
}

fn joined(range: Range) -> sea_orm::Select<Records> {
    let mut query = Records::find()
        .join(JoinType::InnerJoin, request_of_record())
        // Left: a community activity has no resident, and counts too.
        .join(JoinType::LeftJoin, resident_of_request())
        .filter(counts_as_approved());
    if let Some(from) = range.from {
        query = query.filter(service_record::Column::StartedAt.gte(from));
    }
    if let Some(until) = range.until {
        query = query.filter(service_record::Column::StartedAt.lt(until));
    }
    query
}

fn request_of_record() -> sea_orm::RelationDef {
    Records::belongs_to(Requests)
        .from(service_record::Column::RequestId)
        .to(help_request::Column::Id)
        .into()
}

fn resident_of_request() -> sea_orm::RelationDef {
    Requests::belongs_to(Residents)
        .from(help_request::Column::ResidentId)
        .to(resident::Column::Id)
        .into()
}

#[derive(Default)]
struct Bucket {
    minutes: i64,
    records: i64,
    volunteers: HashSet<Uuid>,
}

type StatRow = (
    i64,
    Option<i32>,
    Uuid,
    Uuid,
    ServiceCategory,
    Option<ResidentCategory>,
);

pub async fn service_hours<C>(db: &C, group_by: GroupBy, range: Range, tz: Tz) -> AppResult<Stats>
where
    C: ConnectionTrait + StreamTrait,
{
    let mut rows = joined(range)
        .select_only()
        .column(service_record::Column::StartedAt)
        .column(service_record::Column::Minutes)
        .column(service_record::Column::VolunteerId)
        .column(service_record::Column::TeamId)
        .column_as(
            Expr::col((Requests, help_request::Column::Category)),
            "request_category",
        )
        .column_as(
            Expr::col((Residents, resident::Column::Category)),
            "resident_category",
        )
        .into_tuple::<StatRow>()
        .stream(db)
        .await?;
    let mut buckets: HashMap<String, Bucket> = HashMap::new();
    let mut month_labels: HashMap<String, String> = HashMap::new();
    while let Some((started_at, minutes, volunteer, team, category, resident_category)) =
        rows.try_next().await?
    {
        let key = match group_by {
            GroupBy::Team => team.to_string(),
            GroupBy::Volunteer => volunteer.to_string(),
            GroupBy::Category => category.code().to_string(),
            GroupBy::ResidentCategory => served_group(resident_category).0.to_string(),
            GroupBy::Month => {
                let (key, label) = month_key(started_at, tz);
                month_labels.entry(key.clone()).or_insert(label);
                key
            }
        };
        let bucket = buckets.entry(key).or_default();
        bucket.minutes += i64::from(minutes.unwrap_or(0));
        bucket.records += 1;
        bucket.volunteers.insert(volunteer);
    }
    drop(rows);
    let labels = labels_for(db, group_by, buckets.keys(), month_labels).await?;
    let mut items: Vec<StatItem> = buckets
        .into_iter()
        .map(|(key, b)| StatItem {
            label: labels.get(&key).cloned().unwrap_or_else(|| key.clone()),
            hours: round2(b.minutes as f64 / 60.0),
            minutes: b.minutes,
            records: b.records,
            volunteers: b.volunteers.len() as i64,
            key,
        })
        .collect();
    if group_by == GroupBy::Month {
        items.sort_by(|a, b| a.key.cmp(&b.key));
    } else {
        items.sort_by(|a, b| {
            b.minutes
                .cmp(&a.minutes)
                .then_with(|| a.label.cmp(&b.label))
        });
    }
    let total_minutes: i64 = items.iter().map(|i| i.minutes).sum();
    Ok(Stats {
        total_hours: round2(total_minutes as f64 / 60.0),
        total_minutes,
        total_records: items.iter().map(|i| i.records).sum(),
        items,
    })
}

async fn labels_for<'a>(
    db: &impl ConnectionTrait,
    group_by: GroupBy,
    keys: impl Iterator<Item = &'a String>,
    months: HashMap<String, String>,
) -> AppResult<HashMap<String, String>> {
    let ids: Vec<Uuid> = keys.filter_map(|k| Uuid::parse_str(k).ok()).collect();
    Ok(match group_by {
        GroupBy::Month => months,
        GroupBy::Team => Teams::find()
            .filter(team::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.id.to_string(), t.name))
            .collect(),
        GroupBy::Volunteer => Users::find()
            .filter(user::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id.to_string(), u.name))
            .collect(),
        GroupBy::Category => ServiceCategory::ALL
            .iter()
            .map(|c| (c.code().to_string(), c.label().to_string()))
            .collect(),
        GroupBy::ResidentCategory => ResidentCategory::ALL
            .iter()
            .map(|c| served_group(Some(*c)))
            .chain([served_group(None)])
            .map(|(key, label)| (key.to_string(), label.to_string()))
            .collect(),
    })
}

type ExportRow = (
    Uuid,
    String,
    String,
    String,
    Option<ResidentCategory>,
    ServiceCategory,
    i64,
    Option<i64>,
    Option<i32>,
);

/// The export's rows, oldest record first.
fn export_query(range: Range) -> sea_orm::Select<Records> {
    joined(range)
        .join(
            JoinType::InnerJoin,
            Records::belongs_to(Users)
                .from(service_record::Column::VolunteerId)
                .to(user::Column::Id)
                .into(),
        )
        .join(
            JoinType::InnerJoin,
            Records::belongs_to(Teams)
                .from(service_record::Column::TeamId)
                .to(team::Column::Id)
                .into(),
        )
        .select_only()
        .column(service_record::Column::Id)
        .column_as(Expr::col((Users, user::Column::Name)), "volunteer_name")
        .column_as(Expr::col((Users, user::Column::Phone)), "volunteer_phone")
        .column_as(Expr::col((Teams, team::Column::Name)), "team_name")
        .column_as(
            Expr::col((Residents, resident::Column::Category)),
            "resident_category",
        )
        .column_as(
            Expr::col((Requests, help_request::Column::Category)),
            "request_category",
        )
        .column(service_record::Column::StartedAt)
        .column(service_record::Column::EndedAt)
        .column(service_record::Column::Minutes)
        .order_by_asc(service_record::Column::Id)
}

fn export_record(row: ExportRow) -> (Uuid, ExportRecord) {
    let (id, name, phone, team, resident_category, category, started, ended, minutes) = row;
    let record = ExportRecord {
        volunteer_name: name,
        volunteer_phone: phone,
        team_name: team,
        resident_category,
        service_category: category,
        started_at: started,
        ended_at: ended.unwrap_or(started),
        minutes: i64::from(minutes.unwrap_or(0)),
    };
    (id, record)
}

/// The whole export as one streamed query, handing `chunk`-row batches to
/// `sink`; stops early when `sink` says the client went away.
pub async fn export_streamed<C, F, Fut>(
    db: &C,
    range: Range,
    chunk: usize,
    mut sink: F,
) -> AppResult<()>
where
    C: ConnectionTrait + StreamTrait,
    F: FnMut(Vec<(Uuid, ExportRecord)>) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut rows = export_query(range)
        .into_tuple::<ExportRow>()
        .stream(db)
        .await?;
    let mut batch = Vec::with_capacity(chunk);
    while let Some(row) = rows.try_next().await? {
        batch.push(export_record(row));
        if batch.len() == chunk
            && !sink(std::mem::replace(&mut batch, Vec::with_capacity(chunk))).await
        {
            return Ok(());
        }
    }
    sink(batch).await;
    Ok(())
}

/// Requests whose start falls in `range`, counted by status in one
/// `GROUP BY` (the console's dashboard reads these figures rather than
/// listing the requests).
pub async fn requests_by_status(db: &impl ConnectionTrait, range: Range) -> AppResult<ByStatus> {
    let mut query = Requests::find()
        .select_only()
        .column(help_request::Column::Status)
        .column_as(help_request::Column::Id.count(), "n")
        .group_by(help_request::Column::Status);
    if let Some(from) = range.from {
        query = query.filter(help_request::Column::StartsAt.gte(from));
    }
    if let Some(until) = range.until {
        query = query.filter(help_request::Column::StartsAt.lt(until));
    }
    let rows: Vec<(RequestStatus, i64)> = query.into_tuple().all(db).await?;
    let mut by_status = ByStatus::default();
    for (status, n) in rows {
        by_status.add(status, n);
    }
    Ok(by_status)
}

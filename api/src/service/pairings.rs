//! Pairings (结对帮扶): a resident, a team and a schedule. Each visit is an
//! ordinary request, assigned to the team and carrying `pairing_id`, so
//! sign-ups, check-in, hours, notifications and statistics work on it
//! unchanged.
//!
//! Visits exist as requests up to `PAIRING_HORIZON_DAYS` ahead. They are
//! topped up right after a pairing is made or edited, and by a worker in
//! every process as time passes. Each visit is inserted with
//! `ON CONFLICT (pairing_id, occurrence_at) DO NOTHING`: the unique key,
//! not a lock in some process, makes each visit exist once however many
//! processes top up at the same moment.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use entity::help_request::{self, Entity as Requests};
use entity::pairing::{self, Entity as Pairings};
use entity::resident::{self, Entity as Residents};
use entity::service_record::{self, Entity as Records};
use entity::signup::{self, Entity as Signups};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait, TryInsertResult,
    sea_query::{Expr, Query},
};
use uuid::Uuid;

use super::outbox::{self, RequestEvent};
use super::paging::{PageRequest, newest_first};
use super::service_records::counts_as_approved;
use super::{now, requests, signups, teams};
use crate::auth::AuthUser;
use crate::config::Settings;
use crate::domain::continuity::{self, Continuity, Visit};
use crate::domain::permissions;
use crate::domain::recurrence::{Occurrence, Rule, Schedule};
use crate::domain::vocab::{EventType, RequestStatus, ServiceCategory, SignupStatus, Urgency};
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;

const DAY: i64 = 86_400;
/// How far past the horizon the next visit is looked for; a rule with
/// none in this span is looked at again when the span runs out.
const LOOK_AHEAD: i64 = 400 * DAY;

pub struct NewPairing {
    pub resident_id: Uuid,
    pub team_id: Uuid,
    pub category: ServiceCategory,
    pub title: String,
    pub description: String,
    pub rule: Rule,
    pub start_time: NaiveTime,
    pub duration_minutes: i32,
    pub volunteers_needed: i32,
    pub starts_on: NaiveDate,
    pub regular_volunteer_ids: Vec<Uuid>,
}

/// What `PATCH /pairings/{id}` changes; `None` keeps the stored value.
#[derive(Default)]
pub struct PairingEdit {
    pub team_id: Option<Uuid>,
    pub rule: Option<Rule>,
    pub start_time: Option<NaiveTime>,
    pub duration_minutes: Option<i32>,
    pub volunteers_needed: Option<i32>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub regular_volunteer_ids: Option<Vec<Uuid>>,
}

pub struct ListFilter {
    pub resident_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub active: Option<bool>,
}

pub fn regulars_of(pairing: &pairing::Model) -> Vec<Uuid> {
    serde_json::from_str(&pairing.regular_volunteer_ids).unwrap_or_default()
}

fn schedule_of(pairing: &pairing::Model, tz: Tz) -> AppResult<Schedule> {
    let rule = Rule::parse(&pairing.rrule, tz)
        .map_err(|e| AppError::internal(format!("stored rule unreadable: {}", e.0)))?;
    let start_time = NaiveTime::parse_from_str(&pairing.start_time, "%H:%M")
        .map_err(|e| AppError::internal(format!("stored start_time unreadable: {e}")))?;
    Ok(Schedule {
        rule,
        starts_on: pairing.starts_on,
        start_time,
        duration_minutes: u32::try_from(pairing.duration_minutes).unwrap_or(0),
    })
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<pairing::Model> {
    Pairings::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The pairing if `user` may read it: staff, and active members of its
/// team; to anyone else it does not exist.
pub async fn find_visible(
    db: &impl ConnectionTrait,
    id: Uuid,
    user: &AuthUser,
) -> AppResult<pairing::Model> {
    let pairing = find(db, id).await?;
    if user.role.is_staff()
        || teams::membership(db, pairing.team_id, user.id)
            .await?
            .is_some()
    {
        Ok(pairing)
    } else {
        Err(AppError::NotFound)
    }
}

/// The pairing if `user` may change it: its caseworker, managers, admins.
pub async fn find_changeable(
    db: &impl ConnectionTrait,
    id: Uuid,
    user: &AuthUser,
) -> AppResult<pairing::Model> {
    let pairing = find(db, id).await?;
    if permissions::may_change_request(user.role, user.id, pairing.caseworker_id) {
        Ok(pairing)
    } else {
        Err(AppError::denied(
            "not_your_pairing",
            "只有建立该结对的社工和管理人员可以更改它",
        ))
    }
}

/// The rules a pairing's team and regular volunteers must meet, as for
/// requests: left-behind children and disabled residents need a vetted
/// team; regular volunteers are active members, no more than the places.
async fn check_team_and_regulars(
    db: &impl ConnectionTrait,
    resident: &resident::Model,
    team_id: Uuid,
    regulars: &[Uuid],
    volunteers_needed: i32,
) -> AppResult<()> {
    let team = match teams::find(db, team_id).await {
        Ok(team) => team,
        Err(AppError::NotFound) => return Err(AppError::invalid("team_id", "队伍不存在")),
        Err(e) => return Err(e),
    };
    if resident.category.needs_vetted_team() && !team.vetted {
        return Err(AppError::unprocessable(
            "team_not_vetted",
            "留守儿童和残疾人的结对只能交给已审核的队伍",
        ));
    }
    if regulars.len() > usize::try_from(volunteers_needed).unwrap_or(0) {
        return Err(AppError::invalid(
            "regular_volunteer_ids",
            "固定志愿者人数不能超过所需志愿者人数",
        ));
    }
    for volunteer in regulars {
        if teams::membership(db, team_id, *volunteer).await?.is_none() {
            return Err(AppError::invalid(
                "regular_volunteer_ids",
                format!("{volunteer} 不是该队伍的正式队员"),
            ));
        }
    }
    Ok(())
}

fn regulars_text(regulars: &[Uuid]) -> AppResult<String> {
    serde_json::to_string(regulars).map_err(AppError::internal)
}

pub async fn create(
    db: &DatabaseConnection,
    settings: &Settings,
    new: NewPairing,
    caseworker: Uuid,
) -> AppResult<pairing::Model> {
    let txn = db.begin().await?;
    let resident =
        super::residents::find_active(&txn, new.resident_id, "该服务对象已停用，不能再建立结对")
            .await?;
    let mut regulars = new.regular_volunteer_ids;
    regulars.dedup();
    check_team_and_regulars(
        &txn,
        &resident,
        new.team_id,
        &regulars,
        new.volunteers_needed,
    )
    .await?;
    let now = now();
    let model = pairing::ActiveModel {
        id: Set(Uuid::now_v7()),
        resident_id: Set(new.resident_id),
        team_id: Set(new.team_id),
        caseworker_id: Set(caseworker),
        category: Set(new.category),
        title: Set(new.title),
        description: Set(new.description),
        rrule: Set(new.rule.to_string()),
        start_time: Set(new.start_time.format("%H:%M").to_string()),
        duration_minutes: Set(new.duration_minutes),
        volunteers_needed: Set(new.volunteers_needed),
        starts_on: Set(new.starts_on),
        regular_volunteer_ids: Set(regulars_text(&regulars)?),
        active: Set(true),
        generated_until: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    top_up(db, settings, model.id, now).await?;
    find(db, model.id).await
}

/// Whether a future visit is remade by an edit: nobody but the regular
/// volunteers (signed up automatically, and signed up again on the new
/// visit) holds a place, and nobody has a record of it.
fn remade_visits(pairing: &pairing::Model, now: i64) -> Condition {
    let regulars = regulars_of(pairing);
    let mut chosen = Query::select()
        .column(signup::Column::RequestId)
        .from(Signups)
        .and_where(signup::Column::Status.ne(SignupStatus::Withdrawn))
        .to_owned();
    if !regulars.is_empty() {
        chosen.and_where(signup::Column::VolunteerId.is_not_in(regulars));
    }
    let recorded = Query::select()
        .column(service_record::Column::RequestId)
        .from(Records)
        .to_owned();
    Condition::all()
        .add(help_request::Column::PairingId.eq(pairing.id))
        .add(help_request::Column::StartsAt.gt(now))
        .add(
            help_request::Column::Status
                .is_in([RequestStatus::Open.code(), RequestStatus::Assigned.code()]),
        )
        .add(help_request::Column::Id.not_in_subquery(chosen))
        .add(help_request::Column::Id.not_in_subquery(recorded))
}

/// Applies an edit. Visits nobody has chosen (see [`remade_visits`]) are
/// deleted and made again from the new schedule; visits someone signed
/// up for stay as they were agreed.
pub async fn edit(
    db: &DatabaseConnection,
    settings: &Settings,
    id: Uuid,
    edit: PairingEdit,
) -> AppResult<pairing::Model> {
    let txn = db.begin().await?;
    let old = Pairings::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if !old.active {
        return Err(AppError::conflict(
            "invalid_status",
            "结对已结束，不能再修改",
        ));
    }
    let resident = Residents::find_by_id(old.resident_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("pairing without resident"))?;
    let team_id = edit.team_id.unwrap_or(old.team_id);
    let volunteers_needed = edit.volunteers_needed.unwrap_or(old.volunteers_needed);
    let mut regulars = edit
        .regular_volunteer_ids
        .unwrap_or_else(|| regulars_of(&old));
    regulars.dedup();
    check_team_and_regulars(&txn, &resident, team_id, &regulars, volunteers_needed).await?;
    let now = now();
    let remade: Vec<Uuid> = Requests::find()
        .select_only()
        .column(help_request::Column::Id)
        .filter(remade_visits(&old, now))
        .into_tuple()
        .all(&txn)
        .await?;
    if !remade.is_empty() {
        Signups::delete_many()
            .filter(signup::Column::RequestId.is_in(remade.clone()))
            .exec(&txn)
            .await?;
        Requests::delete_many()
            .filter(help_request::Column::Id.is_in(remade))
            .exec(&txn)
            .await?;
    }
    let mut model: pairing::ActiveModel = old.clone().into();
    model.team_id = Set(team_id);
    model.volunteers_needed = Set(volunteers_needed);
    model.regular_volunteer_ids = Set(regulars_text(&regulars)?);
    if let Some(rule) = edit.rule {
        model.rrule = Set(rule.to_string());
    }
    if let Some(start_time) = edit.start_time {
        model.start_time = Set(start_time.format("%H:%M").to_string());
    }
    if let Some(minutes) = edit.duration_minutes {
        model.duration_minutes = Set(minutes);
    }
    if let Some(title) = edit.title {
        model.title = Set(title);
    }
    if let Some(description) = edit.description {
        model.description = Set(description);
    }
    // From now on the schedule is made again.
    model.generated_until = Set(0);
    model.updated_at = Set(now);
    let updated = model.update(&txn).await?;
    txn.commit().await?;
    top_up(db, settings, id, now).await?;
    sign_up_regulars_to_kept(db, settings, &updated, now).await?;
    find(db, id).await
}

/// New regular volunteers also take places on the visits an edit kept.
async fn sign_up_regulars_to_kept(
    db: &DatabaseConnection,
    settings: &Settings,
    pairing: &pairing::Model,
    now: i64,
) -> AppResult<()> {
    let regulars = regulars_of(pairing);
    if regulars.is_empty() {
        return Ok(());
    }
    let upcoming: Vec<Uuid> = Requests::find()
        .select_only()
        .column(help_request::Column::Id)
        .filter(help_request::Column::PairingId.eq(pairing.id))
        .filter(help_request::Column::StartsAt.gt(now))
        .filter(help_request::Column::TeamId.eq(pairing.team_id))
        .filter(help_request::Column::Status.eq(RequestStatus::Assigned))
        .into_tuple()
        .all(db)
        .await?;
    for request_id in upcoming {
        for volunteer in &regulars {
            // Already signed up, full, or no longer allowed: nothing to do.
            let _ = signups::sign_up(db, settings, request_id, *volunteer).await;
        }
    }
    Ok(())
}

/// Ends a pairing: inactive, and its visits not yet started cancelled.
/// 409 `invalid_status` when it already ended.
pub async fn end(db: &DatabaseConnection, id: Uuid) -> AppResult<pairing::Model> {
    let txn = db.begin().await?;
    if !end_in(&txn, id).await? {
        return Err(AppError::conflict("invalid_status", "结对已结束"));
    }
    txn.commit().await?;
    find(db, id).await
}

/// [`end`] in the caller's transaction; false when it had ended already.
pub(crate) async fn end_in(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<bool> {
    let now = now();
    let ended = Pairings::update_many()
        .col_expr(pairing::Column::Active, Expr::value(false))
        .col_expr(pairing::Column::UpdatedAt, Expr::value(now))
        .filter(pairing::Column::Id.eq(id))
        .filter(pairing::Column::Active.eq(true))
        .exec(txn)
        .await?;
    if ended.rows_affected == 0 {
        return Ok(false);
    }
    Requests::update_many()
        .col_expr(
            help_request::Column::Status,
            Expr::value(RequestStatus::Cancelled),
        )
        .col_expr(help_request::Column::UpdatedAt, Expr::value(now))
        .filter(help_request::Column::PairingId.eq(id))
        .filter(help_request::Column::StartsAt.gt(now))
        .filter(
            help_request::Column::Status
                .is_in([RequestStatus::Open.code(), RequestStatus::Assigned.code()]),
        )
        .exec(txn)
        .await?;
    Ok(true)
}

/// Ends the pairings of residents who were retired (moved away, passed
/// away); returns how many ended.
pub async fn end_for_retired(db: &DatabaseConnection) -> AppResult<usize> {
    let retired = Query::select()
        .column(resident::Column::Id)
        .from(Residents)
        .and_where(resident::Column::Active.eq(false))
        .to_owned();
    let ids: Vec<Uuid> = Pairings::find()
        .select_only()
        .column(pairing::Column::Id)
        .filter(pairing::Column::Active.eq(true))
        .filter(pairing::Column::ResidentId.in_subquery(retired))
        .into_tuple()
        .all(db)
        .await?;
    let mut ended = 0;
    for id in ids {
        let txn = db.begin().await?;
        if end_in(&txn, id).await? {
            ended += 1;
        }
        txn.commit().await?;
    }
    Ok(ended)
}

/// What inserting one visit came to.
enum Inserted {
    Created,
    /// Another process (or an earlier run) made it.
    Existed,
    /// The pairing changed or ended since it was read: stop.
    Stale,
}

/// The pairing as it schedules visits: everything but `generated_until`.
fn same_schedule(a: &pairing::Model, b: &pairing::Model) -> bool {
    let mut b = b.clone();
    b.generated_until = a.generated_until;
    *a == b
}

/// Makes the pairing's missing visits up to the horizon; returns how many
/// this call created (those another process made meanwhile not counted).
pub async fn top_up(
    db: &DatabaseConnection,
    settings: &Settings,
    id: Uuid,
    now: i64,
) -> AppResult<usize> {
    let tz = settings.time_zone;
    let pairing = find(db, id).await?;
    let horizon = now + settings.pairing_horizon_days * DAY;
    if !pairing.active || pairing.generated_until > horizon {
        return Ok(0);
    }
    let resident = Residents::find_by_id(pairing.resident_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("pairing without resident"))?;
    let schedule = schedule_of(&pairing, tz)?;
    let from = now.max(pairing.generated_until);
    let mut created = 0;
    for occurrence in schedule.occurrences(tz, from, horizon) {
        match insert_visit(db, settings, &pairing, &resident, occurrence).await? {
            Inserted::Created => created += 1,
            Inserted::Existed => {}
            Inserted::Stale => return Ok(created),
        }
    }
    // Every visit before the next one past the horizon exists now; the
    // worker looks at this pairing again once that one comes into view.
    let next = schedule
        .occurrences(tz, horizon, horizon + LOOK_AHEAD)
        .first()
        .map_or(horizon + LOOK_AHEAD, |o| o.starts_at);
    let txn = db.begin().await?;
    let current = Pairings::find_by_id(id).lock_exclusive().one(&txn).await?;
    if current.is_some_and(|c| same_schedule(&c, &pairing) && c.generated_until < next) {
        Pairings::update_many()
            .col_expr(pairing::Column::GeneratedUntil, Expr::value(next))
            .filter(pairing::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(created)
}

/// One visit, in its own transaction: the request (assigned to the team),
/// the events posting and assigning a request emit, and the regular
/// volunteers' sign-ups. The pairing row is share-locked and compared
/// with what the schedule was read from, so an edit or an end that
/// committed meanwhile stops this top-up instead of leaving a visit of
/// the old schedule behind.
async fn insert_visit(
    db: &DatabaseConnection,
    settings: &Settings,
    pairing: &pairing::Model,
    resident: &resident::Model,
    occurrence: Occurrence,
) -> AppResult<Inserted> {
    let txn = db.begin().await?;
    let current = Pairings::find_by_id(pairing.id)
        .lock_shared()
        .one(&txn)
        .await?;
    if !current.is_some_and(|c| c.active && same_schedule(&c, pairing)) {
        return Ok(Inserted::Stale);
    }
    let now = now();
    let id = Uuid::now_v7();
    let visit = help_request::ActiveModel {
        id: Set(id),
        resident_id: Set(Some(pairing.resident_id)),
        caseworker_id: Set(pairing.caseworker_id),
        category: Set(pairing.category),
        title: Set(pairing.title.clone()),
        description: Set(pairing.description.clone()),
        starts_at: Set(occurrence.starts_at),
        ends_at: Set(occurrence.ends_at),
        volunteers_needed: Set(pairing.volunteers_needed),
        signups_count: Set(0),
        urgency: Set(Urgency::Normal),
        status: Set(RequestStatus::Assigned),
        team_id: Set(Some(pairing.team_id)),
        created_at: Set(now),
        updated_at: Set(now),
        pairing_id: Set(Some(pairing.id)),
        occurrence_at: Set(Some(occurrence.starts_at)),
        campaign_id: Set(None),
        location_lat: Set(None),
        location_lng: Set(None),
        address: Set(None),
        reminder_sent_at: Set(None),
        unfilled_sent_at: Set(None),
        no_shows_settled_at: Set(None),
    };
    let inserted = Requests::insert(visit)
        .on_conflict_do_nothing_on([
            help_request::Column::PairingId,
            help_request::Column::OccurrenceAt,
        ])
        .exec_without_returning(&txn)
        .await?;
    if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return Ok(Inserted::Existed);
    }
    let request = requests::find(&txn, id).await?;
    outbox::emit(
        &txn,
        settings,
        RequestEvent {
            event: EventType::RequestCreated,
            request: &request,
            resident: Some(resident),
            team_id: None,
            detail: None,
            data: None,
        },
    )
    .await?;
    let detail = Some(format!(
        "需要 {} 名志愿者，请队员尽快报名",
        request.volunteers_needed
    ));
    outbox::emit(
        &txn,
        settings,
        RequestEvent {
            event: EventType::RequestAssigned,
            request: &request,
            resident: Some(resident),
            team_id: Some(pairing.team_id),
            detail,
            data: None,
        },
    )
    .await?;
    for volunteer in regulars_of(pairing) {
        // A savepoint each: a regular who may not take this visit (left
        // the team, check expired, no place) leaves the visit standing.
        let savepoint = txn.begin().await?;
        match signups::sign_up_in(&savepoint, settings, id, volunteer).await {
            Ok(_) => savepoint.commit().await?,
            Err(err) => {
                tracing::info!(%err, %volunteer, request = %id, "regular volunteer not signed up");
                savepoint.rollback().await?;
            }
        }
    }
    txn.commit().await?;
    Ok(Inserted::Created)
}

/// What one round of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Visits created.
    pub created: usize,
    /// Pairings that could not be topped up (see [`run_once`]).
    pub skipped: usize,
}

/// One round of the worker: ends the pairings of retired residents, then
/// tops up every active pairing whose next missing visit has come within
/// the horizon.
///
/// A pairing that fails (a stored rule that no longer reads, say) is
/// logged by its id and skipped, and the round goes on: one bad row must
/// not starve every pairing after it. It is tried again next round, so a
/// passing fault heals by itself.
pub async fn run_once(db: &DatabaseConnection, settings: &Settings, now: i64) -> AppResult<Round> {
    end_for_retired(db).await?;
    let horizon = now + settings.pairing_horizon_days * DAY;
    let due: Vec<Uuid> = Pairings::find()
        .select_only()
        .column(pairing::Column::Id)
        .filter(pairing::Column::Active.eq(true))
        .filter(pairing::Column::GeneratedUntil.lte(horizon))
        .order_by_asc(pairing::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut round = Round::default();
    for id in due {
        match top_up(db, settings, id, now).await {
            Ok(created) => round.created += created,
            Err(err) => {
                // The id only: the error names no person, and the rule's
                // text is the pairing's, not a resident's.
                tracing::warn!(pairing = %id, %err, "pairing skipped: its visits could not be made");
                round.skipped += 1;
            }
        }
    }
    Ok(round)
}

/// Tops pairings up every `PAIRING_TICK_SECS`, starting at once; counts
/// skipped pairings in `pairing_visits_skipped_total`.
pub fn spawn_worker(
    db: DatabaseConnection,
    settings: Arc<Settings>,
    metrics: Arc<Metrics>,
) -> tokio::task::JoinHandle<()> {
    let tick = Duration::from_secs(settings.pairing_tick_secs);
    tokio::spawn(async move {
        loop {
            match run_once(&db, &settings, now()).await {
                Ok(round) => {
                    metrics.pairings_skipped(round.skipped);
                    if round.created > 0 {
                        tracing::info!(created = round.created, "pairing visits topped up");
                    }
                }
                Err(err) => tracing::warn!(%err, "topping up pairing visits failed"),
            }
            tokio::time::sleep(tick).await;
        }
    })
}

/// A page of the pairings `user` may see, newest first: staff see all,
/// volunteers those of their teams.
pub async fn list(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    filter: ListFilter,
    page: PageRequest,
) -> AppResult<(Vec<pairing::Model>, Option<String>)> {
    let mut query = Pairings::find();
    if !user.role.is_staff() {
        query = query.filter(pairing::Column::TeamId.in_subquery(requests::teams_of(user.id)));
    }
    if let Some(resident_id) = filter.resident_id {
        query = query.filter(pairing::Column::ResidentId.eq(resident_id));
    }
    if let Some(team_id) = filter.team_id {
        query = query.filter(pairing::Column::TeamId.eq(team_id));
    }
    if let Some(active) = filter.active {
        query = query.filter(pairing::Column::Active.eq(active));
    }
    newest_first(db, query, pairing::Column::Id, page, |p| p.id).await
}

/// Each pairing's resident and continuity figures, in three queries
/// whatever the number of pairings.
pub async fn details(
    db: &impl ConnectionTrait,
    pairings: &[pairing::Model],
    now: i64,
) -> AppResult<(HashMap<Uuid, resident::Model>, HashMap<Uuid, Continuity>)> {
    let ids: Vec<Uuid> = pairings.iter().map(|p| p.id).collect();
    let residents = Residents::find()
        .filter(resident::Column::Id.is_in(pairings.iter().map(|p| p.resident_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let visits: Vec<(Uuid, Uuid, i64, i64, RequestStatus)> = Requests::find()
        .select_only()
        .column(help_request::Column::Id)
        .column(help_request::Column::PairingId)
        .column(help_request::Column::StartsAt)
        .column(help_request::Column::EndsAt)
        .column(help_request::Column::Status)
        .filter(help_request::Column::PairingId.is_in(ids.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let of_pairings = Query::select()
        .column(help_request::Column::Id)
        .from(Requests)
        .and_where(help_request::Column::PairingId.is_in(ids))
        .to_owned();
    let records: Vec<(Uuid, Option<i32>, i64)> = Records::find()
        .select_only()
        .column(service_record::Column::RequestId)
        .column(service_record::Column::Minutes)
        .column(service_record::Column::StartedAt)
        .filter(service_record::Column::RequestId.in_subquery(of_pairings))
        .filter(counts_as_approved())
        .into_tuple()
        .all(db)
        .await?;
    let mut approved: HashMap<Uuid, (i64, i64)> = HashMap::new();
    for (request_id, minutes, started_at) in records {
        let entry = approved.entry(request_id).or_insert((0, started_at));
        entry.0 += i64::from(minutes.unwrap_or(0));
        entry.1 = entry.1.min(started_at);
    }
    let mut by_pairing: HashMap<Uuid, Vec<Visit>> = HashMap::new();
    for (id, pairing_id, starts_at, ends_at, status) in visits {
        let record = approved.get(&id);
        by_pairing.entry(pairing_id).or_default().push(Visit {
            starts_at,
            ends_at,
            status,
            approved_minutes: record.map_or(0, |r| r.0),
            first_record_at: record.map(|r| r.1),
            has_approved_record: record.is_some(),
        });
    }
    let figures = pairings
        .iter()
        .map(|p| {
            let visits = by_pairing.remove(&p.id).unwrap_or_default();
            (p.id, continuity::of(&visits, now))
        })
        .collect();
    Ok((residents, figures))
}

//! Service records (志愿服务记录): phone check-in/out, paper-sheet entries,
//! approval, rejection and correction, each change kept in an append-only
//! history. Every write for a volunteer first locks their account row, so
//! two processes cannot both pass the overlap check.

use entity::help_request::{self, Entity as Requests};
use entity::service_record::{self, Entity as Records};
use entity::service_record_event::{self, Entity as Events};
use entity::signup::{self, Entity as Signups};
use entity::user::Entity as Users;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{now, participation, requests, teams};
use crate::auth::AuthUser;
use crate::domain::geo::Coordinates;
use crate::domain::hours::{self, RecordTimes};
use crate::domain::permissions;
use crate::domain::vocab::{
    MemberRole, RecordAction, RecordSource, RecordStatus, RequestStatus, Role, SignupStatus,
};
use crate::error::{AppError, AppResult, is_unique_violation};

/// Approved records that count for hours: those not replaced by an
/// approved correction. Statistics and exports use the same rule.
pub fn counts_as_approved() -> sea_orm::Condition {
    use sea_orm::sea_query::{Alias, Query};
    // Correlated NOT EXISTS: one index probe (supersedes_id) per record,
    // where NOT IN (subquery) scanned the table for every page.
    let correction = Alias::new("correction");
    let replaced = Query::select()
        .expr(Expr::val(1))
        .from_as(Records, correction.clone())
        .and_where(
            Expr::col((correction.clone(), service_record::Column::Status))
                .eq(RecordStatus::Approved),
        )
        .and_where(
            Expr::col((correction, service_record::Column::SupersedesId))
                .equals((Records, service_record::Column::Id)),
        )
        .to_owned();
    sea_orm::Condition::all()
        .add(service_record::Column::Status.eq(RecordStatus::Approved))
        .add(Expr::exists(replaced).not())
}

/// Records that count: not rejected, and not replaced by an approved
/// correction.
async fn live_records_of(
    db: &impl ConnectionTrait,
    volunteer: Uuid,
) -> AppResult<Vec<service_record::Model>> {
    let rows = Records::find()
        .filter(service_record::Column::VolunteerId.eq(volunteer))
        .filter(service_record::Column::Status.ne(RecordStatus::Rejected))
        .all(db)
        .await?;
    let replaced: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.status == RecordStatus::Approved)
        .filter_map(|r| r.supersedes_id)
        .collect();
    Ok(rows
        .into_iter()
        .filter(|r| !replaced.contains(&r.id))
        .collect())
}

/// 409 `overlapping_record` when `[start, end)` meets another live record
/// of the volunteer (`ignore`: the record being corrected).
async fn ensure_no_overlap(
    db: &impl ConnectionTrait,
    volunteer: Uuid,
    span: (i64, i64),
    ignore: Option<Uuid>,
) -> AppResult<()> {
    let clash = live_records_of(db, volunteer).await?.into_iter().any(|r| {
        Some(r.id) != ignore
            && hours::overlaps(
                span,
                (r.started_at, hours::effective_end(r.started_at, r.ended_at)),
            )
    });
    if clash {
        return Err(AppError::conflict(
            "overlapping_record",
            "与该志愿者已有的服务记录时间重叠",
        ));
    }
    Ok(())
}

/// Serializes record writes per volunteer (a no-op lock on SQLite, whose
/// single connection is serial anyway).
async fn lock_volunteer(txn: &DatabaseTransaction, volunteer: Uuid) -> AppResult<()> {
    Users::find_by_id(volunteer)
        .lock_exclusive()
        .one(txn)
        .await?;
    Ok(())
}

async fn log(
    db: &impl ConnectionTrait,
    record_id: Uuid,
    action: RecordAction,
    actor: Uuid,
    reason: Option<String>,
) -> AppResult<()> {
    service_record_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        record_id: Set(record_id),
        action: Set(action),
        actor_id: Set(actor),
        reason: Set(reason),
        at: Set(now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn distance_to_resident(
    db: &impl ConnectionTrait,
    request: &help_request::Model,
    at: Option<Coordinates>,
) -> AppResult<Option<f64>> {
    let Some(at) = at else { return Ok(None) };
    let resident = requests::resident_of(db, request).await?;
    let place = requests::place_of(request, resident.as_ref())?;
    Ok(Some((at.distance_km(place) * 1000.0).round()))
}

/// Opens the transaction of a phone check-in or check-out: the volunteer's
/// row locked, the request loaded, and 403 unless they signed up for it.
async fn begin_as_signed_up(
    db: &DatabaseConnection,
    request_id: Uuid,
    volunteer: Uuid,
) -> AppResult<(DatabaseTransaction, help_request::Model)> {
    let txn = db.begin().await?;
    lock_volunteer(&txn, volunteer).await?;
    let request = requests::find(&txn, request_id).await?;
    if !participation::is_signed_up(&txn, request_id, volunteer).await? {
        return Err(AppError::Forbidden);
    }
    Ok((txn, request))
}

pub async fn check_in(
    db: &DatabaseConnection,
    request_id: Uuid,
    volunteer: Uuid,
    at: Option<Coordinates>,
    tz: chrono_tz::Tz,
) -> AppResult<service_record::Model> {
    let (txn, request) = begin_as_signed_up(db, request_id, volunteer).await?;
    super::safeguarding::ensure_may_check_in(&txn, &request, volunteer, tz).await?;
    if !request.status.is_active() {
        return Err(AppError::conflict(
            "invalid_status",
            "求助未在进行中，不能签到",
        ));
    }
    let start = now();
    ensure_no_overlap(&txn, volunteer, (start, i64::MAX), None).await?;
    let team_id = request
        .team_id
        .ok_or_else(|| AppError::internal("active request without team"))?;
    let record = service_record::ActiveModel {
        id: Set(Uuid::now_v7()),
        volunteer_id: Set(volunteer),
        request_id: Set(request_id),
        team_id: Set(team_id),
        started_at: Set(start),
        ended_at: Set(None),
        minutes: Set(None),
        status: Set(RecordStatus::InProgress),
        source: Set(RecordSource::Phone),
        note: Set(None),
        recorder_id: Set(volunteer),
        check_in_distance_m: Set(distance_to_resident(&txn, &request, at).await?),
        check_out_distance_m: Set(None),
        supersedes_id: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        reject_reason: Set(None),
        created_at: Set(start),
    }
    .insert(&txn)
    .await?;
    log(&txn, record.id, RecordAction::CheckedIn, volunteer, None).await?;
    // Late is still there: a no-show who arrives becomes attended.
    Signups::update_many()
        .col_expr(signup::Column::Status, Expr::value(SignupStatus::Attended))
        .col_expr(signup::Column::StatusChangedAt, Expr::value(start))
        .filter(signup::Column::RequestId.eq(request_id))
        .filter(signup::Column::VolunteerId.eq(volunteer))
        .exec(&txn)
        .await?;
    Requests::update_many()
        .col_expr(
            help_request::Column::Status,
            Expr::value(RequestStatus::InProgress),
        )
        .col_expr(help_request::Column::UpdatedAt, Expr::value(start))
        .filter(help_request::Column::Id.eq(request_id))
        .filter(help_request::Column::Status.eq(RequestStatus::Assigned))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(record)
}

pub async fn check_out(
    db: &DatabaseConnection,
    request_id: Uuid,
    volunteer: Uuid,
    at: Option<Coordinates>,
) -> AppResult<service_record::Model> {
    let (txn, request) = begin_as_signed_up(db, request_id, volunteer).await?;
    let open = Records::find()
        .filter(service_record::Column::RequestId.eq(request_id))
        .filter(service_record::Column::VolunteerId.eq(volunteer))
        .filter(service_record::Column::Status.eq(RecordStatus::InProgress))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::conflict("not_checked_in", "你尚未签到"))?;
    let times = RecordTimes::new(open.started_at, now(), now())?;
    let distance = distance_to_resident(&txn, &request, at).await?;
    let mut record: service_record::ActiveModel = open.into();
    record.ended_at = Set(Some(times.ended_at));
    record.minutes = Set(Some(times.minutes()));
    record.status = Set(RecordStatus::Pending);
    record.check_out_distance_m = Set(distance);
    let record = record.update(&txn).await?;
    log(&txn, record.id, RecordAction::CheckedOut, volunteer, None).await?;
    complete_when_everyone_is_out(&txn, &request).await?;
    txn.commit().await?;
    Ok(record)
}

/// The request is done when every signed-up volunteer has checked in and
/// out again.
async fn complete_when_everyone_is_out(
    txn: &DatabaseTransaction,
    request: &help_request::Model,
) -> AppResult<()> {
    let volunteers: Vec<Uuid> = Signups::find()
        .select_only()
        .column(signup::Column::VolunteerId)
        .filter(signup::Column::RequestId.eq(request.id))
        // A no-show does not hold the visit open.
        .filter(signup::Column::Status.is_in([SignupStatus::SignedUp, SignupStatus::Attended]))
        .into_tuple()
        .all(txn)
        .await?;
    let records = Records::find()
        .filter(service_record::Column::RequestId.eq(request.id))
        .filter(service_record::Column::Status.ne(RecordStatus::Rejected))
        .all(txn)
        .await?;
    let done = volunteers.iter().all(|v| {
        let mine: Vec<_> = records.iter().filter(|r| r.volunteer_id == *v).collect();
        !mine.is_empty() && mine.iter().all(|r| r.status != RecordStatus::InProgress)
    });
    if done && !volunteers.is_empty() {
        Requests::update_many()
            .col_expr(
                help_request::Column::Status,
                Expr::value(RequestStatus::Completed),
            )
            .col_expr(help_request::Column::UpdatedAt, Expr::value(now()))
            .filter(help_request::Column::Id.eq(request.id))
            .filter(help_request::Column::Status.eq(RequestStatus::InProgress))
            .exec(txn)
            .await?;
    }
    Ok(())
}

pub struct PaperEntry {
    pub volunteer_id: Uuid,
    pub request_id: Uuid,
    pub started_at: i64,
    pub ended_at: i64,
    pub note: Option<String>,
}

/// A record copied from a paper sign-in sheet by a caseworker or manager.
pub async fn create_paper(
    db: &DatabaseConnection,
    entry: PaperEntry,
    recorder: Uuid,
) -> AppResult<service_record::Model> {
    let times = RecordTimes::new(entry.started_at, entry.ended_at, now())?;
    let txn = db.begin().await?;
    let volunteer = Users::find_by_id(entry.volunteer_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|u| u.role == Role::Volunteer)
        .ok_or_else(|| AppError::invalid("volunteer_id", "志愿者不存在"))?;
    let request = match requests::find(&txn, entry.request_id).await {
        Ok(r) => r,
        Err(AppError::NotFound) => return Err(AppError::invalid("request_id", "求助不存在")),
        Err(e) => return Err(e),
    };
    let team_id = request.team_id.ok_or_else(|| {
        AppError::unprocessable("request_not_assigned", "求助尚未分派给队伍，无法登记时长")
    })?;
    if !served_with(&txn, &request, team_id, volunteer.id).await? {
        return Err(AppError::unprocessable(
            "not_team_member",
            "该志愿者既不是求助所属队伍的正式队员，也没有报名该求助",
        ));
    }
    ensure_no_overlap(&txn, volunteer.id, (times.started_at, times.ended_at), None).await?;
    let record = insert_finished(
        &txn,
        volunteer.id,
        &request,
        team_id,
        times,
        RecordSource::Paper,
        entry.note,
        recorder,
        None,
    )
    .await?;
    log(&txn, record.id, RecordAction::Created, recorder, None).await?;
    txn.commit().await?;
    Ok(record)
}

/// A paper record is for someone who could have served: an active member
/// of the request's team (a pending member is not a member) or a
/// volunteer signed up for it. Otherwise anyone's hours could be entered
/// against any request.
async fn served_with(
    db: &impl ConnectionTrait,
    request: &help_request::Model,
    team_id: Uuid,
    volunteer: Uuid,
) -> AppResult<bool> {
    use entity::team_member::{self, Entity as Members};
    let member = Members::find_by_id((team_id, volunteer))
        .filter(team_member::Column::Status.eq("active"))
        .one(db)
        .await?
        .is_some();
    Ok(member || participation::is_signed_up(db, request.id, volunteer).await?)
}

#[allow(clippy::too_many_arguments)]
async fn insert_finished(
    txn: &DatabaseTransaction,
    volunteer: Uuid,
    request: &help_request::Model,
    team_id: Uuid,
    times: RecordTimes,
    source: RecordSource,
    note: Option<String>,
    recorder: Uuid,
    supersedes: Option<Uuid>,
) -> Result<service_record::Model, sea_orm::DbErr> {
    service_record::ActiveModel {
        id: Set(Uuid::now_v7()),
        volunteer_id: Set(volunteer),
        request_id: Set(request.id),
        team_id: Set(team_id),
        started_at: Set(times.started_at),
        ended_at: Set(Some(times.ended_at)),
        minutes: Set(Some(times.minutes())),
        status: Set(RecordStatus::Pending),
        source: Set(source),
        note: Set(note),
        recorder_id: Set(recorder),
        check_in_distance_m: Set(None),
        check_out_distance_m: Set(None),
        supersedes_id: Set(supersedes),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        reject_reason: Set(None),
        created_at: Set(now()),
    }
    .insert(txn)
    .await
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<service_record::Model> {
    Records::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The request's caseworker, the team's leader, managers and admins.
pub async fn may_review(
    db: &impl ConnectionTrait,
    record: &service_record::Model,
    user: &AuthUser,
) -> AppResult<bool> {
    if user.role.is_manager() {
        return Ok(true);
    }
    if user.role == Role::Caseworker {
        let request = requests::find(db, record.request_id).await?;
        return Ok(request.caseworker_id == user.id);
    }
    Ok(teams::membership(db, record.team_id, user.id).await? == Some(MemberRole::Leader))
}

/// Who may see a record at all: its volunteer and those who may review it
/// (plus every caseworker, who reads all records).
pub async fn may_read(
    db: &impl ConnectionTrait,
    record: &service_record::Model,
    user: &AuthUser,
) -> AppResult<bool> {
    Ok(record.volunteer_id == user.id
        || user.role.is_staff()
        || may_review(db, record, user).await?)
}

/// 403 `own_entry` for a record about the reviewer's own service or one
/// they entered (a paper record, a correction).
fn ensure_not_own_entry(record: &service_record::Model, reviewer: &AuthUser) -> AppResult<()> {
    if permissions::is_own_entry(reviewer.id, record.volunteer_id, record.recorder_id) {
        return Err(AppError::denied(
            "own_entry",
            "不能审核自己的记录或自己录入的记录",
        ));
    }
    Ok(())
}

pub enum Decision {
    Approve,
    Reject(String),
}

/// Approves or rejects a pending record. Nobody reviews their own record.
pub async fn review(
    db: &DatabaseConnection,
    settings: &crate::config::Settings,
    record_id: Uuid,
    reviewer: &AuthUser,
    decision: Decision,
) -> AppResult<service_record::Model> {
    let txn = db.begin().await?;
    let record = find(&txn, record_id).await?;
    if !may_read(&txn, &record, reviewer).await? {
        return Err(AppError::NotFound);
    }
    ensure_not_own_entry(&record, reviewer)?;
    if !may_review(&txn, &record, reviewer).await? {
        return Err(AppError::Forbidden);
    }
    if matches!(decision, Decision::Approve) {
        let request = requests::find(&txn, record.request_id).await?;
        let tz = settings.time_zone;
        super::safeguarding::ensure_check_covered(&txn, &request, record.volunteer_id, tz).await?;
    }
    let (status, action, reason) = match decision {
        Decision::Approve => (RecordStatus::Approved, RecordAction::Approved, None),
        Decision::Reject(reason) => (RecordStatus::Rejected, RecordAction::Rejected, Some(reason)),
    };
    let changed = Records::update_many()
        .col_expr(service_record::Column::Status, Expr::value(status))
        .col_expr(service_record::Column::ReviewedBy, Expr::value(reviewer.id))
        .col_expr(service_record::Column::ReviewedAt, Expr::value(now()))
        .col_expr(
            service_record::Column::RejectReason,
            Expr::value(reason.clone()),
        )
        .filter(service_record::Column::Id.eq(record_id))
        .filter(service_record::Column::Status.eq(RecordStatus::Pending))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 0 {
        let label = record.status.label();
        return Err(AppError::conflict(
            "invalid_status",
            format!("记录当前为「{label}」，只有待审核的记录可以审核"),
        ));
    }
    if status == RecordStatus::Approved {
        count_approval(&txn, &record).await?;
    }
    log(&txn, record_id, action, reviewer.id, reason).await?;
    let record = find(&txn, record_id).await?;
    announce_review(&txn, settings, &record).await?;
    txn.commit().await?;
    Ok(record)
}

/// Moves the volunteer's kept approved minutes for `record`, just
/// approved, in the review's transaction. A correction's original was
/// approved (only approved records are corrected) and counted until now:
/// at most one correction of it is live (migration 9's unique index).
async fn count_approval(
    txn: &DatabaseTransaction,
    record: &service_record::Model,
) -> AppResult<()> {
    let replaced = match record.supersedes_id {
        Some(original) => {
            let original = find(txn, original).await?;
            (original.status == RecordStatus::Approved)
                .then_some(original.minutes)
                .flatten()
        }
        None => None,
    };
    let delta = hours::approval_delta(record.minutes, replaced);
    super::accounts::add_approved_minutes(txn, record.volunteer_id, delta).await
}

pub struct Correction {
    pub started_at: i64,
    pub ended_at: i64,
    pub note: Option<String>,
    pub reason: String,
}

/// Corrects an approved record by a new pending record that supersedes it;
/// the approved one stays as it was until the correction is approved.
pub async fn correct(
    db: &DatabaseConnection,
    record_id: Uuid,
    reviewer: &AuthUser,
    correction: Correction,
) -> AppResult<service_record::Model> {
    let times = RecordTimes::new(correction.started_at, correction.ended_at, now())?;
    let txn = db.begin().await?;
    let original = find(&txn, record_id).await?;
    if !may_read(&txn, &original, reviewer).await? {
        return Err(AppError::NotFound);
    }
    if original.volunteer_id == reviewer.id {
        return Err(AppError::denied("own_entry", "不能更正自己的服务记录"));
    }
    if !may_review(&txn, &original, reviewer).await? {
        return Err(AppError::Forbidden);
    }
    if original.status != RecordStatus::Approved {
        return Err(AppError::conflict(
            "invalid_status",
            "只有已通过的记录需要更正；待审核的记录请驳回后重新登记",
        ));
    }
    lock_volunteer(&txn, original.volunteer_id).await?;
    // Only the newest version is corrected: a record already replaced by
    // an approved correction would otherwise be replaced twice and its
    // service counted twice. The unique index of migration 9 decides
    // between racing corrections; this read only names the case.
    let live_fix = Records::find()
        .filter(service_record::Column::SupersedesId.eq(record_id))
        .filter(service_record::Column::Status.ne(RecordStatus::Rejected))
        .one(&txn)
        .await?;
    if let Some(fix) = live_fix {
        return Err(if fix.status == RecordStatus::Pending {
            AppError::conflict("correction_pending", "该记录已有一条待审核的更正")
        } else {
            already_corrected()
        });
    }
    ensure_no_overlap(
        &txn,
        original.volunteer_id,
        (times.started_at, times.ended_at),
        Some(record_id),
    )
    .await?;
    let request = requests::find(&txn, original.request_id).await?;
    let source = original.source;
    let note = correction.note.or(original.note.clone());
    let fixed = insert_finished(
        &txn,
        original.volunteer_id,
        &request,
        original.team_id,
        times,
        source,
        note,
        reviewer.id,
        Some(record_id),
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            already_corrected()
        } else {
            e.into()
        }
    })?;
    log(
        &txn,
        record_id,
        RecordAction::Corrected,
        reviewer.id,
        Some(format!("{}（更正记录 {}）", correction.reason, fixed.id)),
    )
    .await?;
    log(
        &txn,
        fixed.id,
        RecordAction::Created,
        reviewer.id,
        Some(format!("更正记录 {record_id}：{}", correction.reason)),
    )
    .await?;
    txn.commit().await?;
    Ok(fixed)
}

fn already_corrected() -> AppError {
    AppError::conflict("already_corrected", "该记录已被更正，只能更正最新的版本")
}

pub async fn history(
    db: &impl ConnectionTrait,
    record_id: Uuid,
) -> AppResult<Vec<service_record_event::Model>> {
    Ok(Events::find()
        .filter(service_record_event::Column::RecordId.eq(record_id))
        .order_by_asc(service_record_event::Column::Id)
        .all(db)
        .await?)
}

pub struct ListFilter {
    pub volunteer_id: Option<Uuid>,
    /// Teams whose records the caller may see beyond their own (leaders).
    pub or_teams: Vec<Uuid>,
    pub status: Option<RecordStatus>,
    pub from: Option<i64>,
    pub until: Option<i64>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    filter: ListFilter,
    page: super::paging::PageRequest,
) -> AppResult<(Vec<service_record::Model>, Option<String>)> {
    let mut query = Records::find()
        .order_by_desc(service_record::Column::Id)
        .limit(page.limit + 1);
    match (filter.volunteer_id, filter.or_teams.is_empty()) {
        (Some(v), true) => query = query.filter(service_record::Column::VolunteerId.eq(v)),
        (Some(v), false) => {
            query = query.filter(
                sea_orm::Condition::any()
                    .add(service_record::Column::VolunteerId.eq(v))
                    .add(service_record::Column::TeamId.is_in(filter.or_teams)),
            )
        }
        (None, _) => {}
    }
    if let Some(status) = filter.status {
        query = query.filter(service_record::Column::Status.eq(status));
    }
    if let Some(from) = filter.from {
        query = query.filter(service_record::Column::StartedAt.gte(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(service_record::Column::StartedAt.lt(until));
    }
    if let Some(after) = page.after {
        query = query.filter(service_record::Column::Id.lt(after));
    }
    Ok(super::paging::finish(
        query.all(db).await?,
        page.limit,
        |r| r.id,
    ))
}

/// `service_record.approved` / `.rejected`, in the review's transaction.
/// The data names the volunteer by masked name only.
async fn announce_review(
    txn: &DatabaseTransaction,
    settings: &crate::config::Settings,
    record: &service_record::Model,
) -> AppResult<()> {
    use crate::domain::vocab::EventType;
    use crate::service::outbox::{self, RequestEvent};
    let event = if record.status == RecordStatus::Approved {
        EventType::ServiceRecordApproved
    } else {
        EventType::ServiceRecordRejected
    };
    let request = requests::find(txn, record.request_id).await?;
    let resident = requests::resident_of(txn, &request).await?;
    let volunteer = Users::find_by_id(record.volunteer_id)
        .one(txn)
        .await?
        .map(|u| crate::domain::masking::mask_name(&u.name))
        .unwrap_or_default();
    let hours = crate::views::round2(f64::from(record.minutes.unwrap_or(0)) / 60.0);
    let detail = match &record.reject_reason {
        Some(reason) => format!("志愿者 {volunteer} 的 {hours} 小时服务记录被驳回：{reason}"),
        None => format!("志愿者 {volunteer} 的 {hours} 小时服务记录已审核通过"),
    };
    let tz = settings.time_zone;
    let data = serde_json::json!({
        "id": record.id,
        "request_id": record.request_id,
        "team_id": record.team_id,
        "volunteer_id": record.volunteer_id,
        "volunteer_masked_name": volunteer,
        "started_at": crate::views::local_time(record.started_at, tz),
        "ended_at": record.ended_at.map(|t| crate::views::local_time(t, tz)),
        "minutes": record.minutes,
        "hours": hours,
        "status": record.status,
        "reject_reason": record.reject_reason,
    });
    let event = RequestEvent {
        event,
        request: &request,
        resident: resident.as_ref(),
        team_id: Some(record.team_id),
        detail: Some(detail),
        data: Some(data),
    };
    outbox::emit(txn, settings, event).await
}

//! Sign-ups: places on a request, exact under any concurrency.
//!
//! The place is taken by one conditional UPDATE —
//! `signups_count = signups_count + 1 WHERE signups_count < volunteers_needed`
//! — in the same transaction as the sign-up row. PostgreSQL re-checks the
//! condition under the row lock, so however many processes race, the count
//! never passes the need; SQLite runs one writer at a time.

use chrono_tz::Tz;
use entity::help_request::{self, Entity as Requests};
use entity::resident::{self, Entity as Residents};
use entity::signup::{self, Entity as Signups};
use entity::user::Entity as Users;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::outbox::{self, RequestEvent};
use super::{now, participation, requests, teams};
use crate::config::Settings;
use crate::domain::masking::mask_name;
use crate::domain::vetting::{self, WithdrawalReason};
use crate::domain::vocab::{EventType, RequestStatus, ResidentCategory, SignupStatus};
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::views::{SignupView, local_time};

/// The statuses in which a request takes sign-ups (`RequestStatus::is_active`).
const ACTIVE: [RequestStatus; 2] = [RequestStatus::Assigned, RequestStatus::InProgress];

fn already_signed_up() -> AppError {
    AppError::conflict("already_signed_up", "你已报名该求助")
}

fn request_full() -> AppError {
    AppError::conflict("request_full", "名额已满")
}

/// What the sign-up did, for the caller and for notifications.
pub struct SignedUp {
    pub view: SignupView,
    pub request: help_request::Model,
    /// This sign-up took the last place.
    pub filled: bool,
}

pub async fn sign_up(
    db: &DatabaseConnection,
    settings: &Settings,
    request_id: Uuid,
    volunteer: Uuid,
) -> AppResult<SignedUp> {
    let txn = db.begin().await?;
    let signed = sign_up_in(&txn, settings, request_id, volunteer).await?;
    txn.commit().await?;
    Ok(signed)
}

/// [`sign_up`] in the caller's transaction: a pairing's regular
/// volunteers take their places on each new visit this way, under the
/// same rules as anyone signing up.
pub async fn sign_up_in(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    request_id: Uuid,
    volunteer: Uuid,
) -> AppResult<SignedUp> {
    let tz = settings.time_zone;
    // Under a share lock on the volunteer's row: a disable that committed
    // first is seen here, and one that comes later waits for this sign-up
    // to commit and then withdraws it too.
    super::accounts::lock_active(txn, volunteer).await?;
    let request = requests::find(txn, request_id).await?;
    let team_id = match request.team_id {
        Some(team) if teams::hold_membership(txn, team, volunteer).await? => team,
        // Not assigned to a team of theirs.
        _ => return Err(AppError::Forbidden),
    };
    if !request.status.is_active() {
        return Err(AppError::conflict(
            "invalid_status",
            "该求助已结束或已取消，不能报名",
        ));
    }
    ensure_vetted_for(txn, &request, volunteer, tz).await?;
    let existing = Signups::find()
        .filter(signup::Column::RequestId.eq(request_id))
        .filter(signup::Column::VolunteerId.eq(volunteer))
        .one(txn)
        .await?;
    if existing
        .as_ref()
        .is_some_and(|s| s.status != SignupStatus::Withdrawn)
    {
        return Err(already_signed_up());
    }
    // Full as last committed: say so at once rather than queue for the
    // row lock behind everyone else in a rush. (Only "full" is decided
    // here; a place is only ever taken by the conditional update below.)
    if request.signups_count >= request.volunteers_needed {
        return Err(request_full());
    }
    let taken = Requests::update_many()
        .col_expr(
            help_request::Column::SignupsCount,
            Expr::col(help_request::Column::SignupsCount).add(1),
        )
        .col_expr(help_request::Column::UpdatedAt, Expr::value(now()))
        .filter(help_request::Column::Id.eq(request_id))
        .filter(help_request::Column::TeamId.eq(team_id))
        // The day the check was held against: a start moved meanwhile
        // is a change to look at again.
        .filter(help_request::Column::StartsAt.eq(request.starts_at))
        .filter(help_request::Column::Status.is_in(ACTIVE))
        .filter(
            Expr::col(help_request::Column::SignupsCount)
                .lt(Expr::col(help_request::Column::VolunteersNeeded)),
        )
        .exec(txn)
        .await?;
    if taken.rows_affected == 0 {
        let now_request = requests::find(txn, request_id).await?;
        return Err(
            if now_request.status.is_active() && now_request.team_id == Some(team_id) {
                request_full()
            } else {
                AppError::conflict("invalid_status", "该求助刚刚发生了变化，请刷新后再试")
            },
        );
    }
    let row = match existing {
        // Signing up again after withdrawing: the same sign-up, back.
        Some(withdrawn) => {
            let back = Signups::update_many()
                .col_expr(signup::Column::Status, Expr::value(SignupStatus::SignedUp))
                .col_expr(signup::Column::StatusChangedAt, Expr::value(now()))
                .col_expr(signup::Column::TeamId, Expr::value(team_id))
                .filter(signup::Column::Id.eq(withdrawn.id))
                .filter(signup::Column::Status.eq(SignupStatus::Withdrawn))
                .exec(txn)
                .await?;
            if back.rows_affected == 0 {
                return Err(already_signed_up());
            }
            signup::Model {
                status: SignupStatus::SignedUp,
                team_id,
                ..withdrawn
            }
        }
        None => signup::ActiveModel {
            id: Set(Uuid::now_v7()),
            request_id: Set(request_id),
            volunteer_id: Set(volunteer),
            team_id: Set(team_id),
            created_at: Set(now()),
            status: Set(SignupStatus::SignedUp),
            status_changed_at: Set(None),
        }
        .insert(txn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                already_signed_up()
            } else {
                AppError::from(e)
            }
        })?,
    };
    let request = requests::find(txn, request_id).await?;
    let places_left = request.volunteers_needed - request.signups_count;
    announce(txn, settings, &request, volunteer, team_id, places_left).await?;
    Ok(SignedUp {
        view: SignupView {
            id: row.id,
            request_id,
            volunteer_id: volunteer,
            team_id,
            status: row.status,
            places_left,
            created_at: local_time(row.created_at, tz),
        },
        filled: places_left == 0,
        request,
    })
}

/// Gives the place back and tells the team (`signup.withdrawn`, reason
/// `volunteer`). Someone who already checked in keeps their sign-up: the
/// visit happened.
pub async fn withdraw(
    db: &DatabaseConnection,
    settings: &Settings,
    request_id: Uuid,
    volunteer: Uuid,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let request = requests::find(&txn, request_id).await?;
    if participation::has_records_for(&txn, request_id, volunteer).await? {
        return Err(AppError::conflict(
            "already_checked_in",
            "已签到的报名不能撤销",
        ));
    }
    if request.status == RequestStatus::Completed {
        return Err(AppError::conflict(
            "invalid_status",
            "求助已完成，不能撤销报名",
        ));
    }
    let reason = WithdrawalReason::Volunteer;
    if !super::withdrawals::withdraw(&txn, settings, request_id, volunteer, reason).await? {
        return Err(AppError::NotFound);
    }
    txn.commit().await?;
    Ok(())
}

/// Withdraws the volunteer's sign-up (kept, `withdrawn`) and gives its
/// place back, in the caller's transaction; false when there was no
/// sign-up holding a place. The rules of when a place may be given back
/// are the caller's; a no-show stays on the record.
pub async fn release_place(
    txn: &impl sea_orm::ConnectionTrait,
    request_id: Uuid,
    volunteer: Uuid,
) -> AppResult<bool> {
    let deleted = Signups::update_many()
        .col_expr(signup::Column::Status, Expr::value(SignupStatus::Withdrawn))
        .col_expr(signup::Column::StatusChangedAt, Expr::value(now()))
        .filter(signup::Column::RequestId.eq(request_id))
        .filter(signup::Column::VolunteerId.eq(volunteer))
        .filter(signup::Column::Status.eq(SignupStatus::SignedUp))
        .exec(txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Ok(false);
    }
    Requests::update_many()
        .col_expr(
            help_request::Column::SignupsCount,
            Expr::col(help_request::Column::SignupsCount).sub(1),
        )
        .col_expr(help_request::Column::UpdatedAt, Expr::value(now()))
        .filter(help_request::Column::Id.eq(request_id))
        .filter(help_request::Column::SignupsCount.gt(0))
        .exec(txn)
        .await?;
    Ok(true)
}

/// 403 `volunteer_not_vetted` when the request's resident is a
/// left-behind child or disabled and the volunteer's check does not hold
/// on the day the visit starts (the rule is [`vetting::may_serve`]).
async fn ensure_vetted_for(
    txn: &impl ConnectionTrait,
    request: &help_request::Model,
    volunteer: Uuid,
    tz: Tz,
) -> AppResult<()> {
    // Share-locked: a change of category waits for this sign-up and then
    // withdraws it if it needs to (PostgreSQL; SQLite writes serially).
    let category: Option<ResidentCategory> = match request.resident_id {
        Some(id) => {
            Residents::find_by_id(id)
                .select_only()
                .column(resident::Column::Category)
                .lock_shared()
                .into_tuple()
                .one(txn)
                .await?
        }
        None => None,
    };
    let vetted_until = Users::find_by_id(volunteer)
        .one(txn)
        .await?
        .and_then(|u| u.vetted_until);
    let starts_on = vetting::local_day(request.starts_at, tz);
    if vetting::may_serve(category, vetted_until, starts_on) {
        Ok(())
    } else {
        Err(AppError::denied(
            "volunteer_not_vetted",
            "服务留守儿童和残疾人需要在服务当天仍有效的无犯罪记录证明",
        ))
    }
}

/// `signup.created`, and `request.full` when this sign-up took the last
/// place: in the sign-up's transaction.
async fn announce(
    txn: &impl sea_orm::ConnectionTrait,
    settings: &Settings,
    request: &help_request::Model,
    volunteer: Uuid,
    team_id: Uuid,
    places_left: i32,
) -> AppResult<()> {
    let resident = super::requests::resident_of(txn, request).await?;
    let name = entity::user::Entity::find_by_id(volunteer)
        .one(txn)
        .await?
        .map(|u| mask_name(&u.name))
        .unwrap_or_default();
    let detail = Some(format!("志愿者 {name} 已报名，还剩 {places_left} 个名额"));
    let signed = RequestEvent {
        event: EventType::SignupCreated,
        request,
        resident: resident.as_ref(),
        team_id: Some(team_id),
        detail,
        data: None,
    };
    outbox::emit(txn, settings, signed).await?;
    if places_left == 0 {
        let detail = Some(format!("{} 个名额已全部报满", request.volunteers_needed));
        let full = RequestEvent {
            event: EventType::RequestFull,
            request,
            resident: resident.as_ref(),
            team_id: Some(team_id),
            detail,
            data: None,
        };
        outbox::emit(txn, settings, full).await?;
    }
    Ok(())
}

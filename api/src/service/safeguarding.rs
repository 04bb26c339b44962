//! Vetting holds after the fact, not only when someone signs up. Each
//! change that can break the rule of who may serve a visit
//! (`domain::vetting::may_serve_now`) calls one of these in its own
//! transaction, so there is no moment where the change is committed and
//! its consequences are not:
//!
//! - a person's check shortened or cleared: their memberships of vetted
//!   teams turn `pending` (when it no longer holds today) and their
//!   sign-ups that the rule no longer allows are withdrawn;
//! - a resident becoming a left-behind child or disabled: sign-ups of
//!   volunteers whose check does not cover the visit are withdrawn,
//!   pairings with a team that is not vetted end, and requests assigned to
//!   such a team go back to `open`;
//! - a team's vetting switched either way: the same, seen from the team.
//!
//! The daily pass for checks that simply run out is `vetting_pass`.

use chrono::NaiveDate;
use chrono_tz::Tz;
use entity::help_request::{self, Entity as Requests};
use entity::pairing::{self, Entity as Pairings};
use entity::resident::{self, Entity as Residents};
use entity::signup::{self, Entity as Signups};
use entity::team::{self, Entity as Teams};
use entity::team_member::{self, Entity as Members};
use entity::user::{self, Entity as Users};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, Query},
};
use uuid::Uuid;

use super::withdrawals::{self, Scope};
use super::{now, pairings};
use crate::config::Settings;
use crate::domain::vetting::{self, Membership, Server, Unfit, Visit, WithdrawalReason};
use crate::domain::vocab::{
    AccountStatus, MemberStatus, RequestStatus, ResidentCategory, SignupStatus,
};
use crate::error::{AppError, AppResult};

/// After `person`'s `vetted_until` changed: held where it no longer holds
/// today, and their sign-ups rechecked.
pub async fn after_vetting_change(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    person: Uuid,
) -> AppResult<()> {
    let now = now();
    hold_lapsed(
        txn,
        Some(person),
        vetting::local_day(now, settings.time_zone),
    )
    .await?;
    withdrawals::recheck(txn, settings, Scope::Volunteer(person), now).await?;
    Ok(())
}

/// After a resident's category changed: nothing to do unless visits to
/// them now need a check.
pub async fn after_recategorised(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    resident: &resident::Model,
) -> AppResult<()> {
    if !resident.category.needs_vetted_team() {
        return Ok(());
    }
    let now = now();
    withdrawals::recheck(txn, settings, Scope::Resident(resident.id), now).await?;
    release_unvetted_assignments(
        txn,
        settings,
        help_request::Column::ResidentId.eq(resident.id),
        pairing::Column::ResidentId.eq(resident.id),
        now,
    )
    .await
}

/// After a team's `vetted` changed (its unvetted members already held by
/// `memberships::hold_unvetted` when it became vetted): their sign-ups
/// withdrawn; and a team no longer vetted gives back the visits that need
/// one.
pub async fn after_team_vetting_change(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    team_id: Uuid,
) -> AppResult<()> {
    let now = now();
    withdrawals::recheck(txn, settings, Scope::Team(team_id), now).await?;
    release_unvetted_assignments(
        txn,
        settings,
        help_request::Column::TeamId.eq(team_id),
        pairing::Column::TeamId.eq(team_id),
        now,
    )
    .await
}

/// Holds as `pending` the active memberships of vetted teams whose
/// person's check does not hold `today` — of one person, or of everyone
/// (the daily pass); returns how many changed. Their sign-ups are the
/// caller's to recheck.
pub async fn hold_lapsed(
    txn: &impl ConnectionTrait,
    person: Option<Uuid>,
    today: NaiveDate,
) -> AppResult<u64> {
    let vetted_teams = Query::select()
        .column(team::Column::Id)
        .from(Teams)
        .and_where(team::Column::Vetted.eq(true))
        .to_owned();
    let mut lapsed = Query::select()
        .column(user::Column::Id)
        .from(Users)
        .cond_where(
            Condition::any()
                .add(user::Column::VettedUntil.is_null())
                .add(user::Column::VettedUntil.lt(today)),
        )
        .to_owned();
    if let Some(person) = person {
        lapsed.and_where(user::Column::Id.eq(person));
    }
    let held = Members::update_many()
        .col_expr(
            team_member::Column::Status,
            Expr::value(MemberStatus::Pending),
        )
        .filter(team_member::Column::Status.eq(MemberStatus::Active))
        .filter(team_member::Column::TeamId.in_subquery(vetted_teams))
        .filter(team_member::Column::UserId.in_subquery(lapsed))
        .exec(txn)
        .await?;
    Ok(held.rows_affected)
}

/// Visits to left-behind children and disabled residents (among those
/// `requests` / `pairings` select) that are in the hands of a team that is
/// not vetted: the pairings end (their visits not yet started cancelled,
/// as ending one does), and requests nobody has checked in to that are not
/// over go back to `open` without a team, their sign-ups withdrawn.
async fn release_unvetted_assignments(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    requests: impl sea_orm::sea_query::IntoCondition,
    pairings_of: impl sea_orm::sea_query::IntoCondition,
    now: i64,
) -> AppResult<()> {
    let needing = || {
        Query::select()
            .column(resident::Column::Id)
            .from(Residents)
            .and_where(resident::Column::Category.is_in([
                ResidentCategory::LeftBehindChild,
                ResidentCategory::Disabled,
            ]))
            .to_owned()
    };
    let unvetted = || {
        Query::select()
            .column(team::Column::Id)
            .from(Teams)
            .and_where(team::Column::Vetted.eq(false))
            .to_owned()
    };
    let ending: Vec<Uuid> = Pairings::find()
        .select_only()
        .column(pairing::Column::Id)
        .filter(pairing::Column::Active.eq(true))
        .filter(pairings_of)
        .filter(pairing::Column::ResidentId.in_subquery(needing()))
        .filter(pairing::Column::TeamId.in_subquery(unvetted()))
        .into_tuple()
        .all(txn)
        .await?;
    for id in ending {
        pairings::end_in(txn, id).await?;
    }
    let reopening: Vec<Uuid> = Requests::find()
        .select_only()
        .column(help_request::Column::Id)
        .filter(requests)
        .filter(help_request::Column::Status.eq(RequestStatus::Assigned))
        .filter(help_request::Column::EndsAt.gt(now))
        .filter(help_request::Column::ResidentId.in_subquery(needing()))
        .filter(help_request::Column::TeamId.in_subquery(unvetted()))
        .into_tuple()
        .all(txn)
        .await?;
    for request_id in reopening {
        let volunteers: Vec<Uuid> = Signups::find()
            .select_only()
            .column(signup::Column::VolunteerId)
            .filter(signup::Column::RequestId.eq(request_id))
            .filter(signup::Column::Status.eq(SignupStatus::SignedUp))
            .into_tuple()
            .all(txn)
            .await?;
        // Withdrawn while the request still names the team, so each
        // event reaches the team's group.
        for volunteer in volunteers {
            withdrawals::withdraw(
                txn,
                settings,
                request_id,
                volunteer,
                WithdrawalReason::Vetting,
            )
            .await?;
        }
        let none: Option<Uuid> = None;
        Requests::update_many()
            .col_expr(
                help_request::Column::Status,
                Expr::value(RequestStatus::Open),
            )
            .col_expr(help_request::Column::TeamId, Expr::value(none))
            .col_expr(help_request::Column::SignupsCount, Expr::value(0))
            .col_expr(help_request::Column::UpdatedAt, Expr::value(now))
            .filter(help_request::Column::Id.eq(request_id))
            .filter(help_request::Column::Status.eq(RequestStatus::Assigned))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// 403 `volunteer_not_vetted` (or 403 / 401 when the membership or the
/// account is gone) unless the rule still lets `volunteer` serve the
/// request: checking in is arriving at the address, so it is held to the
/// rule as it stands now, not as it stood at the sign-up.
pub async fn ensure_may_check_in(
    txn: &impl ConnectionTrait,
    request: &help_request::Model,
    volunteer: Uuid,
    tz: Tz,
) -> AppResult<()> {
    let person = Users::find_by_id(volunteer)
        .one(txn)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let membership = match request.team_id {
        Some(team) => super::teams::member_row(txn, team, volunteer)
            .await?
            .map(|m| m.status),
        None => None,
    };
    let server = Server {
        account_active: person.status == AccountStatus::Active,
        vetted_until: person.vetted_until,
        membership: Membership::of(membership),
    };
    vetting::may_serve_now(&server, &visit_of(txn, request, tz).await?).map_err(|unfit| match unfit
    {
        Unfit::AccountDisabled => AppError::AccountDisabled,
        Unfit::NotMember => AppError::Forbidden,
        Unfit::HeldForVetting => AppError::denied(
            "volunteer_not_vetted",
            "你的无犯罪记录证明已过期，在审核队伍中的队员资格待重新审核，暂不能签到",
        ),
        Unfit::NotVetted => AppError::denied(
            "volunteer_not_vetted",
            "服务留守儿童和残疾人需要在服务当天仍有效的无犯罪记录证明",
        ),
    })
}

/// 422 `volunteer_not_vetted` unless the volunteer's check covers the day
/// of the visit a record is about (a left-behind child's or a disabled
/// resident's): hours of a visit the rule did not allow are not approved.
/// Membership and account are not asked — the service was given; a
/// member who left or an account disabled since keeps their hours.
pub async fn ensure_check_covered(
    txn: &impl ConnectionTrait,
    request: &help_request::Model,
    volunteer: Uuid,
    tz: Tz,
) -> AppResult<()> {
    let vetted_until = Users::find_by_id(volunteer)
        .one(txn)
        .await?
        .and_then(|u| u.vetted_until);
    let visit = visit_of(txn, request, tz).await?;
    if vetting::may_serve(visit.resident, vetted_until, visit.starts_on) {
        Ok(())
    } else {
        Err(AppError::unprocessable(
            "volunteer_not_vetted",
            "该志愿者的无犯罪记录证明不覆盖这次服务当天，不能审核通过；可驳回",
        ))
    }
}

async fn visit_of(
    db: &impl ConnectionTrait,
    request: &help_request::Model,
    tz: Tz,
) -> AppResult<Visit> {
    let resident = super::requests::resident_of(db, request).await?;
    Ok(Visit {
        resident: resident.map(|r| r.category),
        starts_on: vetting::local_day(request.starts_at, tz),
    })
}

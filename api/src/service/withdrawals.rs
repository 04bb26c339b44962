//! Withdrawing sign-ups that no longer meet the rule of who may serve a
//! request ([`vetting::may_serve_now`]), in the transaction of the change
//! that broke it, each with a `signup.withdrawn` event.
//!
//! One query finds the sign-ups in scope that *could* fail — a disabled
//! account, no active membership of the request's team, or a visit that
//! needs a check — with everything the rule reads; the rule itself then
//! decides in Rust. Only requests not yet started are touched, as when a
//! member leaves: a visit under way keeps its sign-ups, and the read-time
//! rule and check-in's refusal cover what remains.

use entity::help_request::{self, Entity as Requests};
use entity::resident::{self, Entity as Residents};
use entity::signup::{self, Entity as Signups};
use entity::team_member::{self, Entity as Members};
use entity::user::{self, Entity as Users};
use sea_orm::{
    ConnectionTrait, EntityTrait,
    sea_query::{Condition, Expr, ExprTrait, Query},
};
use serde::Serialize;
use uuid::Uuid;

use super::outbox::{self, RequestEvent};
use super::{participation, requests, signups};
use crate::config::Settings;
use crate::domain::masking::mask_name;
use crate::domain::vetting::{self, Membership, Server, Visit, WithdrawalReason};
use crate::domain::vocab::{
    AccountStatus, EventType, MemberStatus, RequestStatus, ResidentCategory, SignupStatus,
};
use crate::error::{AppError, AppResult};
use crate::views::RequestView;

/// Whose sign-ups a change may have broken.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// A person's (their check, account or memberships changed).
    Volunteer(Uuid),
    /// One request's (its start moved).
    Request(Uuid),
    /// The requests of one resident (their category changed).
    Resident(Uuid),
    /// The requests assigned to one team (it became vetted).
    Team(Uuid),
    /// All of them (the daily pass).
    Everyone,
}

/// A sign-up and what the rule reads about it.
struct Candidate {
    request_id: Uuid,
    volunteer_id: Uuid,
    starts_at: i64,
    resident: Option<ResidentCategory>,
    vetted_until: Option<chrono::NaiveDate>,
    account: AccountStatus,
    membership: Option<MemberStatus>,
}

/// Withdraws every sign-up in `scope` for a request starting after `now`
/// that the rule no longer allows, with its event; returns how many. A
/// volunteer who already has a record of the visit keeps it, as when
/// withdrawing themselves.
pub async fn recheck(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    scope: Scope,
    now: i64,
) -> AppResult<usize> {
    let tz = settings.time_zone;
    let mut withdrawn = 0;
    for c in candidates(txn, scope, now).await? {
        let server = Server {
            account_active: c.account == AccountStatus::Active,
            vetted_until: c.vetted_until,
            membership: Membership::of(c.membership),
        };
        let visit = Visit {
            resident: c.resident,
            starts_on: vetting::local_day(c.starts_at, tz),
        };
        let Err(unfit) = vetting::may_serve_now(&server, &visit) else {
            continue;
        };
        if participation::has_records_for(txn, c.request_id, c.volunteer_id).await? {
            continue;
        }
        if withdraw(txn, settings, c.request_id, c.volunteer_id, unfit.reason()).await? {
            withdrawn += 1;
        }
    }
    Ok(withdrawn)
}

/// The signed-up sign-ups in `scope` of requests not yet started, not
/// finished, that could fail the rule — one query, joined.
async fn candidates(
    db: &impl ConnectionTrait,
    scope: Scope,
    now: i64,
) -> AppResult<Vec<Candidate>> {
    let request_col = |c: help_request::Column| Expr::col((Requests, c));
    let member_status = || Expr::col((Members, team_member::Column::Status));
    let mut query = Query::select()
        .column((Signups, signup::Column::RequestId))
        .column((Signups, signup::Column::VolunteerId))
        .column((Requests, help_request::Column::StartsAt))
        .column((Residents, resident::Column::Category))
        .column((Users, user::Column::VettedUntil))
        .column((Users, user::Column::Status))
        .column((Members, team_member::Column::Status))
        .from(Signups)
        .inner_join(
            Requests,
            request_col(help_request::Column::Id).equals((Signups, signup::Column::RequestId)),
        )
        .left_join(
            Residents,
            Expr::col((Residents, resident::Column::Id))
                .equals((Requests, help_request::Column::ResidentId)),
        )
        .inner_join(
            Users,
            Expr::col((Users, user::Column::Id)).equals((Signups, signup::Column::VolunteerId)),
        )
        .left_join(
            Members,
            Condition::all()
                .add(
                    Expr::col((Members, team_member::Column::TeamId))
                        .equals((Requests, help_request::Column::TeamId)),
                )
                .add(
                    Expr::col((Members, team_member::Column::UserId))
                        .equals((Signups, signup::Column::VolunteerId)),
                ),
        )
        .and_where(Expr::col((Signups, signup::Column::Status)).eq(SignupStatus::SignedUp.code()))
        .and_where(request_col(help_request::Column::StartsAt).gt(now))
        .and_where(request_col(help_request::Column::Status).is_not_in([
            RequestStatus::Completed.code(),
            RequestStatus::Cancelled.code(),
        ]))
        // Only what could fail: the rule decides the rest.
        .cond_where(
            Condition::any()
                .add(Expr::col((Users, user::Column::Status)).ne(AccountStatus::Active.code()))
                .add(member_status().is_null())
                .add(member_status().ne(MemberStatus::Active.code()))
                .add(Expr::col((Residents, resident::Column::Category)).is_in([
                    ResidentCategory::LeftBehindChild.code(),
                    ResidentCategory::Disabled.code(),
                ])),
        )
        .to_owned();
    match scope {
        Scope::Volunteer(id) => {
            query.and_where(Expr::col((Signups, signup::Column::VolunteerId)).eq(id));
        }
        Scope::Request(id) => {
            query.and_where(Expr::col((Signups, signup::Column::RequestId)).eq(id));
        }
        Scope::Resident(id) => {
            query.and_where(request_col(help_request::Column::ResidentId).eq(id));
        }
        Scope::Team(id) => {
            query.and_where(request_col(help_request::Column::TeamId).eq(id));
        }
        Scope::Everyone => {}
    }
    db.query_all(&query)
        .await?
        .iter()
        .map(|row| {
            Ok(Candidate {
                request_id: row.try_get_by_index(0)?,
                volunteer_id: row.try_get_by_index(1)?,
                starts_at: row.try_get_by_index(2)?,
                resident: row.try_get_by_index(3)?,
                vetted_until: row.try_get_by_index(4)?,
                account: row.try_get_by_index(5)?,
                membership: row.try_get_by_index(6)?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()
        .map_err(AppError::from)
}

/// Withdraws one sign-up (kept, `withdrawn`; its place freed) and tells
/// the request's team and the webhooks without a team why:
/// `signup.withdrawn`. False when no sign-up held a place.
pub async fn withdraw(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    request_id: Uuid,
    volunteer: Uuid,
    reason: WithdrawalReason,
) -> AppResult<bool> {
    if !signups::release_place(txn, request_id, volunteer).await? {
        return Ok(false);
    }
    announce(txn, settings, request_id, volunteer, reason).await?;
    Ok(true)
}

/// A `signup.withdrawn`'s `data`: the request as a volunteer who is not
/// signed up sees it (no address, no phone), why, and whose sign-up.
#[derive(Serialize)]
struct WithdrawnData {
    #[serde(flatten)]
    request: RequestView,
    reason: WithdrawalReason,
    volunteer_id: Uuid,
}

async fn announce(
    txn: &impl ConnectionTrait,
    settings: &Settings,
    request_id: Uuid,
    volunteer: Uuid,
    reason: WithdrawalReason,
) -> AppResult<()> {
    let request = requests::find(txn, request_id).await?;
    let resident = requests::resident_of(txn, &request).await?;
    let name = Users::find_by_id(volunteer)
        .one(txn)
        .await?
        .map(|u| mask_name(&u.name))
        .unwrap_or_default();
    let places_left = std::cmp::max(request.volunteers_needed - request.signups_count, 0);
    let detail = format!(
        "志愿者 {name} 的报名已撤销（{}），还剩 {places_left} 个名额",
        reason.label()
    );
    let data = WithdrawnData {
        request: RequestView::build(&request, resident.as_ref(), false, settings.time_zone),
        reason,
        volunteer_id: volunteer,
    };
    let event = RequestEvent {
        event: EventType::SignupWithdrawn,
        request: &request,
        resident: resident.as_ref(),
        team_id: request.team_id,
        detail: Some(detail),
        data: Some(serde_json::to_value(data).map_err(AppError::internal)?),
    };
    outbox::emit(txn, settings, event).await
}

//! Help requests: posting, who may see what, assignment and the status
//! machine (open → assigned → in_progress → completed; cancelled from open
//! or assigned).

use std::collections::HashSet;

use chrono::NaiveDate;
use chrono_tz::Tz;
use entity::help_request::{self, Entity as Requests};
use entity::resident::{self, Entity as Residents};
use entity::signup::{self, Entity as Signups};
use entity::team_member::{self, Entity as Members};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
    sea_query::{Expr, ExprTrait, Order, Query, SelectStatement},
};
use uuid::Uuid;

use super::outbox::{self, RequestEvent};
use super::paging::{PageRequest, finish};
use super::request_rows::{self, Flags, RequestRow};
use super::{now, teams};
use crate::auth::AuthUser;
use crate::config::Settings;
use crate::domain::geo::Coordinates;
use crate::domain::vocab::{
    EventType, MemberStatus, RequestStatus, Role, ServiceCategory, SignupStatus, Urgency,
};
use crate::domain::{permissions, vetting};
use crate::error::{AppError, AppResult};
use crate::views::RequestView;

/// Whom or where a request serves.
pub enum Served {
    /// A visit to a resident at home.
    Resident(Uuid),
    /// A community activity at its own public place (no resident).
    Activity { place: Coordinates, address: String },
}

pub struct NewRequest {
    pub served: Served,
    pub category: ServiceCategory,
    pub title: String,
    pub description: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub volunteers_needed: i32,
    pub urgency: Urgency,
}

pub async fn create(
    db: &DatabaseConnection,
    settings: &Settings,
    new: NewRequest,
    caseworker: Uuid,
) -> AppResult<help_request::Model> {
    let txn = db.begin().await?;
    let (resident, place, address) = match new.served {
        Served::Resident(id) => {
            let resident =
                super::residents::find_active(&txn, id, "该服务对象已停用，不能再发布求助").await?;
            (Some(resident), None, None)
        }
        Served::Activity { place, address } => (None, Some(place), Some(address)),
    };
    let now = now();
    let model = help_request::ActiveModel {
        id: Set(Uuid::now_v7()),
        resident_id: Set(resident.as_ref().map(|r| r.id)),
        location_lat: Set(place.map(|p| p.lat)),
        location_lng: Set(place.map(|p| p.lng)),
        address: Set(address),
        caseworker_id: Set(caseworker),
        category: Set(new.category),
        title: Set(new.title),
        description: Set(new.description),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        volunteers_needed: Set(new.volunteers_needed),
        signups_count: Set(0),
        urgency: Set(new.urgency),
        status: Set(RequestStatus::Open),
        team_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let event = RequestEvent {
        event: EventType::RequestCreated,
        request: &model,
        resident: resident.as_ref(),
        team_id: None,
        detail: None,
        data: None,
    };
    outbox::emit(&txn, settings, event).await?;
    txn.commit().await?;
    Ok(model)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<help_request::Model> {
    Requests::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// 403 `not_your_request` unless `user` may change the request: its
/// caseworker, managers and admins. Who posted a request never changes,
/// so checking before the change races with nothing.
pub fn ensure_may_change(user: &AuthUser, request: &help_request::Model) -> AppResult<()> {
    if permissions::may_change_request(user.role, user.id, request.caseworker_id) {
        Ok(())
    } else {
        Err(AppError::denied(
            "not_your_request",
            "只有发布该求助的社工和管理人员可以更改它",
        ))
    }
}

/// The request if `user` may change it (404 if there is none).
pub async fn find_changeable(
    db: &impl ConnectionTrait,
    id: Uuid,
    user: &AuthUser,
) -> AppResult<help_request::Model> {
    let request = find(db, id).await?;
    ensure_may_change(user, &request)?;
    Ok(request)
}

/// What one reader may see of requests: their teams, and their sign-ups
/// among the requests at hand — never their whole history, which grows
/// with every year of service.
pub struct Reader {
    pub id: Uuid,
    pub role: Role,
    /// The reader's teams among the rows' requests (volunteers only).
    pub team_ids: Vec<Uuid>,
    /// The reader's sign-ups among the rows' requests (volunteers only).
    pub signed_up: HashSet<Uuid>,
    /// The reader's background check (volunteers only, read with the
    /// rows): a sign-up shows a child's or a disabled resident's address
    /// only while the check covers the visit's day.
    pub vetted_until: Option<NaiveDate>,
}

impl Reader {
    /// `user` as the rows at hand show them: their sign-ups and teams
    /// among those rows' requests (the rows' reader flags; none for staff,
    /// whose reads carry no flags).
    pub fn from_rows(user: &AuthUser, rows: &[RequestRow]) -> Self {
        Self {
            id: user.id,
            role: user.role,
            team_ids: rows
                .iter()
                .filter(|r| r.in_team)
                .filter_map(|r| r.request.team_id)
                .collect(),
            signed_up: rows
                .iter()
                .filter(|r| r.signed_up)
                .map(|r| r.request.id)
                .collect(),
            vetted_until: rows.first().and_then(|r| r.reader_vetted_until),
        }
    }

    /// A reader whose sign-ups among the requests at hand are known to be
    /// none, and whose teams do not matter to what is shown (a volunteer's
    /// recommendations: requests they have not signed up for).
    pub fn without_signups(user: &AuthUser) -> Self {
        Self {
            id: user.id,
            role: user.role,
            team_ids: Vec::new(),
            signed_up: HashSet::new(),
            vetted_until: None,
        }
    }

    /// The ids of the requests the reader signed up for, as a subquery:
    /// a long history stays in the database instead of travelling as a
    /// list of ids.
    pub fn own_signups(&self) -> SelectStatement {
        signups_of(self.id)
    }

    pub fn may_see(&self, request: &help_request::Model) -> bool {
        self.role.is_staff()
            || request.status == RequestStatus::Open
            || request.team_id.is_some_and(|t| self.team_ids.contains(&t))
            || self.signed_up.contains(&request.id)
    }

    /// Address, phone and exact location: the request's caseworker,
    /// managers, and volunteers signed up for it whom the rule of who may
    /// serve it still allows (`vetting::sees_address`): a child's or a
    /// disabled resident's only while their check covers the visit's day.
    pub fn sees_resident_details(
        &self,
        request: &help_request::Model,
        resident: Option<&resident::Model>,
        tz: Tz,
    ) -> bool {
        let visit = vetting::Visit {
            resident: resident.map(|r| r.category),
            starts_on: vetting::local_day(request.starts_at, tz),
        };
        self.role.is_manager()
            || request.caseworker_id == self.id
            || vetting::sees_address(
                self.signed_up.contains(&request.id),
                self.vetted_until,
                &visit,
            )
    }
}

/// The ids of the requests `volunteer` signed up for, as a subquery.
fn signups_of(volunteer: Uuid) -> SelectStatement {
    Query::select()
        .column(signup::Column::RequestId)
        .from(Signups)
        .and_where(signup::Column::VolunteerId.eq(volunteer))
        .and_where(signup::Column::Status.is_in(SignupStatus::HOLDING))
        .to_owned()
}

/// The ids of `user`'s teams, as a subquery: active memberships only, so a
/// pending member sees a team's requests only as any volunteer does.
pub(super) fn teams_of(user: Uuid) -> SelectStatement {
    Query::select()
        .column(team_member::Column::TeamId)
        .from(Members)
        .and_where(team_member::Column::UserId.eq(user))
        .and_where(team_member::Column::Status.eq(MemberStatus::Active))
        .to_owned()
}

/// A request and its resident (`None` for a community activity).
pub type WithResident = (help_request::Model, Option<resident::Model>);

/// A request with its resident, in one query.
pub async fn find_with_resident(db: &impl ConnectionTrait, id: Uuid) -> AppResult<WithResident> {
    let query = request_rows::select()
        .and_where(Expr::col((Requests, help_request::Column::Id)).eq(id))
        .to_owned();
    request_rows::one(db, &query, Flags::None)
        .await?
        .map(|row| (row.request, row.resident))
        .ok_or(AppError::NotFound)
}

/// A request with its resident and, for a volunteer, whether they signed
/// up for it and whether it is their team's: one query, so a volunteer's
/// read of one request needs no second one for their teams and sign-ups.
pub async fn find_for(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    id: Uuid,
) -> AppResult<RequestRow> {
    let mut query = request_rows::select()
        .and_where(Expr::col((Requests, help_request::Column::Id)).eq(id))
        .to_owned();
    let flags = if user.role == Role::Volunteer {
        request_rows::with_signed_up(&mut query, user.id);
        request_rows::with_in_team(&mut query, user.id);
        Flags::SignedUpInTeam
    } else {
        Flags::None
    };
    request_rows::one(db, &query, flags)
        .await?
        .ok_or(AppError::NotFound)
}

/// The request's resident; `None` for a community activity.
pub async fn resident_of(
    db: &impl ConnectionTrait,
    request: &help_request::Model,
) -> AppResult<Option<resident::Model>> {
    let Some(id) = request.resident_id else {
        return Ok(None);
    };
    Residents::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("request without resident"))
        .map(Some)
}

/// Where the work happens: the resident's home, or a community activity's
/// own place.
pub fn place_of(
    request: &help_request::Model,
    resident: Option<&resident::Model>,
) -> AppResult<Coordinates> {
    match (resident, request.location_lat.zip(request.location_lng)) {
        (Some(r), _) => Ok(Coordinates {
            lat: r.location_lat,
            lng: r.location_lng,
        }),
        (None, Some((lat, lng))) => Ok(Coordinates { lat, lng }),
        (None, None) => Err(AppError::internal("activity without a place")),
    }
}

pub async fn view_for(
    db: &impl ConnectionTrait,
    reader: &Reader,
    request: &help_request::Model,
    tz: Tz,
) -> AppResult<RequestView> {
    let resident = resident_of(db, request).await?;
    Ok(view_with(reader, request, resident.as_ref(), tz))
}

/// The request as `reader` may see it.
pub fn view_with(
    reader: &Reader,
    request: &help_request::Model,
    resident: Option<&resident::Model>,
    tz: Tz,
) -> RequestView {
    let full = reader.sees_resident_details(request, resident, tz);
    RequestView::build(request, resident, full, tz)
}

/// Views of requests, each with its resident.
pub fn views_with(reader: &Reader, rows: &[RequestRow], tz: Tz) -> Vec<RequestView> {
    rows.iter()
        .map(|row| view_with(reader, &row.request, row.resident.as_ref(), tz))
        .collect()
}

/// `GET /requests` filters; each given one narrows the list.
pub struct ListFilter {
    pub status: Option<RequestStatus>,
    pub category: Option<ServiceCategory>,
    /// The visits of one pairing.
    pub pairing_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub resident_id: Option<Uuid>,
    /// Starts at or after this instant (Unix seconds).
    pub starts_from: Option<i64>,
    /// Starts before this instant (Unix seconds).
    pub starts_before: Option<i64>,
}

/// A page of the requests `user` may see, newest first, each with its
/// resident, in one query. Volunteers see open requests, their teams'
/// and those they signed up for; both sets are subqueries, so the list
/// needs nothing loaded beforehand.
pub async fn list(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    filter: ListFilter,
    page: PageRequest,
) -> AppResult<(Vec<RequestRow>, Option<String>)> {
    let mut query = request_rows::select();
    query
        .order_by((Requests, help_request::Column::Id), Order::Desc)
        .limit(page.limit + 1);
    let mut flags = Flags::None;
    if !user.role.is_staff() {
        query.cond_where(
            Condition::any()
                .add(help_request::Column::Status.eq(RequestStatus::Open))
                .add(help_request::Column::TeamId.in_subquery(teams_of(user.id)))
                .add(help_request::Column::Id.in_subquery(signups_of(user.id))),
        );
        // Their sign-ups among the page decide what each view shows.
        request_rows::with_signed_up(&mut query, user.id);
        flags = Flags::SignedUp;
    }
    let narrowing = [
        filter.status.map(|v| help_request::Column::Status.eq(v)),
        filter
            .category
            .map(|v| help_request::Column::Category.eq(v)),
        filter
            .pairing_id
            .map(|v| help_request::Column::PairingId.eq(v)),
        filter
            .campaign_id
            .map(|v| help_request::Column::CampaignId.eq(v)),
        filter
            .resident_id
            .map(|v| help_request::Column::ResidentId.eq(v)),
        filter
            .starts_from
            .map(|v| help_request::Column::StartsAt.gte(v)),
        filter
            .starts_before
            .map(|v| help_request::Column::StartsAt.lt(v)),
        page.after.map(|v| help_request::Column::Id.lt(v)),
    ];
    for condition in narrowing.into_iter().flatten() {
        query.and_where(condition);
    }
    let rows = request_rows::all(db, &query, flags).await?;
    Ok(finish(rows, page.limit, |row| row.request.id))
}

/// Left-behind children's and disabled residents' visits go to vetted
/// teams only; a community activity, in a public place, to any team.
pub fn needs_vetted_team(resident: Option<&resident::Model>) -> bool {
    resident.is_some_and(|r| r.category.needs_vetted_team())
}

pub(super) fn wrong_status(request: &help_request::Model, action: &str) -> AppError {
    let label = request.status.label();
    AppError::conflict(
        "invalid_status",
        format!("求助当前为「{label}」，不能{action}"),
    )
}

/// Assigns (or re-assigns, while nobody has checked in) a team. Sign-ups
/// made for a previous team are void: they were that team's places.
pub async fn assign(
    db: &DatabaseConnection,
    settings: &Settings,
    request_id: Uuid,
    team_id: Uuid,
) -> AppResult<help_request::Model> {
    let txn = db.begin().await?;
    let request = find(&txn, request_id).await?;
    let team = match teams::find(&txn, team_id).await {
        Ok(team) => team,
        Err(AppError::NotFound) => return Err(AppError::invalid("team_id", "队伍不存在")),
        Err(e) => return Err(e),
    };
    let resident = resident_of(&txn, &request).await?;
    if needs_vetted_team(resident.as_ref()) && !team.vetted {
        return Err(AppError::unprocessable(
            "team_not_vetted",
            "留守儿童和残疾人的求助只能分派给已审核的队伍",
        ));
    }
    let reassigning = request.team_id.is_some_and(|old| old != team_id);
    let mut update = Requests::update_many()
        .col_expr(
            help_request::Column::Status,
            Expr::value(RequestStatus::Assigned),
        )
        .col_expr(help_request::Column::TeamId, Expr::value(team_id))
        .col_expr(help_request::Column::UpdatedAt, Expr::value(now()))
        .filter(help_request::Column::Id.eq(request_id))
        .filter(
            help_request::Column::Status
                .is_in([RequestStatus::Open.code(), RequestStatus::Assigned.code()]),
        );
    if reassigning {
        update = update.col_expr(help_request::Column::SignupsCount, Expr::value(0));
    }
    if update.exec(&txn).await?.rows_affected == 0 {
        return Err(wrong_status(&request, "分派"));
    }
    if reassigning {
        Signups::delete_many()
            .filter(signup::Column::RequestId.eq(request_id))
            .exec(&txn)
            .await?;
    }
    let updated = find(&txn, request_id).await?;
    let detail = Some(format!(
        "需要 {} 名志愿者，请队员尽快报名",
        updated.volunteers_needed
    ));
    let event = RequestEvent {
        event: EventType::RequestAssigned,
        request: &updated,
        resident: resident.as_ref(),
        team_id: Some(team_id),
        detail,
        data: None,
    };
    outbox::emit(&txn, settings, event).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Moves a request to `to` if it is in one of `from`; the condition is in
/// the UPDATE so two racing callers cannot both win.
pub async fn transition(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    from: &[RequestStatus],
    to: RequestStatus,
    action: &str,
) -> AppResult<help_request::Model> {
    let request = find(db, request_id).await?;
    let updated = Requests::update_many()
        .col_expr(help_request::Column::Status, Expr::value(to))
        .col_expr(help_request::Column::UpdatedAt, Expr::value(now()))
        .filter(help_request::Column::Id.eq(request_id))
        .filter(help_request::Column::Status.is_in(from.iter().map(|s| s.code())))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(wrong_status(&request, action));
    }
    find(db, request_id).await
}

/// Requests a volunteer could sign up for now, each with its resident, in
/// one query: assigned to one of their teams, places left, not over, not
/// already theirs.
pub async fn open_for_volunteer(
    db: &impl ConnectionTrait,
    volunteer: Uuid,
) -> AppResult<Vec<RequestRow>> {
    let query = request_rows::select()
        .and_where(help_request::Column::TeamId.in_subquery(teams_of(volunteer)))
        .and_where(help_request::Column::Id.not_in_subquery(signups_of(volunteer)))
        .and_where(help_request::Column::Status.is_in([
            RequestStatus::Assigned.code(),
            RequestStatus::InProgress.code(),
        ]))
        .and_where(
            Expr::col((Requests, help_request::Column::SignupsCount)).lt(Expr::col((
                Requests,
                help_request::Column::VolunteersNeeded,
            ))),
        )
        .and_where(help_request::Column::EndsAt.gt(now()))
        .to_owned();
    request_rows::all(db, &query, Flags::None).await
}

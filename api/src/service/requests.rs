//! Help requests: posting, who may see what, assignment and the status
//! machine (open → assigned → in_progress → completed; cancelled from open
//! or assigned).

use std::collections::HashSet;

use chrono_tz::Tz;
use entity::help_request::{self, Entity as Requests};
use entity::resident::{self, Entity as Residents};
use entity::signup::{self, Entity as Signups};
use entity::team_member::{self, Entity as Members};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait, TryGetableMany,
    sea_query::{Expr, ExprTrait, Query, SelectStatement, UnionType},
};
use uuid::Uuid;

use super::outbox::{self, RequestEvent};
use super::paging::{PageRequest, finish};
use super::{now, teams};
use crate::auth::AuthUser;
use crate::config::Settings;
use crate::domain::geo::Coordinates;
use crate::domain::permissions;
use crate::domain::vocab::{
    EventType, MemberStatus, RequestStatus, Role, ServiceCategory, SignupStatus, Urgency,
};
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
            let resident = Residents::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::invalid("resident_id", "服务对象不存在"))?;
            if !resident.active {
                return Err(AppError::unprocessable(
                    "resident_inactive",
                    "该服务对象已停用，不能再发布求助",
                ));
            }
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
    pub team_ids: Vec<Uuid>,
    /// The reader's sign-ups among the requests passed to
    /// [`Reader::load`] (volunteers only).
    pub signed_up: HashSet<Uuid>,
}

impl Reader {
    /// `requests`: the requests about to be shown, whose sign-ups matter.
    /// A volunteer's teams and those sign-ups come in one query.
    pub async fn load(
        db: &impl ConnectionTrait,
        user: &AuthUser,
        requests: &[Uuid],
    ) -> AppResult<Self> {
        let mut reader = Self {
            id: user.id,
            role: user.role,
            team_ids: Vec::new(),
            signed_up: HashSet::new(),
        };
        if user.role != Role::Volunteer {
            return Ok(reader);
        }
        let teams = teams_of(user.id).expr_as(Expr::val(0), "kind").to_owned();
        let signups = signups_of(user.id)
            .and_where(signup::Column::RequestId.is_in(requests.iter().copied()))
            .expr_as(Expr::val(1), "kind")
            .to_owned();
        let both = if requests.is_empty() {
            teams
        } else {
            teams.clone().union(UnionType::All, signups).to_owned()
        };
        let rows: Vec<(Uuid, i32)> = db
            .query_all(&both)
            .await?
            .iter()
            .map(<(Uuid, i32)>::try_get_many_by_index)
            .collect::<Result<_, _>>()
            .map_err(|e| AppError::internal(format!("{e:?}")))?;
        for (id, kind) in rows {
            if kind == 0 {
                reader.team_ids.push(id);
            } else {
                reader.signed_up.insert(id);
            }
        }
        Ok(reader)
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
    /// managers, and volunteers signed up for it.
    pub fn sees_resident_details(&self, request: &help_request::Model) -> bool {
        self.role.is_manager()
            || request.caseworker_id == self.id
            || self.signed_up.contains(&request.id)
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
    Requests::find_by_id(id)
        .find_also_related(Residents)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
        .and_then(with_resident)
}

/// A joined row of a request and its resident. A request that names a
/// resident has one (a foreign key), so a missing one is a broken
/// database, not a 404; a community activity names none.
fn with_resident((request, resident): WithResident) -> AppResult<WithResident> {
    if request.resident_id.is_some() && resident.is_none() {
        return Err(AppError::internal("request without resident"));
    }
    Ok((request, resident))
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
    RequestView::build(request, resident, reader.sees_resident_details(request), tz)
}

/// Views of requests, each with its resident.
pub fn views_with(reader: &Reader, rows: &[WithResident], tz: Tz) -> Vec<RequestView> {
    rows.iter()
        .map(|(request, resident)| view_with(reader, request, resident.as_ref(), tz))
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
) -> AppResult<(Vec<WithResident>, Option<String>)> {
    let mut query = Requests::find()
        .find_also_related(Residents)
        .order_by_desc(help_request::Column::Id)
        .limit(page.limit + 1);
    if !user.role.is_staff() {
        query = query.filter(
            Condition::any()
                .add(help_request::Column::Status.eq(RequestStatus::Open))
                .add(help_request::Column::TeamId.in_subquery(teams_of(user.id)))
                .add(help_request::Column::Id.in_subquery(signups_of(user.id))),
        );
    }
    if let Some(status) = filter.status {
        query = query.filter(help_request::Column::Status.eq(status));
    }
    if let Some(category) = filter.category {
        query = query.filter(help_request::Column::Category.eq(category));
    }
    if let Some(pairing_id) = filter.pairing_id {
        query = query.filter(help_request::Column::PairingId.eq(pairing_id));
    }
    if let Some(campaign) = filter.campaign_id {
        query = query.filter(help_request::Column::CampaignId.eq(campaign));
    }
    if let Some(resident) = filter.resident_id {
        query = query.filter(help_request::Column::ResidentId.eq(resident));
    }
    if let Some(from) = filter.starts_from {
        query = query.filter(help_request::Column::StartsAt.gte(from));
    }
    if let Some(before) = filter.starts_before {
        query = query.filter(help_request::Column::StartsAt.lt(before));
    }
    if let Some(after) = page.after {
        query = query.filter(help_request::Column::Id.lt(after));
    }
    let rows = query
        .all(db)
        .await?
        .into_iter()
        .map(with_resident)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(finish(rows, page.limit, |(r, _)| r.id))
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
) -> AppResult<Vec<WithResident>> {
    Requests::find()
        .find_also_related(Residents)
        .filter(help_request::Column::TeamId.in_subquery(teams_of(volunteer)))
        .filter(help_request::Column::Id.not_in_subquery(signups_of(volunteer)))
        .filter(help_request::Column::Status.is_in([
            RequestStatus::Assigned.code(),
            RequestStatus::InProgress.code(),
        ]))
        .filter(
            Expr::col(help_request::Column::SignupsCount)
                .lt(Expr::col(help_request::Column::VolunteersNeeded)),
        )
        .filter(help_request::Column::EndsAt.gt(now()))
        .all(db)
        .await?
        .into_iter()
        .map(with_resident)
        .collect()
}

//! Teams and their members.

use chrono_tz::Tz;
use entity::team::{self, Entity as Teams};
use entity::team_member::{self, Entity as Members};
use entity::user::{self, Entity as Users};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::paging::{PageRequest, finish, newest_first};
use super::{memberships, now};
use crate::auth::AuthUser;
use crate::config::Settings;
use crate::domain::geo::Coordinates;
use crate::domain::phone::mask_phone;
use crate::domain::vetting::{self, Joining};
use crate::domain::vocab::{CodeList, MemberRole, MemberStatus, Role, ServiceCategory, TeamKind};
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::views::{MemberView, MembershipView, local_time};

pub struct NewTeam {
    pub name: String,
    pub kind: TeamKind,
    pub service_categories: Vec<ServiceCategory>,
    pub location: Coordinates,
    pub service_radius_km: f64,
    pub vetted: bool,
}

pub async fn create(db: &impl ConnectionTrait, new: NewTeam) -> AppResult<team::Model> {
    let model = team::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name),
        kind: Set(new.kind),
        service_categories: Set(CodeList(new.service_categories)),
        location_lat: Set(new.location.lat),
        location_lng: Set(new.location.lng),
        service_radius_km: Set(new.service_radius_km),
        vetted: Set(new.vetted),
        created_at: Set(now()),
    };
    Ok(model.insert(db).await?)
}

/// A `PATCH /teams/{id}`: only the fields given change.
#[derive(Default)]
pub struct TeamChanges {
    pub name: Option<String>,
    pub service_categories: Option<Vec<ServiceCategory>>,
    pub location: Option<Coordinates>,
    pub service_radius_km: Option<f64>,
    pub vetted: Option<bool>,
}

/// Applies `changes`. A team that becomes vetted holds its members whose
/// check does not hold today as `pending`, in the same transaction, so no
/// moment exists where the team is vetted and they still act as members;
/// either change of `vetted` then rechecks the team's visits
/// (`safeguarding::after_team_vetting_change`).
pub async fn update(
    db: &DatabaseConnection,
    settings: &Settings,
    id: Uuid,
    changes: TeamChanges,
) -> AppResult<team::Model> {
    let tz = settings.time_zone;
    let txn = db.begin().await?;
    let current = find(&txn, id).await?;
    let was_vetted = current.vetted;
    let becomes_vetted = changes.vetted == Some(true) && !was_vetted;
    let mut model: team::ActiveModel = current.into();
    if let Some(name) = changes.name {
        model.name = Set(name);
    }
    if let Some(categories) = changes.service_categories {
        model.service_categories = Set(CodeList(categories));
    }
    if let Some(location) = changes.location {
        model.location_lat = Set(location.lat);
        model.location_lng = Set(location.lng);
    }
    if let Some(radius) = changes.service_radius_km {
        model.service_radius_km = Set(radius);
    }
    if let Some(vetted) = changes.vetted {
        model.vetted = Set(vetted);
    }
    let team = model.update(&txn).await?;
    if becomes_vetted {
        memberships::hold_unvetted(&txn, id, vetting::local_day(now(), tz)).await?;
    }
    if changes.vetted.is_some_and(|vetted| vetted != was_vetted) {
        super::safeguarding::after_team_vetting_change(&txn, settings, id).await?;
    }
    txn.commit().await?;
    Ok(team)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<team::Model> {
    Teams::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn list(
    db: &impl ConnectionTrait,
    page: PageRequest,
) -> AppResult<(Vec<team::Model>, Option<String>)> {
    newest_first(db, Teams::find(), team::Column::Id, page, |t| t.id).await
}

/// The caller's role in a team, if an active member. A pending member is
/// not a member: every rule that asks "is a member" asks this.
pub async fn membership(
    db: &impl ConnectionTrait,
    team_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<MemberRole>> {
    let row = member_row(db, team_id, user_id).await?;
    Ok(row
        .filter(|m| m.status == MemberStatus::Active)
        .map(|m| m.role))
}

/// Whether `user_id` is an active member, keeping the membership row
/// share-locked until the transaction ends (PostgreSQL; SQLite's single
/// connection is serial anyway). A removal or a hold as pending then waits
/// for a sign-up in flight and sees it, instead of leaving a sign-up by
/// someone who is no longer a member.
pub async fn hold_membership(
    txn: &impl ConnectionTrait,
    team_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    Ok(Members::find_by_id((team_id, user_id))
        .filter(team_member::Column::Status.eq(MemberStatus::Active))
        .lock_shared()
        .one(txn)
        .await?
        .is_some())
}

/// The membership row whatever its status (pending included).
pub async fn member_row(
    db: &impl ConnectionTrait,
    team_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<team_member::Model>> {
    Ok(Members::find_by_id((team_id, user_id)).one(db).await?)
}

/// Whether `user` may run the team: a manager, an admin, or its active
/// leader.
pub async fn may_lead(
    db: &impl ConnectionTrait,
    team_id: Uuid,
    user: &AuthUser,
) -> AppResult<bool> {
    Ok(user.role.is_manager()
        || membership(db, team_id, user.id).await? == Some(MemberRole::Leader))
}

/// Ids of the teams a user actively leads, in one query.
pub async fn led_by(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(Members::find()
        .select_only()
        .column(team_member::Column::TeamId)
        .filter(team_member::Column::UserId.eq(user_id))
        .filter(team_member::Column::Role.eq(MemberRole::Leader))
        .filter(team_member::Column::Status.eq(MemberStatus::Active))
        .into_tuple()
        .all(db)
        .await?)
}

/// Adds `user_id` to the team. Its status follows [`vetting::new_membership`]:
/// a vetted team holds volunteers who ask to join as `pending`, and takes a
/// manager's addition only when the person's check holds today.
pub async fn add_member(
    db: &impl ConnectionTrait,
    team_id: Uuid,
    user_id: Uuid,
    role: MemberRole,
    joining: Joining,
    tz: Tz,
) -> AppResult<MembershipView> {
    let team = find(db, team_id).await?;
    let user = Users::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("user_id", "用户不存在"))?;
    if user.role != Role::Volunteer {
        return Err(AppError::invalid("user_id", "只有志愿者账号可以加入队伍"));
    }
    if member_row(db, team_id, user_id).await?.is_some() {
        return Err(already_member());
    }
    let today = vetting::local_day(now(), tz);
    let status = vetting::new_membership(team.vetted, joining, user.vetted_until, today)
        .map_err(|_| not_vetted_to_join())?;
    let row = team_member::ActiveModel {
        team_id: Set(team_id),
        user_id: Set(user_id),
        role: Set(role),
        joined_at: Set(now()),
        status: Set(status),
    };
    Members::insert(row).exec(db).await.map_err(|e| {
        if is_unique_violation(&e) {
            already_member()
        } else {
            e.into()
        }
    })?;
    Ok(MembershipView {
        team_id,
        user_id,
        role,
        status,
    })
}

/// 422 `volunteer_not_vetted`: an active place in a vetted team needs a
/// background check valid today.
pub fn not_vetted_to_join() -> AppError {
    AppError::unprocessable(
        "volunteer_not_vetted",
        "该志愿者没有有效的无犯罪记录证明，不能成为审核队伍的正式队员",
    )
}

fn already_member() -> AppError {
    AppError::conflict("already_member", "已是该队伍成员")
}

/// What a reader of the member list may see.
pub struct MemberListing {
    /// Whole phone numbers (managers); masked otherwise.
    pub phones: bool,
    /// Pending members too, and each member's recent no-shows (the team's
    /// leader and managers).
    pub pending: bool,
}

pub async fn members(
    db: &impl ConnectionTrait,
    team_id: Uuid,
    page: PageRequest,
    shown: MemberListing,
    tz: Tz,
) -> AppResult<(Vec<MemberView>, Option<String>)> {
    let mut query = Members::find()
        .filter(team_member::Column::TeamId.eq(team_id))
        .order_by_desc(team_member::Column::UserId)
        .limit(page.limit + 1);
    if let Some(after) = page.after {
        query = query.filter(team_member::Column::UserId.lt(after));
    }
    if !shown.pending {
        query = query.filter(team_member::Column::Status.eq(MemberStatus::Active));
    }
    let (rows, cursor) = finish(query.all(db).await?, page.limit, |m| m.user_id);
    let ids: Vec<Uuid> = rows.iter().map(|m| m.user_id).collect();
    let users = Users::find()
        .filter(user::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    let no_shows = if shown.pending {
        Some(super::attendance::recent_no_shows(db, &ids, now()).await?)
    } else {
        None
    };
    let views = rows
        .iter()
        .filter_map(|m| {
            let user = users.iter().find(|u| u.id == m.user_id)?;
            Some((m, user))
        })
        .map(|(m, user)| {
            Ok(MemberView {
                team_id: m.team_id,
                user_id: m.user_id,
                role: m.role,
                name: user.name.clone(),
                phone: if shown.phones {
                    user.phone.clone()
                } else {
                    mask_phone(&user.phone)
                },
                status: m.status,
                joined_at: local_time(m.joined_at, tz),
                no_shows: no_shows
                    .as_ref()
                    .map(|n| n.get(&m.user_id).copied().unwrap_or(0)),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok((views, cursor))
}

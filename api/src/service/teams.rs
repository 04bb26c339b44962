//! Teams and their members.

use chrono_tz::Tz;
use entity::team::{self, Entity as Teams};
use entity::team_member::{self, Entity as Members};
use entity::user::{self, Entity as Users};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::now;
use super::paging::{PageRequest, finish, newest_first};
use crate::domain::geo::Coordinates;
use crate::domain::phone::mask_phone;
use crate::domain::vocab::{MemberRole, Role, ServiceCategory, TeamKind};
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::views::{MemberView, MembershipView, TeamView, local_time, stored, stored_list};

pub struct NewTeam {
    pub name: String,
    pub kind: TeamKind,
    pub service_categories: Vec<ServiceCategory>,
    pub location: Coordinates,
    pub service_radius_km: f64,
    pub vetted: bool,
}

pub async fn create(db: &impl ConnectionTrait, new: NewTeam) -> AppResult<team::Model> {
    let codes: Vec<&str> = new.service_categories.iter().map(|c| c.code()).collect();
    let model = team::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name),
        kind: Set(new.kind.code().into()),
        service_categories: Set(serde_json::to_string(&codes).map_err(AppError::internal)?),
        location_lat: Set(new.location.lat),
        location_lng: Set(new.location.lng),
        service_radius_km: Set(new.service_radius_km),
        vetted: Set(new.vetted),
        created_at: Set(now()),
    };
    Ok(model.insert(db).await?)
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

pub fn view(team: &team::Model, tz: Tz) -> AppResult<TeamView> {
    Ok(TeamView {
        id: team.id,
        name: team.name.clone(),
        kind: stored(&team.kind, TeamKind::from_code)?,
        service_categories: stored_list(&team.service_categories, ServiceCategory::from_code)?,
        location: Coordinates {
            lat: team.location_lat,
            lng: team.location_lng,
        },
        service_radius_km: team.service_radius_km,
        vetted: team.vetted,
        created_at: local_time(team.created_at, tz),
    })
}

/// The caller's role in a team, if a member.
pub async fn membership(
    db: &impl ConnectionTrait,
    team_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<MemberRole>> {
    let row = Members::find_by_id((team_id, user_id)).one(db).await?;
    row.map(|m| stored(&m.role, MemberRole::from_code))
        .transpose()
}

/// Ids of the teams a user leads, in one query.
pub async fn led_by(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(Members::find()
        .select_only()
        .column(team_member::Column::TeamId)
        .filter(team_member::Column::UserId.eq(user_id))
        .filter(team_member::Column::Role.eq(MemberRole::Leader.code()))
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn add_member(
    db: &impl ConnectionTrait,
    team_id: Uuid,
    user_id: Uuid,
    role: MemberRole,
) -> AppResult<MembershipView> {
    find(db, team_id).await?;
    let user = Users::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("user_id", "用户不存在"))?;
    if user.role != Role::Volunteer.code() {
        return Err(AppError::invalid("user_id", "只有志愿者账号可以加入队伍"));
    }
    if membership(db, team_id, user_id).await?.is_some() {
        return Err(already_member());
    }
    let row = team_member::ActiveModel {
        team_id: Set(team_id),
        user_id: Set(user_id),
        role: Set(role.code().into()),
        joined_at: Set(now()),
        status: Set("active".into()),
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
    })
}

fn already_member() -> AppError {
    AppError::conflict("already_member", "已是该队伍成员")
}

pub async fn members(
    db: &impl ConnectionTrait,
    team_id: Uuid,
    page: PageRequest,
    show_phones: bool,
    tz: Tz,
) -> AppResult<(Vec<MemberView>, Option<String>)> {
    let mut query = Members::find()
        .filter(team_member::Column::TeamId.eq(team_id))
        .order_by_desc(team_member::Column::UserId)
        .limit(page.limit + 1);
    if let Some(after) = page.after {
        query = query.filter(team_member::Column::UserId.lt(after));
    }
    let (rows, cursor) = finish(query.all(db).await?, page.limit, |m| m.user_id);
    let ids: Vec<Uuid> = rows.iter().map(|m| m.user_id).collect();
    let users = Users::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?;
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
                role: stored(&m.role, MemberRole::from_code)?,
                name: user.name.clone(),
                phone: if show_phones {
                    user.phone.clone()
                } else {
                    mask_phone(&user.phone)
                },
                joined_at: local_time(m.joined_at, tz),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok((views, cursor))
}

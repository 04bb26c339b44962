//! Looks up what service records' views need (requests, teams, leaders,
//! names) once for a whole page; `views::records` builds them.

use std::collections::{HashMap, HashSet};

use entity::help_request::{self, Entity as Requests};
use entity::service_record;
use entity::team::{self, Entity as Teams};
use entity::team_member::{self, Entity as Members};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::config::Settings;
use crate::domain::vocab::{MemberRole, MemberStatus};
use crate::error::AppResult;
use crate::views::{RecordContext, ServiceRecordView};

pub async fn views(
    db: &impl ConnectionTrait,
    records: &[service_record::Model],
    viewer: &AuthUser,
    settings: &Settings,
) -> AppResult<Vec<ServiceRecordView>> {
    let tz = settings.time_zone;
    let request_ids: HashSet<Uuid> = records.iter().map(|r| r.request_id).collect();
    let requests: HashMap<Uuid, help_request::Model> = Requests::find()
        .filter(help_request::Column::Id.is_in(request_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let team_ids: HashSet<Uuid> = records.iter().map(|r| r.team_id).collect();
    let teams: HashMap<Uuid, team::Model> = Teams::find()
        .filter(team::Column::Id.is_in(team_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let leaders: Vec<team_member::Model> = Members::find()
        .filter(team_member::Column::TeamId.is_in(team_ids))
        .filter(team_member::Column::Role.eq(MemberRole::Leader))
        .filter(team_member::Column::Status.eq(MemberStatus::Active))
        .all(db)
        .await?;
    let mut user_ids: HashSet<Uuid> = records
        .iter()
        .flat_map(|r| [r.volunteer_id, r.recorder_id])
        .collect();
    user_ids.extend(leaders.iter().map(|l| l.user_id));
    let names = super::accounts::names_of(db, user_ids).await?;
    let context = RecordContext {
        requests,
        teams,
        leaders,
        names,
        viewer,
        community_name: &settings.community_name,
        tz,
    };
    Ok(records
        .iter()
        .map(|r| ServiceRecordView::build(r, &context))
        .collect())
}

/// One record as `viewer` sees it.
pub async fn one(
    db: &impl ConnectionTrait,
    record: service_record::Model,
    viewer: &AuthUser,
    settings: &Settings,
) -> AppResult<ServiceRecordView> {
    views(db, &[record], viewer, settings)
        .await?
        .pop()
        .ok_or_else(|| crate::error::AppError::internal("record view missing"))
}

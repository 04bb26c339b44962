//! `service_record` as the API shows it, with the particulars of
//! 《志愿服务记录与证明出具办法》Art. 7: activity, date, place (the
//! community, never the resident's address), content, hours, organiser,
//! activity leader, recorder and when it was recorded.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use entity::help_request::{self, Entity as Requests};
use entity::service_record;
use entity::team::{self, Entity as Teams};
use entity::team_member::{self, Entity as Members};
use entity::user::{self, Entity as Users};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::config::Settings;
use crate::domain::hours;
use crate::domain::vocab::{MemberRole, MemberStatus, RecordSource, RecordStatus};
use crate::error::AppResult;
use crate::views::{local_time, round2};

#[derive(Debug, Serialize, ToSchema)]
pub struct Activity {
    /// 活动名称: the request's title.
    pub name: String,
    /// 服务日期, in the community's zone.
    pub date: String,
    /// 服务地点, at community level.
    pub place: String,
    /// 服务内容.
    pub content: String,
    /// 组织单位: the team.
    pub organiser: String,
    /// 活动负责人: the team's leaders.
    pub leader: Option<String>,
    /// 记录人.
    pub recorder: String,
    /// 记录时间.
    pub recorded_at: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceRecordView {
    pub id: Uuid,
    pub volunteer_id: Uuid,
    pub volunteer_name: String,
    pub request_id: Uuid,
    pub team_id: Uuid,
    pub started_at: DateTime<FixedOffset>,
    pub ended_at: Option<DateTime<FixedOffset>>,
    pub minutes: Option<i32>,
    pub hours: Option<f64>,
    pub status: RecordStatus,
    pub source: RecordSource,
    pub note: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    pub activity: Activity,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTime<FixedOffset>>,
    pub reject_reason: Option<String>,
    /// The approved record this one corrects.
    pub supersedes_id: Option<Uuid>,
    /// For approvers only: how far from the resident the phone checked in
    /// and out, in metres, and whether either was over 1 km.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_in_distance_m: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_out_distance_m: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_flagged: Option<bool>,
}

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
    let names: HashMap<Uuid, String> = Users::find()
        .filter(user::Column::Id.is_in(user_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let name_of = |id: &Uuid| names.get(id).cloned().unwrap_or_default();
    let viewer_leads: HashSet<Uuid> = leaders
        .iter()
        .filter(|l| l.user_id == viewer.id)
        .map(|l| l.team_id)
        .collect();

    records
        .iter()
        .map(|r| {
            let request = requests.get(&r.request_id);
            let category = request.map_or("志愿服务", |q| q.category.label());
            let team_leaders: Vec<String> = leaders
                .iter()
                .filter(|l| l.team_id == r.team_id)
                .map(|l| name_of(&l.user_id))
                .collect();
            let reviewer_view = r.volunteer_id != viewer.id
                && (viewer.role.is_staff() || viewer_leads.contains(&r.team_id));
            let started = local_time(r.started_at, tz);
            Ok(ServiceRecordView {
                id: r.id,
                volunteer_id: r.volunteer_id,
                volunteer_name: name_of(&r.volunteer_id),
                request_id: r.request_id,
                team_id: r.team_id,
                started_at: started,
                ended_at: r.ended_at.map(|t| local_time(t, tz)),
                minutes: r.minutes,
                hours: r.minutes.map(|m| round2(f64::from(m) / 60.0)),
                status: r.status,
                source: r.source,
                note: r.note.clone(),
                created_at: local_time(r.created_at, tz),
                activity: Activity {
                    name: request.map(|q| q.title.clone()).unwrap_or_default(),
                    date: started.format("%Y-%m-%d").to_string(),
                    place: settings.community_name.clone(),
                    content: match request {
                        Some(q) if !q.description.is_empty() => {
                            format!("{category}：{}", q.description)
                        }
                        _ => category.to_string(),
                    },
                    organiser: teams
                        .get(&r.team_id)
                        .map(|t| t.name.clone())
                        .unwrap_or_default(),
                    leader: (!team_leaders.is_empty()).then(|| team_leaders.join("、")),
                    recorder: name_of(&r.recorder_id),
                    recorded_at: local_time(r.created_at, tz),
                },
                reviewed_by: r.reviewed_by,
                reviewed_at: r.reviewed_at.map(|t| local_time(t, tz)),
                reject_reason: r.reject_reason.clone(),
                supersedes_id: r.supersedes_id,
                check_in_distance_m: r.check_in_distance_m.filter(|_| reviewer_view),
                check_out_distance_m: r.check_out_distance_m.filter(|_| reviewer_view),
                location_flagged: reviewer_view.then(|| {
                    hours::is_far(r.check_in_distance_m) || hours::is_far(r.check_out_distance_m)
                }),
            })
        })
        .collect()
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

//! `service_record` as the API shows it, with the particulars of
//! 《志愿服务记录与证明出具办法》Art. 7: activity, date, place (the
//! community, never the resident's address), content, hours, organiser,
//! activity leader, recorder and when it was recorded.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use entity::{help_request, service_record, service_record_event, team, team_member};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{local_time, round2};
use crate::auth::AuthUser;
use crate::domain::hours;
use crate::domain::vocab::{RecordAction, RecordSource, RecordStatus};

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

/// What records' views need besides the records, looked up once for a page.
pub struct RecordContext<'a> {
    pub requests: HashMap<Uuid, help_request::Model>,
    pub teams: HashMap<Uuid, team::Model>,
    /// The active leaders of the records' teams.
    pub leaders: Vec<team_member::Model>,
    /// Volunteers', recorders' and leaders' names.
    pub names: HashMap<Uuid, String>,
    pub viewer: &'a AuthUser,
    pub community_name: &'a str,
    pub tz: Tz,
}

impl RecordContext<'_> {
    fn name_of(&self, id: Uuid) -> String {
        self.names.get(&id).cloned().unwrap_or_default()
    }

    fn leads(&self, user: Uuid, team: Uuid) -> bool {
        self.leaders
            .iter()
            .any(|l| l.user_id == user && l.team_id == team)
    }
}

impl ServiceRecordView {
    /// Distances from the resident are shown to those who review the
    /// record (staff, the team's leaders), never to its own volunteer.
    pub fn build(r: &service_record::Model, context: &RecordContext) -> Self {
        let request = context.requests.get(&r.request_id);
        let category = request.map_or("志愿服务", |q| q.category.label());
        let team_leaders: Vec<String> = context
            .leaders
            .iter()
            .filter(|l| l.team_id == r.team_id)
            .map(|l| context.name_of(l.user_id))
            .collect();
        let viewer = context.viewer;
        let reviewer_view = r.volunteer_id != viewer.id
            && (viewer.role.is_staff() || context.leads(viewer.id, r.team_id));
        let started = local_time(r.started_at, context.tz);
        Self {
            id: r.id,
            volunteer_id: r.volunteer_id,
            volunteer_name: context.name_of(r.volunteer_id),
            request_id: r.request_id,
            team_id: r.team_id,
            started_at: started,
            ended_at: r.ended_at.map(|t| local_time(t, context.tz)),
            minutes: r.minutes,
            hours: r.minutes.map(|m| round2(f64::from(m) / 60.0)),
            status: r.status,
            source: r.source,
            note: r.note.clone(),
            created_at: local_time(r.created_at, context.tz),
            activity: Activity {
                name: request.map(|q| q.title.clone()).unwrap_or_default(),
                date: started.format("%Y-%m-%d").to_string(),
                place: context.community_name.to_string(),
                content: match request {
                    Some(q) if !q.description.is_empty() => {
                        format!("{category}：{}", q.description)
                    }
                    _ => category.to_string(),
                },
                organiser: context
                    .teams
                    .get(&r.team_id)
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                leader: (!team_leaders.is_empty()).then(|| team_leaders.join("、")),
                recorder: context.name_of(r.recorder_id),
                recorded_at: local_time(r.created_at, context.tz),
            },
            reviewed_by: r.reviewed_by,
            reviewed_at: r.reviewed_at.map(|t| local_time(t, context.tz)),
            reject_reason: r.reject_reason.clone(),
            supersedes_id: r.supersedes_id,
            check_in_distance_m: r.check_in_distance_m.filter(|_| reviewer_view),
            check_out_distance_m: r.check_out_distance_m.filter(|_| reviewer_view),
            location_flagged: reviewer_view.then(|| {
                hours::is_far(r.check_in_distance_m) || hours::is_far(r.check_out_distance_m)
            }),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    pub record_id: Uuid,
    pub action: RecordAction,
    pub actor_id: Uuid,
    pub reason: Option<String>,
    pub at: DateTime<FixedOffset>,
}

impl HistoryEntry {
    pub fn build(event: service_record_event::Model, tz: Tz) -> Self {
        Self {
            record_id: event.record_id,
            action: event.action,
            actor_id: event.actor_id,
            reason: event.reason,
            at: local_time(event.at, tz),
        }
    }
}

//! Campaigns and their progress; the answer of auto-assign.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{local_time, round2};
use crate::domain::vocab::{RequestStatus, ResidentCategory, ServiceCategory};

/// Requests by status (a campaign's, or a period's): every status is
/// present, 0 when none.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct ByStatus {
    pub open: i64,
    pub assigned: i64,
    pub in_progress: i64,
    pub completed: i64,
    pub cancelled: i64,
}

impl ByStatus {
    pub fn add(&mut self, status: RequestStatus, n: i64) {
        let slot = match status {
            RequestStatus::Open => &mut self.open,
            RequestStatus::Assigned => &mut self.assigned,
            RequestStatus::InProgress => &mut self.in_progress,
            RequestStatus::Completed => &mut self.completed,
            RequestStatus::Cancelled => &mut self.cancelled,
        };
        *slot += n;
    }
}

/// What a campaign has done so far, counted by the service layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct CampaignProgress {
    pub by_status: ByStatus,
    /// People signed up for any of its requests.
    pub volunteers: i64,
    pub approved_minutes: i64,
}

impl CampaignProgress {
    pub fn count(&mut self, status: RequestStatus, n: i64) {
        self.by_status.add(status, n);
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: Uuid,
    pub name: String,
    pub resident_categories: Vec<ResidentCategory>,
    pub category: ServiceCategory,
    pub title: String,
    pub description: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub volunteers_per_request: i32,
    /// The manager who started it.
    pub created_by: Uuid,
    pub created_at: DateTime<FixedOffset>,
    /// How many requests it posted (one per resident).
    pub requests: i64,
    pub by_status: ByStatus,
    /// People signed up for any of its requests.
    pub volunteers: i64,
    /// Approved service hours on its requests, to two decimals.
    pub approved_hours: f64,
}

impl CampaignView {
    pub fn build(c: &entity::campaign::Model, progress: CampaignProgress, tz: Tz) -> Self {
        let s = progress.by_status;
        Self {
            id: c.id,
            name: c.name.clone(),
            resident_categories: c.resident_categories.clone().into_vec(),
            category: c.category,
            title: c.title.clone(),
            description: c.description.clone(),
            starts_at: local_time(c.starts_at, tz),
            ends_at: local_time(c.ends_at, tz),
            volunteers_per_request: c.volunteers_per_request,
            created_by: c.created_by,
            created_at: local_time(c.created_at, tz),
            requests: s.open + s.assigned + s.in_progress + s.completed + s.cancelled,
            by_status: s,
            volunteers: progress.volunteers,
            approved_hours: round2(progress.approved_minutes as f64 / 60.0),
        }
    }
}

/// One request auto-assign gave to a team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamRequest {
    pub request_id: Uuid,
    pub team_id: Uuid,
}

/// What auto-assign did: the requests it assigned, and the open requests
/// no team may take (none offers the service within reach, or a vetted
/// team is needed and none is near).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct AutoAssignView {
    pub assigned: Vec<TeamRequest>,
    pub unmatched: Vec<Uuid>,
}

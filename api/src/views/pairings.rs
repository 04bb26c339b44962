//! A pairing (结对帮扶) as the API answers it, with its continuity figures.

use chrono::{DateTime, FixedOffset, NaiveDate};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{RequestResident, local_time, round2};
use crate::domain::continuity::Continuity;
use crate::domain::vocab::ServiceCategory;

#[derive(Debug, Serialize, ToSchema)]
pub struct PairingView {
    pub id: Uuid,
    /// Masked as in requests: address, phone and location only for the
    /// pairing's caseworker and managers.
    pub resident: RequestResident,
    pub team_id: Uuid,
    pub category: ServiceCategory,
    pub title: String,
    pub description: String,
    /// The RFC 5545 recurrence rule, as read.
    pub rrule: String,
    /// Local wall-clock start of each visit, `HH:MM`.
    pub start_time: String,
    pub duration_minutes: i32,
    pub volunteers_needed: i32,
    pub starts_on: NaiveDate,
    /// `false` once ended (or its resident retired).
    pub active: bool,
    /// Signed up to every visit automatically.
    pub regular_volunteer_ids: Vec<Uuid>,
    /// The next visit still to come; `null` when none is scheduled.
    pub next_occurrence_at: Option<DateTime<FixedOffset>>,
    /// Visits with an approved service record.
    pub visits_completed: u32,
    /// Visits whose time is over without an approved record (cancelled
    /// visits are not missed).
    pub visits_missed: u32,
    /// Approved hours of all its visits, to two decimals.
    pub approved_hours: f64,
    /// When the latest visit with an approved record began.
    pub last_visit_at: Option<DateTime<FixedOffset>>,
}

impl PairingView {
    pub fn build(
        pairing: &entity::pairing::Model,
        resident: &entity::resident::Model,
        full_resident: bool,
        figures: &Continuity,
        tz: Tz,
    ) -> Self {
        Self {
            id: pairing.id,
            resident: RequestResident::of(resident, full_resident),
            team_id: pairing.team_id,
            category: pairing.category,
            title: pairing.title.clone(),
            description: pairing.description.clone(),
            rrule: pairing.rrule.clone(),
            start_time: pairing.start_time.clone(),
            duration_minutes: pairing.duration_minutes,
            volunteers_needed: pairing.volunteers_needed,
            starts_on: pairing.starts_on,
            active: pairing.active,
            regular_volunteer_ids: serde_json::from_str(&pairing.regular_volunteer_ids)
                .unwrap_or_default(),
            next_occurrence_at: figures.next_at.map(|t| local_time(t, tz)),
            visits_completed: figures.completed,
            visits_missed: figures.missed,
            approved_hours: round2(figures.approved_minutes as f64 / 60.0),
            last_visit_at: figures.last_visit_at.map(|t| local_time(t, tz)),
        }
    }
}

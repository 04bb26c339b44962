use sea_orm::entity::prelude::*;

use crate::vocab::ServiceCategory;

/// 结对帮扶: a resident, a team and a schedule; its occurrences are
/// ordinary requests carrying `pairing_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pairings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub resident_id: Uuid,
    pub team_id: Uuid,
    /// The caseworker (or manager) who made it.
    pub caseworker_id: Uuid,
    pub category: ServiceCategory,
    pub title: String,
    pub description: String,
    /// The RFC 5545 rule as read back (`domain::recurrence::Rule`).
    pub rrule: String,
    /// Local wall-clock start, `HH:MM`.
    pub start_time: String,
    pub duration_minutes: i32,
    pub volunteers_needed: i32,
    pub starts_on: Date,
    /// JSON array of user ids signed up to every occurrence.
    pub regular_volunteer_ids: String,
    pub active: bool,
    /// Occurrences exist as requests up to here (Unix seconds).
    pub generated_until: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

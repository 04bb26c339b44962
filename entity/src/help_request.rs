use sea_orm::entity::prelude::*;

use crate::vocab::{RequestStatus, ServiceCategory, Urgency};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "help_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `None` for a community activity, which has its own place instead.
    pub resident_id: Option<Uuid>,
    /// The caseworker (or manager) who posted the request.
    pub caseworker_id: Uuid,
    pub category: ServiceCategory,
    pub title: String,
    pub description: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub volunteers_needed: i32,
    /// Places taken; raised only by a conditional update so that it never
    /// passes `volunteers_needed`, whatever the concurrency.
    pub signups_count: i32,
    pub urgency: Urgency,
    pub status: RequestStatus,
    pub team_id: Option<Uuid>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The pairing this request is an occurrence of.
    pub pairing_id: Option<Uuid>,
    /// The occurrence's scheduled start (Unix seconds): with `pairing_id`
    /// unique, so each occurrence exists once however many processes
    /// top pairings up. Kept when the visit itself is moved.
    pub occurrence_at: Option<i64>,
    /// The campaign that posted this request.
    pub campaign_id: Option<Uuid>,
    /// A community activity's own public place (it has no resident).
    pub location_lat: Option<f64>,
    pub location_lng: Option<f64>,
    pub address: Option<String>,
    /// When the scheduler handled the reminder (sent or not needed);
    /// `None` while not yet due. Cleared when the time moves ahead.
    pub reminder_sent_at: Option<i64>,
    /// When the scheduler handled the unfilled alert (24 h before start).
    pub unfilled_sent_at: Option<i64>,
    /// When the scheduler settled no-shows (30 min after start).
    pub no_shows_settled_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The resident the request is for: read with the request in one query.
    #[sea_orm(
        belongs_to = "super::resident::Entity",
        from = "Column::ResidentId",
        to = "super::resident::Column::Id"
    )]
    Resident,
}

impl Related<super::resident::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Resident.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

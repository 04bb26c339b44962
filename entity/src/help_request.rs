use sea_orm::entity::prelude::*;

use crate::vocab::{RequestStatus, ServiceCategory, Urgency};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "help_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub resident_id: Uuid,
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

use sea_orm::entity::prelude::*;

use crate::vocab::EventType;

/// An event, written in the transaction of the change that caused it. Its
/// id is the stable id receivers deduplicate on.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event_type: EventType,
    /// JSON: what the message says (already free of personal data).
    pub payload: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

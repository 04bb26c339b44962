use sea_orm::entity::prelude::*;

use crate::vocab::{CodeList, EventType, WebhookKind};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    pub kind: WebhookKind,
    /// Needed in clear to sign deliveries; never returned by any route.
    pub secret: Option<String>,
    pub team_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub events: CodeList<EventType>,
    pub created_by: Uuid,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

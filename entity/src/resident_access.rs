use sea_orm::entity::prelude::*;

use crate::vocab::Role;

/// One resident's personal data in one answer: who, when, which route.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resident_access_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub resident_id: Uuid,
    pub actor_id: Uuid,
    pub actor_role: Role,
    /// Method and route pattern, e.g. `GET /api/v1/requests/{id}`.
    pub route: String,
    pub accessed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

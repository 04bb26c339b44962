use sea_orm::entity::prelude::*;

use crate::vocab::SignupStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Uuid,
    pub volunteer_id: Uuid,
    pub team_id: Uuid,
    pub created_at: i64,
    pub status: SignupStatus,
    /// When the status last changed (withdrawn, no-show, attended).
    pub status_changed_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

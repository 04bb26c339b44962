use sea_orm::entity::prelude::*;

/// One change of a person's `vetted_until`, kept for good: who vouched for
/// whom, and on what grounds (`note`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vetting_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub previous_until: Option<Date>,
    pub vetted_until: Option<Date>,
    pub note: Option<String>,
    pub changed_by: Uuid,
    pub changed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// One change of a person's name, kept for good: certificates carry the
/// name, so who renamed whom, when and why stays answerable.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "name_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub previous_name: String,
    pub name: String,
    pub note: Option<String>,
    /// The person themselves, or the manager or admin who renamed them.
    pub changed_by: Uuid,
    pub changed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

/// A daily vetting pass that ran: its local day (`YYYY-MM-DD`) is the key
/// that makes it once a day.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vetting_passes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    pub ran_at: i64,
    /// Sign-ups it withdrew.
    pub withdrawn: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

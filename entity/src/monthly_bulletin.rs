use sea_orm::entity::prelude::*;

/// A monthly bulletin (`report.monthly`) that went out: its month
/// (`YYYY-MM`, the month it reports on) is the key that makes it once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "monthly_bulletins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: String,
    pub sent_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

use crate::vocab::{CodeList, ResidentCategory, ServiceCategory};

/// A campaign (我们的节日, 学雷锋日 …): one request per active resident of
/// its categories, made in one transaction; the requests carry
/// `campaign_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub resident_categories: CodeList<ResidentCategory>,
    pub category: ServiceCategory,
    pub title: String,
    pub description: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub volunteers_per_request: i32,
    pub created_by: Uuid,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

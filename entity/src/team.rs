use sea_orm::entity::prelude::*;

use crate::vocab::{CodeList, ServiceCategory, TeamKind};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "teams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: TeamKind,
    #[sea_orm(column_type = "Text")]
    pub service_categories: CodeList<ServiceCategory>,
    pub location_lat: f64,
    pub location_lng: f64,
    pub service_radius_km: f64,
    pub vetted: bool,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub phone: String,
    pub password_hash: String,
    pub name: String,
    pub role: String,
    /// JSON array of service category codes.
    pub skills: String,
    pub location_lat: Option<f64>,
    pub location_lng: Option<f64>,
    /// JSON array of `{weekday, start, end}` slots.
    pub availability: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

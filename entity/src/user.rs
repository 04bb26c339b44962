use sea_orm::entity::prelude::*;

use crate::vocab::{AccountStatus, CodeList, Role, ServiceCategory};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub phone: String,
    pub password_hash: String,
    pub name: String,
    pub role: Role,
    #[sea_orm(column_type = "Text")]
    pub skills: CodeList<ServiceCategory>,
    pub location_lat: Option<f64>,
    pub location_lng: Option<f64>,
    /// JSON array of `{weekday, start, end}` slots.
    pub availability: String,
    pub created_at: i64,
    pub status: AccountStatus,
    /// The last day the person's background check (无犯罪记录证明) is valid.
    pub vetted_until: Option<Date>,
    /// Tokens carry the version they were issued under; raising it (a
    /// password change) ends every earlier token.
    pub token_version: i32,
    /// Minutes of the approved records that count (none replaced by an
    /// approved correction), kept by the reviews that change them.
    pub approved_minutes: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

use crate::vocab::ResidentCategory;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "residents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub category: ResidentCategory,
    pub phone: Option<String>,
    pub address: String,
    pub location_lat: f64,
    pub location_lng: f64,
    /// Only the masked form (`110***********1234`) is ever stored: the
    /// whole number is needed by nobody the service answers.
    pub id_number_masked: Option<String>,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    pub notes: Option<String>,
    pub created_by: Uuid,
    pub created_at: i64,
    /// A retired resident (moved away, passed away) gets no new requests.
    pub active: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

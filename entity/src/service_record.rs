use sea_orm::entity::prelude::*;

use crate::vocab::{RecordSource, RecordStatus};

/// A service record (志愿服务记录). Approved records are never edited in
/// place: a correction is a new record that names the one it supersedes.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "service_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub volunteer_id: Uuid,
    pub request_id: Uuid,
    pub team_id: Uuid,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub minutes: Option<i32>,
    pub status: RecordStatus,
    pub source: RecordSource,
    pub note: Option<String>,
    /// Who wrote the record down (the volunteer for phone check-ins).
    pub recorder_id: Uuid,
    pub check_in_distance_m: Option<f64>,
    pub check_out_distance_m: Option<f64>,
    pub supersedes_id: Option<Uuid>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<i64>,
    pub reject_reason: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

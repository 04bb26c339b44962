use sea_orm::entity::prelude::*;

use crate::vocab::CertificateStatus;

/// A service certificate (志愿服务记录证明). Its figures are frozen when it
/// is issued; only the revocation columns ever change.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "certificates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    /// SHA-256 (hex) of `number`: what public look-ups search by.
    pub number_hash: String,
    pub volunteer_id: Uuid,
    pub volunteer_name: String,
    pub minutes: i64,
    pub records: i64,
    /// Local dates, `YYYY-MM-DD`.
    pub period_from: String,
    pub period_to: String,
    /// JSON `[{category, minutes}]`, largest first.
    pub by_category: String,
    pub issued_at: i64,
    pub issued_by: Uuid,
    pub issuer: String,
    /// The compact JWS over the certificate's payload.
    pub signature: String,
    pub status: CertificateStatus,
    pub revoked_reason: Option<String>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

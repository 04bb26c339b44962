use sea_orm::entity::prelude::*;

/// A caller's `Idempotency-Key` and the first response given for it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// The caller's user id, or `anonymous` for unauthenticated routes.
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// SHA-256 of method, path and body.
    pub request_hash: String,
    /// `None` while the first request is still running.
    pub status_code: Option<i32>,
    pub response_body: Option<String>,
    /// Residents whose personal data the kept answer carries (UUIDs,
    /// comma-separated), logged again when it is replayed.
    pub disclosed: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

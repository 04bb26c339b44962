use sea_orm::entity::prelude::*;

/// An Ed25519 key that signs certificates. The highest generation signs;
/// every row not withdrawn stays published so that older certificates
/// still verify.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificate_keys")]
pub struct Model {
    /// RFC 7638 thumbprint of the public key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub generation: i64,
    /// The public key, base64url without padding (a JWK's `x`).
    pub public_key: String,
    /// The 32-byte seed, base64, sealed with `SECRETS_KEY` when set;
    /// `None` for a key the operator gives (`CERTIFICATE_SIGNING_KEY`).
    pub sealed_seed: Option<String>,
    pub created_at: i64,
    /// When an admin withdrew the key (leaked, say): it is no longer
    /// published, and what it signed no longer verifies as valid.
    pub withdrawn_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! Certificates as their volunteer and managers see them, as anyone
//! verifying one sees them (the name masked), and the published keys.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use entity::certificate;
use entity::certificate_key;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::local_time;
use crate::domain::masking::mask_name;
use crate::domain::vocab::{CertificateStatus, ServiceCategory};
use crate::service::certificates::{CategoryMinutes, hours};

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryHours {
    pub category: ServiceCategory,
    /// The category's Chinese name.
    pub label: String,
    pub hours: f64,
}

/// A service certificate (志愿服务记录证明). Figures frozen at issue.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateView {
    pub id: Uuid,
    /// `ZM-XXXX-XXXX-XXXX-XXXX`: 80 random bits.
    pub number: String,
    pub volunteer_id: Uuid,
    pub volunteer_name: String,
    pub hours: f64,
    pub records: i64,
    /// Local date, inclusive.
    pub period_from: String,
    /// Local date, inclusive.
    pub period_to: String,
    pub by_category: Vec<CategoryHours>,
    pub issued_at: DateTime<FixedOffset>,
    /// The community that issues it (`COMMUNITY_NAME` at issue).
    pub issuer: String,
    pub status: CertificateStatus,
    pub revoked_reason: Option<String>,
    pub revoked_at: Option<DateTime<FixedOffset>>,
    /// `PUBLIC_BASE_URL/verify/{number}`: what the QR code holds.
    pub verify_url: String,
    /// Compact JWS (`alg: EdDSA`, `kid` in its header) over `{number,
    /// volunteer_name, hours, records, period_from, period_to, issued_at,
    /// issuer}`; check it against `/.well-known/certificate-keys`.
    pub signature: String,
}

pub fn verify_url(base: &str, number: &str) -> String {
    format!("{base}/verify/{number}")
}

/// The stored breakdown as `(category, minutes)`; a line that no longer
/// decodes is left out rather than failing the whole answer.
pub fn categories(c: &certificate::Model) -> Vec<CategoryMinutes> {
    serde_json::from_str(&c.by_category).unwrap_or_default()
}

impl CertificateView {
    pub fn build(c: certificate::Model, tz: Tz, public_base_url: &str) -> Self {
        let by_category = categories(&c)
            .into_iter()
            .map(|line| CategoryHours {
                category: line.category,
                label: line.category.label().to_string(),
                hours: hours(line.minutes),
            })
            .collect();
        Self {
            verify_url: verify_url(public_base_url, &c.number),
            id: c.id,
            number: c.number,
            volunteer_id: c.volunteer_id,
            volunteer_name: c.volunteer_name,
            hours: hours(c.minutes),
            records: c.records,
            period_from: c.period_from,
            period_to: c.period_to,
            by_category,
            issued_at: local_time(c.issued_at, tz),
            issuer: c.issuer,
            status: c.status,
            revoked_reason: c.revoked_reason,
            revoked_at: c.revoked_at.map(|t| local_time(t, tz)),
            signature: c.signature,
        }
    }
}

/// What a public check says of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// It stands: not revoked, and signed with a published key.
    Valid,
    /// A manager revoked it (or reissued it under a new number).
    Revoked,
    /// The key that signed it was withdrawn, so its signature proves
    /// nothing any more; the issuer can reissue it.
    KeyWithdrawn,
}

/// What anyone holding the number learns: the figures and whether it
/// stands, with the name masked (`王**`). A revocation's reason stays
/// with the volunteer and managers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateCheck {
    pub number: String,
    pub status: CheckStatus,
    pub volunteer_masked_name: String,
    pub hours: f64,
    pub records: i64,
    pub period_from: String,
    pub period_to: String,
    pub issued_at: DateTime<FixedOffset>,
    pub issuer: String,
    pub revoked_at: Option<DateTime<FixedOffset>>,
}

impl CertificateCheck {
    /// `key_withdrawn`: whether the key that signed it was withdrawn.
    pub fn build(c: &certificate::Model, key_withdrawn: bool, tz: Tz) -> Self {
        let status = match c.status {
            CertificateStatus::Revoked => CheckStatus::Revoked,
            CertificateStatus::Valid if key_withdrawn => CheckStatus::KeyWithdrawn,
            CertificateStatus::Valid => CheckStatus::Valid,
        };
        Self {
            number: c.number.clone(),
            status,
            volunteer_masked_name: mask_name(&c.volunteer_name),
            hours: hours(c.minutes),
            records: c.records,
            period_from: c.period_from.clone(),
            period_to: c.period_to.clone(),
            issued_at: local_time(c.issued_at, tz),
            issuer: c.issuer.clone(),
            revoked_at: c.revoked_at.map(|t| local_time(t, tz)),
        }
    }
}

/// An Ed25519 public key as an RFC 8037 JWK.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateJwk {
    pub kid: String,
    /// Always `OKP`.
    pub kty: &'static str,
    /// Always `Ed25519`.
    pub crv: &'static str,
    /// The public key, base64url without padding.
    pub x: String,
    /// Always `EdDSA`.
    pub alg: &'static str,
}

/// Every key that signed certificates and was not withdrawn, newest (the
/// signing one) first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateKeySet {
    pub keys: Vec<CertificateJwk>,
}

impl CertificateKeySet {
    pub fn build(rows: Vec<certificate_key::Model>) -> Self {
        Self {
            keys: rows
                .into_iter()
                .map(|k| CertificateJwk {
                    kid: k.kid,
                    kty: "OKP",
                    crv: "Ed25519",
                    x: k.public_key,
                    alg: "EdDSA",
                })
                .collect(),
        }
    }
}

/// The key that signs from now on.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedKey {
    pub kid: String,
}

/// A withdrawn key, and the key that signs from now on.
#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawnKey {
    pub kid: String,
    /// When it was first withdrawn.
    pub withdrawn_at: DateTime<FixedOffset>,
    /// Signs certificates from now on: a new key when the withdrawn one
    /// was signing.
    pub signing_kid: String,
}

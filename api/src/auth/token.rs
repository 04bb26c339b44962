//! Access tokens: HS256 JWTs with the algorithm pinned and `exp`, `iat`,
//! `iss`, `aud` and `sub` all required and checked (RFC 8725).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::vocab::Role;
use crate::error::{AppError, AppResult};

const ISSUER: &str = "volunteer-service";
const AUDIENCE: &str = "volunteer-app";
/// Clock skew tolerated between processes, in seconds.
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// The account's role when the token was issued. Roles are set when an
    /// account is created and never changed, so the token may carry it.
    pub role: Role,
    /// The account's `token_version` when the token was issued; a token
    /// from before this claim existed counts as version 0.
    #[serde(default)]
    pub ver: i32,
}

/// What a valid token says about its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub id: Uuid,
    pub role: Role,
    pub version: i32,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
}

impl TokenKeys {
    pub fn new(secret: &[u8], ttl_secs: i64) -> AppResult<Self> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret).map_err(AppError::internal)?,
            decoding: DecodingKey::from_secret(secret).map_err(AppError::internal)?,
            validation,
            ttl_secs,
        })
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    pub fn issue(&self, user_id: Uuid, role: Role, version: i32, now: i64) -> AppResult<String> {
        let claims = Claims {
            role,
            ver: version,
            sub: user_id.to_string(),
            iat: now,
            exp: now + self.ttl_secs,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(AppError::internal)
    }

    /// The user id, role and version of a valid token; any defect is a
    /// plain 401. Whether the account still accepts it is the caller's
    /// question (see `auth::accounts`).
    pub fn verify(&self, token: &str, now: i64) -> AppResult<Verified> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| AppError::Unauthorized)?;
        // A token from the future was not issued by a sane clock of ours.
        if data.claims.iat > now + LEEWAY_SECS as i64 {
            return Err(AppError::Unauthorized);
        }
        let id = Uuid::parse_str(&data.claims.sub).map_err(|_| AppError::Unauthorized)?;
        Ok(Verified {
            id,
            role: data.claims.role,
            version: data.claims.ver,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn b64(json: serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    #[test]
    fn a_fresh_token_verifies() {
        let keys = TokenKeys::new(b"secret-one", 3600).unwrap();
        let id = Uuid::now_v7();
        let token = keys.issue(id, Role::Volunteer, 3, now()).unwrap();
        let verified = keys.verify(&token, now()).unwrap();
        assert_eq!(
            (verified.id, verified.role, verified.version),
            (id, Role::Volunteer, 3)
        );
    }

    #[test]
    fn expired_foreign_and_unsigned_tokens_are_refused() {
        let keys = TokenKeys::new(b"secret-one", 3600).unwrap();
        let other = TokenKeys::new(b"secret-two", 3600).unwrap();
        let id = Uuid::now_v7();
        let expired = keys.issue(id, Role::Admin, 0, now() - 7200).unwrap();
        assert!(keys.verify(&expired, now()).is_err());
        assert!(
            keys.verify(&other.issue(id, Role::Admin, 0, now()).unwrap(), now())
                .is_err()
        );

        let claims = serde_json::json!({
            "sub": id.to_string(), "iat": now(), "exp": now() + 600,
            "iss": ISSUER, "aud": AUDIENCE, "role": "admin"
        });
        let none = format!(
            "{}.{}.",
            b64(serde_json::json!({"alg": "none", "typ": "JWT"})),
            b64(claims)
        );
        assert!(keys.verify(&none, now()).is_err());
    }

    #[test]
    fn a_token_from_before_versions_counts_as_version_zero() {
        let keys = TokenKeys::new(b"secret-one", 3600).unwrap();
        let old = serde_json::json!({
            "sub": Uuid::now_v7().to_string(), "iat": now(), "exp": now() + 600,
            "iss": ISSUER, "aud": AUDIENCE, "role": "volunteer"
        });
        let token = encode(
            &Header::new(Algorithm::HS256),
            &old,
            &EncodingKey::from_secret(b"secret-one").unwrap(),
        )
        .unwrap();
        assert_eq!(keys.verify(&token, now()).unwrap().version, 0);
    }

    #[test]
    fn tokens_missing_a_required_claim_are_refused() {
        let keys = TokenKeys::new(b"secret-one", 3600).unwrap();
        let no_aud = serde_json::json!({
            "sub": Uuid::now_v7().to_string(), "iat": now(), "exp": now() + 600, "iss": ISSUER, "role": "admin"
        });
        let token = encode(
            &Header::new(Algorithm::HS256),
            &no_aud,
            &EncodingKey::from_secret(b"secret-one").unwrap(),
        )
        .unwrap();
        assert!(keys.verify(&token, now()).is_err());
    }
}

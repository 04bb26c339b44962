//! Argon2id password hashes, computed off the async runtime.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{AppError, AppResult};

/// Hashes with Argon2id (19 MiB, 2 passes, 1 lane: OWASP's baseline).
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(AppError::internal)?
}

fn hash_blocking(password: &str) -> AppResult<String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(AppError::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(AppError::internal)
}

/// Checks a password against a stored hash. With no stored hash (unknown
/// phone) it checks against a dummy so both cases take the same time and
/// timing does not tell who is registered.
pub async fn verify_password(password: String, stored: Option<String>) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let hash_text = match stored {
            Some(hash) => hash,
            None => dummy_hash()?.to_string(),
        };
        let hash = PasswordHash::new(&hash_text).map_err(AppError::internal)?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .map_err(AppError::internal)?
}

fn dummy_hash() -> AppResult<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let hash = hash_blocking("dummy password that nobody has")?;
    Ok(DUMMY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong horse".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("dummy password that nobody has".into(), None)
                .await
                .unwrap()
        );
    }
}

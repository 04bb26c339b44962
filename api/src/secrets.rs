//! Secrets at rest: values sealed with XChaCha20-Poly1305 under a 32-byte
//! key, stored as `enc:v1:` + base64(nonce ‖ ciphertext). The prefix tells
//! a sealed value from one stored in clear before a key was set (still
//! readable), and leaves room for another scheme later. Each value gets a
//! fresh random 24-byte nonce, which XChaCha's nonce size makes safe to
//! draw at random. The associated data binds a value to its row, so a
//! sealed value copied into another row does not open there.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

/// What every sealed value starts with.
pub const SEALED_PREFIX: &str = "enc:v1:";
const NONCE_BYTES: usize = 24;

/// A 32-byte sealing key. `Debug` never shows it.
#[derive(Clone)]
pub struct SecretsKey([u8; 32]);

/// Why a stored value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the value is sealed but SECRETS_KEY is not set")]
    NoKey,
    #[error(
        "the value cannot be decrypted: SECRETS_KEY is not the key it was sealed with, or the value was altered"
    )]
    WrongKeyOrTampered,
    #[error("the sealed value is malformed")]
    Malformed,
}

impl SecretsKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// `SECRETS_KEY`: exactly 32 bytes, base64 (standard alphabet).
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| "not base64 (generate one with `openssl rand -base64 32`)".to_string())?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("must decode to 32 bytes, not {}", b.len()))?;
        Ok(Self(bytes))
    }

    /// A key for one purpose derived from other key material (the JWT
    /// secret, say): SHA-256 over a purpose label and the material, so
    /// keys for different purposes never coincide.
    pub fn derive(purpose: &str, material: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"volunteer-service key derivation\0");
        hasher.update(purpose.as_bytes());
        hasher.update([0]);
        hasher.update(material);
        Self(hasher.finalize().into())
    }

    /// The raw key, for MACs keyed with it.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Seals `clear` for the row named by `context`.
    pub fn seal(&self, clear: &str, context: &[u8]) -> String {
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.0));
        let nonce_bytes: [u8; NONCE_BYTES] = rand::random();
        let nonce = XNonce::from_slice(&nonce_bytes);
        // Encryption with a valid key and nonce cannot fail; an empty
        // result would only make `open` refuse the value later.
        let sealed = cipher
            .encrypt(
                nonce,
                Payload {
                    msg: clear.as_bytes(),
                    aad: context,
                },
            )
            .unwrap_or_default();
        let mut raw = Vec::with_capacity(NONCE_BYTES + sealed.len());
        raw.extend_from_slice(&nonce_bytes);
        raw.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(raw))
    }

    /// Opens a value made by [`SecretsKey::seal`] with the same context.
    pub fn open(&self, stored: &str, context: &[u8]) -> Result<String, OpenError> {
        let encoded = stored
            .strip_prefix(SEALED_PREFIX)
            .ok_or(OpenError::Malformed)?;
        let raw = STANDARD.decode(encoded).map_err(|_| OpenError::Malformed)?;
        if raw.len() < NONCE_BYTES {
            return Err(OpenError::Malformed);
        }
        let (nonce, sealed) = raw.split_at(NONCE_BYTES);
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.0));
        let clear = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context,
                },
            )
            .map_err(|_| OpenError::WrongKeyOrTampered)?;
        String::from_utf8(clear).map_err(|_| OpenError::Malformed)
    }
}

impl fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretsKey(<redacted>)")
    }
}

pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

/// Seals with `key` when there is one; stores in clear otherwise.
pub fn seal_optional(key: Option<&SecretsKey>, clear: &str, context: &[u8]) -> String {
    match key {
        Some(key) => key.seal(clear, context),
        None => clear.to_string(),
    }
}

/// Reads a stored value: sealed values are opened with `key`, values
/// stored in clear (before a key was set) are returned as they are.
pub fn reveal(key: Option<&SecretsKey>, stored: &str, context: &[u8]) -> Result<String, OpenError> {
    if !is_sealed(stored) {
        return Ok(stored.to_string());
    }
    key.ok_or(OpenError::NoKey)?.open(stored, context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretsKey {
        SecretsKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_context() {
        let sealed = key(1).seal("SECabc123", b"webhook:1");
        assert!(sealed.starts_with("enc:v1:"));
        assert!(!sealed.contains("SECabc123"));
        assert_eq!(key(1).open(&sealed, b"webhook:1").unwrap(), "SECabc123");
        assert_eq!(
            reveal(Some(&key(1)), &sealed, b"webhook:1").unwrap(),
            "SECabc123"
        );
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        assert_ne!(key(1).seal("same", b"c"), key(1).seal("same", b"c"));
    }

    #[test]
    fn a_wrong_key_or_another_row_does_not_open() {
        let sealed = key(1).seal("secret", b"webhook:1");
        assert_eq!(
            key(2).open(&sealed, b"webhook:1"),
            Err(OpenError::WrongKeyOrTampered)
        );
        assert_eq!(
            key(1).open(&sealed, b"webhook:2"),
            Err(OpenError::WrongKeyOrTampered)
        );
    }

    #[test]
    fn tampering_is_detected() {
        let sealed = key(1).seal("secret", b"c");
        let mut raw = STANDARD
            .decode(sealed.strip_prefix(SEALED_PREFIX).unwrap())
            .unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        raw[NONCE_BYTES] ^= 1;
        let tampered = format!("{SEALED_PREFIX}{}", STANDARD.encode(raw));
        assert_eq!(
            key(1).open(&tampered, b"c"),
            Err(OpenError::WrongKeyOrTampered)
        );
        assert_eq!(
            key(1).open("enc:v1:not base64!", b"c"),
            Err(OpenError::Malformed)
        );
        assert_eq!(key(1).open("enc:v1:AAAA", b"c"), Err(OpenError::Malformed));
    }

    #[test]
    fn clear_values_from_before_the_key_still_read() {
        assert_eq!(reveal(Some(&key(1)), "SECold", b"c").unwrap(), "SECold");
        assert_eq!(reveal(None, "whsec_old", b"c").unwrap(), "whsec_old");
        let sealed = key(1).seal("x", b"c");
        assert_eq!(reveal(None, &sealed, b"c"), Err(OpenError::NoKey));
        assert_eq!(seal_optional(None, "x", b"c"), "x");
    }

    #[test]
    fn the_key_is_32_bytes_of_base64_and_never_shown() {
        let text = STANDARD.encode([7u8; 32]);
        let key = SecretsKey::from_base64(&text).unwrap();
        assert_eq!(key.bytes(), &[7u8; 32]);
        assert!(!format!("{key:?}").contains(&text));
        assert!(SecretsKey::from_base64(&STANDARD.encode([7u8; 31])).is_err());
        assert!(SecretsKey::from_base64("not base64 at all!").is_err());
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let a = SecretsKey::derive("a", b"material");
        let b = SecretsKey::derive("b", b"material");
        assert_ne!(a.bytes(), b.bytes());
        assert_eq!(
            a.bytes(),
            SecretsKey::derive("a", b"material").bytes(),
            "the same purpose and material give the same key"
        );
    }
}

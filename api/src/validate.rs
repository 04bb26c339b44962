//! Turning request bodies into domain values: every invalid field is
//! collected, so one 422 names them all.

use std::fmt::Display;

use serde::{Deserialize, Deserializer};

use crate::domain::geo::Coordinates;
use crate::error::{AppError, AppResult, FieldError};

#[derive(Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or notes why `field` is invalid.
    pub fn check<T, E: Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors.push(FieldError::new(field, e.to_string()));
                None
            }
        }
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn coordinates(&mut self, field: &str, raw: Coordinates) -> Option<Coordinates> {
        match Coordinates::new(raw.lat, raw.lng) {
            Ok(c) => Some(c),
            Err((part, message)) => {
                self.fail(&format!("{field}.{part}"), message);
                None
            }
        }
    }

    /// Ends checking: the values if every field was valid.
    pub fn finish<T>(self, values: Option<T>) -> AppResult<T> {
        match values {
            Some(values) if self.errors.is_empty() => Ok(values),
            _ if self.errors.is_empty() => Err(AppError::internal("validation without reason")),
            _ => Err(AppError::Validation(self.errors)),
        }
    }
}

/// For `PATCH`: tells "absent" (`None`) from "null" (`Some(None)`).
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A contact number: a mobile or a landline such as `010-62345678`.
pub fn contact_phone(raw: &str) -> Result<String, &'static str> {
    let trimmed = raw.trim();
    let allowed = trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '+'));
    let digits = trimmed.chars().filter(char::is_ascii_digit).count();
    if allowed && (7..=15).contains(&digits) {
        Ok(trimmed.to_string())
    } else {
        Err("须为手机号或座机号，如 13800138000 或 010-62345678")
    }
}

pub fn password(raw: &str) -> Result<String, &'static str> {
    match raw.chars().count() {
        0..=7 => Err("密码至少 8 个字符"),
        8..=128 => Ok(raw.to_string()),
        _ => Err("密码不能超过 128 个字符"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_phones_accept_mobiles_and_landlines() {
        assert!(contact_phone("13800138000").is_ok());
        assert!(contact_phone("010-62345678").is_ok());
        assert!(contact_phone("<script>").is_err());
        assert!(contact_phone("123").is_err());
    }

    #[test]
    fn passwords_need_eight_characters() {
        assert!(password("1234567").is_err());
        assert!(password("密码密码密码密码").is_ok());
        assert!(password(&"x".repeat(129)).is_err());
    }
}

//! Mainland mobile numbers: parsing and masking.

use std::fmt;

/// An 11-digit mainland mobile number, `1[3-9]\d{9}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let bytes = raw.as_bytes();
        let valid = bytes.len() == 11
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1])
            && bytes.iter().all(u8::is_ascii_digit);
        if valid {
            Ok(Self(raw.to_string()))
        } else {
            Err("须为 11 位大陆手机号，如 13800138000")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

// Personal data: keep it out of logs that print `{:?}`.
impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", mask_phone(&self.0))
    }
}

/// `13812345678` → `138****5678`. Anything that is not a mobile number is
/// hidden whole.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_mainland_mobiles_only() {
        assert!(Phone::parse("13800138000").is_ok());
        assert!(Phone::parse("19912345678").is_ok());
        for bad in [
            "12800138000",
            "1380013800",
            "138001380000",
            "1380013800a",
            "",
            "+8613800138000",
            "１３８００１３８０００",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn masks_the_middle_four_digits() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("123"), "***");
        assert!(!format!("{:?}", Phone::parse("13812345678").unwrap()).contains("1234"));
    }
}

//! What residents' personal data looks like to people who may only see
//! part of it: names, 居民身份证 numbers, and how far away they live.

/// Family name followed by one `*` per remaining character: `王秀英` → `王**`.
/// Single-character family names are the rule; compound ones (欧阳) show
/// one character more than strictly needed, which still identifies nobody.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// The distance to a resident as someone who may not see the address is
/// told it: rounded up to a whole kilometre, and never less than 1. Exact
/// figures from three places would pin the resident down (trilateration);
/// whole kilometres leave a ring a kilometre wide at every reading, and
/// since bisecting where the figure turns would still find the point it
/// is measured from, that point is the centre of the resident's grid cell
/// (`geo::cell_centre`), not the resident. Ranking must use this value
/// too, or the order would leak what the figure hides.
pub fn coarse_distance_km(exact_km: f64) -> f64 {
    exact_km.ceil().max(1.0)
}

/// A validated 居民身份证 number (GB 11643-1999: 18 characters with a
/// check digit, or the old 15-digit form).
pub fn parse_id_number(raw: &str) -> Result<String, &'static str> {
    let id = raw.trim().to_ascii_uppercase();
    let bytes = id.as_bytes();
    match bytes.len() {
        15 if bytes.iter().all(u8::is_ascii_digit) => Ok(id),
        18 if bytes[..17].iter().all(u8::is_ascii_digit) => {
            if check_digit(&bytes[..17]) == bytes[17] {
                Ok(id)
            } else {
                Err("身份证号校验位不正确")
            }
        }
        _ => Err("身份证号须为 18 位（或旧式 15 位）"),
    }
}

fn check_digit(first17: &[u8]) -> u8 {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CODES: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CODES[(sum % 11) as usize]
}

/// `110101199003071234` → `110***********1234`: the region prefix and the
/// last four, as on printed receipts. Only this form is ever stored.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 7 {
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
    fn distances_round_up_to_whole_kilometres_and_at_least_one() {
        assert_eq!(coarse_distance_km(0.0), 1.0);
        assert_eq!(coarse_distance_km(0.01), 1.0);
        assert_eq!(coarse_distance_km(1.0), 1.0);
        assert_eq!(coarse_distance_km(1.0001), 2.0);
        assert_eq!(coarse_distance_km(2.49), 3.0);
        assert_eq!(coarse_distance_km(2.99), 3.0);
        assert_eq!(coarse_distance_km(12.2), 13.0);
        // Half a kilometre apart, same reading.
        assert_eq!(coarse_distance_km(4.3), coarse_distance_km(4.8));
    }

    #[test]
    fn masks_given_names() {
        assert_eq!(mask_name("王秀英"), "王**");
        assert_eq!(mask_name("李明"), "李*");
        assert_eq!(mask_name("张"), "张*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn validates_the_check_digit() {
        // GB 11643 example number.
        assert!(parse_id_number("11010519491231002X").is_ok());
        assert!(parse_id_number("11010519491231002x").is_ok());
        assert!(parse_id_number("110105194912310021").is_err());
        assert!(parse_id_number("abc").is_err());
        assert!(parse_id_number("110105491231002").is_ok());
    }

    #[test]
    fn masked_id_keeps_region_and_last_four() {
        assert_eq!(mask_id_number("11010519491231002X"), "110***********002X");
        assert_eq!(mask_id_number("11010519491231002X").len(), 18);
    }
}

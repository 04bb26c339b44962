//! What a certificate may be asked for at the moment of issue: a period
//! that is over (it certifies service given, never service to come), and
//! a bounded number a day for each volunteer asking for their own.

use chrono::NaiveDate;

/// The period ends no later than `today`, the community's date.
pub fn check_period_end(to: Option<NaiveDate>, today: NaiveDate) -> Result<(), &'static str> {
    match to {
        Some(to) if to > today => Err("证明期间不能晚于今天"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_period_may_end_today_but_not_tomorrow() {
        let today = date("2026-12-07");
        assert!(check_period_end(None, today).is_ok());
        assert!(check_period_end(Some(date("2026-12-06")), today).is_ok());
        assert!(check_period_end(Some(today), today).is_ok());
        assert!(check_period_end(Some(date("2026-12-08")), today).is_err());
    }
}

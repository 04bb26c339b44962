//! What a certificate may be asked for at the moment of issue: a period
//! that is over (it certifies service given, never service to come), and
//! a bounded number a day for each volunteer asking for their own.

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::calendar::day_start;
use super::vetting::local_day;

/// The period ends no later than `today`, the community's date.
pub fn check_period_end(to: Option<NaiveDate>, today: NaiveDate) -> Result<(), &'static str> {
    match to {
        Some(to) if to > today => Err("证明期间不能晚于今天"),
        _ => Ok(()),
    }
}

/// The instants `[start, end)` of the local day `now` falls in.
pub fn day_of(now: i64, tz: Tz) -> (i64, i64) {
    let today = local_day(now, tz);
    let start = day_start(today, tz);
    let end = today
        .succ_opt()
        .map_or(start + 86_400, |next| day_start(next, tz));
    (start, end)
}

/// Seconds from `now` until the next local day begins: when a volunteer
/// who used up today's certificates may ask again.
pub fn secs_until_tomorrow(now: i64, tz: Tz) -> i64 {
    (day_of(now, tz).1 - now).max(1)
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

    #[test]
    fn the_day_is_the_communitys_not_utcs() {
        let tz = chrono_tz::Asia::Shanghai;
        // 2026-12-07T23:30:00+08:00 = 15:30 UTC.
        let now = 1_796_657_400;
        let (start, end) = day_of(now, tz);
        assert_eq!(end - start, 86_400);
        assert!(start <= now && now < end);
        assert_eq!(secs_until_tomorrow(now, tz), 30 * 60);
    }
}

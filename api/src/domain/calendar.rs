//! Dates as the community lives them: `from`/`to` filters are inclusive
//! local dates, turned into a half-open range of instants.

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;

use super::vetting::local_day;

/// The first instant (Unix seconds) of a local date.
pub fn day_start(date: NaiveDate, tz: Tz) -> i64 {
    let midnight = date.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&midnight).earliest() {
        Some(t) => t.timestamp(),
        // Midnight skipped by a DST change: the day starts an hour later.
        None => tz
            .from_local_datetime(&(midnight + Duration::hours(1)))
            .earliest()
            .map_or_else(|| midnight.and_utc().timestamp(), |t| t.timestamp()),
    }
}

/// `[from 00:00, the day after to 00:00)` in `tz`; either end may be open.
pub fn local_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    tz: Tz,
) -> Result<(Option<i64>, Option<i64>), &'static str> {
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        return Err("to 不能早于 from");
    }
    let until = match to {
        Some(t) => Some(day_start(t.succ_opt().ok_or("日期超出范围")?, tz)),
        None => None,
    };
    Ok((from.map(|f| day_start(f, tz)), until))
}

/// 2000-01-01 and 2100-01-01 (UTC): service happens in between. Times
/// outside are typos (or probes), and would not print as RFC 3339.
pub const PLAUSIBLE_SECS: std::ops::Range<i64> = 946_684_800..4_102_444_800;

/// A time a request or a record may carry.
pub fn check_plausible(ts: i64) -> Result<(), &'static str> {
    if PLAUSIBLE_SECS.contains(&ts) {
        Ok(())
    } else {
        Err("时间须在 2000 年到 2099 年之间")
    }
}

/// Longest request window accepted.
pub const MAX_REQUEST_WINDOW_SECS: i64 = 7 * 24 * 3600;

/// A request's window: it ends after it starts, within 7 days. The error
/// is about `ends_at`, the field a caller would fix.
pub fn check_request_window(starts_at: i64, ends_at: i64) -> Result<(), &'static str> {
    if ends_at <= starts_at {
        Err("结束时间须晚于开始时间")
    } else if ends_at - starts_at > MAX_REQUEST_WINDOW_SECS {
        Err("一次求助的时段不能超过 7 天")
    } else {
        Ok(())
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

/// Seconds from `now` until the next local day begins: the `Retry-After`
/// of a limit counted per local day.
pub fn secs_until_tomorrow(now: i64, tz: Tz) -> i64 {
    (day_of(now, tz).1 - now).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    #[test]
    fn a_shanghai_day_starts_at_16_utc_the_day_before() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let start = day_start(d, Shanghai);
        assert_eq!(
            chrono::DateTime::from_timestamp(start, 0)
                .unwrap()
                .to_rfc3339(),
            "2026-11-30T16:00:00+00:00"
        );
    }

    #[test]
    fn ranges_include_the_whole_last_day() {
        let f = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let (from, until) = local_range(Some(f), Some(f), Shanghai).unwrap();
        assert_eq!(until.unwrap() - from.unwrap(), 86_400);
        assert!(local_range(Some(f), Some(f.pred_opt().unwrap()), Shanghai).is_err());
        assert_eq!(local_range(None, None, Shanghai).unwrap(), (None, None));
    }

    #[test]
    fn a_request_window_ends_after_it_starts_within_a_week() {
        let start = 1_790_000_000;
        assert!(check_request_window(start, start + 3600).is_ok());
        assert!(check_request_window(start, start).is_err());
        assert!(check_request_window(start, start - 1).is_err());
        assert!(check_request_window(start, start + MAX_REQUEST_WINDOW_SECS).is_ok());
        assert!(check_request_window(start, start + MAX_REQUEST_WINDOW_SECS + 1).is_err());
    }

    #[test]
    fn only_this_century_is_plausible() {
        assert!(check_plausible(1_790_000_000).is_ok());
        assert!(check_plausible(946_684_799).is_err());
        assert!(check_plausible(8_210_266_876_800).is_err());
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

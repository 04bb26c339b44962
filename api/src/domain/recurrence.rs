//! Regular visits: an RFC 5545 recurrence rule, a local start time and a
//! length, read in the community's time zone (`TIME_ZONE`).
//!
//! The rule is expanded in *floating* local time — the wall clock of the
//! community, with no offset — and each local start is placed on the
//! time line afterwards. So a visit "every Tuesday at 09:00" stays at
//! 09:00 on the wall clock across a daylight-saving change, which is
//! what a resident waiting at the door expects. Parsing and expansion are
//! the `rrule` crate's; this module only decides what the community's
//! rules mean in local time.

use std::str::FromStr;

use chrono::{
    DateTime, Duration, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;
use rrule::{Frequency, NWeekday, RRule, Unvalidated, Weekday};

/// Longest rule text accepted; real rules are a few dozen characters.
const MAX_RULE_LEN: usize = 300;

/// Why a rule cannot be used; the message is for the person who wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRule(pub String);

impl InvalidRule {
    pub const CODE: &'static str = "invalid_rrule";
}

/// A rule that has been read and checked: what a pairing stores.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    rule: RRule<Unvalidated>,
    /// `UNTIL`, as a local wall-clock time (inclusive).
    until: Option<NaiveDateTime>,
}

/// One visit of a schedule, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub starts_at: i64,
    pub ends_at: i64,
}

/// A pairing's schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub rule: Rule,
    pub starts_on: NaiveDate,
    pub start_time: NaiveTime,
    pub duration_minutes: u32,
}

impl Rule {
    /// Reads `FREQ=WEEKLY;BYDAY=TU,FR` and the like (an optional `RRULE:`
    /// prefix is allowed). The time of day comes from the pairing's
    /// `start_time`, so rules that set hours, minutes or seconds, or that
    /// repeat more often than daily, are refused.
    ///
    /// Only ASCII is read, checked before anything folds case: the crate
    /// upper-cases with Unicode rules, so `BYMıNUTE` (dotless ı) or
    /// `BYſECOND` (long s) would pass every check here and be read by the
    /// crate as `BYMINUTE` or `BYSECOND`. And what is stored is read back
    /// before it is accepted: a rule whose stored text does not parse to
    /// the same rule is refused, so a pairing never holds a rule the
    /// visit maker cannot read.
    pub fn parse(text: &str, tz: Tz) -> Result<Self, InvalidRule> {
        if !text.is_ascii() {
            return Err(InvalidRule(
                "重复规则只能包含 ASCII 字符（英文字母、数字和 ;=,:+-）".into(),
            ));
        }
        let parsed = Self::read(text, tz)?;
        let stored = parsed.to_string();
        match Self::read(&stored, tz) {
            Ok(again) if again == parsed && again.to_string() == stored => Ok(parsed),
            _ => Err(InvalidRule(format!(
                "重复规则无法按原意保存（读回为 {stored}），请换一种写法"
            ))),
        }
    }

    /// One reading of a rule's text, without the read-back check.
    fn read(text: &str, tz: Tz) -> Result<Self, InvalidRule> {
        let text = text.trim();
        let text = text.strip_prefix("RRULE:").unwrap_or(text);
        if text.is_empty() || text.len() > MAX_RULE_LEN || text.contains(['\n', '\r']) {
            return Err(InvalidRule(format!(
                "重复规则须为一行 RFC 5545 RRULE，不超过 {MAX_RULE_LEN} 个字符"
            )));
        }
        // UNTIL is read here rather than by the crate: the crate insists on
        // UTC for it, while people write dates ("UNTIL=20270630") meaning
        // "through that day" in their own time zone.
        let mut until = None;
        let mut parts = Vec::new();
        for part in text.split(';') {
            match part.split_once('=') {
                Some((key, value)) if key.eq_ignore_ascii_case("UNTIL") => {
                    until = Some(parse_until(value, tz)?);
                }
                Some((key, _))
                    if ["BYHOUR", "BYMINUTE", "BYSECOND"]
                        .iter()
                        .any(|k| key.eq_ignore_ascii_case(k)) =>
                {
                    return Err(InvalidRule(
                        "时间由 start_time 给出，规则中不能有 BYHOUR、BYMINUTE 或 BYSECOND".into(),
                    ));
                }
                _ => parts.push(part),
            }
        }
        let rule = RRule::<Unvalidated>::from_str(&parts.join(";"))
            .map_err(|e| InvalidRule(format!("无法读取重复规则：{e}")))?;
        if !matches!(
            rule.get_freq(),
            Frequency::Daily | Frequency::Weekly | Frequency::Monthly | Frequency::Yearly
        ) {
            return Err(InvalidRule(
                "FREQ 须为 DAILY、WEEKLY、MONTHLY 或 YEARLY".into(),
            ));
        }
        let parsed = Self { rule, until };
        // The crate's own checks (BYMONTHDAY=40 …), against any start.
        parsed.expand_floating(DateTime::UNIX_EPOCH.naive_utc(), None, 1)?;
        Ok(parsed)
    }

    /// Local starts from `dt_start` on, at most `limit`, those after
    /// `after` only.
    fn expand_floating(
        &self,
        dt_start: NaiveDateTime,
        after: Option<NaiveDateTime>,
        limit: u16,
    ) -> Result<Vec<NaiveDateTime>, InvalidRule> {
        let floating = |t: NaiveDateTime| rrule::Tz::UTC.from_utc_datetime(&t);
        let mut rule = self.rule.clone();
        if let Some(until) = self.until {
            if until < dt_start {
                return Err(InvalidRule("UNTIL 早于开始日期".into()));
            }
            rule = rule.until(floating(until));
        }
        let mut set = rule
            .build(floating(dt_start))
            .map_err(|e| InvalidRule(format!("无法使用重复规则：{e}")))?;
        if let Some(after) = after {
            // Inclusive: a start exactly at `after` is kept.
            set = set.after(floating(after));
        }
        Ok(set
            .all(limit)
            .dates
            .into_iter()
            .map(|d| d.naive_utc())
            .collect())
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The crate writes "the first Monday" (`1MO`) as `MO`, which reads
        // back as every Monday: BYDAY is written here instead.
        let text = self.rule.to_string();
        let parts: Vec<String> = text
            .split(';')
            .map(|part| match part.strip_prefix("BYDAY=") {
                Some(_) => format!("BYDAY={}", by_day(self.rule.get_by_weekday())),
                None => part.to_string(),
            })
            .collect();
        write!(f, "{}", parts.join(";"))?;
        if let Some(until) = self.until {
            write!(f, ";UNTIL={}", until.format("%Y%m%dT%H%M%S"))?;
        }
        Ok(())
    }
}

/// BYDAY's value: `MO`, `1MO`, `-1FR` …
fn by_day(days: &[NWeekday]) -> String {
    let code = |day: Weekday| match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    };
    days.iter()
        .map(|day| match day {
            NWeekday::Every(d) => code(*d).to_string(),
            NWeekday::Nth(n, d) => format!("{n}{}", code(*d)),
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Schedule {
    /// The visits that start in `[from, to)` (Unix seconds), in order.
    pub fn occurrences(&self, tz: Tz, from: i64, to: i64) -> Vec<Occurrence> {
        let (Some(from_utc), Some(to_utc)) = (utc(from), utc(to)) else {
            return Vec::new();
        };
        if from >= to {
            return Vec::new();
        }
        // A day of slack either side covers any offset; the exact window
        // is applied on real instants below.
        let after = from_utc.with_timezone(&tz).naive_local() - Duration::days(1);
        let before = to_utc.with_timezone(&tz).naive_local() + Duration::days(1);
        let dt_start = self.starts_on.and_time(self.start_time);
        let length = i64::from(self.duration_minutes) * 60;
        let mut out = Vec::new();
        let mut cursor = Some(after.max(dt_start));
        // In pages, so that a long window never asks the crate for more
        // than its limit at once.
        while let Some(start) = cursor.take() {
            let page = match self.rule.expand_floating(dt_start, Some(start), 500) {
                Ok(page) => page,
                Err(_) => break,
            };
            let full = page.len() == 500;
            for local in &page {
                if *local >= before {
                    return out;
                }
                let starts_at = place_local(tz, *local);
                if (from..to).contains(&starts_at) {
                    out.push(Occurrence {
                        starts_at,
                        ends_at: starts_at + length,
                    });
                }
            }
            if full {
                cursor = page.last().map(|t| *t + Duration::seconds(1));
            }
        }
        out
    }
}

/// How far back a schedule may start: a pairing written down late still
/// counts from its real first visit, within a year.
const STARTS_ON_BACK: Months = Months::new(12);
/// How far ahead: a schedule further out is a typing error, and the
/// visit maker would page through years of nothing to reach it.
const STARTS_ON_AHEAD: Months = Months::new(24);

/// `starts_on` lies within a year before and two years after `today`
/// (the community's local date), both ends included.
pub fn check_starts_on(starts_on: NaiveDate, today: NaiveDate) -> Result<NaiveDate, String> {
    let earliest = today.checked_sub_months(STARTS_ON_BACK).unwrap_or(today);
    let latest = today.checked_add_months(STARTS_ON_AHEAD).unwrap_or(today);
    if (earliest..=latest).contains(&starts_on) {
        Ok(starts_on)
    } else {
        Err(format!(
            "开始日期须在 {earliest} 到 {latest} 之间（今天之前一年到之后两年）"
        ))
    }
}

/// Puts a local wall-clock time on the time line as RFC 5545 (3.3.5)
/// says: of two readings (the autumn hour that happens twice) the first;
/// a time the spring change skips is read with the offset before it, so
/// 02:30 on the morning clocks go forward is 03:30 summer time.
pub fn place_local(tz: Tz, local: NaiveDateTime) -> i64 {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.timestamp(),
        LocalResult::Ambiguous(first, _) => first.timestamp(),
        LocalResult::None => {
            let before = tz.from_utc_datetime(&(local - Duration::days(1)));
            let offset = chrono::Offset::fix(before.offset()).local_minus_utc();
            local.and_utc().timestamp() - i64::from(offset)
        }
    }
}

fn utc(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

/// `UNTIL` as local wall-clock time: a UTC value (`…Z`) is converted, a
/// floating value taken as it is, and a bare date means the end of that
/// day.
fn parse_until(value: &str, tz: Tz) -> Result<NaiveDateTime, InvalidRule> {
    let bad = || InvalidRule(format!("UNTIL 无法读取：{value}"));
    let value = value.trim();
    if let Some(utc_text) = value.strip_suffix(['Z', 'z']) {
        let t = NaiveDateTime::parse_from_str(utc_text, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
        return Ok(tz.from_utc_datetime(&t).naive_local());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S") {
        return Ok(t);
    }
    let day = NaiveDate::parse_from_str(value, "%Y%m%d").map_err(|_| bad())?;
    day.and_hms_opt(23, 59, 59).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;
    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    fn at(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        tz.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().timestamp()
    }

    fn schedule(rule: &str, tz: Tz, starts_on: (i32, u32, u32), time: (u32, u32)) -> Schedule {
        Schedule {
            rule: Rule::parse(rule, tz).unwrap(),
            starts_on: NaiveDate::from_ymd_opt(starts_on.0, starts_on.1, starts_on.2).unwrap(),
            start_time: NaiveTime::from_hms_opt(time.0, time.1, 0).unwrap(),
            duration_minutes: 60,
        }
    }

    fn local_starts(tz: Tz, occurrences: &[Occurrence]) -> Vec<String> {
        occurrences
            .iter()
            .map(|o| {
                tz.timestamp_opt(o.starts_at, 0)
                    .unwrap()
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn a_weekly_visit_crosses_a_month_boundary_on_the_right_days() {
        // 2027-01-26 is a Tuesday.
        let s = schedule("FREQ=WEEKLY;BYDAY=TU,FR", SHANGHAI, (2027, 1, 26), (9, 30));
        let got = s.occurrences(
            SHANGHAI,
            at(SHANGHAI, 2027, 1, 25, 0, 0),
            at(SHANGHAI, 2027, 2, 10, 0, 0),
        );
        assert_eq!(
            local_starts(SHANGHAI, &got),
            [
                "2027-01-26 09:30",
                "2027-01-29 09:30",
                "2027-02-02 09:30",
                "2027-02-05 09:30",
                "2027-02-09 09:30",
            ]
        );
        assert!(got.iter().all(|o| o.ends_at - o.starts_at == 3600));
    }

    #[test]
    fn the_wall_clock_time_holds_across_daylight_saving() {
        // Clocks go forward in Berlin on Sunday 2027-03-28.
        let s = schedule("FREQ=WEEKLY;BYDAY=SA", BERLIN, (2027, 3, 20), (10, 0));
        let got = s.occurrences(
            BERLIN,
            at(BERLIN, 2027, 3, 19, 0, 0),
            at(BERLIN, 2027, 4, 4, 0, 0),
        );
        assert_eq!(
            local_starts(BERLIN, &got),
            ["2027-03-20 10:00", "2027-03-27 10:00", "2027-04-03 10:00"]
        );
        // Winter time is UTC+1, summer time UTC+2: a week is not 7 × 24 h.
        assert_eq!(got[2].starts_at - got[1].starts_at, 7 * 86_400 - 3_600);
    }

    #[test]
    fn a_time_the_spring_change_skips_is_read_with_the_offset_before_it() {
        let skipped = NaiveDate::from_ymd_opt(2027, 3, 28)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(place_local(BERLIN, skipped), at(BERLIN, 2027, 3, 28, 3, 30));
        let twice = NaiveDate::from_ymd_opt(2027, 10, 31)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        // The first 02:30 is summer time, 00:30 UTC.
        assert_eq!(
            place_local(BERLIN, twice),
            Utc.with_ymd_and_hms(2027, 10, 31, 0, 30, 0)
                .unwrap()
                .timestamp()
        );
    }

    #[test]
    fn count_and_until_end_the_series() {
        let counted = schedule("FREQ=DAILY;COUNT=3", SHANGHAI, (2027, 5, 1), (8, 0));
        let all = counted.occurrences(SHANGHAI, 0, at(SHANGHAI, 2028, 1, 1, 0, 0));
        assert_eq!(all.len(), 3);
        // A bare date is inclusive: the visit on that day still happens.
        let until = schedule(
            "FREQ=MONTHLY;BYMONTHDAY=1;UNTIL=20270801",
            SHANGHAI,
            (2027, 5, 1),
            (8, 0),
        );
        let got = until.occurrences(SHANGHAI, 0, at(SHANGHAI, 2028, 1, 1, 0, 0));
        assert_eq!(
            local_starts(SHANGHAI, &got),
            [
                "2027-05-01 08:00",
                "2027-06-01 08:00",
                "2027-07-01 08:00",
                "2027-08-01 08:00"
            ]
        );
    }

    #[test]
    fn counting_starts_at_the_first_visit_not_at_the_window() {
        let s = schedule(
            "FREQ=WEEKLY;INTERVAL=2;COUNT=4",
            SHANGHAI,
            (2027, 1, 4),
            (9, 0),
        );
        // A window that starts after the second visit sees the last two.
        let got = s.occurrences(
            SHANGHAI,
            at(SHANGHAI, 2027, 1, 20, 0, 0),
            at(SHANGHAI, 2028, 1, 1, 0, 0),
        );
        assert_eq!(
            local_starts(SHANGHAI, &got),
            ["2027-02-01 09:00", "2027-02-15 09:00"]
        );
    }

    #[test]
    fn nothing_before_the_first_day() {
        let s = schedule("FREQ=DAILY", SHANGHAI, (2027, 6, 10), (9, 0));
        let got = s.occurrences(
            SHANGHAI,
            at(SHANGHAI, 2027, 6, 1, 0, 0),
            at(SHANGHAI, 2027, 6, 12, 0, 0),
        );
        assert_eq!(
            local_starts(SHANGHAI, &got),
            ["2027-06-10 09:00", "2027-06-11 09:00"]
        );
    }

    #[test]
    fn a_long_window_is_expanded_in_pages() {
        let s = schedule("FREQ=DAILY", SHANGHAI, (2027, 1, 1), (9, 0));
        let got = s.occurrences(
            SHANGHAI,
            at(SHANGHAI, 2027, 1, 1, 0, 0),
            at(SHANGHAI, 2030, 1, 1, 0, 0),
        );
        // 2028 is a leap year.
        assert_eq!(got.len(), 365 + 366 + 365);
    }

    #[test]
    fn rules_that_cannot_be_read_or_used_are_refused() {
        for bad in [
            "",
            "FREQ=FORTNIGHTLY",
            "FREQ=HOURLY",
            "FREQ=WEEKLY;BYDAY=XX",
            "FREQ=WEEKLY;BYHOUR=9",
            "FREQ=MONTHLY;BYMONTHDAY=40",
            "FREQ=DAILY;UNTIL=tomorrow",
            "FREQ=DAILY\nDTSTART:20270101T000000Z",
            "<script>alert(1)</script>",
        ] {
            assert!(Rule::parse(bad, SHANGHAI).is_err(), "{bad:?} was accepted");
        }
        let long = format!("FREQ=DAILY;{}", "BYMONTH=1;".repeat(40));
        assert!(Rule::parse(&long, SHANGHAI).is_err());
    }

    #[test]
    fn letters_that_upper_case_into_ascii_are_refused() {
        for sneaky in [
            // Dotless ı upper-cases to I: BYMINUTE in disguise.
            "FREQ=DAILY;BYM\u{131}NUTE=0,30",
            "FREQ=DA\u{131}LY",
            // Long s upper-cases to S: BYSECOND.
            "FREQ=DAILY;BY\u{17f}ECOND=0",
            "FREQ=WEEKLY;BYDAY=TU;WK\u{17f}T=SU",
            // Kelvin sign, and a fullwidth letter.
            "FREQ=WEEKLY;BYDAY=\u{212a}O",
            "FREQ=\u{ff24}AILY",
            "FREQ=DAILY;COUNT=\u{661}",
        ] {
            let refused = Rule::parse(sneaky, SHANGHAI);
            assert!(refused.is_err(), "{sneaky:?} was accepted: {refused:?}");
        }
    }

    #[test]
    fn every_accepted_rule_reads_back_to_the_same_rule() {
        for text in [
            "FREQ=DAILY",
            "freq=weekly;byday=tu,fr",
            "RRULE:FREQ=MONTHLY;BYDAY=+1MO;INTERVAL=2",
            "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=12",
            "FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=9",
            "FREQ=WEEKLY;WKST=SU;BYDAY=SA,SU;UNTIL=20271231",
            "FREQ=WEEKLY;UNTIL=20270630T160000Z",
        ] {
            let rule = Rule::parse(text, SHANGHAI).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            let stored = rule.to_string();
            let again = Rule::parse(&stored, SHANGHAI).unwrap();
            assert_eq!(again, rule, "{text}");
            assert_eq!(again.to_string(), stored, "{text}");
            assert!(stored.is_ascii());
        }
    }

    #[test]
    fn the_first_weekday_of_a_month_stays_the_first() {
        let rule = Rule::parse("FREQ=MONTHLY;BYDAY=+1MO", SHANGHAI).unwrap();
        assert_eq!(rule.to_string(), "FREQ=MONTHLY;BYDAY=1MO");
        let s = schedule(&rule.to_string(), SHANGHAI, (2027, 1, 1), (9, 0));
        let got = s.occurrences(
            SHANGHAI,
            at(SHANGHAI, 2027, 1, 1, 0, 0),
            at(SHANGHAI, 2027, 3, 1, 0, 0),
        );
        assert_eq!(
            local_starts(SHANGHAI, &got),
            ["2027-01-04 09:00", "2027-02-01 09:00"]
        );
    }

    #[test]
    fn a_schedule_starts_within_a_year_back_and_two_years_ahead() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        for ok in [today, day(2025, 12, 7), day(2028, 12, 7), day(2027, 3, 1)] {
            assert_eq!(check_starts_on(ok, today), Ok(ok));
        }
        for refused in [day(2025, 12, 6), day(2028, 12, 8), day(1900, 1, 1)] {
            assert!(check_starts_on(refused, today).is_err(), "{refused}");
        }
        // From a leap day, a year back is the 28th.
        let leap = day(2028, 2, 29);
        assert!(check_starts_on(day(2027, 2, 28), leap).is_ok());
        assert!(check_starts_on(day(2027, 2, 27), leap).is_err());
    }

    #[test]
    fn a_rule_reads_back_as_it_means() {
        let rule = Rule::parse("RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630", SHANGHAI).unwrap();
        let again = Rule::parse(&rule.to_string(), SHANGHAI).unwrap();
        assert_eq!(rule.to_string(), again.to_string());
        assert!(rule.to_string().contains("UNTIL=20270630T235959"));
    }
}

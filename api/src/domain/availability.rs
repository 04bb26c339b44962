//! Weekly availability: slots like "Tuesdays 09:00–12:00", and whether a
//! person's slots cover a request's time window in the community's zone.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One weekly slot; `weekday` 1 = Monday … 7 = Sunday, times `HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WeeklySlot {
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: u8,
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub start: String,
    /// `24:00` may end a day.
    #[schema(
        pattern = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        example = "12:00"
    )]
    pub end: String,
}

/// A slot in minutes of its day, `start < end`; `24:00` may end a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    weekday: u8,
    start_min: u32,
    end_min: u32,
}

impl Slot {
    pub fn parse(raw: &WeeklySlot) -> Result<Self, String> {
        if !(1..=7).contains(&raw.weekday) {
            return Err("weekday 须为 1（周一）到 7（周日）".into());
        }
        let start_min = parse_hhmm(&raw.start).ok_or("start 须为 HH:MM")?;
        let end_min = parse_hhmm(&raw.end).ok_or("end 须为 HH:MM")?;
        if end_min <= start_min {
            return Err("end 须晚于 start".into());
        }
        Ok(Self {
            weekday: raw.weekday,
            start_min,
            end_min,
        })
    }
}

fn parse_hhmm(raw: &str) -> Option<u32> {
    let (h, m) = raw.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(24 * 60),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// True when the slots cover every minute of `[start, end)` as lived in
/// `tz`: the window is cut at local midnights and each piece must lie
/// inside one slot of its weekday. Windows of a week or more are never
/// covered by weekly slots unless every day is covered whole.
pub fn covers(slots: &[Slot], start: DateTime<Tz>, end: DateTime<Tz>) -> bool {
    if end <= start || slots.is_empty() {
        return false;
    }
    let mut piece_start = start;
    // A window longer than 8 days repeats weekdays; checking 8 is enough.
    for _ in 0..8 {
        let next_midnight = local_midnight_after(piece_start);
        let piece_end = if end < next_midnight {
            end
        } else {
            next_midnight
        };
        let weekday = piece_start.weekday().number_from_monday() as u8;
        let from = piece_start.hour() * 60 + piece_start.minute();
        let to = if piece_end == next_midnight && piece_end != end {
            24 * 60
        } else {
            let t = piece_end.hour() * 60 + piece_end.minute();
            if t == 0 { 24 * 60 } else { t }
        };
        let covered = slots
            .iter()
            .any(|s| s.weekday == weekday && s.start_min <= from && to <= s.end_min);
        if !covered {
            return false;
        }
        if piece_end >= end {
            return true;
        }
        piece_start = piece_end;
    }
    true
}

fn local_midnight_after(t: DateTime<Tz>) -> DateTime<Tz> {
    let next_day = t.date_naive() + Duration::days(1);
    let midnight = next_day.and_time(NaiveTime::MIN);
    t.timezone()
        .from_local_datetime(&midnight)
        .earliest()
        // A zone that skips midnight (DST): an hour later always exists.
        .unwrap_or_else(|| t + Duration::hours(24 - i64::from(t.hour())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    fn slot(weekday: u8, start: &str, end: &str) -> Slot {
        Slot::parse(&WeeklySlot {
            weekday,
            start: start.into(),
            end: end.into(),
        })
        .unwrap()
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Tz> {
        Shanghai.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn parses_and_refuses_slots() {
        assert!(
            Slot::parse(&WeeklySlot {
                weekday: 0,
                start: "09:00".into(),
                end: "10:00".into()
            })
            .is_err()
        );
        assert!(
            Slot::parse(&WeeklySlot {
                weekday: 8,
                start: "09:00".into(),
                end: "10:00".into()
            })
            .is_err()
        );
        assert!(
            Slot::parse(&WeeklySlot {
                weekday: 1,
                start: "10:00".into(),
                end: "09:00".into()
            })
            .is_err()
        );
        assert!(
            Slot::parse(&WeeklySlot {
                weekday: 1,
                start: "9:00".into(),
                end: "10:00".into()
            })
            .is_err()
        );
        assert!(
            Slot::parse(&WeeklySlot {
                weekday: 1,
                start: "23:00".into(),
                end: "24:00".into()
            })
            .is_ok()
        );
        assert!(
            Slot::parse(&WeeklySlot {
                weekday: 1,
                start: "23:00".into(),
                end: "24:30".into()
            })
            .is_err()
        );
    }

    #[test]
    fn a_tuesday_morning_slot_covers_a_tuesday_morning_visit() {
        // 2026-12-01 is a Tuesday.
        let slots = [slot(2, "08:00", "12:00")];
        assert!(covers(
            &slots,
            at(2026, 12, 1, 9, 0),
            at(2026, 12, 1, 11, 0)
        ));
        assert!(!covers(
            &slots,
            at(2026, 12, 1, 11, 0),
            at(2026, 12, 1, 13, 0)
        ));
        assert!(!covers(
            &slots,
            at(2026, 12, 2, 9, 0),
            at(2026, 12, 2, 11, 0)
        ));
        assert!(!covers(&[], at(2026, 12, 1, 9, 0), at(2026, 12, 1, 11, 0)));
    }

    #[test]
    fn a_window_across_midnight_needs_both_days() {
        let evening = slot(2, "20:00", "24:00");
        let early = slot(3, "00:00", "02:00");
        let start = at(2026, 12, 1, 22, 0);
        let end = at(2026, 12, 2, 1, 0);
        assert!(covers(&[evening, early], start, end));
        assert!(!covers(&[evening], start, end));
    }

    #[test]
    fn a_window_ending_at_midnight_fits_a_slot_ending_at_24() {
        let slots = [slot(2, "20:00", "24:00")];
        assert!(covers(
            &slots,
            at(2026, 12, 1, 21, 0),
            at(2026, 12, 2, 0, 0)
        ));
    }
}

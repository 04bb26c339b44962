//! Service-hour rules: a record's times, its whole minutes, overlap, and
//! the 1 km check of a phone check-in.

/// Longest record: 24 hours.
pub const MAX_RECORD_SECS: i64 = 24 * 3600;
/// A check-in or check-out farther than this from the resident is flagged
/// for the approver.
pub const FLAG_DISTANCE_M: f64 = 1000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimesError {
    /// 422 `invalid_time_range`
    EndNotAfterStart,
    /// 422 `record_too_long`
    LongerThanADay,
    /// 422 `record_in_future`
    InFuture,
}

impl TimesError {
    pub fn code(self) -> &'static str {
        match self {
            Self::EndNotAfterStart => "invalid_time_range",
            Self::LongerThanADay => "record_too_long",
            Self::InFuture => "record_in_future",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::EndNotAfterStart => "结束时间须晚于开始时间",
            Self::LongerThanADay => "一条服务记录最长 24 小时",
            Self::InFuture => "服务记录不能发生在未来",
        }
    }
}

/// A finished record's times (Unix seconds), checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordTimes {
    pub started_at: i64,
    pub ended_at: i64,
}

impl RecordTimes {
    pub fn new(started_at: i64, ended_at: i64, now: i64) -> Result<Self, TimesError> {
        if started_at > now || ended_at > now {
            return Err(TimesError::InFuture);
        }
        if ended_at <= started_at {
            return Err(TimesError::EndNotAfterStart);
        }
        if ended_at - started_at > MAX_RECORD_SECS {
            return Err(TimesError::LongerThanADay);
        }
        Ok(Self {
            started_at,
            ended_at,
        })
    }

    /// Whole minutes between start and end.
    pub fn minutes(self) -> i32 {
        ((self.ended_at - self.started_at) / 60) as i32
    }
}

/// The end used for overlap: an open (checked-in) record runs until
/// checked out, but at most a day — a forgotten check-out must not block
/// the volunteer forever.
pub fn effective_end(started_at: i64, ended_at: Option<i64>) -> i64 {
    ended_at.unwrap_or(started_at + MAX_RECORD_SECS)
}

/// Half-open intervals `[start, end)` overlap.
pub fn overlaps(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// True when a check-in/out position should be looked at by the approver.
pub fn is_far(distance_m: Option<f64>) -> bool {
    distance_m.is_some_and(|d| d > FLAG_DISTANCE_M)
}

/// How a volunteer's counted minutes move when a pending record is
/// approved: its own minutes count from now on, and the approved record it
/// corrects (`replaced`, if any) stops counting. Rejecting a pending record
/// moves nothing: it never counted, and the record a rejected correction
/// meant to replace goes on counting.
pub fn approval_delta(minutes: Option<i32>, replaced: Option<i32>) -> i64 {
    i64::from(minutes.unwrap_or(0)) - i64::from(replaced.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn minutes_are_whole_and_floored() {
        let t = RecordTimes::new(NOW - 3600 - 59, NOW, NOW).unwrap();
        assert_eq!(t.minutes(), 60);
        assert_eq!(RecordTimes::new(NOW - 150, NOW, NOW).unwrap().minutes(), 2);
    }

    #[test]
    fn refuses_reversed_long_and_future_records() {
        assert_eq!(
            RecordTimes::new(NOW - 10, NOW - 20, NOW),
            Err(TimesError::EndNotAfterStart)
        );
        assert_eq!(
            RecordTimes::new(NOW - 10, NOW - 10, NOW),
            Err(TimesError::EndNotAfterStart)
        );
        assert_eq!(
            RecordTimes::new(NOW - MAX_RECORD_SECS - 60, NOW, NOW),
            Err(TimesError::LongerThanADay)
        );
        assert!(RecordTimes::new(NOW - MAX_RECORD_SECS, NOW, NOW).is_ok());
        assert_eq!(
            RecordTimes::new(NOW + 60, NOW + 120, NOW),
            Err(TimesError::InFuture)
        );
        assert_eq!(
            RecordTimes::new(NOW - 60, NOW + 60, NOW),
            Err(TimesError::InFuture)
        );
    }

    #[test]
    fn touching_records_do_not_overlap() {
        assert!(!overlaps((0, 60), (60, 120)));
        assert!(overlaps((0, 61), (60, 120)));
        assert!(overlaps((10, 20), (0, 100)));
        assert_eq!(effective_end(100, None), 100 + MAX_RECORD_SECS);
        assert_eq!(effective_end(100, Some(200)), 200);
    }

    #[test]
    fn only_positions_beyond_a_kilometre_are_flagged() {
        assert!(!is_far(None));
        assert!(!is_far(Some(999.0)));
        assert!(is_far(Some(1000.5)));
    }

    #[test]
    fn an_approved_correction_counts_instead_of_what_it_replaces() {
        assert_eq!(approval_delta(Some(90), None), 90);
        assert_eq!(approval_delta(Some(60), Some(120)), -60);
        assert_eq!(approval_delta(Some(150), Some(120)), 30);
        assert_eq!(approval_delta(None, None), 0);
    }
}

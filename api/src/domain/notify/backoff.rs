//! When to try a failed delivery again: delays doubling from
//! `WEBHOOK_RETRY_BASE_MS` with jitter, never more than an hour apart,
//! and a `failed` delivery 24 hours after the event.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The longest wait between two attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(60 * 60);

/// After this long since the event, a delivery that still fails is
/// `failed` (dead-lettered).
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The wait before the next attempt after `attempt` failed attempts
/// (1 after the first failure; 0 is read as 1). `jitter` in `[0, 1)` comes
/// from the caller's random source, so this stays deterministic.
///
/// The nominal delay is `base_ms · 2^(attempt-1)`; jitter stretches it by
/// up to half again (`[d, 1.5·d)`), which spreads out deliveries that
/// failed together without ever retrying sooner than the doubling says.
/// Near the cap the window becomes `[45 min, 60 min)`, so retries stay
/// spread out there too and never exceed [`MAX_RETRY_DELAY`].
pub fn retry_delay(base_ms: u64, attempt: u32, jitter: f64) -> Duration {
    let cap = MAX_RETRY_DELAY.as_millis() as u64;
    let doublings = attempt.max(1) - 1;
    let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
    let nominal = base_ms.max(1).saturating_mul(factor);
    let lower = nominal.min(cap / 4 * 3);
    let upper = nominal.saturating_add(nominal / 2).min(cap);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    // The product is at most `cap` (an hour in ms), far inside f64's
    // exact integer range.
    let spread = ((upper - lower) as f64 * jitter) as u64;
    Duration::from_millis((lower + spread).min(cap))
}

/// When to attempt again, or `None` when the delivery is to be marked
/// `failed`: once [`GIVE_UP_AFTER`] has passed since `created_at` (when
/// the event was committed). A retry that would land after the deadline
/// is moved to the deadline, so the last attempt happens at 24 hours
/// rather than being skipped.
pub fn next_attempt_at(
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
    delay: Duration,
) -> Option<DateTime<Utc>> {
    let give_up = chrono::Duration::from_std(GIVE_UP_AFTER).ok()?;
    let deadline = created_at + give_up;
    if now >= deadline {
        return None;
    }
    let delay = chrono::Duration::from_std(delay).unwrap_or(give_up);
    Some(
        now.checked_add_signed(delay)
            .map_or(deadline, |at| at.min(deadline)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60_000;

    fn ms(d: Duration) -> u64 {
        d.as_millis() as u64
    }

    #[test]
    fn doubles_from_the_base() {
        assert_eq!(ms(retry_delay(1000, 1, 0.0)), 1000);
        assert_eq!(ms(retry_delay(1000, 2, 0.0)), 2000);
        assert_eq!(ms(retry_delay(1000, 3, 0.0)), 4000);
        assert_eq!(ms(retry_delay(1000, 10, 0.0)), 512_000);
        assert_eq!(ms(retry_delay(1000, 0, 0.0)), 1000, "attempt 0 reads as 1");
    }

    #[test]
    fn jitter_stretches_by_up_to_half() {
        assert_eq!(ms(retry_delay(1000, 1, 0.5)), 1250);
        assert_eq!(ms(retry_delay(1000, 3, 0.75)), 5500);
        assert_eq!(
            ms(retry_delay(1000, 3, 7.0)),
            6000,
            "out-of-range jitter is clamped"
        );
        assert_eq!(ms(retry_delay(1000, 3, f64::NAN)), 4000);
        assert_eq!(ms(retry_delay(1000, 3, -1.0)), 4000);
    }

    #[test]
    fn never_more_than_an_hour_and_still_spread_at_the_cap() {
        for attempt in [13, 20, 63, 64, 65, 1000, u32::MAX] {
            for jitter in [0.0, 0.25, 0.999] {
                let d = retry_delay(1000, attempt, jitter);
                assert!(
                    d <= MAX_RETRY_DELAY,
                    "attempt {attempt} jitter {jitter}: {d:?}"
                );
                assert!(
                    ms(d) >= 45 * MIN,
                    "attempt {attempt} jitter {jitter}: {d:?}"
                );
            }
        }
        assert_eq!(ms(retry_delay(1000, 30, 0.0)), 45 * MIN);
        assert_eq!(ms(retry_delay(u64::MAX, 2, 0.5)), 52 * MIN + 30_000);
        // 2^11 s ≈ 34 min: still the plain [d, 1.5·d) window...
        assert_eq!(ms(retry_delay(1000, 12, 0.5)), 2_048_000 + 512_000);
        // ...and 1.5 · 51 min is cut at the hour.
        assert_eq!(ms(retry_delay(1500, 12, 0.5)), 45 * MIN + 450_000);
        assert!(
            retry_delay(0, 1, 0.0) > Duration::ZERO,
            "a zero base does not spin"
        );
    }

    #[test]
    fn gives_up_after_a_day_with_a_last_attempt_at_the_deadline() {
        let created = DateTime::parse_from_rfc3339("2024-05-18T00:00:00Z")
            .unwrap()
            .to_utc();
        let hour = chrono::Duration::hours(1);
        let now = created + hour;
        assert_eq!(
            next_attempt_at(created, now, Duration::from_secs(60)),
            Some(now + chrono::Duration::minutes(1))
        );
        let late = created + chrono::Duration::minutes(23 * 60 + 30);
        assert_eq!(
            next_attempt_at(created, late, MAX_RETRY_DELAY),
            Some(created + hour * 24)
        );
        assert_eq!(
            next_attempt_at(created, created + hour * 24, Duration::from_secs(1)),
            None
        );
        assert_eq!(
            next_attempt_at(created, created + hour * 30, Duration::from_secs(1)),
            None
        );
        assert_eq!(
            next_attempt_at(created, now, Duration::MAX),
            Some(created + hour * 24)
        );
        assert_eq!(GIVE_UP_AFTER.as_secs(), 86_400);
    }
}

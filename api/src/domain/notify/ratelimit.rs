//! How fast one robot may be fed, so that a burst of events queues on our
//! side instead of being refused (and, on DingTalk, punished with a
//! ten-minute silence).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::vocab::WebhookKind;

/// At most `max_sends` messages in any sliding `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max_sends: usize,
    pub window: Duration,
}

const MINUTE: Duration = Duration::from_secs(60);

/// WeCom group robot: 20 messages a minute.
pub const WECOM: &[RateLimit] = &[RateLimit {
    max_sends: 20,
    window: MINUTE,
}];
/// DingTalk custom robot: 20 messages a minute.
pub const DINGTALK: &[RateLimit] = &[RateLimit {
    max_sends: 20,
    window: MINUTE,
}];
/// Feishu custom bot: 100 a minute and 5 a second, per bot.
pub const FEISHU: &[RateLimit] = &[
    RateLimit {
        max_sends: 100,
        window: MINUTE,
    },
    RateLimit {
        max_sends: 5,
        window: Duration::from_secs(1),
    },
];

/// Added to every window: the provider counts arrivals, we count
/// departures, and network jitter must not make two sends a window apart
/// look closer than that.
pub const SAFETY_MARGIN: Duration = Duration::from_millis(500);

/// How far back the caller must look for sends: the longest window plus
/// the margin.
pub const LOOKBACK: Duration = Duration::from_millis(60_500);

/// The documented limits of a kind; generic receivers have none.
pub fn limits_for(kind: WebhookKind) -> &'static [RateLimit] {
    match kind {
        WebhookKind::Wecom => WECOM,
        WebhookKind::Dingtalk => DINGTALK,
        WebhookKind::Feishu => FEISHU,
        WebhookKind::Generic => &[],
    }
}

/// The earliest time at or after `now` when one more message may go to a
/// webhook, given when its recent messages went (any order; older ones
/// are ignored). A sent message holds its slot for `window + margin`.
pub fn next_send_at(
    limits: &[RateLimit],
    sent_at: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let mut newest_first: Vec<DateTime<Utc>> = sent_at.to_vec();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    let mut earliest = now;
    for limit in limits {
        let Ok(hold) = chrono::Duration::from_std(limit.window + SAFETY_MARGIN) else {
            continue;
        };
        if limit.max_sends == 0 {
            continue;
        }
        let in_window = newest_first.iter().take_while(|t| **t > now - hold).count();
        if in_window >= limit.max_sends {
            // The slot frees when the max_sends-th newest send leaves the
            // window; the newer ones are then fewer than the limit.
            if let Some(oldest_blocking) = newest_first.get(limit.max_sends - 1) {
                earliest = earliest.max(*oldest_blocking + hold);
            }
        }
    }
    earliest
}

/// [`next_send_at`] with the documented limits of `kind`.
pub fn next_send_at_for(
    kind: WebhookKind,
    sent_at: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    next_send_at(limits_for(kind), sent_at, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-05-18T01:00:00Z")
            .unwrap()
            .to_utc()
    }
    fn ms(n: i64) -> chrono::Duration {
        chrono::Duration::milliseconds(n)
    }

    #[test]
    fn free_while_under_the_limit() {
        let now = t0() + ms(30_000);
        let sent: Vec<_> = (0..19).map(|i| t0() + ms(i * 1000)).collect();
        assert_eq!(next_send_at_for(WebhookKind::Wecom, &sent, now), now);
        assert_eq!(next_send_at_for(WebhookKind::Dingtalk, &[], now), now);
    }

    #[test]
    fn the_twenty_first_waits_for_the_oldest_to_leave_the_minute() {
        let now = t0() + ms(30_000);
        let sent: Vec<_> = (0..20).rev().map(|i| t0() + ms(i * 1000)).collect();
        // The oldest went at t0: its slot frees at t0 + 60.5 s.
        assert_eq!(
            next_send_at_for(WebhookKind::Dingtalk, &sent, now),
            t0() + ms(60_500)
        );
        assert_eq!(
            next_send_at_for(WebhookKind::Wecom, &sent, now),
            t0() + ms(60_500)
        );
        // Feishu allows 100 a minute: no wait.
        assert_eq!(next_send_at_for(WebhookKind::Feishu, &sent, now), now);
    }

    #[test]
    fn sends_older_than_the_window_do_not_count() {
        let now = t0() + ms(120_000);
        let sent: Vec<_> = (0..50).map(|i| t0() + ms(i * 100)).collect();
        assert_eq!(next_send_at_for(WebhookKind::Wecom, &sent, now), now);
    }

    #[test]
    fn feishu_also_limits_each_second() {
        let now = t0() + ms(300);
        let burst: Vec<_> = (0..5).map(|i| t0() + ms(i * 50)).collect();
        assert_eq!(
            next_send_at_for(WebhookKind::Feishu, &burst, now),
            t0() + ms(1_500)
        );
        let four = &burst[..4];
        assert_eq!(next_send_at_for(WebhookKind::Feishu, four, now), now);
    }

    #[test]
    fn feishu_minute_limit_and_the_stricter_of_both() {
        let now = t0() + ms(59_000);
        // 100 sends, one every 0.5 s from t0: the minute is full.
        let sent: Vec<_> = (0..100).map(|i| t0() + ms(i * 500)).collect();
        assert_eq!(
            next_send_at_for(WebhookKind::Feishu, &sent, now),
            t0() + ms(60_500)
        );
    }

    #[test]
    fn generic_receivers_are_not_limited() {
        let now = t0();
        let sent = vec![now; 1000];
        assert_eq!(next_send_at_for(WebhookKind::Generic, &sent, now), now);
        assert_eq!(LOOKBACK, MINUTE + SAFETY_MARGIN);
    }
}

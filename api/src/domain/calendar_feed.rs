//! A volunteer's calendar feed (RFC 5545, via the `icalendar` crate): the
//! events it lists and the secret in its address.
//!
//! Times are written in UTC (`DTSTART:20301203T010000Z`): an instant every
//! calendar reads the same way, valid without a `VTIMEZONE` block (which
//! the crate does not write, and which a `TZID=` would need); the
//! community's zone is named in `X-WR-TIMEZONE` for display.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, EventLike, EventStatus};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How far back the feed lists requests.
pub const DAYS_BACK: i64 = 30;

/// One request the volunteer is signed up for.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    pub request_id: Uuid,
    pub title: String,
    pub starts_at: i64,
    pub ends_at: i64,
    /// The resident's or the activity's address.
    pub location: Option<String>,
    pub cancelled: bool,
    /// Last change of the request: the event's `DTSTAMP`, so an unchanged
    /// request reads the same on every refresh.
    pub updated_at: i64,
}

/// The event's `UID`: the same for a request on every refresh and in
/// every feed, so calendars update it instead of adding a copy.
pub fn uid(request_id: Uuid) -> String {
    format!("request-{request_id}@volunteer-service")
}

fn utc(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// The whole feed as text.
pub fn render(events: &[FeedEvent], name: &str, time_zone: &str) -> String {
    let mut calendar = Calendar::new();
    calendar.name(name).timezone(time_zone);
    for e in events {
        let mut event = icalendar::Event::new();
        event
            .uid(&uid(e.request_id))
            .timestamp(utc(e.updated_at))
            .summary(&e.title)
            .starts(utc(e.starts_at))
            .ends(utc(e.ends_at))
            .status(if e.cancelled {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            });
        if let Some(location) = e.location.as_deref().filter(|l| !l.trim().is_empty()) {
            event.location(location);
        }
        calendar.push(event.done());
    }
    calendar.done().to_string()
}

/// What is stored of a feed's secret: its SHA-256, in hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The secret of `<token>.ics`, if the name has that shape (URL-safe
/// base64 of 32 bytes).
pub fn token_of(file_name: &str) -> Option<&str> {
    let token = file_name.strip_suffix(".ics")?;
    (token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(cancelled: bool) -> FeedEvent {
        FeedEvent {
            request_id: Uuid::from_u128(7),
            title: "陪王阿姨聊天, 下午; 带上血压计".into(),
            starts_at: 1_922_490_000, // 2030-12-03T01:00:00Z
            ends_at: 1_922_497_200,
            location: Some("阳光社区 3 号楼 2 单元 501".into()),
            cancelled,
            updated_at: 1_900_000_000,
        }
    }

    #[test]
    fn the_feed_lists_each_request_with_a_stable_uid_and_utc_times() {
        let text = render(
            &[event(false), event(true)],
            "志愿服务日程",
            "Asia/Shanghai",
        );
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(unfolded.contains("X-WR-TIMEZONE:Asia/Shanghai"));
        assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 2);
        assert!(
            unfolded.contains("UID:request-00000000-0000-0000-0000-000000000007@volunteer-service")
        );
        assert!(unfolded.contains("DTSTART:20301203T010000Z"));
        assert!(unfolded.contains("DTEND:20301203T030000Z"));
        assert!(unfolded.contains("SUMMARY:陪王阿姨聊天\\, 下午\\; 带上血压计"));
        assert!(unfolded.contains("LOCATION:阳光社区 3 号楼 2 单元 501"));
        assert!(unfolded.contains("STATUS:CONFIRMED"));
        assert!(unfolded.contains("STATUS:CANCELLED"));
        assert_eq!(
            render(&[event(false)], "a", "UTC"),
            render(&[event(false)], "a", "UTC")
        );
    }

    #[test]
    fn tokens_are_stored_hashed_and_names_checked() {
        let token = "A".repeat(43);
        assert_eq!(token_hash(&token).len(), 64);
        assert_ne!(token_hash(&token), token_hash(&"B".repeat(43)));
        assert_eq!(token_of(&format!("{token}.ics")), Some(token.as_str()));
        assert_eq!(token_of(&token), None);
        assert_eq!(token_of("short.ics"), None);
        assert_eq!(token_of(&format!("{}.ics", "/".repeat(43))), None);
    }
}

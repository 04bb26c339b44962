//! One event as a group chat should hear of it: the facts a message is
//! made of, already reduced to what may leave the server.

use chrono::{DateTime, FixedOffset};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::vocab::EventType;

/// What a delivery says about one event. Built by the caller from the
/// request as a volunteer who is not signed up sees it: it must never hold
/// a resident's address, phone, exact location or ID number. As a second
/// line of defence, rendering masks anything that looks like a mobile or
/// 身份证 number (see [`super::scrub`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EventMessage {
    /// Stable across retries: the generic `id` and `webhook-id`.
    pub event_id: Uuid,
    pub event: EventType,
    /// When the change happened (the generic body's `timestamp`), in the
    /// community's zone as `views::local_time` gives it.
    pub occurred_at: DateTime<FixedOffset>,
    pub request_title: String,
    /// The service window, in the community's zone; shown as given.
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    /// Where: the community (社区/小区 name) for a visit, never the
    /// resident's street address; for a community activity, the community
    /// and the activity's own public address ([`place`]).
    pub place: String,
    /// The team the request is assigned to, if any.
    pub team_name: Option<String>,
    /// Whom to contact, e.g. the caseworker's name and masked phone.
    pub contact: Option<String>,
    /// One line specific to the event: a volunteer's masked name, places
    /// left, a reject reason.
    pub detail: Option<String>,
    /// WeCom only: mobiles of group members (staff, volunteers; never
    /// residents) to @. When non-empty WeCom gets a `text` message with
    /// `mentioned_mobile_list`, because its markdown cannot @ anyone.
    /// `"@all"` mentions everybody.
    pub mention_mobiles: Vec<String>,
    /// The object the event is about, for `generic` deliveries.
    pub data: Value,
    /// A message that is about no single request (the monthly bulletin)
    /// says these (label, value) lines instead of the request's title,
    /// time, place and team. Empty for request events.
    pub facts: Vec<(String, String)>,
}

/// The place a message names. A resident's address is personal data and
/// never leaves the server, so a visit names only the community; a
/// community activity is held in a public place that everyone who may see
/// the request sees, and volunteers in the group need to know where to go.
pub fn place(community: &str, activity_address: Option<&str>) -> String {
    match activity_address.map(str::trim).filter(|a| !a.is_empty()) {
        Some(address) => format!("{community}·{address}"),
        None => community.to_string(),
    }
}

/// Whether a webhook may be sent volunteers' phones (WeCom @-mentions of
/// the team's leaders, or of the volunteers signed up for a reminder) in
/// a message about a team's work: only a webhook of that very team. Its
/// group is the team's own chat, where the members know each other's
/// numbers; a community-wide robot posts to a group of other people.
pub fn may_hear_phones(webhook_team: Option<Uuid>, event_team: Option<Uuid>) -> bool {
    webhook_team.is_some() && webhook_team == event_team
}

/// `2024-05-18 09:00–11:00`, or with both dates when the window crosses
/// midnight: `2024-05-18 22:00–2024-05-19 06:00`.
pub fn time_window(starts_at: DateTime<FixedOffset>, ends_at: DateTime<FixedOffset>) -> String {
    let start = starts_at.format("%Y-%m-%d %H:%M");
    if starts_at.date_naive() == ends_at.date_naive() {
        format!("{start}–{}", ends_at.format("%H:%M"))
    } else {
        format!("{start}–{}", ends_at.format("%Y-%m-%d %H:%M"))
    }
}

/// A field made safe for one line of a chat message: control characters
/// (line breaks included, which could forge extra lines such as a fake
/// 联系人) become spaces, runs of spaces collapse, and at most `max_chars`
/// characters remain.
pub fn one_line(raw: &str, max_chars: usize) -> String {
    let flat = raw
        .split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    truncate_chars(&flat, max_chars)
}

/// At most `max_chars` characters; a cut text ends in `…`.
pub fn truncate_chars(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_visit_names_only_the_community_and_an_activity_its_public_address() {
        assert_eq!(place("阳光社区", None), "阳光社区");
        assert_eq!(place("阳光社区", Some("  ")), "阳光社区");
        assert_eq!(place("阳光社区", Some(" 文化广场 ")), "阳光社区·文化广场");
    }

    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn only_the_teams_own_webhooks_hear_volunteers_phones() {
        let team = Some(Uuid::from_u128(1));
        let other = Some(Uuid::from_u128(2));
        assert!(may_hear_phones(team, team));
        assert!(!may_hear_phones(None, team), "community-wide");
        assert!(!may_hear_phones(other, team), "another team");
        assert!(!may_hear_phones(None, None));
        assert!(!may_hear_phones(team, None));
    }

    #[test]
    fn windows_show_one_date_unless_they_cross_midnight() {
        assert_eq!(
            time_window(
                at("2024-05-18T09:00:00+08:00"),
                at("2024-05-18T11:30:00+08:00")
            ),
            "2024-05-18 09:00–11:30"
        );
        assert_eq!(
            time_window(
                at("2024-05-18T22:00:00+08:00"),
                at("2024-05-19T06:00:00+08:00")
            ),
            "2024-05-18 22:00–2024-05-19 06:00"
        );
    }

    #[test]
    fn one_line_flattens_and_bounds() {
        assert_eq!(
            one_line("  陪同就医\n联系人：骗子 ", 50),
            "陪同就医 联系人：骗子"
        );
        assert_eq!(one_line("a\t\r\n  b", 50), "a b");
        assert_eq!(one_line("一二三四五六", 4), "一二三…");
        assert_eq!(one_line("一二三四", 4), "一二三四");
        assert_eq!(one_line("", 4), "");
    }
}

//! Feedback after a visit (回访, 条例 Art 10): what a valid feedback is,
//! and how responses add up by team or by month.

use std::collections::HashMap;

use chrono_tz::Tz;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::report::month_key;

pub const COMMENT_MAX_CHARS: usize = 2000;
pub const CONCERN_NOTE_MAX_CHARS: usize = 1000;

/// How satisfied the resident was: 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Satisfaction(u8);

impl Satisfaction {
    pub fn parse(value: i64) -> Result<Self, &'static str> {
        match u8::try_from(value) {
            Ok(v @ 1..=5) => Ok(Self(v)),
            _ => Err("满意度须为 1 到 5 的整数"),
        }
    }

    pub fn value(self) -> i32 {
        i32::from(self.0)
    }
}

/// A concern note only makes sense with `concern: true`.
pub fn check_concern_note(concern: bool, note: Option<&str>) -> Result<(), &'static str> {
    match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(_) if !concern => Err("只有 concern 为 true 时才能填写 concern_note"),
        Some(n) if n.chars().count() > CONCERN_NOTE_MAX_CHARS => {
            Err("concern_note 不能超过 1000 个字")
        }
        _ => Ok(()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackGroupBy {
    Team,
    Month,
}

/// One feedback as statistics read it: the visit's team and start.
#[derive(Debug, Clone, Copy)]
pub struct FeedbackFact {
    pub team_id: Option<Uuid>,
    pub starts_at: i64,
    pub satisfaction: i32,
    pub concern: bool,
}

/// Responses of one group. `key`: the team's id (`none` for a request no
/// team served) or `YYYY-MM` of the visit's start in the community's zone.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackBucket {
    pub key: String,
    /// The month's label (`2026年11月`); teams are named by the caller.
    pub month_label: Option<String>,
    pub responses: i64,
    pub satisfaction_avg: f64,
    pub concerns: i64,
}

/// The key of feedback about a request no team served.
pub const NO_TEAM: &str = "none";

/// Groups feedback; the average is to two decimals. Months come oldest
/// first; teams by most responses, then by key (callers re-sort by label).
pub fn aggregate(facts: &[FeedbackFact], group_by: FeedbackGroupBy, tz: Tz) -> Vec<FeedbackBucket> {
    let mut sums: HashMap<String, (i64, i64, i64, Option<String>)> = HashMap::new();
    for fact in facts {
        let (key, label) = match group_by {
            FeedbackGroupBy::Team => (
                fact.team_id
                    .map_or_else(|| NO_TEAM.to_string(), |t| t.to_string()),
                None,
            ),
            FeedbackGroupBy::Month => {
                let (key, label) = month_key(fact.starts_at, tz);
                (key, Some(label))
            }
        };
        let entry = sums.entry(key).or_insert((0, 0, 0, label));
        entry.0 += 1;
        entry.1 += i64::from(fact.satisfaction);
        entry.2 += i64::from(fact.concern);
    }
    let mut buckets: Vec<FeedbackBucket> = sums
        .into_iter()
        .map(
            |(key, (responses, total, concerns, month_label))| FeedbackBucket {
                key,
                month_label,
                responses,
                satisfaction_avg: (total as f64 / responses as f64 * 100.0).round() / 100.0,
                concerns,
            },
        )
        .collect();
    match group_by {
        FeedbackGroupBy::Month => buckets.sort_by(|a, b| a.key.cmp(&b.key)),
        FeedbackGroupBy::Team => buckets.sort_by(|a, b| {
            b.responses
                .cmp(&a.responses)
                .then_with(|| a.key.cmp(&b.key))
        }),
    }
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;

    const TZ: Tz = chrono_tz::Asia::Shanghai;

    fn fact(team: Option<Uuid>, starts_at: i64, satisfaction: i32, concern: bool) -> FeedbackFact {
        FeedbackFact {
            team_id: team,
            starts_at,
            satisfaction,
            concern,
        }
    }

    #[test]
    fn satisfaction_is_one_to_five() {
        assert!(Satisfaction::parse(0).is_err());
        assert!(Satisfaction::parse(6).is_err());
        assert!(Satisfaction::parse(-3).is_err());
        assert_eq!(Satisfaction::parse(1).unwrap().value(), 1);
        assert_eq!(Satisfaction::parse(5).unwrap().value(), 5);
    }

    #[test]
    fn a_concern_note_needs_a_concern_and_a_bound() {
        assert!(check_concern_note(true, Some("独居老人家中燃气味重")).is_ok());
        assert!(check_concern_note(false, Some("有情况")).is_err());
        assert!(check_concern_note(false, Some("  ")).is_ok());
        assert!(check_concern_note(false, None).is_ok());
        assert!(check_concern_note(true, Some(&"字".repeat(1001))).is_err());
    }

    #[test]
    fn teams_add_up_responses_averages_and_concerns() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let facts = [
            fact(Some(a), 0, 5, false),
            fact(Some(a), 0, 4, true),
            fact(Some(a), 0, 4, false),
            fact(Some(b), 0, 3, true),
            fact(None, 0, 2, false),
        ];
        let buckets = aggregate(&facts, FeedbackGroupBy::Team, TZ);
        assert_eq!(buckets.len(), 3);
        assert_eq!(buckets[0].key, a.to_string());
        assert_eq!(buckets[0].responses, 3);
        assert_eq!(buckets[0].satisfaction_avg, 4.33);
        assert_eq!(buckets[0].concerns, 1);
        assert!(buckets.iter().any(|b| b.key == NO_TEAM && b.responses == 1));
    }

    #[test]
    fn months_are_local_and_oldest_first() {
        // 2026-11-30T16:30Z is 2026-12-01 00:30 in Shanghai.
        let december_local = 1_796_056_200;
        let november = december_local - 86_400;
        let facts = [
            fact(None, december_local, 5, false),
            fact(None, november, 3, true),
            fact(None, november, 4, false),
        ];
        let buckets = aggregate(&facts, FeedbackGroupBy::Month, TZ);
        let keys: Vec<&str> = buckets.iter().map(|b| b.key.as_str()).collect();
        assert_eq!(keys, ["2026-11", "2026-12"]);
        assert_eq!(buckets[0].satisfaction_avg, 3.5);
        assert_eq!(buckets[0].concerns, 1);
        assert_eq!(buckets[1].month_label.as_deref(), Some("2026年12月"));
    }
}

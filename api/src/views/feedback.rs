//! Feedback after a visit, and its statistics.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::local_time;

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackView {
    pub id: Uuid,
    pub request_id: Uuid,
    /// The caseworker or manager who recorded it.
    pub recorded_by: Uuid,
    /// 1 (very unhappy) to 5 (very satisfied).
    pub satisfaction: i32,
    pub comment: Option<String>,
    pub concern: bool,
    pub concern_note: Option<String>,
    pub created_at: DateTime<FixedOffset>,
}

impl FeedbackView {
    pub fn build(f: entity::request_feedback::Model, tz: Tz) -> Self {
        Self {
            id: f.id,
            request_id: f.request_id,
            recorded_by: f.author_id,
            satisfaction: f.satisfaction,
            comment: f.comment,
            concern: f.concern,
            concern_note: f.concern_note,
            created_at: local_time(f.created_at, tz),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackStatItem {
    /// The team's id (`none`: no team served it) or `YYYY-MM`.
    pub key: String,
    /// The team's name or the month (`2026年11月`).
    pub label: String,
    pub responses: i64,
    /// Mean satisfaction (1–5), to two decimals.
    pub satisfaction_avg: f64,
    /// Responses with `concern: true`.
    pub concerns: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackStats {
    pub items: Vec<FeedbackStatItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeedView {
    /// `PUBLIC_BASE_URL/calendar/<token>.ics`: secret; a new one replaces it.
    pub url: String,
}

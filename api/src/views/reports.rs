//! Service-hour statistics, and requests counted by status.

use serde::Serialize;
use utoipa::ToSchema;

use super::ByStatus;

#[derive(Debug, Serialize, ToSchema)]
pub struct StatItem {
    /// Team or volunteer id, `YYYY-MM`, or a category code.
    pub key: String,
    /// A readable name (Chinese for categories and months).
    pub label: String,
    pub hours: f64,
    /// Exact total behind `hours`.
    pub minutes: i64,
    pub records: i64,
    pub volunteers: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub items: Vec<StatItem>,
    pub total_hours: f64,
    pub total_minutes: i64,
    pub total_records: i64,
}

/// Requests whose start falls in the period, counted by status in the
/// database; all five statuses are always present.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestStats {
    pub by_status: ByStatus,
}

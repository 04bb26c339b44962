//! The trail of a person's names.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One change of a person's name: from what to what, by whom, when, and
/// (for a manager's rename) on what grounds.
#[derive(Debug, Serialize, ToSchema)]
pub struct NameChangeView {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The name before the change.
    pub previous_name: String,
    pub name: String,
    pub note: Option<String>,
    /// The person themselves, or the manager or admin who renamed them.
    pub changed_by: Uuid,
    pub changed_by_name: String,
    pub changed_at: DateTime<FixedOffset>,
}

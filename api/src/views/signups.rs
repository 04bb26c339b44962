//! A volunteer's sign-up for a request.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::vocab::SignupStatus;

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupView {
    pub id: Uuid,
    pub request_id: Uuid,
    pub volunteer_id: Uuid,
    pub team_id: Uuid,
    /// `signed_up`, `withdrawn`, `no_show` (not checked in 30 minutes
    /// after the start) or `attended` (checked in).
    pub status: SignupStatus,
    /// Places left on the request now.
    pub places_left: i32,
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
}

/// One sign-up in a request's list of sign-ups (`GET
/// /requests/{id}/signups`): who, and how it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignupListItem {
    #[serde(flatten)]
    pub signup: SignupView,
    pub volunteer_name: String,
    /// When the status last changed; `null` while signed up as at first.
    pub status_changed_at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

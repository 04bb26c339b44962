//! A volunteer's sign-up for a request.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupView {
    pub id: Uuid,
    pub request_id: Uuid,
    pub volunteer_id: Uuid,
    pub team_id: Uuid,
    /// Places left after this sign-up.
    pub places_left: i32,
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
}

//! A volunteer's part in one request: signed up for it, or with records
//! of it. Both sign-ups and service records ask, so the questions live
//! below both and neither calls the other.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::domain::vocab::{RecordStatus, SignupStatus};
use crate::error::AppResult;
use entity::service_record::{self, Entity as Records};
use entity::signup::{self, Entity as Signups};

/// Whether the volunteer holds a place on the request.
pub async fn is_signed_up(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    volunteer: Uuid,
) -> AppResult<bool> {
    Ok(Signups::find()
        .filter(signup::Column::RequestId.eq(request_id))
        .filter(signup::Column::VolunteerId.eq(volunteer))
        .filter(signup::Column::Status.is_in(SignupStatus::HOLDING))
        .one(db)
        .await?
        .is_some())
}

/// Whether the volunteer has a record of the request that still counts
/// (pending or approved): such a volunteer can no longer withdraw.
pub async fn has_records_for(
    db: &impl ConnectionTrait,
    request_id: Uuid,
    volunteer: Uuid,
) -> AppResult<bool> {
    Ok(Records::find()
        .filter(service_record::Column::RequestId.eq(request_id))
        .filter(service_record::Column::VolunteerId.eq(volunteer))
        .filter(service_record::Column::Status.ne(RecordStatus::Rejected))
        .one(db)
        .await?
        .is_some())
}

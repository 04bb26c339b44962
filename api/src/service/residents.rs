//! Residents (服务对象): created and read by caseworkers and managers only.

use chrono_tz::Tz;
use entity::resident::{self, Entity as Residents};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::now;
use super::paging::{PageRequest, newest_first};
use crate::domain::geo::Coordinates;
use crate::domain::masking::mask_id_number;
use crate::domain::vocab::ResidentCategory;
use crate::error::{AppError, AppResult};
use crate::views::{ResidentView, local_time, stored};

pub struct NewResident {
    pub name: String,
    pub category: ResidentCategory,
    pub phone: Option<String>,
    pub address: String,
    pub location: Coordinates,
    /// Already validated; only its masked form is stored.
    pub id_number: Option<String>,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    pub notes: Option<String>,
}

pub async fn create(
    db: &impl ConnectionTrait,
    new: NewResident,
    created_by: Uuid,
) -> AppResult<resident::Model> {
    let model = resident::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name),
        category: Set(new.category.code().into()),
        phone: Set(new.phone),
        address: Set(new.address),
        location_lat: Set(new.location.lat),
        location_lng: Set(new.location.lng),
        id_number_masked: Set(new.id_number.as_deref().map(mask_id_number)),
        guardian_name: Set(new.guardian_name),
        guardian_phone: Set(new.guardian_phone),
        notes: Set(new.notes),
        created_by: Set(created_by),
        created_at: Set(now()),
        active: Set(true),
    };
    Ok(model.insert(db).await?)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<resident::Model> {
    Residents::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn list(
    db: &impl ConnectionTrait,
    page: PageRequest,
) -> AppResult<(Vec<resident::Model>, Option<String>)> {
    newest_first(db, Residents::find(), resident::Column::Id, page, |r| r.id).await
}

pub fn view(r: &resident::Model, tz: Tz) -> AppResult<ResidentView> {
    Ok(ResidentView {
        id: r.id,
        name: r.name.clone(),
        category: stored(&r.category, ResidentCategory::from_code)?,
        phone: r.phone.clone(),
        address: r.address.clone(),
        location: Coordinates {
            lat: r.location_lat,
            lng: r.location_lng,
        },
        id_number: r.id_number_masked.clone(),
        guardian_name: r.guardian_name.clone(),
        guardian_phone: r.guardian_phone.clone(),
        notes: r.notes.clone(),
        created_at: local_time(r.created_at, tz),
    })
}

//! Residents (服务对象): created and read by caseworkers and managers only.

use entity::resident::{self, Entity as Residents};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};
use uuid::Uuid;

use super::now;
use super::paging::{PageRequest, newest_first};
use crate::config::Settings;
use crate::domain::geo::Coordinates;
use crate::domain::masking::mask_id_number;
use crate::domain::vocab::ResidentCategory;
use crate::error::{AppError, AppResult};

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
        category: Set(new.category),
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

/// What `PATCH /residents/{id}` changes: `None` keeps the stored value;
/// for optional fields `Some(None)` clears it. Each value is valid.
pub struct ResidentEdit {
    pub name: Option<String>,
    pub category: Option<ResidentCategory>,
    pub phone: Option<Option<String>>,
    pub address: Option<String>,
    pub location: Option<Coordinates>,
    pub id_number: Option<Option<String>>,
    pub guardian_name: Option<Option<String>>,
    pub guardian_phone: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub active: Option<bool>,
}

/// Applies `edit`. A new category that needs vetted visitors takes effect
/// in the same transaction as its consequences
/// (`safeguarding::after_recategorised`).
pub async fn edit(
    db: &DatabaseConnection,
    settings: &Settings,
    id: Uuid,
    edit: ResidentEdit,
) -> AppResult<resident::Model> {
    let txn = db.begin().await?;
    let before = find(&txn, id).await?;
    let old_category = before.category;
    let mut model: resident::ActiveModel = before.into();
    if let Some(name) = edit.name {
        model.name = Set(name);
    }
    if let Some(category) = edit.category {
        model.category = Set(category);
    }
    if let Some(phone) = edit.phone {
        model.phone = Set(phone);
    }
    if let Some(address) = edit.address {
        model.address = Set(address);
    }
    if let Some(location) = edit.location {
        model.location_lat = Set(location.lat);
        model.location_lng = Set(location.lng);
    }
    if let Some(id_number) = edit.id_number {
        model.id_number_masked = Set(id_number.as_deref().map(mask_id_number));
    }
    if let Some(guardian_name) = edit.guardian_name {
        model.guardian_name = Set(guardian_name);
    }
    if let Some(guardian_phone) = edit.guardian_phone {
        model.guardian_phone = Set(guardian_phone);
    }
    if let Some(notes) = edit.notes {
        model.notes = Set(notes);
    }
    if let Some(active) = edit.active {
        model.active = Set(active);
    }
    let resident = model.update(&txn).await?;
    if resident.category != old_category {
        super::safeguarding::after_recategorised(&txn, settings, &resident).await?;
    }
    txn.commit().await?;
    Ok(resident)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<resident::Model> {
    Residents::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The resident a new request or pairing names: 422 when there is no
/// such resident, 422 `resident_inactive` (with `refusal` as the message)
/// when they are retired — nobody posts new service for them.
pub async fn find_active(
    db: &impl ConnectionTrait,
    id: Uuid,
    refusal: &str,
) -> AppResult<resident::Model> {
    let resident = Residents::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("resident_id", "服务对象不存在"))?;
    if !resident.active {
        return Err(AppError::unprocessable("resident_inactive", refusal));
    }
    Ok(resident)
}

pub async fn list(
    db: &impl ConnectionTrait,
    active: Option<bool>,
    page: PageRequest,
) -> AppResult<(Vec<resident::Model>, Option<String>)> {
    let mut query = Residents::find();
    if let Some(active) = active {
        query = query.filter(resident::Column::Active.eq(active));
    }
    newest_first(db, query, resident::Column::Id, page, |r| r.id).await
}

/// The most a search answers: a picker narrows by typing more, never by
/// paging through residents' records.
pub const SEARCH_LIMIT: u64 = 20;

/// Residents whose name contains `q`, or whose phone does when `q` is at
/// least four digits; newest first, at most [`SEARCH_LIMIT`] (fewer when
/// `limit` says so), with no further page.
pub async fn search(
    db: &impl ConnectionTrait,
    active: Option<bool>,
    q: &str,
    limit: u64,
) -> AppResult<(Vec<resident::Model>, Option<String>)> {
    // Lower-cased on both sides: PostgreSQL's LIKE minds case, SQLite's
    // does not, and a search should answer the same on both.
    let pattern = format!("%{}%", super::users::escape_like(&q.to_lowercase()));
    let like = |column: resident::Column| {
        Expr::expr(Func::lower(Expr::col((Residents, column))))
            .like(LikeExpr::new(pattern.clone()).escape('\\'))
    };
    let mut matches = Condition::any().add(like(resident::Column::Name));
    if q.len() >= 4 && q.chars().all(|c| c.is_ascii_digit()) {
        matches = matches.add(like(resident::Column::Phone));
    }
    let mut query = Residents::find().filter(matches);
    if let Some(active) = active {
        query = query.filter(resident::Column::Active.eq(active));
    }
    let rows = query
        .order_by_desc(resident::Column::Id)
        .limit(Ord::min(limit, SEARCH_LIMIT))
        .all(db)
        .await?;
    Ok((rows, None))
}

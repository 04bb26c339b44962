//! People's names once they carry weight: certificates are issued in the
//! real name, so after a volunteer's first approved record or certificate
//! they no longer rename themselves (409 `name_locked`); managers do, and
//! every change of a name is a row of the person's trail.

use chrono_tz::Tz;
use entity::certificate::{self, Entity as Certificates};
use entity::name_change::{self, Entity as Changes};
use entity::service_record::{self, Entity as Records};
use entity::user::{self, Entity as Users};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::now;
use super::paging::{PageRequest, newest_first};
use crate::domain::vocab::RecordStatus;
use crate::error::{AppError, AppResult};
use crate::views::{NameChangeView, local_time};

pub fn name_locked() -> AppError {
    AppError::conflict(
        "name_locked",
        "已有审核通过的服务记录或服务证明，姓名须由社区管理人员核实后修改",
    )
}

/// The account's row, locked for the rest of the transaction (a no-op on
/// SQLite, whose one writer is serial). An approval moves the same row's
/// approved minutes, so a rename and a first approval never pass each
/// other unseen.
pub async fn lock_account(db: &impl ConnectionTrait, id: Uuid) -> AppResult<user::Model> {
    Users::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Has the person an approved record (any version) or a certificate? Then
/// their name is on paper somewhere, and only a manager changes it.
pub async fn is_locked(db: &impl ConnectionTrait, id: Uuid) -> AppResult<bool> {
    let approved: Option<Uuid> = Records::find()
        .select_only()
        .column(service_record::Column::Id)
        .filter(service_record::Column::VolunteerId.eq(id))
        .filter(service_record::Column::Status.eq(RecordStatus::Approved))
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    if approved.is_some() {
        return Ok(true);
    }
    let certified: Option<Uuid> = Certificates::find()
        .select_only()
        .column(certificate::Column::Id)
        .filter(certificate::Column::VolunteerId.eq(id))
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(certified.is_some())
}

/// Writes one change of `before`'s name into the trail, in the caller's
/// transaction.
pub async fn record(
    db: &impl ConnectionTrait,
    before: &user::Model,
    name: &str,
    note: Option<String>,
    changed_by: Uuid,
) -> AppResult<()> {
    name_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(before.id),
        previous_name: Set(before.name.clone()),
        name: Set(name.to_string()),
        note: Set(note),
        changed_by: Set(changed_by),
        changed_at: Set(now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A manager's rename (`PATCH /users/{id}`), allowed whatever the person
/// has been certified for, and kept in the trail with the manager's note.
/// The same name again changes nothing and writes nothing.
pub async fn rename(
    db: &DatabaseConnection,
    id: Uuid,
    name: String,
    note: Option<String>,
    manager: Uuid,
) -> AppResult<user::Model> {
    let txn = db.begin().await?;
    let before = lock_account(&txn, id).await?;
    if before.name == name {
        txn.commit().await?;
        return Ok(before);
    }
    record(&txn, &before, &name, note, manager).await?;
    let mut model: user::ActiveModel = before.into();
    model.name = Set(name);
    let after = model.update(&txn).await?;
    txn.commit().await?;
    Ok(after)
}

/// One person's names, newest change first (managers).
pub async fn history(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    page: PageRequest,
    tz: Tz,
) -> AppResult<(Vec<NameChangeView>, Option<String>)> {
    super::accounts::find(db, user_id).await?;
    let query = Changes::find().filter(name_change::Column::UserId.eq(user_id));
    let (rows, cursor) = newest_first(db, query, name_change::Column::Id, page, |c| c.id).await?;
    let names = super::accounts::names_of(db, rows.iter().map(|c| c.changed_by)).await?;
    let views = rows
        .into_iter()
        .map(|c| NameChangeView {
            id: c.id,
            user_id: c.user_id,
            previous_name: c.previous_name,
            name: c.name,
            note: c.note,
            changed_by_name: names.get(&c.changed_by).cloned().unwrap_or_default(),
            changed_by: c.changed_by,
            changed_at: local_time(c.changed_at, tz),
        })
        .collect();
    Ok((views, cursor))
}

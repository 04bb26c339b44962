//! The access log of residents' personal data: written once per answer
//! that carried a resident's address, phone or ID number, read by
//! managers per resident. Never edited through the API.

use entity::resident_access::{self, Entity as AccessLog};
use entity::user::{self, Entity as Users};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

use super::now;
use super::paging::{self, PageRequest};
use crate::auth::AuthUser;
use crate::error::AppResult;

/// Records that `actor` received the personal data of `residents` through
/// `route`: one statement however many residents the answer carried.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &AuthUser,
    route: &str,
    residents: &[Uuid],
) -> AppResult<()> {
    let mut residents = residents.to_vec();
    residents.sort_unstable();
    residents.dedup();
    if residents.is_empty() {
        return Ok(());
    }
    let at = now();
    let rows = residents
        .into_iter()
        .map(|resident_id| resident_access::ActiveModel {
            id: sea_orm::ActiveValue::Set(Uuid::now_v7()),
            resident_id: sea_orm::ActiveValue::Set(resident_id),
            actor_id: sea_orm::ActiveValue::Set(actor.id),
            actor_role: sea_orm::ActiveValue::Set(actor.role.code().into()),
            route: sea_orm::ActiveValue::Set(route.into()),
            accessed_at: sea_orm::ActiveValue::Set(at),
        });
    AccessLog::insert_many(rows).exec(db).await?;
    Ok(())
}

/// One resident's entries, newest first, each with the actor's name.
pub async fn for_resident(
    db: &impl ConnectionTrait,
    resident_id: Uuid,
    page: PageRequest,
) -> AppResult<(
    Vec<(resident_access::Model, Option<String>)>,
    Option<String>,
)> {
    let query = AccessLog::find().filter(resident_access::Column::ResidentId.eq(resident_id));
    let (rows, next_cursor) =
        paging::newest_first(db, query, resident_access::Column::Id, page, |r| r.id).await?;
    let mut actors: Vec<Uuid> = rows.iter().map(|r| r.actor_id).collect();
    actors.sort_unstable();
    actors.dedup();
    let names: HashMap<Uuid, String> = Users::find()
        .filter(user::Column::Id.is_in(actors))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let rows = rows
        .into_iter()
        .map(|row| {
            let name = names.get(&row.actor_id).cloned();
            (row, name)
        })
        .collect();
    Ok((rows, next_cursor))
}

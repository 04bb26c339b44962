//! Cursor paging: lists run newest first by id (UUIDv7 ids sort by
//! creation time), and the cursor is the last id of a page.

use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageParams {
    /// 1–100, default 20; larger values are capped at 100.
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Uuid>,
}

impl PageParams {
    pub fn parse(&self) -> AppResult<PageRequest> {
        let limit = match self.limit {
            None => DEFAULT_LIMIT,
            Some(0) => return Err(AppError::invalid("limit", "limit 须为 1 到 100")),
            Some(n) => n.min(MAX_LIMIT),
        };
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(
                Uuid::parse_str(raw).map_err(|_| AppError::invalid("cursor", "无效的 cursor"))?,
            ),
        };
        Ok(PageRequest { limit, after })
    }
}

/// Fetch `limit + 1` rows, then call this: it trims the extra row and
/// gives the cursor of the next page when there is one.
pub fn finish<T>(
    mut rows: Vec<T>,
    limit: u64,
    id_of: impl Fn(&T) -> Uuid,
) -> (Vec<T>, Option<String>) {
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let cursor = if has_more {
        rows.last().map(|row| id_of(row).to_string())
    } else {
        None
    };
    (rows, cursor)
}

/// Runs `query` newest first (by its UUIDv7 `id` column), one page.
pub async fn newest_first<E, C>(
    db: &impl sea_orm::ConnectionTrait,
    query: sea_orm::Select<E>,
    id: C,
    page: PageRequest,
    id_of: impl Fn(&E::Model) -> Uuid,
) -> AppResult<(Vec<E::Model>, Option<String>)>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ColumnTrait,
{
    use sea_orm::{QueryFilter, QueryOrder, QuerySelect};
    let mut query = query.order_by_desc(id).limit(page.limit + 1);
    if let Some(after) = page.after {
        query = query.filter(id.lt(after));
    }
    Ok(finish(query.all(db).await?, page.limit, id_of))
}

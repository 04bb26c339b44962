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

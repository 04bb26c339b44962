//! Vetting of people (无犯罪记录证明): managers set the last day a
//! person's background check is valid, and read who set what, when, and
//! why.

use actix_web::{HttpResponse, get, put, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Manager;
use crate::domain::text;
use crate::error::{AppError, AppResult};
use crate::extract::Json;
use crate::service::paging::PageParams;
use crate::service::{accounts, vetting};
use crate::state::AppState;
use crate::validate;
use crate::views::{Page, UserView, VettingChangeView};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(set_vetting).service(vetting_history);
}

/// The longest note kept with a vetting change.
const NOTE_MAX_CHARS: usize = 500;

#[derive(Deserialize, ToSchema)]
pub struct VettingBody {
    /// The last day the check is valid (`YYYY-MM-DD`), or `null` to clear
    /// it. Required, so that leaving it out never clears it by mistake.
    #[serde(deserialize_with = "validate::present")]
    #[schema(value_type = Option<NaiveDate>, required = true)]
    vetted_until: Option<Option<NaiveDate>>,
    /// What the decision rests on (certificate number, issuing office …).
    #[schema(max_length = 500)]
    note: Option<String>,
}

/// Sets a person's background-check date (managers, admins) → 200 `user`.
/// Every change is kept with who made it and the note.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = VettingBody, responses(
    (status = 200, body = UserView),
))]
#[put("/users/{id}/vetting")]
async fn set_vetting(
    state: web::Data<AppState>,
    manager: Manager,
    id: web::Path<Uuid>,
    body: Json<VettingBody>,
) -> AppResult<HttpResponse> {
    let until = body.0.vetted_until.flatten();
    let note = text::clean_optional(body.0.note.as_deref(), NOTE_MAX_CHARS)
        .map_err(|message| AppError::invalid("note", message))?;
    let user = vetting::set(&state.db, &state.settings, *id, until, note, manager.0.id).await?;
    let view = accounts::user_view(
        &user,
        &state.settings.star_thresholds,
        state.settings.time_zone,
    )?;
    Ok(HttpResponse::Ok().json(view))
}

/// Who set a person's background-check date to what, when and why
/// (managers, admins), newest first.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = Uuid, Path), PageParams), responses(
    (status = 200, body = Page<VettingChangeView>),
))]
#[get("/users/{id}/vetting/history")]
async fn vetting_history(
    state: web::Data<AppState>,
    _: Manager,
    id: web::Path<Uuid>,
    query: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let page = query.parse()?;
    let (items, next_cursor) =
        vetting::history(&state.reads, *id, page, state.settings.time_zone).await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

//! Accounts as managers see them (`GET /users`), their lifecycle
//! (disable, enable), password changes, and managers' renames with the
//! trail of names.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Admin, AuthUser, Manager};
use crate::domain::text;
use crate::domain::vocab::{AccountStatus, Role};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::Json;
use crate::service::accounts::{self, find};
use crate::service::names;
use crate::service::paging::PageParams;
use crate::service::users::{self, UserFilter};
use crate::state::AppState;
use crate::validate;
use crate::views::{NameChangeView, Page, UserView};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(list_users)
        .service(get_user)
        .service(change_my_password)
        .service(set_user_password)
        .service(disable_user)
        .service(enable_user)
        .service(edit_user)
        .service(name_history);
}

#[derive(Deserialize, IntoParams)]
pub struct UserQuery {
    role: Option<Role>,
    status: Option<AccountStatus>,
    /// The start of a name or phone.
    q: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePasswordBody {
    current_password: String,
    /// 8 to 128 characters.
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SetPasswordBody {
    /// 8 to 128 characters.
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
}

fn new_password(raw: &str) -> AppResult<String> {
    validate::password(raw).map_err(|e| AppError::invalid("new_password", e))
}

/// Accounts, newest first, filtered by role, status and the start of a
/// name or phone (managers, admins).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(UserQuery), responses(
    (status = 200, body = Page<UserView>),
))]
#[get("/users")]
async fn list_users(
    state: web::Data<AppState>,
    _: Manager,
    query: web::Query<UserQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    let prefix = match query.q.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(q) => Some(text::clean(q, 50).map_err(|e| AppError::invalid("q", e.to_string()))?),
    };
    let filter = UserFilter {
        role: query.role,
        status: query.status,
        prefix,
    };
    let (rows, next_cursor) = users::list(&state.reads, filter, page).await?;
    let items = rows
        .iter()
        .map(|u| accounts::user_view(u, &state.settings.star_thresholds, state.settings.time_zone))
        .collect::<AppResult<_>>()?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// One account (managers, admins).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = UserView),
))]
#[get("/users/{id}")]
async fn get_user(
    state: web::Data<AppState>,
    _: Manager,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let user = find(&state.reads, *id).await?;
    Ok(HttpResponse::Ok().json(super::accounts::respond_user(&state, &user)?))
}

/// Changes the caller's password; every token issued before, this one
/// included, then answers 401 `token_revoked`.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = ChangePasswordBody, responses(
    (status = 204),
    (status = 401, description = "invalid_credentials: the current password is wrong", body = ErrorBody),
    (status = 429, description = "too_many_attempts: five wrong current passwords lock the phone like logins, with `Retry-After`", body = ErrorBody),
    (status = 503, description = "busy", body = ErrorBody),
))]
#[post("/me/password")]
async fn change_my_password(
    state: web::Data<AppState>,
    me: AuthUser,
    body: Json<ChangePasswordBody>,
) -> AppResult<HttpResponse> {
    let body = body.0;
    let new = new_password(&body.new_password)?;
    users::change_own_password(&state.db, &state.hashing, me.id, body.current_password, new)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sets someone's password (admins); every token of theirs stops working.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = SetPasswordBody, responses(
    (status = 204),
    (status = 503, description = "busy", body = ErrorBody),
))]
#[post("/users/{id}/password")]
async fn set_user_password(
    state: web::Data<AppState>,
    _: Admin,
    id: web::Path<Uuid>,
    body: Json<SetPasswordBody>,
) -> AppResult<HttpResponse> {
    let new = new_password(&body.0.new_password)?;
    users::set_password(&state.db, &state.hashing, *id, new).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Disables an account (admins; managers for volunteers and caseworkers):
/// its tokens answer 401 `account_disabled`, its login 403
/// `account_disabled`, and its sign-ups for requests not yet started are
/// withdrawn. Nobody disables themselves (403 `cannot_change_own_status`).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = UserView),
    (status = 403, description = "forbidden, or cannot_change_own_status", body = ErrorBody),
))]
#[post("/users/{id}/disable")]
async fn disable_user(
    state: web::Data<AppState>,
    manager: Manager,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let user = users::set_disabled(&state.db, &state.settings, &manager.0, *id, true).await?;
    Ok(HttpResponse::Ok().json(super::accounts::respond_user(&state, &user)?))
}

/// Enables a disabled account again; withdrawn sign-ups stay withdrawn
/// and the person logs in afresh.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = UserView),
    (status = 403, description = "forbidden, or cannot_change_own_status", body = ErrorBody),
))]
#[post("/users/{id}/enable")]
async fn enable_user(
    state: web::Data<AppState>,
    manager: Manager,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let user = users::set_disabled(&state.db, &state.settings, &manager.0, *id, false).await?;
    Ok(HttpResponse::Ok().json(super::accounts::respond_user(&state, &user)?))
}

/// The longest note kept with a rename.
const NOTE_MAX_CHARS: usize = 500;

#[derive(Deserialize, ToSchema)]
pub struct EditUserBody {
    /// The person's real name, as their ID card gives it: certificates
    /// are issued in it.
    #[schema(min_length = 1, max_length = 50)]
    name: Option<String>,
    /// Why the name changed (checked against the ID card …); kept in the
    /// trail.
    #[schema(max_length = 500)]
    note: Option<String>,
}

/// Renames a person (managers, admins), whatever they have been
/// certified for; the change is kept in their trail of names with who
/// made it and the note.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = EditUserBody, responses(
    (status = 200, body = UserView),
))]
#[patch("/users/{id}")]
async fn edit_user(
    state: web::Data<AppState>,
    manager: Manager,
    id: web::Path<Uuid>,
    body: Json<EditUserBody>,
) -> AppResult<HttpResponse> {
    let body = body.0;
    let mut check = validate::Checker::new();
    let name = match body.name.as_deref() {
        Some(name) => check.check("name", text::clean(name, 50)).map(Some),
        None => Some(None),
    };
    let note = check.check(
        "note",
        text::clean_optional(body.note.as_deref(), NOTE_MAX_CHARS),
    );
    let (name, note) = check.finish(name.zip(note))?;
    let user = match name {
        Some(name) => names::rename(&state.db, *id, name, note, manager.0.id).await?,
        None => find(&state.db, *id).await?,
    };
    Ok(HttpResponse::Ok().json(super::accounts::respond_user(&state, &user)?))
}

/// A person's names, newest change first: from what to what, by whom,
/// when and why (managers, admins).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = Uuid, Path), PageParams), responses(
    (status = 200, body = Page<NameChangeView>),
))]
#[get("/users/{id}/name/history")]
async fn name_history(
    state: web::Data<AppState>,
    _: Manager,
    id: web::Path<Uuid>,
    query: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let page = query.parse()?;
    let (items, next_cursor) =
        names::history(&state.reads, *id, page, state.settings.time_zone).await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

//! Residents (服务对象): for caseworkers and managers only. Volunteers
//! learn of residents through requests, masked.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Manager, Staff};
use crate::disclosure;
use crate::domain::geo::Coordinates;
use crate::domain::masking::parse_id_number;
use crate::domain::text;
use crate::domain::vocab::ResidentCategory;
use crate::error::{AppError, AppResult};
use crate::extract::Json;
use crate::service::paging::PageParams;
use crate::service::residents::{self, NewResident, ResidentEdit};
use crate::service::{access_log, pairings};
use crate::state::AppState;
use crate::validate::{self, Checker};
use crate::views::{AccessLogEntryView, Page, ResidentView};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(create_resident)
        .service(list_residents)
        .service(get_resident)
        .service(edit_resident)
        .service(resident_access_log);
}

#[derive(Deserialize, ToSchema)]
pub struct CreateResidentBody {
    #[schema(min_length = 1, max_length = 50)]
    name: String,
    category: ResidentCategory,
    /// A mobile or landline number (7–15 digits, `-`, `+`, spaces).
    #[schema(pattern = r"^[0-9+ -]{7,20}$", example = "010-62345678")]
    phone: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    address: String,
    location: Coordinates,
    /// 居民身份证号; only its masked form is kept.
    id_number: Option<String>,
    #[schema(min_length = 1, max_length = 50)]
    guardian_name: Option<String>,
    #[schema(pattern = r"^[0-9+ -]{7,20}$", example = "13812345678")]
    guardian_phone: Option<String>,
    #[schema(max_length = 2000)]
    notes: Option<String>,
}

/// Any field of `POST /residents`; those left out keep their value, and
/// `null` clears an optional one. `active: false` retires the resident
/// (no new requests), `true` brings them back.
#[derive(Deserialize, ToSchema)]
pub struct EditResidentBody {
    #[schema(min_length = 1, max_length = 50)]
    name: Option<String>,
    category: Option<ResidentCategory>,
    #[serde(default, deserialize_with = "validate::present")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9+ -]{7,20}$")]
    phone: Option<Option<String>>,
    #[schema(min_length = 1, max_length = 200)]
    address: Option<String>,
    location: Option<Coordinates>,
    #[serde(default, deserialize_with = "validate::present")]
    #[schema(value_type = Option<String>)]
    id_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 50)]
    guardian_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::present")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9+ -]{7,20}$")]
    guardian_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::present")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    notes: Option<Option<String>>,
    active: Option<bool>,
}

#[derive(Deserialize, IntoParams)]
pub struct ResidentFilter {
    /// `false`: retired residents only; `true`: active ones only.
    active: Option<bool>,
    /// A search: part of the name, or (four digits or more) part of the
    /// resident's phone. Answers at most 20, newest first, on one page.
    #[param(max_length = 50)]
    q: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

fn optional<T>(
    check: &mut Checker,
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Option<Option<T>> {
    match raw.map(str::trim) {
        None | Some("") => Some(None),
        Some(value) => check.check(field, parse(value)).map(Some),
    }
}

fn new_resident(body: CreateResidentBody) -> AppResult<NewResident> {
    let mut check = Checker::new();
    let name = check.check("name", text::clean(&body.name, 50));
    let address = check.check("address", text::clean(&body.address, 200));
    let location = check.coordinates("location", body.location);
    let phone = optional(
        &mut check,
        "phone",
        body.phone.as_deref(),
        validate::contact_phone,
    );
    let guardian_phone = optional(
        &mut check,
        "guardian_phone",
        body.guardian_phone.as_deref(),
        validate::contact_phone,
    );
    let id_number = optional(
        &mut check,
        "id_number",
        body.id_number.as_deref(),
        parse_id_number,
    );
    let guardian_name = check.check(
        "guardian_name",
        text::clean_optional(body.guardian_name.as_deref(), 50),
    );
    let notes = check.check("notes", text::clean_optional(body.notes.as_deref(), 2000));
    let values = (|| {
        Some(NewResident {
            name: name?,
            category: body.category,
            phone: phone?,
            address: address?,
            location: location?,
            id_number: id_number?,
            guardian_name: guardian_name?,
            guardian_phone: guardian_phone?,
            notes: notes?,
        })
    })();
    check.finish(values)
}

/// A given field of an edit, checked as on creation: `None` keeps the
/// stored value, `Some(None)` clears it.
fn edited<T>(
    check: &mut Checker,
    field: &str,
    raw: Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Option<Option<Option<T>>> {
    match raw {
        None => Some(None),
        Some(value) => optional(check, field, value.as_deref(), parse).map(Some),
    }
}

fn resident_edit(body: EditResidentBody) -> AppResult<ResidentEdit> {
    let mut check = Checker::new();
    let name = match &body.name {
        Some(name) => check.check("name", text::clean(name, 50)).map(Some),
        None => Some(None),
    };
    let address = match &body.address {
        Some(address) => check.check("address", text::clean(address, 200)).map(Some),
        None => Some(None),
    };
    let location = match body.location {
        Some(raw) => check.coordinates("location", raw).map(Some),
        None => Some(None),
    };
    let phone = edited(&mut check, "phone", body.phone, validate::contact_phone);
    let guardian_phone = edited(
        &mut check,
        "guardian_phone",
        body.guardian_phone,
        validate::contact_phone,
    );
    let id_number = edited(&mut check, "id_number", body.id_number, parse_id_number);
    let mut free_text = |field: &str, raw: Option<Option<String>>, max: usize| match raw {
        None => Some(None),
        Some(value) => check
            .check(field, text::clean_optional(value.as_deref(), max))
            .map(Some),
    };
    let guardian_name = free_text("guardian_name", body.guardian_name, 50);
    let notes = free_text("notes", body.notes, 2000);
    let values = (|| {
        Some(ResidentEdit {
            name: name?,
            category: body.category,
            phone: phone?,
            address: address?,
            location: location?,
            id_number: id_number?,
            guardian_name: guardian_name?,
            guardian_phone: guardian_phone?,
            notes: notes?,
            active: body.active,
        })
    })();
    check.finish(values)
}

/// Registers a resident who needs help (caseworkers, managers).
#[utoipa::path(tag = "residents", security(("bearer" = [])), request_body = CreateResidentBody, responses(
    (status = 201, body = ResidentView),
))]
#[post("/residents")]
async fn create_resident(
    state: web::Data<AppState>,
    staff: Staff,
    body: Json<CreateResidentBody>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let resident = residents::create(&state.db, new_resident(body.0)?, staff.0.id).await?;
    let view = ResidentView::build(&resident, state.settings.time_zone);
    disclosure::log(&state, &req, &staff.0, &view).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Lists residents, newest first (caseworkers, managers); `active`
/// filters retired or active ones; `q` searches by name or phone and
/// answers at most 20.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(ResidentFilter), responses(
    (status = 200, body = Page<ResidentView>),
))]
#[get("/residents")]
async fn list_residents(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<ResidentFilter>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    let search = match query.q.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(q) => Some(text::clean(q, 50).map_err(|e| AppError::invalid("q", e.to_string()))?),
    };
    let (rows, next_cursor) = match search {
        None => residents::list(&state.reads, query.active, page).await?,
        Some(q) => residents::search(&state.reads, query.active, &q, page.limit).await?,
    };
    let items = rows
        .iter()
        .map(|r| ResidentView::build(r, state.settings.time_zone))
        .collect::<Vec<_>>();
    let page = Page { items, next_cursor };
    disclosure::log(&state, &req, &staff.0, &page).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One resident's record; the ID number is masked.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ResidentView),
))]
#[get("/residents/{id}")]
async fn get_resident(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let resident = residents::find(&state.reads, *id).await?;
    let view = ResidentView::build(&resident, state.settings.time_zone);
    disclosure::log(&state, &req, &staff.0, &view).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Who received this resident's address, phone or ID number, when and
/// through which route, newest first (managers, admins). Read-only.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path), PageParams), responses(
    (status = 200, body = Page<AccessLogEntryView>),
))]
#[get("/residents/{id}/access-log")]
async fn resident_access_log(
    state: web::Data<AppState>,
    _: Manager,
    id: web::Path<Uuid>,
    query: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let page = query.parse()?;
    residents::find(&state.reads, *id).await?;
    let (rows, next_cursor) = access_log::for_resident(&state.reads, *id, page).await?;
    let tz = state.settings.time_zone;
    let items = rows
        .into_iter()
        .map(|(row, name)| AccessLogEntryView::new(row, name, tz))
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Edits a resident's record, or retires (`active: false`) or restores
/// them (caseworkers, managers).
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = EditResidentBody, responses(
    (status = 200, body = ResidentView),
))]
#[patch("/residents/{id}")]
async fn edit_resident(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<EditResidentBody>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let edit = resident_edit(body.0)?;
    let resident = residents::edit(&state.db, &state.settings, *id, edit).await?;
    if !resident.active {
        // A retired resident is visited no more.
        pairings::end_for_retired(&state.db).await?;
    }
    let view = ResidentView::build(&resident, state.settings.time_zone);
    disclosure::log(&state, &req, &staff.0, &view).await?;
    Ok(HttpResponse::Ok().json(view))
}

//! Accounts: register, login, `me`, and staff accounts made by admins.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Admin, AuthUser};
use crate::domain::availability::{Slot, WeeklySlot};
use crate::domain::geo::Coordinates;
use crate::domain::phone::Phone;
use crate::domain::text;
use crate::domain::vocab::{Role, ServiceCategory};
use crate::error::{AppResult, ErrorBody};
use crate::extract::{self, Json};
use crate::service::accounts::{self, NewAccount, ProfileChange};
use crate::service::{client_limit, location_limit};
use crate::state::AppState;
use crate::validate::{self, Checker};
use crate::views::{LoginView, RegisteredView, UserView};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(get_me)
        .service(update_me)
        .service(create_user);
}

#[derive(Deserialize, ToSchema)]
pub struct RegisterBody {
    /// Mainland mobile, `1[3-9]\d{9}`.
    #[schema(pattern = r"^1[3-9]\d{9}$", example = "13800138000")]
    phone: String,
    /// 8 to 128 characters.
    #[schema(min_length = 8, max_length = 128)]
    password: String,
    #[schema(min_length = 1, max_length = 50)]
    name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateUserBody {
    #[schema(pattern = r"^1[3-9]\d{9}$", example = "13800138000")]
    phone: String,
    #[schema(min_length = 8, max_length = 128)]
    password: String,
    #[schema(min_length = 1, max_length = 50)]
    name: String,
    role: Role,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    phone: String,
    password: String,
}

/// Any subset of the profile; `location: null` clears the location.
#[derive(Deserialize, ToSchema, Default)]
pub struct ProfileBody {
    #[schema(min_length = 1, max_length = 50)]
    name: Option<String>,
    skills: Option<Vec<ServiceCategory>>,
    #[serde(default, deserialize_with = "validate::present")]
    #[schema(value_type = Option<Coordinates>)]
    location: Option<Option<Coordinates>>,
    availability: Option<Vec<WeeklySlot>>,
}

fn new_account(phone: &str, password: &str, name: &str, role: Role) -> AppResult<NewAccount> {
    let mut check = Checker::new();
    let phone = check.check("phone", Phone::parse(phone));
    let password = check.check("password", validate::password(password));
    let name = check.check("name", text::clean(name, 50));
    check.finish(
        phone
            .zip(password)
            .zip(name)
            .map(|((phone, password), name)| NewAccount {
                phone,
                password,
                name,
                role,
            }),
    )
}

/// The account as answered: plain data, since the hours are kept on the
/// row itself.
pub(super) fn respond_user(state: &AppState, user: &entity::user::Model) -> AppResult<UserView> {
    accounts::user_view(
        user,
        &state.settings.star_thresholds,
        state.settings.time_zone,
    )
}

/// Counts a login or register attempt against the caller's address
/// (`LOGIN_ATTEMPTS_PER_MINUTE`).
async fn count_client_attempt(state: &AppState, req: &HttpRequest) -> AppResult<()> {
    let address = extract::caller_address(req, &state.settings);
    client_limit::count_attempt(
        &state.db,
        &address,
        state.settings.login_attempts_per_minute,
        crate::service::now(),
    )
    .await
}

/// Registers a volunteer from the phone app. Attempts per client address
/// are limited (`LOGIN_ATTEMPTS_PER_MINUTE`).
#[utoipa::path(tag = "accounts", request_body = RegisterBody, responses(
    (status = 201, body = RegisteredView),
    (status = 409, description = "phone_taken", body = ErrorBody),
    (status = 429, description = "too_many_attempts, with Retry-After", body = ErrorBody),
    (status = 503, description = "busy: too many password hashes waiting; Retry-After", body = ErrorBody),
))]
#[post("/auth/register")]
async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<RegisterBody>,
) -> AppResult<HttpResponse> {
    count_client_attempt(&state, &req).await?;
    let body = body.0;
    let account = new_account(&body.phone, &body.password, &body.name, Role::Volunteer)?;
    let user = accounts::create_account(&state.db, &state.hashing, account).await?;
    let access_token = state.tokens.issue(
        user.id,
        Role::Volunteer,
        user.token_version,
        crate::service::now(),
    )?;
    let user = respond_user(&state, &user)?;
    Ok(HttpResponse::Created().json(RegisteredView { user, access_token }))
}

/// Logs in with phone and password. Five failures for a phone within 15
/// minutes lock that phone for 15 minutes (429); attempts per client
/// address are limited too. A disabled account's right password is 403
/// `account_disabled`.
#[utoipa::path(tag = "accounts", request_body = LoginBody, responses(
    (status = 200, body = LoginView),
    (status = 401, description = "invalid_credentials", body = ErrorBody),
    (status = 403, description = "account_disabled", body = ErrorBody),
    (status = 429, description = "too_many_attempts, with Retry-After", body = ErrorBody),
    (status = 503, description = "busy: too many password hashes waiting; Retry-After", body = ErrorBody),
))]
#[post("/auth/login")]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginBody>,
) -> AppResult<HttpResponse> {
    count_client_attempt(&state, &req).await?;
    let body = body.0;
    let user = accounts::login(&state.db, &state.hashing, body.phone.trim(), body.password).await?;
    let role = user.role;
    let access_token =
        state
            .tokens
            .issue(user.id, role, user.token_version, crate::service::now())?;
    let user = respond_user(&state, &user)?;
    Ok(HttpResponse::Ok().json(LoginView {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl_secs(),
        user,
    }))
}

/// The caller's account with approved hours and star level.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses(
    (status = 200, body = UserView),
))]
#[get("/me")]
async fn get_me(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    let user = accounts::find(&state.reads, me.id).await?;
    Ok(HttpResponse::Ok().json(respond_user(&state, &user)?))
}

/// Updates the caller's name, skills, location and weekly availability.
/// Once the caller has an approved service record or a certificate, a
/// new name is refused (409 `name_locked`): a manager renames them.
/// The location moves at most `LOCATION_CHANGES_PER_DAY` times a local
/// day (setting the same one again does not count).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = ProfileBody, responses(
    (status = 200, body = UserView),
    (status = 409, description = "name_locked: the name is on approved service or a certificate; a manager changes it", body = ErrorBody),
    (status = 429, description = "too_many_location_changes, with Retry-After", body = ErrorBody),
))]
#[patch("/me")]
async fn update_me(
    state: web::Data<AppState>,
    me: AuthUser,
    body: Json<ProfileBody>,
) -> AppResult<HttpResponse> {
    let change = profile_change(body.0)?;
    let user =
        location_limit::update_own_profile(&state.db, me.id, change, &state.settings).await?;
    Ok(HttpResponse::Ok().json(respond_user(&state, &user)?))
}

fn profile_change(body: ProfileBody) -> AppResult<ProfileChange> {
    let mut check = Checker::new();
    let name = match body.name {
        Some(name) => check.check("name", text::clean(&name, 50)).map(Some),
        None => Some(None),
    };
    let location = match body.location {
        Some(Some(raw)) => check.coordinates("location", raw).map(|c| Some(Some(c))),
        Some(None) => Some(Some(None)),
        None => Some(None),
    };
    if let Some(slots) = &body.availability {
        if slots.len() > 50 {
            check.fail("availability", "最多 50 个时段");
        }
        for (i, slot) in slots.iter().enumerate() {
            check.check(&format!("availability[{i}]"), Slot::parse(slot));
        }
    }
    let skills = body.skills.map(|mut skills| {
        skills.sort_by_key(|s| s.code());
        skills.dedup();
        skills
    });
    check.finish(name.zip(location).map(|(name, location)| ProfileChange {
        name,
        skills,
        location,
        availability: body.availability,
    }))
}

/// Creates an account of any role (admins only).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = CreateUserBody, responses(
    (status = 201, body = UserView),
    (status = 409, description = "phone_taken", body = ErrorBody),
))]
#[post("/users")]
async fn create_user(
    state: web::Data<AppState>,
    _: Admin,
    body: Json<CreateUserBody>,
) -> AppResult<HttpResponse> {
    let body = body.0;
    let account = new_account(&body.phone, &body.password, &body.name, body.role)?;
    let user = accounts::create_account(&state.db, &state.hashing, account).await?;
    Ok(HttpResponse::Created().json(respond_user(&state, &user)?))
}

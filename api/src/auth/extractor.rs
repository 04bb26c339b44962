//! `AuthUser` and the role extractors. They read the token (its `sub`,
//! `role` and `ver` claims) and the account check that `standing`'s
//! middleware already made, so they resolve at once and their 401/403
//! always comes before any complaint about the request body.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header, web};
use uuid::Uuid;

use crate::domain::vocab::Role;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub role: Role,
}

/// The bearer token of a request, if it carries one.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn authenticate(req: &HttpRequest) -> AppResult<AuthUser> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("state missing"))?;
    let token = bearer_token(req).ok_or(AppError::Unauthorized)?;
    let verified = state.tokens.verify(token, chrono::Utc::now().timestamp())?;
    // No verdict means the middleware found the token invalid a moment
    // ago (a clock edge): refuse, as it would have.
    let checked = req
        .extensions()
        .get::<super::standing::Checked>()
        .copied()
        .filter(|checked| checked.id == verified.id)
        .ok_or(AppError::Unauthorized)?;
    checked
        .verdict
        .map_err(super::standing::CheckFailed::into_error)?
        .into_result()?;
    Ok(AuthUser {
        id: verified.id,
        role: verified.role,
    })
}

/// The caller, when the request carries a token the account accepts now
/// (the standing middleware's verdict); `None` for anonymous callers and
/// for every token an extractor would refuse.
pub fn accepted_caller(req: &HttpRequest) -> Option<AuthUser> {
    authenticate(req).ok()
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Ready<AppResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

/// The caller when a token is given; anonymous otherwise. A token that is
/// given but bad is still a 401.
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl FromRequest for MaybeAuthUser {
    type Error = AppError;
    type Future = Ready<AppResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match bearer_token(req) {
            None => Ok(Self(None)),
            Some(_) => authenticate(req).map(|user| Self(Some(user))),
        })
    }
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $allowed:expr) => {
        $(#[$doc])*
        pub struct $name(pub AuthUser);

        impl FromRequest for $name {
            type Error = AppError;
            type Future = Ready<AppResult<Self>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let allowed: fn(Role) -> bool = $allowed;
                ready(authenticate(req).and_then(|user| {
                    if allowed(user.role) { Ok(Self(user)) } else { Err(AppError::Forbidden) }
                }))
            }
        }
    };
}

role_extractor!(
    /// Admins only.
    Admin,
    |role| role == Role::Admin
);
role_extractor!(
    /// Managers and admins.
    Manager,
    Role::is_manager
);
role_extractor!(
    /// Caseworkers, managers and admins.
    Staff,
    Role::is_staff
);
role_extractor!(
    /// Volunteers only.
    Volunteer,
    |role| role == Role::Volunteer
);

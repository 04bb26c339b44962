//! Accounts: registration, staff accounts, login, profiles, and the
//! hours and star level shown on `GET /me`.

use std::collections::HashMap;

use chrono_tz::Tz;
use entity::service_record::{self, Entity as Records};
use entity::user::{self, Entity as Users};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{login_throttle, names, now};
use crate::auth::{HashGate, hash_password, verify_password};
use crate::domain::availability::WeeklySlot;
use crate::domain::geo::Coordinates;
use crate::domain::phone::Phone;
use crate::domain::stars::StarThresholds;
use crate::domain::vocab::{AccountStatus, CodeList, Role, ServiceCategory};
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::views::{UserView, local_time, round2};

pub struct NewAccount {
    pub phone: Phone,
    pub password: String,
    pub name: String,
    pub role: Role,
}

pub async fn create_account(
    db: &impl ConnectionTrait,
    gate: &HashGate,
    account: NewAccount,
) -> AppResult<user::Model> {
    let exists = Users::find()
        .filter(user::Column::Phone.eq(account.phone.as_str()))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Err(phone_taken());
    }
    let password_hash = hash_password(gate, account.password).await?;
    let model = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        phone: Set(account.phone.into_inner()),
        password_hash: Set(password_hash),
        name: Set(account.name),
        role: Set(account.role),
        skills: Set(CodeList::default()),
        location_lat: Set(None),
        location_lng: Set(None),
        availability: Set("[]".into()),
        created_at: Set(now()),
        status: Set(AccountStatus::Active),
        vetted_until: Set(None),
        token_version: Set(0),
        approved_minutes: Set(0),
    };
    // Two registrations racing for one phone: the unique index decides.
    model.insert(db).await.map_err(|e| {
        if is_unique_violation(&e) {
            phone_taken()
        } else {
            e.into()
        }
    })
}

fn phone_taken() -> AppError {
    AppError::conflict("phone_taken", "该手机号已注册")
}

/// Creates the first admin from the environment unless the phone exists;
/// an existing account is never overwritten.
pub async fn ensure_bootstrap_admin(
    db: &impl ConnectionTrait,
    gate: &HashGate,
    phone: &str,
    password: &str,
) -> Result<(), String> {
    let phone = Phone::parse(phone).map_err(|e| format!("BOOTSTRAP_ADMIN_PHONE: {e}"))?;
    if password.chars().count() < 8 {
        return Err("BOOTSTRAP_ADMIN_PASSWORD must have at least 8 characters".into());
    }
    let account = NewAccount {
        phone,
        password: password.into(),
        name: "管理员".into(),
        role: Role::Admin,
    };
    match create_account(db, gate, account).await {
        Ok(_) => {
            tracing::info!("bootstrap admin created");
            Ok(())
        }
        Err(AppError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Checks a phone and password, throttled per phone. A disabled account
/// hears so (403) only after the right password, so its status tells a
/// guesser nothing.
pub async fn login(
    db: &impl ConnectionTrait,
    gate: &HashGate,
    phone: &str,
    password: String,
) -> AppResult<user::Model> {
    let now = now();
    if Phone::parse(phone).is_err() {
        // No account can have it; spend the same time as a real check.
        verify_password(gate, password, None).await?;
        return Err(AppError::InvalidCredentials);
    }
    let attempt = login_throttle::admit(db, phone, now).await?;
    let user = Users::find()
        .filter(user::Column::Phone.eq(phone))
        .one(db)
        .await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let ok = match verify_password(gate, password, stored).await {
        Ok(ok) => ok,
        Err(err) => {
            login_throttle::forget(db, attempt).await?;
            return Err(err);
        }
    };
    match user {
        Some(user) if ok => {
            login_throttle::clear(db, phone).await?;
            if user.status != AccountStatus::Active {
                return Err(AppError::denied("account_disabled", "账号已停用"));
            }
            Ok(user)
        }
        // The attempt's row stays: it is the failure.
        _ => Err(AppError::InvalidCredentials),
    }
}

/// Holds a share lock on an account's row for the rest of the transaction
/// (none on SQLite, whose single connection is serial anyway) and refuses
/// a disabled account, so no write of theirs slips past a disable.
pub async fn lock_active(db: &impl ConnectionTrait, id: Uuid) -> AppResult<()> {
    let status: Option<AccountStatus> = Users::find_by_id(id)
        .select_only()
        .column(user::Column::Status)
        .lock_shared()
        .into_tuple()
        .one(db)
        .await?;
    match status {
        Some(AccountStatus::Active) => Ok(()),
        Some(_) => Err(AppError::AccountDisabled),
        None => Err(AppError::Unauthorized),
    }
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<user::Model> {
    Users::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The names of `ids` (the people a list of changes, records or log
/// entries names), for showing who did what; unknown ids are left out.
pub async fn names_of(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    Ok(Users::find()
        .select_only()
        .columns([user::Column::Id, user::Column::Name])
        .filter(user::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// A validated profile change; `None` leaves a field as it is.
#[derive(Default)]
pub struct ProfileChange {
    pub name: Option<String>,
    pub skills: Option<Vec<ServiceCategory>>,
    pub location: Option<Option<Coordinates>>,
    pub availability: Option<Vec<WeeklySlot>>,
}

/// The caller's own profile change, inside the caller's transaction
/// (`location_limit::update_own_profile` opens it). A new name is refused
/// (409 `name_locked`) once the person has approved service or a
/// certificate, and is otherwise kept in their trail.
pub async fn update_profile(
    txn: &impl ConnectionTrait,
    id: Uuid,
    change: ProfileChange,
) -> AppResult<user::Model> {
    let current = names::lock_account(txn, id).await?;
    let mut model: user::ActiveModel = current.clone().into();
    if let Some(name) = change.name.filter(|name| *name != current.name) {
        if names::is_locked(txn, id).await? {
            return Err(names::name_locked());
        }
        names::record(txn, &current, &name, None, id).await?;
        model.name = Set(name);
    }
    if let Some(skills) = change.skills {
        model.skills = Set(CodeList(skills));
    }
    if let Some(location) = change.location {
        model.location_lat = Set(location.map(|l| l.lat));
        model.location_lng = Set(location.map(|l| l.lng));
    }
    if let Some(slots) = change.availability {
        model.availability = Set(serde_json::to_string(&slots).map_err(AppError::internal)?);
    }
    Ok(model.update(txn).await?)
}

/// Sets every account's kept approved minutes from its records — for
/// records that went in without a review (the demo seed). Reviews keep the
/// figure themselves ([`add_approved_minutes`]).
pub async fn recount_approved_minutes(db: &impl ConnectionTrait) -> AppResult<()> {
    use sea_orm::sea_query::{Func, Query};
    let total = Query::select()
        .expr(Func::coalesce([
            Expr::col((Records, service_record::Column::Minutes)).sum(),
            Expr::val(0i64),
        ]))
        .from(Records)
        .and_where(
            Expr::col((Records, service_record::Column::VolunteerId))
                .equals((Users, user::Column::Id)),
        )
        .cond_where(super::service_records::counts_as_approved())
        .to_owned();
    Users::update_many()
        .col_expr(
            user::Column::ApprovedMinutes,
            Expr::SubQuery(None, Box::new(total.into())),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Moves a volunteer's kept approved minutes by `delta` in the caller's
/// transaction. One atomic `SET x = x + delta`: two reviews of the same
/// volunteer's records committing at once both count.
pub async fn add_approved_minutes(
    db: &impl ConnectionTrait,
    volunteer: Uuid,
    delta: i64,
) -> AppResult<()> {
    if delta == 0 {
        return Ok(());
    }
    Users::update_many()
        .col_expr(
            user::Column::ApprovedMinutes,
            Expr::col(user::Column::ApprovedMinutes).add(delta),
        )
        .filter(user::Column::Id.eq(volunteer))
        .exec(db)
        .await?;
    Ok(())
}

/// The account as shown, with the kept approved minutes.
pub fn user_view(user: &user::Model, stars: &StarThresholds, tz: Tz) -> AppResult<UserView> {
    let approved_minutes = user.approved_minutes;
    let location = match (user.location_lat, user.location_lng) {
        (Some(lat), Some(lng)) => Some(Coordinates { lat, lng }),
        _ => None,
    };
    Ok(UserView {
        id: user.id,
        phone: user.phone.clone(),
        name: user.name.clone(),
        role: user.role,
        skills: user.skills.clone().into_vec(),
        location,
        availability: serde_json::from_str(&user.availability).map_err(AppError::internal)?,
        approved_hours: round2(approved_minutes as f64 / 60.0),
        star_level: stars.level(approved_minutes),
        vetted_until: user.vetted_until,
        created_at: local_time(user.created_at, tz),
        status: user.status,
    })
}

//! Volunteers' calendar feeds: one secret address per volunteer, stored as
//! its SHA-256; a new one replaces the old in one transaction.

use base64::Engine;
use chrono_tz::Tz;
use entity::calendar_feed::{self, Entity as Feeds};
use entity::help_request::{self, Entity as Requests};
use entity::resident::Entity as Residents;
use entity::signup::{self, Entity as Signups};
use entity::user::Entity as Users;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QuerySelect, QueryTrait, TransactionTrait,
};
use uuid::Uuid;

use super::now;
use crate::auth::AuthUser;
use crate::domain::calendar_feed::{DAYS_BACK, FeedEvent, token_hash};
use crate::domain::vetting;
use crate::domain::vocab::{AccountStatus, RequestStatus, SignupStatus};
use crate::error::{AppError, AppResult};

/// Makes a new secret for `user_id`, replacing any earlier one (whose
/// address stops working at once). Returns the secret: it is stored only
/// hashed, so this is the one time it is known.
pub async fn rotate(db: &DatabaseConnection, user_id: Uuid) -> AppResult<String> {
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let txn = db.begin().await?;
    Feeds::delete_many()
        .filter(calendar_feed::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    calendar_feed::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(token_hash(&token)),
        created_at: Set(now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(token)
}

/// Ends the person's feed address (404 from then on), in the caller's
/// transaction: the address is a credential, and it ends with the access
/// it stood for (a password change or reset, disabling, leaving a team).
/// The person may make a new one.
pub async fn end(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<()> {
    Feeds::delete_many()
        .filter(calendar_feed::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A manager ends someone's feed address; 404 for an unknown person.
pub async fn end_for(db: &DatabaseConnection, user_id: Uuid) -> AppResult<()> {
    let txn = db.begin().await?;
    super::accounts::find(&txn, user_id).await?;
    end(&txn, user_id).await?;
    txn.commit().await?;
    Ok(())
}

/// The feed's owner (as the access log names them), its events, and the
/// residents whose addresses it carries. 404 for an unknown or replaced
/// secret, or an account that is no longer active.
pub async fn feed(
    db: &impl ConnectionTrait,
    token: &str,
    now: i64,
    tz: Tz,
) -> AppResult<(AuthUser, Vec<FeedEvent>, Vec<Uuid>)> {
    let owner = Feeds::find()
        .filter(calendar_feed::Column::TokenHash.eq(token_hash(token)))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let user = Users::find_by_id(owner.user_id)
        .one(db)
        .await?
        .filter(|u| u.status == AccountStatus::Active)
        .ok_or(AppError::NotFound)?;
    let signed_up = Signups::find()
        .select_only()
        .column(signup::Column::RequestId)
        .filter(signup::Column::VolunteerId.eq(user.id))
        // A withdrawn volunteer's calendar drops the visit, and with it
        // the address they no longer go to.
        .filter(signup::Column::Status.is_in(SignupStatus::HOLDING))
        .into_query();
    let rows = Requests::find()
        .find_also_related(Residents)
        .filter(help_request::Column::Id.in_subquery(signed_up))
        .filter(help_request::Column::EndsAt.gte(now - DAYS_BACK * 86_400))
        .all(db)
        .await?;
    let mut residents = Vec::new();
    let mut events: Vec<FeedEvent> = rows
        .into_iter()
        .map(|(request, resident)| {
            // The volunteer is signed up: they go to the address — a
            // child's or a disabled resident's only while their check
            // covers the day (the same rule as reading the request).
            let location = match resident {
                Some(r) => {
                    let visit = vetting::Visit {
                        resident: Some(r.category),
                        starts_on: vetting::local_day(request.starts_at, tz),
                    };
                    vetting::sees_address(true, user.vetted_until, &visit).then(|| {
                        residents.push(r.id);
                        r.address
                    })
                }
                None => request.address.clone(),
            };
            FeedEvent {
                request_id: request.id,
                title: request.title,
                starts_at: request.starts_at,
                ends_at: request.ends_at,
                location,
                cancelled: request.status == RequestStatus::Cancelled,
                updated_at: request.updated_at,
            }
        })
        .collect();
    events.sort_by_key(|e| (e.starts_at, e.request_id));
    let reader = AuthUser {
        id: user.id,
        role: user.role,
    };
    Ok((reader, events, residents))
}

//! Whether the account behind a valid token still accepts it: not
//! disabled, and the token issued under the account's current
//! `token_version` (a password change raises it).
//!
//! [`middleware`] answers that before any extractor runs and leaves the
//! verdict in the request's extensions, so the extractors stay
//! synchronous and their 401/403 still comes before any complaint about
//! the body. Routes without an auth extractor (login, register) ignore it,
//! so a stale token sent along never blocks logging in again.
//!
//! Requests that may write (any method but GET, HEAD, OPTIONS) always ask
//! the database: no disabled or revoked token changes anything. Reads use
//! [`AccountCache`], whose entries count only in the read cache's current
//! generation while its change channel is live (see `read_cache`): every
//! write in this process, and on PostgreSQL every committed change to
//! `users` in any process (migration 7's trigger), retires them all.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use entity::user::{self, Entity as Users};
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use uuid::Uuid;

use super::token::Verified;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// What the database says about an account, as far as tokens care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub disabled: bool,
    pub token_version: i32,
}

/// Why a valid token is refused, or that it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    Disabled,
    Revoked,
    /// No such account (any more): a plain 401.
    Unknown,
}

/// The rule: a disabled account refuses every token (checked first, so a
/// disabled person hears why); otherwise the token must carry the
/// account's current version.
pub fn judge(token_version: i32, standing: Option<Standing>) -> Verdict {
    match standing {
        None => Verdict::Unknown,
        Some(s) if s.disabled => Verdict::Disabled,
        Some(s) if s.token_version != token_version => Verdict::Revoked,
        Some(_) => Verdict::Accepted,
    }
}

impl Verdict {
    pub fn into_result(self) -> AppResult<()> {
        match self {
            Self::Accepted => Ok(()),
            Self::Disabled => Err(AppError::AccountDisabled),
            Self::Revoked => Err(AppError::TokenRevoked),
            Self::Unknown => Err(AppError::Unauthorized),
        }
    }
}

/// The middleware's verdict on the request's token, read by the
/// extractors. `Err`: the lookup failed (logged here; a 5xx in the
/// extractor, never a 401).
#[derive(Clone, Copy)]
pub struct Checked {
    pub id: Uuid,
    pub verdict: Result<Verdict, CheckFailed>,
}

/// Why the account could not be checked: the database did not answer
/// (503), or something else failed (500).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckFailed {
    Unavailable,
    Internal,
}

impl CheckFailed {
    fn of(err: &AppError) -> Self {
        match err {
            AppError::Unavailable(_) | AppError::StorageFull(_) => Self::Unavailable,
            _ => Self::Internal,
        }
    }

    pub fn into_error(self) -> AppError {
        match self {
            Self::Unavailable => {
                AppError::Unavailable("account check: database unavailable".into())
            }
            Self::Internal => AppError::internal("account check failed"),
        }
    }
}

#[derive(Clone, Copy)]
struct Entry {
    generation: u64,
    standing: Option<Standing>,
}

/// Each account's standing as loaded in one read-cache generation.
pub struct AccountCache {
    entries: quick_cache::sync::Cache<Uuid, Entry>,
}

impl AccountCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: quick_cache::sync::Cache::new(capacity.max(16)),
        }
    }

    fn get(&self, id: Uuid, generation: u64) -> Option<Option<Standing>> {
        self.entries
            .get(&id)
            .filter(|entry| entry.generation == generation)
            .map(|entry| entry.standing)
    }

    fn put(&self, id: Uuid, generation: u64, standing: Option<Standing>) {
        self.entries.insert(
            id,
            Entry {
                generation,
                standing,
            },
        );
    }
}

/// The account's standing: from memory for reads while that is exact, else
/// from the database.
async fn standing(state: &AppState, id: Uuid, may_write: bool) -> AppResult<Option<Standing>> {
    // Captured before the lookup: a load that races a change is stored
    // under the old generation and never used.
    let generation = state.read_cache.live_generation();
    if let (Some(generation), false) = (generation, may_write)
        && let Some(found) = state.accounts.get(id, generation)
    {
        state.metrics.account_check(true);
        return Ok(found);
    }
    state.metrics.account_check(false);
    let found = load(&state.reads, id).await?;
    if let Some(generation) = generation {
        state.accounts.put(id, generation, found);
    }
    Ok(found)
}

pub async fn load(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<Standing>> {
    let row: Option<(String, i32)> = Users::find_by_id(id)
        .select_only()
        .column(user::Column::Status)
        .column(user::Column::TokenVersion)
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(|(status, token_version)| Standing {
        disabled: status != "active",
        token_version,
    }))
}

/// Checks the account of a request's valid bearer token, if any, and
/// leaves the verdict for the extractors.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let verified: Option<Verified> = state.as_ref().and_then(|state| {
        super::bearer_token_of(req.request())
            .and_then(|token| state.tokens.verify(token, crate::service::now()).ok())
    });
    if let (Some(state), Some(verified)) = (state, verified) {
        let may_write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let verdict = match standing(&state, verified.id, may_write).await {
            Ok(found) => Ok(judge(verified.version, found)),
            Err(err) => {
                tracing::error!(?err, "account check failed");
                Err(CheckFailed::of(&err))
            }
        };
        req.extensions_mut().insert(Checked {
            id: verified.id,
            verdict,
        });
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(version: i32) -> Option<Standing> {
        Some(Standing {
            disabled: false,
            token_version: version,
        })
    }

    #[test]
    fn a_token_of_the_current_version_is_accepted() {
        assert_eq!(judge(0, active(0)), Verdict::Accepted);
        assert_eq!(judge(3, active(3)), Verdict::Accepted);
    }

    #[test]
    fn a_token_from_before_a_password_change_is_revoked() {
        assert_eq!(judge(0, active(1)), Verdict::Revoked);
        assert_eq!(judge(2, active(1)), Verdict::Revoked);
    }

    #[test]
    fn a_disabled_account_refuses_every_token_and_says_so() {
        let disabled = Some(Standing {
            disabled: true,
            token_version: 1,
        });
        assert_eq!(judge(1, disabled), Verdict::Disabled);
        assert_eq!(judge(0, disabled), Verdict::Disabled);
        assert_eq!(judge(0, None), Verdict::Unknown);
    }

    #[test]
    fn an_entry_counts_only_in_its_generation() {
        let cache = AccountCache::new(100);
        let id = Uuid::now_v7();
        cache.put(id, 4, active(0));
        assert_eq!(cache.get(id, 4), Some(active(0)));
        assert_eq!(cache.get(id, 5), None);
    }
}

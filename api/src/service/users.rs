//! The account lifecycle: the list of accounts for managers, disabling and
//! enabling, and password changes that end every earlier token.

use entity::user::{self, Entity as Users};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
    sea_query::{Expr, ExprTrait, LikeExpr},
};
use uuid::Uuid;

use super::accounts::find;
use super::paging::{self, PageRequest};
use super::withdrawals::{self, Scope};
use super::{calendar_feeds, login_throttle, now};
use crate::auth::{AuthUser, HashGate, hash_password, verify_password};
use crate::config::Settings;
use crate::domain::account_rules::{StatusRefusal, may_change_status};
use crate::domain::vocab::{AccountStatus, Role};
use crate::error::{AppError, AppResult};

/// Filters of `GET /users`.
pub struct UserFilter {
    pub role: Option<Role>,
    pub status: Option<AccountStatus>,
    /// The start of a name or phone.
    pub prefix: Option<String>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    filter: UserFilter,
    page: PageRequest,
) -> AppResult<(Vec<user::Model>, Option<String>)> {
    let mut query = Users::find();
    if let Some(role) = filter.role {
        query = query.filter(user::Column::Role.eq(role));
    }
    if let Some(status) = filter.status {
        query = query.filter(user::Column::Status.eq(status));
    }
    if let Some(prefix) = filter.prefix {
        let pattern = format!("{}%", escape_like(&prefix));
        let like = |column: user::Column| {
            Expr::col((Users, column)).like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        query = query.filter(
            Condition::any()
                .add(like(user::Column::Name))
                .add(like(user::Column::Phone)),
        );
    }
    paging::newest_first(db, query, user::Column::Id, page, |u| u.id).await
}

/// `%`, `_` and the escape itself match literally.
pub(crate) fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Disables or enables an account. Disabling also ends its tokens (an
/// enabled account logs in afresh) and, in the same transaction,
/// withdraws its sign-ups for requests not yet started, freeing the
/// places (`signup.withdrawn`, reason `account_disabled`). Enabling
/// restores neither.
pub async fn set_disabled(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &AuthUser,
    target: Uuid,
    disabled: bool,
) -> AppResult<user::Model> {
    let txn = db.begin().await?;
    let account = find(&txn, target).await?;
    let role = account.role;
    may_change_status(actor.id, actor.role, target, role).map_err(|refusal| match refusal {
        StatusRefusal::OwnAccount => {
            AppError::denied("cannot_change_own_status", "不能停用或启用自己的账号")
        }
        StatusRefusal::NotTheirs | StatusRefusal::NoRight => AppError::Forbidden,
    })?;
    if disabled {
        // Only an active account changes: a second disable is a no-op
        // rather than another revocation.
        let changed = Users::update_many()
            .col_expr(user::Column::Status, Expr::value(AccountStatus::Disabled))
            .col_expr(
                user::Column::TokenVersion,
                Expr::col(user::Column::TokenVersion).add(1),
            )
            .filter(user::Column::Id.eq(target))
            .filter(user::Column::Status.eq(AccountStatus::Active))
            .exec(&txn)
            .await?;
        if changed.rows_affected > 0 {
            withdrawals::recheck(&txn, settings, Scope::Volunteer(target), now()).await?;
            calendar_feeds::end(&txn, target).await?;
        }
    } else {
        Users::update_many()
            .col_expr(user::Column::Status, Expr::value(AccountStatus::Active))
            .filter(user::Column::Id.eq(target))
            .exec(&txn)
            .await?;
    }
    let account = find(&txn, target).await?;
    txn.commit().await?;
    Ok(account)
}

/// The caller's own change: the current password must be right.
pub async fn change_own_password(
    db: &DatabaseConnection,
    gate: &HashGate,
    id: Uuid,
    current: String,
    new: String,
) -> AppResult<()> {
    let account = find(db, id).await?;
    // The current password is guessed like a login's, so it is throttled
    // like one: a stolen token must not buy unlimited guesses.
    let attempt = login_throttle::admit(db, &account.phone, now()).await?;
    let right = match verify_password(gate, current, Some(account.password_hash)).await {
        Ok(right) => right,
        Err(err) => {
            login_throttle::forget(db, attempt).await?;
            return Err(err);
        }
    };
    if !right {
        return Err(AppError::InvalidCredentials);
    }
    login_throttle::clear(db, &account.phone).await?;
    set_password(db, gate, id, new).await
}

/// Stores a new password and raises the token version, so every token
/// issued before answers 401 `token_revoked`; the calendar address ends
/// in the same transaction.
pub async fn set_password(
    db: &DatabaseConnection,
    gate: &HashGate,
    id: Uuid,
    new: String,
) -> AppResult<()> {
    let hash = hash_password(gate, new).await?;
    let txn = db.begin().await?;
    let changed = Users::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        )
        .filter(user::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    calendar_feeds::end(&txn, id).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_match_literally() {
        assert_eq!(escape_like("138"), "138");
        assert_eq!(escape_like("50%_\\"), "50\\%\\_\\\\");
    }
}

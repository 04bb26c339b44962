//! Changes of membership after joining: approval of pending members,
//! leaving (or being removed from) a team, and holding unvetted members
//! when a team becomes vetted.

use chrono::NaiveDate;
use chrono_tz::Tz;
use entity::team_member::{self, Entity as Members};
use entity::user::{self, Entity as Users};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{Condition, Expr, Query},
};
use uuid::Uuid;

use super::withdrawals::{self, Scope};
use super::{calendar_feeds, now, teams};
use crate::config::Settings;
use crate::domain::vetting;
use crate::domain::vocab::MemberStatus;
use crate::error::{AppError, AppResult};
use crate::views::MembershipView;

/// Makes a pending member active, only while their check holds today
/// (422 `volunteer_not_vetted`). Approving an active member changes
/// nothing and says so with the same answer.
pub async fn approve(
    db: &impl ConnectionTrait,
    team_id: Uuid,
    user_id: Uuid,
    tz: Tz,
) -> AppResult<MembershipView> {
    let row = teams::member_row(db, team_id, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let role = row.role;
    if row.status != MemberStatus::Active {
        let vetted_until = Users::find_by_id(user_id)
            .one(db)
            .await?
            .and_then(|u| u.vetted_until);
        vetting::approve(vetted_until, vetting::local_day(now(), tz))
            .map_err(|_| teams::not_vetted_to_join())?;
        Members::update_many()
            .col_expr(
                team_member::Column::Status,
                Expr::value(MemberStatus::Active),
            )
            .filter(team_member::Column::TeamId.eq(team_id))
            .filter(team_member::Column::UserId.eq(user_id))
            .exec(db)
            .await?;
    }
    Ok(MembershipView {
        team_id,
        user_id,
        role,
        status: MemberStatus::Active,
    })
}

/// Ends a membership (active or pending). In the same transaction the
/// person's sign-ups for the team's requests not yet started are withdrawn
/// (`signup.withdrawn`, reason `member_removed`), so their places go back
/// to the team, and their calendar address ends; service records stay, as
/// the service was given.
pub async fn remove(
    db: &DatabaseConnection,
    settings: &Settings,
    team_id: Uuid,
    user_id: Uuid,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let deleted = Members::delete_many()
        .filter(team_member::Column::TeamId.eq(team_id))
        .filter(team_member::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    withdrawals::recheck(&txn, settings, Scope::Volunteer(user_id), now()).await?;
    calendar_feeds::end(&txn, user_id).await?;
    txn.commit().await?;
    Ok(())
}

/// A team that becomes vetted holds every active member (leaders too)
/// whose check does not hold `today` as `pending`, until approved again.
pub async fn hold_unvetted(
    db: &impl ConnectionTrait,
    team_id: Uuid,
    today: NaiveDate,
) -> AppResult<()> {
    let unvetted = Query::select()
        .column(user::Column::Id)
        .from(Users)
        .cond_where(
            Condition::any()
                .add(user::Column::VettedUntil.is_null())
                .add(user::Column::VettedUntil.lt(today)),
        )
        .to_owned();
    Members::update_many()
        .col_expr(
            team_member::Column::Status,
            Expr::value(MemberStatus::Pending),
        )
        .filter(team_member::Column::TeamId.eq(team_id))
        .filter(team_member::Column::Status.eq(MemberStatus::Active))
        .filter(team_member::Column::UserId.in_subquery(unvetted))
        .exec(db)
        .await?;
    Ok(())
}

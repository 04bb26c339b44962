//! Service certificates: issued from the approved records of a period
//! (the same rows as the statistics), frozen and signed at issue, listed
//! and read by their volunteer and managers, revoked and reissued (signed
//! anew under a new number) by managers, and looked up by number for
//! anyone who verifies one.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::certificate::{self, Entity as Certificates};
use entity::help_request::{self, Entity as Requests};
use entity::service_record::{self, Entity as Records};
use entity::user::Entity as Users;
use futures::TryStreamExt;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType,
    PaginatorTrait, QueryFilter, QuerySelect, StreamTrait, TransactionTrait, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::certificate_keys;
use super::paging::{PageRequest, newest_first};
use super::service_records::counts_as_approved;
use crate::auth::AuthUser;
use crate::config::Settings;
use crate::domain::calendar::local_range;
use crate::domain::calendar::{day_of, secs_until_tomorrow};
use crate::domain::certificate::{SignedPayload, canonical_number, new_number, number_hash};
use crate::domain::certificate_rules::check_period_end;
use crate::domain::vetting::local_day;
use crate::domain::vocab::{CertificateStatus, Role, ServiceCategory};
use crate::error::{AppError, AppResult};
use crate::views::{local_time, round2};

/// One line of a certificate's breakdown, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CategoryMinutes {
    pub category: ServiceCategory,
    pub minutes: i64,
}

/// What a caller asked to certify.
pub struct IssueRequest {
    pub volunteer_id: Uuid,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Whose certificate a caller asks for: a volunteer only their own; staff
/// who are not managers none.
pub fn volunteer_for(caller: &AuthUser, asked: Option<Uuid>) -> AppResult<Uuid> {
    match (caller.role, asked) {
        (Role::Volunteer, None) => Ok(caller.id),
        (Role::Volunteer, Some(id)) if id == caller.id => Ok(caller.id),
        (role, Some(id)) if role.is_manager() => Ok(id),
        (role, None) if role.is_manager() => Err(AppError::invalid(
            "volunteer_id",
            "请指定志愿者（volunteer_id）",
        )),
        _ => Err(AppError::Forbidden),
    }
}

/// Figures of the approved service in a range, by category.
struct Figures {
    minutes: i64,
    records: i64,
    first: i64,
    last: i64,
    by_category: Vec<CategoryMinutes>,
}

async fn figures<C>(
    db: &C,
    volunteer: Uuid,
    from: Option<i64>,
    until: Option<i64>,
) -> AppResult<Option<Figures>>
where
    C: ConnectionTrait + StreamTrait,
{
    let mut query = Records::find()
        .join(
            JoinType::InnerJoin,
            Records::belongs_to(Requests)
                .from(service_record::Column::RequestId)
                .to(help_request::Column::Id)
                .into(),
        )
        .filter(service_record::Column::VolunteerId.eq(volunteer))
        .filter(counts_as_approved());
    if let Some(from) = from {
        query = query.filter(service_record::Column::StartedAt.gte(from));
    }
    if let Some(until) = until {
        query = query.filter(service_record::Column::StartedAt.lt(until));
    }
    let mut rows = query
        .select_only()
        .column(service_record::Column::StartedAt)
        .column(service_record::Column::Minutes)
        .column_as(
            Expr::col((Requests, help_request::Column::Category)),
            "category",
        )
        .into_tuple::<(i64, Option<i32>, ServiceCategory)>()
        .stream(db)
        .await?;
    let mut by: HashMap<ServiceCategory, i64> = HashMap::new();
    let (mut minutes, mut records, mut first, mut last) = (0, 0, i64::MAX, i64::MIN);
    while let Some((started_at, m, category)) = rows.try_next().await? {
        let m = i64::from(m.unwrap_or(0));
        minutes += m;
        records += 1;
        first = first.min(started_at);
        last = last.max(started_at);
        *by.entry(category).or_default() += m;
    }
    if records == 0 {
        return Ok(None);
    }
    let mut by_category: Vec<CategoryMinutes> = by
        .into_iter()
        .map(|(category, minutes)| CategoryMinutes { category, minutes })
        .collect();
    by_category.sort_by(|a, b| {
        b.minutes
            .cmp(&a.minutes)
            .then(a.category.code().cmp(b.category.code()))
    });
    Ok(Some(Figures {
        minutes,
        records,
        first,
        last,
        by_category,
    }))
}

pub fn hours(minutes: i64) -> f64 {
    round2(minutes as f64 / 60.0)
}

/// Issues and signs a certificate of the volunteer's approved service in
/// the period (default: all of it); 422 `no_service` when there is none.
pub async fn issue<C>(
    db: &C,
    settings: &Settings,
    caller: &AuthUser,
    req: IssueRequest,
) -> AppResult<certificate::Model>
where
    C: ConnectionTrait + StreamTrait,
{
    let tz = settings.time_zone;
    let (from, until) =
        local_range(req.from, req.to, tz).map_err(|e| AppError::invalid("to", e))?;
    let volunteer = Users::find_by_id(req.volunteer_id)
        .one(db)
        .await?
        .filter(|u| u.role == Role::Volunteer)
        .ok_or_else(|| AppError::invalid("volunteer_id", "没有这位志愿者"))?;
    let figures = figures(db, volunteer.id, from, until)
        .await?
        .ok_or_else(|| AppError::unprocessable("no_service", "该期间没有已审核通过的服务时长"))?;
    let period_from = req.from.unwrap_or_else(|| local_day(figures.first, tz));
    let period_to = req.to.unwrap_or_else(|| local_day(figures.last, tz));
    let now = settings.now();
    let number = new_number();
    let payload = SignedPayload {
        number: number.clone(),
        volunteer_name: volunteer.name.clone(),
        hours: hours(figures.minutes),
        records: figures.records,
        period_from: period_from.to_string(),
        period_to: period_to.to_string(),
        issued_at: local_time(now, tz).to_rfc3339(),
        issuer: settings.community_name.clone(),
    };
    let signer = certificate_keys::signer(db, settings).await?;
    let row = certificate::ActiveModel {
        id: Set(Uuid::now_v7()),
        number_hash: Set(number_hash(&number)),
        number: Set(number),
        volunteer_id: Set(volunteer.id),
        volunteer_name: Set(payload.volunteer_name.clone()),
        minutes: Set(figures.minutes),
        records: Set(figures.records),
        period_from: Set(payload.period_from.clone()),
        period_to: Set(payload.period_to.clone()),
        by_category: Set(serde_json::to_string(&figures.by_category).map_err(AppError::internal)?),
        issued_at: Set(now),
        issued_by: Set(caller.id),
        issuer: Set(payload.issuer.clone()),
        signature: Set(signer.sign(&payload)),
        status: Set(CertificateStatus::Valid),
        revoked_reason: Set(None),
        revoked_at: Set(None),
        revoked_by: Set(None),
    };
    Ok(Certificates::insert(row).exec_with_returning(db).await?)
}

/// Issues as [`issue`], in one transaction, under the rules of the
/// moment of issue: the period ends no later than today (422 on `to`),
/// and a volunteer asking for their own certificate gets at most
/// `CERTIFICATES_PER_DAY` a local day (429 until midnight). The count is
/// of today's rows in the database, under the volunteer's row lock, so
/// it holds across processes and parallel requests; a manager's issue
/// for a volunteer is not counted (staff answer for what they issue).
pub async fn issue_checked(
    db: &DatabaseConnection,
    settings: &Settings,
    caller: &AuthUser,
    req: IssueRequest,
) -> AppResult<certificate::Model> {
    let tz = settings.time_zone;
    let now = settings.now();
    check_period_end(req.to, local_day(now, tz)).map_err(|e| AppError::invalid("to", e))?;
    let txn = db.begin().await?;
    // Also orders the issue against a rename of the volunteer (which
    // takes the same lock), so the certificate's name is the one kept.
    Users::find_by_id(req.volunteer_id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    if req.volunteer_id == caller.id {
        let (start, end) = day_of(now, tz);
        let today = Certificates::find()
            .filter(certificate::Column::VolunteerId.eq(caller.id))
            .filter(certificate::Column::IssuedBy.eq(caller.id))
            .filter(certificate::Column::IssuedAt.gte(start))
            .filter(certificate::Column::IssuedAt.lt(end))
            .count(&txn)
            .await?;
        if today >= u64::from(settings.certificates_per_day) {
            return Err(AppError::TooManyAttempts {
                retry_after_secs: secs_until_tomorrow(now, tz),
            });
        }
    }
    let cert = issue(&txn, settings, caller, req).await?;
    txn.commit().await?;
    Ok(cert)
}

/// Signs a certificate's frozen figures anew under a new number (under
/// the current key, issued now by `manager`) and revokes the old one
/// with a reason naming the new number, in one transaction. Used when the
/// key that signed it was withdrawn, or the paper was lost. 404 for no
/// such certificate; 409 `already_revoked` for a revoked one.
pub async fn reissue(
    db: &DatabaseConnection,
    settings: &Settings,
    manager: &AuthUser,
    id: Uuid,
) -> AppResult<certificate::Model> {
    let txn = db.begin().await?;
    let old = Certificates::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if old.status != CertificateStatus::Valid {
        return Err(AppError::conflict("already_revoked", "该证明已撤销"));
    }
    let now = settings.now();
    let number = new_number();
    let payload = SignedPayload {
        number: number.clone(),
        volunteer_name: old.volunteer_name.clone(),
        hours: hours(old.minutes),
        records: old.records,
        period_from: old.period_from.clone(),
        period_to: old.period_to.clone(),
        issued_at: local_time(now, settings.time_zone).to_rfc3339(),
        issuer: old.issuer.clone(),
    };
    let signer = certificate_keys::signer(&txn, settings).await?;
    let row = certificate::ActiveModel {
        id: Set(Uuid::now_v7()),
        number_hash: Set(number_hash(&number)),
        number: Set(number.clone()),
        volunteer_id: Set(old.volunteer_id),
        volunteer_name: Set(payload.volunteer_name.clone()),
        minutes: Set(old.minutes),
        records: Set(old.records),
        period_from: Set(payload.period_from.clone()),
        period_to: Set(payload.period_to.clone()),
        by_category: Set(old.by_category.clone()),
        issued_at: Set(now),
        issued_by: Set(manager.id),
        issuer: Set(payload.issuer.clone()),
        signature: Set(signer.sign(&payload)),
        status: Set(CertificateStatus::Valid),
        revoked_reason: Set(None),
        revoked_at: Set(None),
        revoked_by: Set(None),
    };
    let new = Certificates::insert(row).exec_with_returning(&txn).await?;
    revoke(
        &txn,
        manager,
        id,
        format!("已重新出具，新证明编号 {number}"),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(new)
}

/// A certificate the caller may read: its volunteer's or, for managers,
/// any; 404 otherwise (another volunteer's certificate is not theirs to
/// know of).
pub async fn find_for(
    db: &impl ConnectionTrait,
    caller: &AuthUser,
    id: Uuid,
) -> AppResult<certificate::Model> {
    let cert = Certificates::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if caller.role.is_manager() || cert.volunteer_id == caller.id {
        Ok(cert)
    } else {
        Err(AppError::NotFound)
    }
}

/// A page of certificates, newest first: a volunteer's own; for managers
/// everyone's, or one volunteer's.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &AuthUser,
    volunteer: Option<Uuid>,
    page: PageRequest,
) -> AppResult<(Vec<certificate::Model>, Option<String>)> {
    let mut query = Certificates::find();
    let only = if caller.role.is_manager() {
        volunteer
    } else {
        Some(caller.id)
    };
    if let Some(v) = only {
        query = query.filter(certificate::Column::VolunteerId.eq(v));
    }
    newest_first(db, query, certificate::Column::Id, page, |c| c.id).await
}

/// Revokes a valid certificate; 409 `already_revoked` for a revoked one.
pub async fn revoke(
    db: &impl ConnectionTrait,
    manager: &AuthUser,
    id: Uuid,
    reason: String,
    now: i64,
) -> AppResult<certificate::Model> {
    let done = Certificates::update_many()
        .col_expr(
            certificate::Column::Status,
            Expr::value(CertificateStatus::Revoked),
        )
        .col_expr(certificate::Column::RevokedReason, Expr::value(reason))
        .col_expr(certificate::Column::RevokedAt, Expr::value(now))
        .col_expr(certificate::Column::RevokedBy, Expr::value(manager.id))
        .filter(certificate::Column::Id.eq(id))
        .filter(certificate::Column::Status.eq(CertificateStatus::Valid))
        .exec(db)
        .await?;
    let cert = Certificates::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if done.rows_affected == 0 {
        return Err(AppError::conflict("already_revoked", "该证明已撤销"));
    }
    Ok(cert)
}

/// The certificate with this number, for anyone verifying it. Always one
/// look-up by the unique hash, malformed input included (it looks up a
/// hash nothing has), so the work done does not depend on whether the
/// number exists or how it was typed.
pub async fn by_number(
    db: &impl ConnectionTrait,
    raw: &str,
) -> AppResult<Option<certificate::Model>> {
    let hash = match canonical_number(raw) {
        Some(number) => number_hash(&number),
        None => number_hash(raw),
    };
    Ok(Certificates::find()
        .filter(certificate::Column::NumberHash.eq(hash))
        .one(db)
        .await?)
}

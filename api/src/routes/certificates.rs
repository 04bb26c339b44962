//! Service certificates (志愿服务记录证明): issued, listed, read, printed,
//! revoked and reissued under `/api/v1`, their signing keys rotated and
//! withdrawn; checked by anyone holding the number at
//! `/verify/{number}` and against the keys at
//! `/.well-known/certificate-keys` (both also at the root, where the QR
//! code and RFC 8615 point).

use actix_web::{HttpRequest, HttpResponse, get, http::header, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Admin, AuthUser, Manager};
use crate::domain::certificate::{PageFacts, page_csp, prefers_html, signing_kid, verify_page};
use crate::domain::certificate_pdf::{PdfFacts, render};
use crate::domain::text;
use crate::domain::vocab::{CertificateStatus, Role};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{self, EmptyBody, Json, OptionalJson};
use crate::service::certificates::{self, IssueRequest, hours};
use crate::service::paging::PageParams;
use crate::service::{certificate_keys, client_limit};
use crate::state::AppState;
use crate::validate::Checker;
use crate::views::{
    CertificateCheck, CertificateKeySet, CertificateView, CheckStatus, Page, RotatedKey,
    WithdrawnKey, categories, local_time, verify_url,
};

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(create_certificate)
        .service(list_certificates)
        .service(get_certificate)
        .service(certificate_pdf)
        .service(revoke_certificate)
        .service(rotate_certificate_key)
        .service(withdraw_certificate_key)
        .service(reissue_certificate)
        .service(verify_certificate)
        .service(certificate_keys_set);
}

/// Routes that also answer at the root.
pub fn public(cfg: &mut ServiceConfig) {
    cfg.service(verify_certificate)
        .service(certificate_keys_set);
}

/// Volunteers and managers deal with certificates; caseworkers do not.
fn reader(user: AuthUser) -> AppResult<AuthUser> {
    if user.role == Role::Volunteer || user.role.is_manager() {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

#[derive(Deserialize, ToSchema, Default)]
pub struct IssueBody {
    /// Managers: whose certificate. Volunteers leave it out (or give
    /// their own id).
    #[serde(default)]
    volunteer_id: Option<Uuid>,
    /// First local day (in `TIME_ZONE`) of the period; default: the day
    /// of the first approved record.
    #[serde(default)]
    from: Option<NaiveDate>,
    /// Last local day of the period, inclusive, no later than today;
    /// default: the day of the last approved record.
    #[serde(default)]
    to: Option<NaiveDate>,
}

/// Issues a certificate of approved service in the period (default: all
/// of it), frozen and signed now. The period ends no later than today; a
/// volunteer issues at most `CERTIFICATES_PER_DAY` of their own a day.
#[utoipa::path(tag = "certificates", security(("bearer" = [])), request_body = IssueBody, responses(
    (status = 201, description = "issued", body = CertificateView),
    (status = 403, description = "a caseworker, or a volunteer asking for someone else", body = ErrorBody),
    (status = 422, description = "`no_service` (no approved hours in the period), or a bad field (`to` after today)", body = ErrorBody),
    (status = 429, description = "too_many_attempts: the volunteer's certificates of today are used up (`CERTIFICATES_PER_DAY`); `Retry-After` says when the next day begins", body = ErrorBody),
))]
#[post("/certificates")]
async fn create_certificate(
    state: web::Data<AppState>,
    user: AuthUser,
    body: OptionalJson<IssueBody>,
) -> AppResult<HttpResponse> {
    let volunteer_id = certificates::volunteer_for(&user, body.0.volunteer_id)?;
    let req = IssueRequest {
        volunteer_id,
        from: body.0.from,
        to: body.0.to,
    };
    let cert = certificates::issue_checked(&state.db, &state.settings, &user, req).await?;
    Ok(HttpResponse::Created().json(view(&state, cert)))
}

fn view(state: &AppState, cert: entity::certificate::Model) -> CertificateView {
    CertificateView::build(
        cert,
        state.settings.time_zone,
        &state.settings.public_base_url,
    )
}

#[derive(Deserialize, IntoParams)]
pub struct CertificateQuery {
    /// Managers: one volunteer's certificates only.
    volunteer_id: Option<Uuid>,
    /// 1–100, default 20; larger values are capped at 100.
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Certificates, newest first: a volunteer's own; managers everyone's.
#[utoipa::path(tag = "certificates", security(("bearer" = [])), params(CertificateQuery), responses(
    (status = 200, description = "a page", body = Page<CertificateView>),
    (status = 403, description = "caseworkers", body = ErrorBody),
))]
#[get("/certificates")]
async fn list_certificates(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<CertificateQuery>,
) -> AppResult<HttpResponse> {
    let user = reader(user)?;
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .parse()?;
    let (rows, next_cursor) =
        certificates::list(&state.reads, &user, query.volunteer_id, page).await?;
    let items = rows.into_iter().map(|c| view(&state, c)).collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// One certificate (its volunteer, managers; 404 for anyone else).
#[utoipa::path(tag = "certificates", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "the certificate", body = CertificateView),
    (status = 404, description = "no such certificate, or not the caller's", body = ErrorBody),
))]
#[get("/certificates/{id}")]
async fn get_certificate(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let user = reader(user)?;
    let cert = certificates::find_for(&state.reads, &user, *id).await?;
    Ok(HttpResponse::Ok().json(view(&state, cert)))
}

/// The certificate as an A4 PDF: its figures, issuer, date, number and a
/// QR code of `verify_url`; Chinese text is real (extractable) text.
#[utoipa::path(tag = "certificates", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "the PDF", content_type = "application/pdf"),
    (status = 404, description = "no such certificate, or not the caller's", body = ErrorBody),
))]
#[get("/certificates/{id}/pdf")]
async fn certificate_pdf(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let user = reader(user)?;
    let cert = certificates::find_for(&state.reads, &user, *id).await?;
    let url = verify_url(&state.settings.public_base_url, &cert.number);
    let tz = state.settings.time_zone;
    let by_category: Vec<(String, f64)> = categories(&cert)
        .into_iter()
        .map(|line| (line.category.label().to_string(), hours(line.minutes)))
        .collect();
    let issued_on = local_time(cert.issued_at, tz).date_naive().to_string();
    let number = cert.number.clone();
    let pdf = web::block(move || {
        render(&PdfFacts {
            volunteer_name: &cert.volunteer_name,
            hours: hours(cert.minutes),
            records: cert.records,
            period_from: &cert.period_from,
            period_to: &cert.period_to,
            by_category: &by_category,
            issuer: &cert.issuer,
            issued_on: &issued_on,
            number: &cert.number,
            verify_url: &url,
            revoked: cert.status == CertificateStatus::Revoked,
        })
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"certificate-{number}.pdf\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(pdf))
}

#[derive(Deserialize, ToSchema)]
pub struct RevokeBody {
    /// Why it no longer stands (1–500 characters); shown to its
    /// volunteer and managers, not to the public check.
    #[schema(max_length = 500)]
    reason: String,
}

/// Revokes a certificate: the public check then says it no longer stands.
#[utoipa::path(tag = "certificates", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = RevokeBody, responses(
    (status = 200, description = "revoked", body = CertificateView),
    (status = 404, description = "no such certificate", body = ErrorBody),
    (status = 409, description = "`already_revoked`", body = ErrorBody),
    (status = 422, description = "no reason", body = ErrorBody),
))]
#[post("/certificates/{id}/revoke")]
async fn revoke_certificate(
    state: web::Data<AppState>,
    manager: Manager,
    id: web::Path<Uuid>,
    body: Json<RevokeBody>,
) -> AppResult<HttpResponse> {
    let mut check = Checker::new();
    let reason = check.check("reason", text::clean(&body.0.reason, 500));
    let reason = check.finish(reason)?;
    let cert =
        certificates::revoke(&state.db, &manager.0, *id, reason, state.settings.now()).await?;
    Ok(HttpResponse::Ok().json(view(&state, cert)))
}

/// A new signing key for certificates from now on (admins); earlier keys
/// stay published, so certificates they signed still verify.
#[utoipa::path(tag = "certificates", security(("bearer" = [])), responses(
    (status = 201, description = "the new key's id", body = RotatedKey),
    (status = 409, description = "`signing_key_from_settings`: the key comes from CERTIFICATE_SIGNING_KEY", body = ErrorBody),
))]
#[post("/certificate-keys/rotate")]
async fn rotate_certificate_key(state: web::Data<AppState>, _: Admin) -> AppResult<HttpResponse> {
    let kid = certificate_keys::rotate(&state.db, &state.settings).await?;
    Ok(HttpResponse::Created().json(RotatedKey { kid }))
}

/// Withdraws a certificate signing key (admins), a leaked one say: it
/// leaves `/.well-known/certificate-keys`, and `/verify` of what it signed
/// answers `key_withdrawn`. Withdrawing the signing key rotates: a new
/// key signs from then on. Withdrawing again answers as the first time.
#[utoipa::path(tag = "certificates", security(("bearer" = [])), params(("kid" = String, Path, description = "the key's `kid`")), request_body(content = Option<EmptyBody>), responses(
    (status = 200, description = "withdrawn", body = WithdrawnKey),
    (status = 404, description = "no key has this kid", body = ErrorBody),
    (status = 409, description = "`signing_key_from_settings`: the key comes from CERTIFICATE_SIGNING_KEY", body = ErrorBody),
))]
#[post("/certificate-keys/{kid}/withdraw")]
async fn withdraw_certificate_key(
    state: web::Data<AppState>,
    _: Admin,
    kid: web::Path<String>,
    _: OptionalJson<EmptyBody>,
) -> AppResult<HttpResponse> {
    let done = certificate_keys::withdraw(&state.db, &state.settings, &kid).await?;
    Ok(HttpResponse::Ok().json(WithdrawnKey {
        kid: done.kid,
        withdrawn_at: local_time(done.withdrawn_at, state.settings.time_zone),
        signing_kid: done.signing_kid,
    }))
}

/// Signs a certificate's frozen figures anew under a new number with the
/// current key (managers), and revokes the old one with a reason naming
/// the new number: for a certificate whose key was withdrawn.
#[utoipa::path(tag = "certificates", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body(content = Option<EmptyBody>), responses(
    (status = 201, description = "the new certificate", body = CertificateView),
    (status = 404, description = "no such certificate", body = ErrorBody),
    (status = 409, description = "`already_revoked`", body = ErrorBody),
))]
#[post("/certificates/{id}/reissue")]
async fn reissue_certificate(
    state: web::Data<AppState>,
    manager: Manager,
    id: web::Path<Uuid>,
    _: OptionalJson<EmptyBody>,
) -> AppResult<HttpResponse> {
    let cert = certificates::reissue(&state.db, &state.settings, &manager.0, *id).await?;
    Ok(HttpResponse::Created().json(view(&state, cert)))
}

/// Checks a certificate by its number, with no token: JSON, or a small
/// page when the client prefers `text/html`. The name is masked.
/// Limited per client address (`VERIFY_REQUESTS_PER_MINUTE`).
#[utoipa::path(tag = "certificates", params(("number" = String, Path, description = "`ZM-XXXX-XXXX-XXXX-XXXX`")), responses(
    (status = 200, description = "the certificate's public facts (or an HTML page); `status`: `valid`, `revoked` or `key_withdrawn`", body = CertificateCheck),
    (status = 404, description = "no certificate has this number", body = ErrorBody),
    (status = 429, description = "`too_many_attempts`, with `Retry-After`", body = ErrorBody),
))]
#[get("/verify/{number}")]
pub async fn verify_certificate(
    state: web::Data<AppState>,
    number: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let address = extract::caller_address(&req, &state.settings);
    // Counted apart from login attempts of the same address, and without
    // a database write per call: anyone may call this.
    client_limit::count_check(
        &state.db,
        &state.reads,
        &state.verify_counts,
        &format!("verify {address}"),
        state.settings.verify_requests_per_minute,
        crate::service::now(),
    )
    .await?;
    let cert = certificates::by_number(&state.reads, &number)
        .await?
        .ok_or(AppError::NotFound)?;
    let tz = state.settings.time_zone;
    let key_withdrawn = match signing_kid(&cert.signature) {
        Some(kid) => certificate_keys::is_withdrawn(&state.reads, &kid).await?,
        None => false,
    };
    let check = CertificateCheck::build(&cert, key_withdrawn, tz);
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::VARY, "Accept"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"));
    if !prefers_html(accept) {
        return Ok(response.json(check));
    }
    let issued_on = check.issued_at.date_naive().to_string();
    let page = verify_page(&PageFacts {
        number: &check.number,
        revoked: check.status == CheckStatus::Revoked,
        key_withdrawn: check.status == CheckStatus::KeyWithdrawn,
        masked_name: &check.volunteer_masked_name,
        hours: check.hours,
        records: check.records,
        period_from: &check.period_from,
        period_to: &check.period_to,
        issued_on: &issued_on,
        issuer: &check.issuer,
    });
    Ok(response
        .insert_header(("Content-Security-Policy", page_csp()))
        .insert_header(("X-Frame-Options", "DENY"))
        .content_type("text/html; charset=utf-8")
        .body(page))
}

/// The public keys of every certificate signature, as RFC 8037 JWKs
/// (no token).
#[utoipa::path(tag = "certificates", responses(
    (status = 200, description = "the key set", body = CertificateKeySet),
))]
#[get("/.well-known/certificate-keys")]
pub async fn certificate_keys_set(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let rows = certificate_keys::published(&state.reads).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(CertificateKeySet::build(rows)))
}

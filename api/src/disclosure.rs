//! Which answers carry residents' personal data (address, phone, ID
//! number), and the access-log entry each such answer leaves behind.
//!
//! The views themselves say it: a request shows its resident's `id` only
//! together with the address and phone (see `RequestResident`), and a
//! resident's record is all personal data. So the log follows from the
//! answer that is sent, not from a second copy of the visibility rules.
//! An answer is logged before it leaves; when the log cannot be written,
//! the answer does not leave either. Answers waiting at the same moment
//! share one statement and one commit (`service::access_log`).

use actix_web::{HttpMessage, HttpRequest};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::AppResult;
use crate::state::AppState;
use crate::views::{Page, PairingView, RequestView, ResidentView};

/// An answer that may carry residents' personal data.
pub trait Discloses {
    /// Adds the residents whose personal data this answer carries.
    fn disclosed_residents(&self, into: &mut Vec<Uuid>);

    fn residents(&self) -> Vec<Uuid> {
        let mut ids = Vec::new();
        self.disclosed_residents(&mut ids);
        ids
    }
}

impl Discloses for RequestView {
    fn disclosed_residents(&self, into: &mut Vec<Uuid>) {
        // A community activity has no resident: it discloses nobody.
        into.extend(self.resident.as_ref().and_then(|r| r.id));
    }
}

impl Discloses for PairingView {
    fn disclosed_residents(&self, into: &mut Vec<Uuid>) {
        into.extend(self.resident.id);
    }
}

impl Discloses for ResidentView {
    fn disclosed_residents(&self, into: &mut Vec<Uuid>) {
        into.push(self.id);
    }
}

impl<T: Discloses> Discloses for Vec<T> {
    fn disclosed_residents(&self, into: &mut Vec<Uuid>) {
        for item in self {
            item.disclosed_residents(into);
        }
    }
}

impl<T: Discloses> Discloses for Page<T> {
    fn disclosed_residents(&self, into: &mut Vec<Uuid>) {
        self.items.disclosed_residents(into);
    }
}

/// `GET /api/v1/requests/{id}`: the method and the route's pattern, so
/// that entries name the route, not one URL among many.
pub fn route_of(req: &HttpRequest) -> String {
    let pattern = req
        .match_pattern()
        .unwrap_or_else(|| req.path().to_string());
    format!("{} {pattern}", req.method())
}

/// Logs that `caller` is about to receive `answer`, when it carries any
/// resident's personal data.
pub async fn log(
    state: &AppState,
    req: &HttpRequest,
    caller: &AuthUser,
    answer: &impl Discloses,
) -> AppResult<()> {
    log_residents(state, req, caller, &answer.residents()).await
}

/// The residents an answer disclosed, left in the request's extensions so
/// that an idempotency key keeping the answer knows to log its replays.
#[derive(Debug, Clone, Default)]
pub struct Disclosed(pub Vec<Uuid>);

/// [`log`] for residents already known (an answer kept by the read cache
/// or by an idempotency key).
pub async fn log_residents(
    state: &AppState,
    req: &HttpRequest,
    caller: &AuthUser,
    residents: &[Uuid],
) -> AppResult<()> {
    if residents.is_empty() {
        return Ok(());
    }
    req.extensions_mut()
        .get_or_insert_with(Disclosed::default)
        .0
        .extend_from_slice(residents);
    state
        .access_log
        .record(caller, &route_of(req), residents)
        .await
}

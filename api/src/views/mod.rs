//! What the API answers: the contract's objects, built from entities for a
//! given reader. Personal data is decided here, in one place: a request's
//! resident shows address, phone and exact location only to readers that
//! may see them. Every answer type the contract names lives in this tree;
//! services look rows up, views only shape them.

mod campaigns;
mod certificates;
mod feedback;
mod health;
mod names;
mod pairings;
mod records;
mod reports;
mod signups;
mod webhooks;

pub use campaigns::{AutoAssignView, ByStatus, CampaignProgress, CampaignView, TeamRequest};
pub use certificates::{
    CategoryHours, CertificateCheck, CertificateJwk, CertificateKeySet, CertificateView,
    CheckStatus, RotatedKey, WithdrawnKey, categories, verify_url,
};
pub use feedback::{CalendarFeedView, FeedbackStatItem, FeedbackStats, FeedbackView};
pub use health::Health;
pub use names::NameChangeView;
pub use pairings::PairingView;
pub use records::{Activity, HistoryEntry, RecordContext, ServiceRecordView};
pub use reports::{RequestStats, StatItem, Stats};
pub use signups::{SignupListItem, SignupView};
pub use webhooks::{DeliveryView, WebhookView};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::availability::WeeklySlot;
use crate::domain::geo::Coordinates;
use crate::domain::masking::mask_name;
use crate::domain::matching::Reason;
use crate::domain::vocab::{
    AccountStatus, MemberRole, MemberStatus, RequestStatus, ResidentCategory, Role,
    ServiceCategory, TeamKind, Urgency,
};

/// A timestamp in the community's zone, RFC 3339 with its offset.
pub fn local_time(unix_secs: i64, tz: Tz) -> DateTime<FixedOffset> {
    tz.timestamp_opt(unix_secs, 0)
        .single()
        .map(|t| t.fixed_offset())
        .unwrap_or_default()
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// A complete, ranked answer (matches, recommendations): not paged.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ranked<T> {
    pub items: Vec<T>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub phone: String,
    pub name: String,
    pub role: Role,
    pub skills: Vec<ServiceCategory>,
    pub location: Option<Coordinates>,
    pub availability: Vec<WeeklySlot>,
    /// Approved service hours, to two decimals.
    pub approved_hours: f64,
    /// 0–5, from `STAR_THRESHOLDS_HOURS`.
    pub star_level: u8,
    /// The last day the person's background check (无犯罪记录证明) is
    /// valid, `YYYY-MM-DD`; `null` when never vetted or cleared.
    pub vetted_until: Option<NaiveDate>,
    pub created_at: DateTime<FixedOffset>,
    /// A disabled account's tokens and logins are refused.
    pub status: AccountStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    pub id: Uuid,
    pub name: String,
    pub kind: TeamKind,
    pub service_categories: Vec<ServiceCategory>,
    pub location: Coordinates,
    pub service_radius_km: f64,
    pub vetted: bool,
    pub created_at: DateTime<FixedOffset>,
}

impl TeamView {
    pub fn build(team: &entity::team::Model, tz: Tz) -> Self {
        Self {
            id: team.id,
            name: team.name.clone(),
            kind: team.kind,
            service_categories: team.service_categories.clone().into_vec(),
            location: Coordinates {
                lat: team.location_lat,
                lng: team.location_lng,
            },
            service_radius_km: team.service_radius_km,
            vetted: team.vetted,
            created_at: local_time(team.created_at, tz),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    pub team_id: Uuid,
    pub user_id: Uuid,
    pub role: MemberRole,
    /// `pending` until a vetted team's leader or a manager approves.
    pub status: MemberStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub team_id: Uuid,
    pub user_id: Uuid,
    pub role: MemberRole,
    pub name: String,
    /// Whole for managers; masked (`138****5678`) for fellow members.
    pub phone: String,
    /// Pending members are listed only to the team's leader and managers.
    pub status: MemberStatus,
    pub joined_at: DateTime<FixedOffset>,
    /// Sign-ups of the last 90 days this member did not turn up for
    /// (`no_show`); only in lists read by the team's leader and managers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_shows: Option<u32>,
}

/// A resident's full record, for caseworkers and managers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentView {
    pub id: Uuid,
    pub name: String,
    pub category: ResidentCategory,
    pub phone: Option<String>,
    pub address: String,
    pub location: Coordinates,
    /// Never whole: `110***********1234`.
    pub id_number: Option<String>,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    pub notes: Option<String>,
    /// `false` once retired (moved away, passed away): no new requests.
    pub active: bool,
    pub created_at: DateTime<FixedOffset>,
}

impl ResidentView {
    /// The whole record: for staff, who look after residents.
    pub fn build(r: &entity::resident::Model, tz: Tz) -> Self {
        Self {
            id: r.id,
            name: r.name.clone(),
            category: r.category,
            phone: r.phone.clone(),
            address: r.address.clone(),
            location: Coordinates {
                lat: r.location_lat,
                lng: r.location_lng,
            },
            id_number: r.id_number_masked.clone(),
            guardian_name: r.guardian_name.clone(),
            guardian_phone: r.guardian_phone.clone(),
            notes: r.notes.clone(),
            active: r.active,
            created_at: local_time(r.created_at, tz),
        }
    }
}

/// One entry of a resident's access log: who received their personal
/// data, when, through which route.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLogEntryView {
    pub id: Uuid,
    pub resident_id: Uuid,
    pub actor_id: Uuid,
    /// The actor's name now; `null` if the account is gone.
    pub actor_name: Option<String>,
    #[schema(value_type = String)]
    pub actor_role: Role,
    /// Method and route pattern, e.g. `GET /api/v1/requests/{id}`.
    pub route: String,
    pub accessed_at: DateTime<FixedOffset>,
}

impl AccessLogEntryView {
    pub fn new(row: entity::resident_access::Model, actor_name: Option<String>, tz: Tz) -> Self {
        Self {
            id: row.id,
            resident_id: row.resident_id,
            actor_id: row.actor_id,
            actor_name,
            actor_role: row.actor_role,
            route: row.route,
            accessed_at: local_time(row.accessed_at, tz),
        }
    }
}

/// The resident as a request shows them. `address`, `phone` and
/// `location` are present only for the request's caseworker, managers and
/// volunteers signed up for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestResident {
    pub masked_name: String,
    pub category: ResidentCategory,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Coordinates>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    pub id: Uuid,
    /// `null` for a community activity, which serves no single resident.
    pub resident: Option<RequestResident>,
    /// A community activity's public place, shown to everyone who may see
    /// it; absent for a visit (the resident's address is under `resident`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Coordinates>,
    /// The campaign that posted the request, if any.
    pub campaign_id: Option<Uuid>,
    /// The pairing (结对帮扶) this request is a visit of; `null` outside
    /// a pairing.
    pub pairing_id: Option<Uuid>,
    pub category: ServiceCategory,
    pub title: String,
    pub description: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub volunteers_needed: i32,
    pub signups_count: i32,
    pub places_left: i32,
    pub urgency: Urgency,
    pub status: RequestStatus,
    pub team_id: Option<Uuid>,
    pub caseworker_id: Uuid,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
}

impl RequestResident {
    /// The resident as a request shows them; `full`: may the reader see
    /// address, phone and location?
    pub fn of(resident: &entity::resident::Model, full: bool) -> Self {
        Self {
            masked_name: mask_name(&resident.name),
            category: resident.category,
            id: full.then_some(resident.id),
            address: full.then(|| resident.address.clone()),
            phone: if full { resident.phone.clone() } else { None },
            location: full.then_some(Coordinates {
                lat: resident.location_lat,
                lng: resident.location_lng,
            }),
        }
    }
}

impl RequestView {
    /// `full_resident`: may this reader see the resident's address, phone
    /// and location?
    pub fn build(
        request: &entity::help_request::Model,
        resident: Option<&entity::resident::Model>,
        full_resident: bool,
        tz: Tz,
    ) -> Self {
        let resident_view = resident.map(|resident| RequestResident::of(resident, full_resident));
        // Only an activity's own place: a visit's lives with its resident.
        let activity = resident.is_none();
        Self {
            id: request.id,
            resident: resident_view,
            address: request.address.clone().filter(|_| activity),
            location: request
                .location_lat
                .zip(request.location_lng)
                .filter(|_| activity)
                .map(|(lat, lng)| Coordinates { lat, lng }),
            campaign_id: request.campaign_id,
            pairing_id: request.pairing_id,
            category: request.category,
            title: request.title.clone(),
            description: request.description.clone(),
            starts_at: local_time(request.starts_at, tz),
            ends_at: local_time(request.ends_at, tz),
            volunteers_needed: request.volunteers_needed,
            signups_count: request.signups_count,
            places_left: (request.volunteers_needed - request.signups_count).max(0),
            urgency: request.urgency,
            status: request.status,
            team_id: request.team_id,
            caseworker_id: request.caseworker_id,
            created_at: local_time(request.created_at, tz),
            updated_at: local_time(request.updated_at, tz),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchView {
    pub team: TeamView,
    /// In [0, 1], higher is better.
    pub score: f64,
    pub distance_km: f64,
    pub reasons: Vec<Reason>,
}

/// A request recommended to a volunteer: the request as they see it, with
/// why it suits them.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationView {
    #[serde(flatten)]
    pub request: RequestView,
    pub score: f64,
    pub distance_km: Option<f64>,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginView {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
    pub user: UserView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredView {
    pub user: UserView,
    pub access_token: String,
}

pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// One change of a person's background-check date: who vouched, when,
/// and on what grounds.
#[derive(Debug, Serialize, ToSchema)]
pub struct VettingChangeView {
    pub id: Uuid,
    pub user_id: Uuid,
    /// `vetted_until` before the change.
    pub previous_until: Option<NaiveDate>,
    pub vetted_until: Option<NaiveDate>,
    pub note: Option<String>,
    /// The manager or admin who made the change.
    pub changed_by: Uuid,
    pub changed_by_name: String,
    pub changed_at: DateTime<FixedOffset>,
}

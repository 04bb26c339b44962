//! Database work, one module per resource. Functions take any
//! `ConnectionTrait`, so the same code runs inside or outside a
//! transaction; rules themselves live in `domain`.

pub mod access_log;
pub mod accounts;
pub mod attendance;
pub mod bulletin;
pub mod calendar_feeds;
pub mod campaigns;
pub mod certificate_keys;
pub mod certificates;
pub mod client_limit;
pub mod delivery;
pub mod delivery_lease;
pub mod export_files;
pub mod feedback;
pub mod location_limit;
pub mod login_throttle;
pub mod matches;
pub mod memberships;
pub mod names;
pub mod outbox;
pub mod paging;
pub mod pairings;
pub mod participation;
pub mod recommendations;
pub mod record_views;
pub mod reports;
pub mod request_edits;
pub mod request_rows;
pub mod requests;
pub mod residents;
pub mod safeguarding;
pub mod scheduler;
pub mod service_records;
pub mod signups;
pub mod teams;
pub mod users;
pub mod vetting;
pub mod vetting_pass;
pub mod webhooks;
pub mod withdrawals;

/// Now, in Unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

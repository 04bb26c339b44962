//! SeaORM entities: one module per table, nothing else.
//!
//! Instants are stored as Unix seconds (`i64`) so that comparisons and
//! ordering behave the same on SQLite and PostgreSQL; list-valued fields
//! (skills, categories, weekly availability) are JSON text. Enum-like
//! columns hold the codes of [`vocab`], typed as its enums.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod calendar_feed;
pub mod campaign;
pub mod certificate;
pub mod certificate_key;
pub mod client_attempt;
pub mod help_request;
pub mod idempotency_key;
pub mod location_change;
pub mod login_failure;
pub mod monthly_bulletin;
pub mod name_change;
pub mod outbox_event;
pub mod pairing;
pub mod request_feedback;
pub mod resident;
pub mod resident_access;
pub mod service_record;
pub mod service_record_event;
pub mod signup;
pub mod team;
pub mod team_member;
pub mod user;
pub mod vetting_change;
pub mod vetting_pass;
pub mod vocab;
pub mod webhook;
pub mod webhook_delivery;

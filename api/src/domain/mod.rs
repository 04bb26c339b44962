//! Pure rules of the service: no I/O, each with its unit tests.

pub mod account_rules;
pub mod availability;
pub mod bulletin;
pub mod calendar;
pub mod calendar_feed;
pub mod client_address;
pub mod continuity;
pub mod fair_assignment;
pub mod feedback;
pub mod geo;
pub mod hours;
pub mod masking;
pub mod matching;
pub mod notify;
pub mod permissions;
pub mod phone;
pub mod recommend;
pub mod recurrence;
pub mod report;
pub mod schedule;
pub mod ssrf;
pub mod stars;
pub mod text;
pub mod vetting;
pub mod vocab;

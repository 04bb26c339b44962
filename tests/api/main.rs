//! Black-box HTTP tests: each test starts the real server on a random port
//! with its own fresh database (SQLite, or PostgreSQL when
//! `TEST_DATABASE_URL` is set) and talks to it over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod access_log;
mod accounts;
mod accounts_across_processes;
mod activities;
mod authorization;
mod backup;
mod bulletin;
mod calendar;
mod calendar_end;
mod campaigns;
mod certificate_limits;
mod certificates;
mod client_limits;
mod console;
mod database_down;
mod disk_full;
mod distances;
mod durability;
mod edits;
mod errors;
mod feedback;
mod idempotency;
mod lifecycle;
mod login_abuse;
mod matching;
mod names;
mod openapi;
mod operations;
mod pairings;
mod process;
mod processes;
mod reads;
mod receiver;
mod recurrence;
mod reminders;
mod reports;
mod request_answers;
mod request_stats;
mod requests;
mod resident_search;
mod residents;
mod robot_keys;
mod secrets;
mod service_records;
mod signing_keys;
mod signups;
mod teams;
mod unavailable;
mod user_list;
mod vetting;
mod vetting_after_the_fact;
mod webhooks;

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
mod campaigns;
mod certificates;
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
mod openapi;
mod operations;
mod pairings;
mod process;
mod processes;
mod reads;
mod receiver;
mod reminders;
mod reports;
mod requests;
mod residents;
mod secrets;
mod service_records;
mod signups;
mod teams;
mod unavailable;
mod user_list;
mod vetting;
mod webhooks;

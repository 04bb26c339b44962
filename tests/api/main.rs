//! Black-box HTTP tests: each test starts the real server on a random port
//! with its own fresh database (SQLite, or PostgreSQL when
//! `TEST_DATABASE_URL` is set) and talks to it over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod accounts;
mod authorization;
mod durability;
mod errors;
mod idempotency;
mod matching;
mod operations;
mod process;
mod processes;
mod reads;
mod receiver;
mod reports;
mod requests;
mod residents;
mod service_records;
mod signups;
mod teams;
mod vetting;
mod webhooks;

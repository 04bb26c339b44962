//! The volunteer-service HTTP API: routes, auth, errors and OpenAPI on top
//! of the SeaORM entities. `startup` builds the server; everything else is
//! reached from there.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod backup;
pub mod config;
pub mod console;
pub mod disclosure;
pub mod domain;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod metrics;
pub mod openapi;
pub mod pool_guard;
pub mod read_cache;
pub mod routes;
pub mod secrets;
pub mod seed;
pub mod service;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod validate;
pub mod views;
pub mod webhook_target;

pub use config::Settings;
pub use startup::Application;

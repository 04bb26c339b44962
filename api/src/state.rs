//! The state every handler may reach: connections, settings and the
//! process's shared services. Built once in [`crate::startup`].

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::standing::AccountCache;
use crate::auth::{HashGate, TokenKeys};
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::read_cache::ReadCache;
use crate::service::access_log::AccessLogWriter;
use crate::service::client_limit::LocalCounts;

/// What every handler may reach.
pub struct AppState {
    /// Every write, and reads that belong to a write.
    pub db: DatabaseConnection,
    /// Plain reads (GET handlers); see [`crate::startup::connect_reads`].
    pub reads: DatabaseConnection,
    pub tokens: TokenKeys,
    pub settings: Arc<Settings>,
    pub metrics: Arc<Metrics>,
    /// Answers of hot reads; see [`crate::read_cache`].
    pub read_cache: Arc<ReadCache>,
    /// Accounts' status and token version; see [`crate::auth::standing`].
    pub accounts: AccountCache,
    /// Bounds the password hashes computed at once.
    pub hashing: HashGate,
    /// Entries of the residents' personal-data access log; see
    /// [`crate::disclosure`].
    pub access_log: AccessLogWriter,
    /// This process's count of certificate checks per client address; see
    /// [`crate::service::client_limit::count_check`].
    pub verify_counts: LocalCounts,
}

//! Builds the application: database (with migrations), shared state, the
//! route table, the docs, and the HTTP server — on any port, 0 for tests.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, dev::Server, middleware, web};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, TransactionTrait,
};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::standing::{self, AccountCache};
use crate::auth::{HashGate, TokenKeys};
use crate::config::{PoolSettings, Settings};
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::read_cache::{self, ReadCache};
use crate::service::access_log::AccessLogWriter;
use crate::service::delivery::DeliveryWorker;
use crate::state::AppState;
use crate::{console, extract, idempotency, openapi, pool_guard, routes, service, telemetry};

pub struct Application {
    port: u16,
    server: Server,
    worker: DeliveryWorker,
    purger: tokio::task::JoinHandle<()>,
    /// Tops pairings' visits up as time passes.
    pairing_worker: tokio::task::JoinHandle<()>,
    /// Sends the monthly bulletin when it is due.
    bulletin_worker: tokio::task::JoinHandle<()>,
    /// Reminders, unfilled alerts and no-shows as they fall due.
    scheduler: tokio::task::JoinHandle<()>,
    /// The daily vetting pass.
    vetting_pass: tokio::task::JoinHandle<()>,
    /// PostgreSQL: the read cache's change listener.
    change_listener: Option<tokio::task::JoinHandle<()>>,
    grace: Duration,
}

impl Application {
    /// Connects, migrates, creates the bootstrap admin and binds the
    /// listener; the server runs once [`Application::run_until_stopped`]
    /// is awaited.
    pub async fn build(settings: Settings) -> Result<Self, String> {
        if settings.jwt_secret_is_random {
            tracing::warn!(
                "JWT_SECRET is not set: using a random key, so tokens die with this process"
            );
        }
        let db = connect_with(&settings.database_url, settings.pool).await?;
        let reads = connect_reads(&settings.database_url, &db, settings.pool).await?;
        let hashing = HashGate::new(
            settings.password_hash_concurrency,
            settings.password_hash_queue,
        );
        match &settings.secrets_key {
            None => tracing::warn!(
                "SECRETS_KEY is not set: webhook secrets, webhook URLs (robot keys) and certificate signing keys are stored in clear in the database"
            ),
            Some(key) => {
                let sealed = service::webhooks::seal_clear_secrets(&db, key)
                    .await
                    .map_err(|e| format!("sealing webhook secrets with SECRETS_KEY: {e}"))?;
                if sealed > 0 {
                    tracing::info!(sealed, "webhook secrets stored in clear are now encrypted");
                }
                seal_robot_and_signing_keys(&db, key).await?;
            }
        }
        service::certificate_keys::ensure(&db, &settings)
            .await
            .map_err(|e| format!("certificate signing key: {e}"))?;
        if let Some((phone, password)) = &settings.bootstrap_admin {
            service::accounts::ensure_bootstrap_admin(&db, &hashing, phone, password)
                .await
                .map_err(|e| format!("bootstrap admin: {e}"))?;
        }
        let listener = TcpListener::bind(&settings.bind_addr)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind_addr))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let tokens = TokenKeys::new(&settings.jwt_secret, settings.token_ttl_secs)
            .map_err(|e| format!("JWT_SECRET: {e}"))?;
        let metrics = Arc::new(Metrics::new().map_err(|e| format!("metrics: {e}"))?);
        let grace = Duration::from_secs(settings.shutdown_grace_secs);
        // SQLite: this process makes every write, so the cache is live at
        // once. PostgreSQL: only once the listener hears other processes.
        let is_postgres = db.get_database_backend() == DbBackend::Postgres;
        let read_cache = Arc::new(ReadCache::new(settings.read_cache_bytes, !is_postgres));
        let change_listener = (is_postgres && settings.read_cache_bytes > 0).then(|| {
            tokio::spawn(read_cache::listen(
                settings.database_url.clone(),
                read_cache.clone(),
            ))
        });
        let state = web::Data::new(AppState {
            read_cache,
            accounts: AccountCache::new(100_000),
            hashing,
            tokens,
            access_log: AccessLogWriter::spawn(db.clone()),
            verify_counts: service::client_limit::LocalCounts::default(),
            db,
            reads,
            settings: Arc::new(settings),
            metrics,
        });
        let purger = idempotency::spawn_purger(state.db.clone());
        let worker = service::delivery::spawn(
            state.db.clone(),
            state.settings.clone(),
            state.metrics.clone(),
        );
        let pairing_worker = service::pairings::spawn_worker(
            state.db.clone(),
            state.settings.clone(),
            state.metrics.clone(),
        );
        // Before serving: a process that was down at the bulletin's time
        // sends it now (once, whoever else starts).
        service::bulletin::catch_up(&state.db, &state.settings).await;
        let bulletin_worker =
            service::bulletin::spawn_worker(state.db.clone(), state.settings.clone());
        let scheduler = service::scheduler::spawn_worker(state.db.clone(), state.settings.clone());
        // Before serving, like the bulletin: checks that ran out while
        // every process was down stop counting before anyone reads.
        service::vetting_pass::catch_up(&state.db, &state.settings, &state.read_cache).await;
        let vetting_pass = service::vetting_pass::spawn_worker(
            state.db.clone(),
            state.settings.clone(),
            state.read_cache.clone(),
        );
        let server = HttpServer::new(move || {
            let (app, api) = App::new()
                .into_utoipa_app()
                .openapi(openapi::base())
                .app_data(state.clone())
                .app_data(web::PathConfig::default().error_handler(extract::path_error))
                .app_data(web::QueryConfig::default().error_handler(extract::query_error))
                .configure(routes::config)
                .split_for_parts();
            app.service(
                SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", openapi::finish(api)),
            )
            .service(web::redirect("/docs", "/docs/"))
            .configure(console::config)
            .default_service(web::to(|| async { Err::<&str, _>(AppError::NotFound) }))
            .wrap(middleware::from_fn(console::docs_policies))
            .wrap(middleware::from_fn(read_cache::middleware))
            // Outside the idempotency middleware: a replay is answered
            // only to a caller whose account accepts the token now.
            .wrap(middleware::from_fn(idempotency::middleware))
            .wrap(middleware::from_fn(standing::middleware))
            .wrap(middleware::Compress::default())
            .wrap(middleware::from_fn(telemetry::middleware))
        })
        .listen(listener)
        .map_err(|e| e.to_string())?
        .shutdown_timeout(grace.as_secs())
        .run();
        Ok(Self {
            port,
            server,
            worker,
            purger,
            pairing_worker,
            bulletin_worker,
            scheduler,
            vetting_pass,
            change_listener,
            grace,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully: the
    /// listener closes, requests in flight get `SHUTDOWN_GRACE_SECS` to
    /// finish, and so do webhook sends in flight, after which the leases
    /// of unfinished deliveries are given back for another process.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        tracing::info!("HTTP server stopped; stopping the delivery worker");
        self.purger.abort();
        self.pairing_worker.abort();
        self.bulletin_worker.abort();
        // Between ticks or mid-transaction alike: an uncommitted claim
        // rolls back, and the next tick of any process takes it up.
        self.scheduler.abort();
        self.vetting_pass.abort();
        if let Some(change_listener) = self.change_listener {
            change_listener.abort();
        }
        self.worker.shutdown(self.grace).await;
        served
    }
}

/// Seals what was stored in clear before `SECRETS_KEY` was set: webhook
/// URLs (robot keys travel in them) and generated certificate signing
/// keys.
async fn seal_robot_and_signing_keys(
    db: &DatabaseConnection,
    key: &crate::secrets::SecretsKey,
) -> Result<(), String> {
    let urls = service::webhooks::seal_clear_urls(db, key)
        .await
        .map_err(|e| format!("sealing webhook URLs with SECRETS_KEY: {e}"))?;
    let seeds = service::certificate_keys::seal_clear_seeds(db, key)
        .await
        .map_err(|e| format!("sealing certificate signing keys with SECRETS_KEY: {e}"))?;
    if urls + seeds > 0 {
        tracing::info!(
            urls,
            seeds,
            "webhook URLs and signing keys stored in clear are now encrypted"
        );
    }
    Ok(())
}

/// Opens the database and applies pending migrations.
///
/// SQLite gets one connection: SQLite admits one writer at a time anyway,
/// and a single connection makes every transaction strictly serial, which
/// is what keeps capacity exact without `BEGIN IMMEDIATE`. PostgreSQL gets
/// a pool; correctness there comes from row locks and conditional updates.
pub async fn connect(url: &str) -> Result<DatabaseConnection, String> {
    connect_with(url, PoolSettings::declared()?).await
}

/// [`connect`] with this process's pool settings.
pub async fn connect_with(url: &str, pool: PoolSettings) -> Result<DatabaseConnection, String> {
    let is_sqlite = url.starts_with("sqlite:");
    if is_sqlite {
        ensure_sqlite_dir(url)?;
    }
    let open = |guarded: bool| {
        let mut options = ConnectOptions::new(url.to_string());
        options
            .max_connections(if is_sqlite { 1 } else { pool.max_connections })
            .min_connections(if is_sqlite { 1 } else { pool.min_connections })
            .acquire_timeout(if is_sqlite {
                SQLITE_WRITER_QUEUE.max(pool.acquire_timeout())
            } else {
                pool.acquire_timeout()
            })
            .sqlx_logging(false);
        skip_needless_pings(&mut options, is_sqlite);
        if guarded {
            guard_returned_connections(&mut options);
        }
        // Set on every connection the pool opens, not once on the first:
        // the pool guard replaces a connection after a failed transaction.
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
        Database::connect(options)
    };
    // An in-memory database lives in its one connection: no guard (it
    // would replace the database) and no separate migration connection.
    if url.contains(":memory:") {
        let db = open(false)
            .await
            .map_err(|e| format!("cannot open database: {e}"))?;
        migrate(&db).await?;
        return Ok(db);
    }
    // Migrations run on a pool of their own, without the guard: an SQLite
    // migration that rebuilds a table keeps session state (foreign keys
    // off, a BEGIN of its own) across statements on its one connection.
    let migrator = open(false)
        .await
        .map_err(|e| format!("cannot open database: {e}"))?;
    migrate(&migrator).await?;
    migrator
        .close()
        .await
        .map_err(|e| format!("closing the migration connection: {e}"))?;
    open(true)
        .await
        .map_err(|e| format!("cannot open database: {e}"))
}

/// Applies pending migrations. On PostgreSQL several processes may start
/// at once: they queue on an advisory lock, and the migrations run in the
/// lock's transaction (PostgreSQL's DDL is transactional), so one process
/// migrates and the others find nothing left to do.
async fn migrate(db: &DatabaseConnection) -> Result<(), String> {
    let failed = |e: sea_orm::DbErr| format!("migrations failed: {e}");
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await.map_err(failed);
    }
    let txn = db.begin().await.map_err(failed)?;
    txn.execute_unprepared("SELECT pg_advisory_xact_lock(4242020261129)")
        .await
        .map_err(failed)?;
    Migrator::up(&txn, None).await.map_err(failed)?;
    txn.commit().await.map_err(failed)
}

/// The connections GET handlers read through. PostgreSQL: the same pool.
/// SQLite: a pool of its own beside the single writer — WAL lets readers
/// run beside the writer and each other, each reading the last commit, so
/// reads neither wait for the writer nor for one another. The readers are
/// `query_only`: a write through them fails instead of escaping the
/// writer's serial order.
pub async fn connect_reads(
    url: &str,
    writer: &DatabaseConnection,
    pool: PoolSettings,
) -> Result<DatabaseConnection, String> {
    if writer.get_database_backend() != DbBackend::Sqlite {
        return Ok(writer.clone());
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(pool.sqlite_readers)
        .min_connections(1)
        .acquire_timeout(pool.acquire_timeout())
        .sqlx_logging(false)
        .test_before_acquire(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.pragma("query_only", "ON")
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
    Database::connect(options)
        .await
        .map_err(|e| format!("cannot open database readers: {e}"))
}

/// How long a write waits for SQLite's one writer connection. A file in
/// this process cannot be "away" the way a PostgreSQL server can: a write
/// waiting here is waiting its turn behind the others of a rush, so it
/// gets longer than `DATABASE_ACQUIRE_TIMEOUT_SECS` before its 503.
const SQLITE_WRITER_QUEUE: Duration = Duration::from_secs(10);

/// How long an SQLite statement waits for another process's lock before
/// it fails (503 `database_unavailable`).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Every connection coming back to the pool goes through
/// [`pool_guard`]: one left inside a transaction (after a failed commit)
/// is closed, never handed out again. The SQLite readers are left alone:
/// they are `query_only` and run no transactions.
fn guard_returned_connections(options: &mut ConnectOptions) {
    options
        .map_sqlx_sqlite_pool_opts(|pool| pool.after_release(pool_guard::sqlite_after_release))
        .map_sqlx_postgres_pool_opts(|pool| pool.after_release(pool_guard::postgres_after_release));
}

/// How long a pooled PostgreSQL connection may sit idle before it is
/// pinged on its way out of the pool.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(5);

/// By default every checkout from the pool first pings the connection: a
/// second round trip for every query, which made a one-query read cost two
/// (issue 11). SQLite runs inside this process, so there is no other end
/// that could have hung up: never ping. PostgreSQL can restart or drop a
/// connection while it sits idle, so a connection idle for a while is
/// still pinged (and replaced if dead); one used a moment ago is not.
fn skip_needless_pings(options: &mut ConnectOptions, is_sqlite: bool) {
    if is_sqlite {
        options.test_before_acquire(false);
    } else {
        options.test_before_acquire_if_idle_for(PING_WHEN_IDLE_FOR);
    }
}

fn ensure_sqlite_dir(url: &str) -> Result<(), String> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return Ok(());
    }
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display())),
        _ => Ok(()),
    }
}

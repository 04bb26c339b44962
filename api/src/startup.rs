//! Builds the application: database (with migrations), shared state, the
//! route table, the docs, and the HTTP server — on any port, 0 for tests.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, dev::Server, middleware, web};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::error::AppError;
use crate::{extract, idempotency, openapi, routes, service};

/// What every handler may reach.
pub struct AppState {
    pub db: DatabaseConnection,
    pub tokens: TokenKeys,
    pub settings: Arc<Settings>,
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects, migrates, creates the bootstrap admin and binds the
    /// listener; the server runs once [`Application::run_until_stopped`]
    /// is awaited.
    pub async fn build(settings: Settings) -> Result<Self, String> {
        let db = connect(&settings.database_url).await?;
        if let Some((phone, password)) = &settings.bootstrap_admin {
            service::accounts::ensure_bootstrap_admin(&db, phone, password)
                .await
                .map_err(|e| format!("bootstrap admin: {e}"))?;
        }
        let listener = TcpListener::bind(&settings.bind_addr)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind_addr))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let tokens = TokenKeys::new(&settings.jwt_secret, settings.token_ttl_secs)
            .map_err(|e| format!("JWT_SECRET: {e}"))?;
        let state = web::Data::new(AppState {
            tokens,
            db,
            settings: Arc::new(settings),
        });
        idempotency::spawn_purger(state.db.clone());
        service::delivery::spawn(state.db.clone(), state.settings.clone());
        let server = HttpServer::new(move || {
            let (app, api) = App::new()
                .into_utoipa_app()
                .openapi(openapi::base())
                .app_data(state.clone())
                .app_data(web::PathConfig::default().error_handler(extract::path_error))
                .app_data(web::QueryConfig::default().error_handler(extract::query_error))
                .configure(routes::config)
                .split_for_parts();
            app.service(SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", api))
                .service(web::redirect("/docs", "/docs/"))
                .default_service(web::to(|| async { Err::<&str, _>(AppError::NotFound) }))
                .wrap(middleware::from_fn(idempotency::middleware))
                .wrap(middleware::Compress::default())
                .wrap(TracingLogger::default())
        })
        .listen(listener)
        .map_err(|e| e.to_string())?
        .shutdown_timeout(10)
        .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Opens the database and applies pending migrations.
///
/// SQLite gets one connection: SQLite admits one writer at a time anyway,
/// and a single connection makes every transaction strictly serial, which
/// is what keeps capacity exact without `BEGIN IMMEDIATE`. PostgreSQL gets
/// a pool; correctness there comes from row locks and conditional updates.
pub async fn connect(url: &str) -> Result<DatabaseConnection, String> {
    let is_sqlite = url.starts_with("sqlite:");
    if is_sqlite {
        ensure_sqlite_dir(url)?;
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(if is_sqlite { 1 } else { 16 })
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .map_err(|e| format!("cannot open database: {e}"))?;
    if db.get_database_backend() == DbBackend::Sqlite {
        for pragma in [
            "PRAGMA journal_mode=WAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=5000",
        ] {
            db.execute_unprepared(pragma)
                .await
                .map_err(|e| format!("{pragma}: {e}"))?;
        }
    }
    Migrator::up(&db, None)
        .await
        .map_err(|e| format!("migrations failed: {e}"))?;
    Ok(db)
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

//! PostgreSQL only: every committed change to the tables behind the
//! cached request views (`api/src/read_cache.rs`) sends a `NOTIFY`, so
//! each process drops answers another process's write made stale.
//!
//! Statement-level triggers, and PostgreSQL folds identical notifications
//! of one transaction into one: a transaction costs one notification
//! however many rows it touches. A rolled-back transaction sends none.
//! SQLite needs nothing: one process owns the file and sees its own
//! writes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Must match `read_cache::CHANGES_CHANNEL` in the api crate.
const CHANNEL: &str = "volunteer_service_changes";
/// What a request view is made of: the request, its resident, sign-ups
/// (places left, who sees the resident) and team membership (who sees
/// the request).
const TABLES: [&str; 4] = ["help_requests", "residents", "signups", "team_members"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(&format!(
            "CREATE OR REPLACE FUNCTION notify_read_views_changed() RETURNS trigger \
             LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
        ))
        .await?;
        for table in TABLES {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_changed \
                 AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION notify_read_views_changed()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for table in TABLES {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {table}_changed ON {table}"
            ))
            .await?;
        }
        db.execute_unprepared("DROP FUNCTION IF EXISTS notify_read_views_changed()")
            .await?;
        Ok(())
    }
}

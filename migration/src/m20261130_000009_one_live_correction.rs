//! At most one live correction per record: a unique index on
//! `service_records.supersedes_id` over the corrections not rejected. Two
//! corrections of the same record would each replace it once approved, and
//! the service would count twice; the index lets the database, not a read
//! before the write, decide which of two racing corrections stands.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_service_records_one_live_correction";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A partial index reads the same on SQLite and PostgreSQL.
        m.get_connection()
            .execute_unprepared(&format!(
                "CREATE UNIQUE INDEX {INDEX} ON service_records (supersedes_id) \
                 WHERE status <> 'rejected'"
            ))
            .await
            .map_err(|e| {
                DbErr::Migration(format!(
                    "{INDEX}: some record has two corrections that are not rejected \
                     (its service is counted twice); reject one of each pair, then \
                     start again: {e}"
                ))
            })?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(&format!("DROP INDEX IF EXISTS {INDEX}"))
            .await?;
        Ok(())
    }
}

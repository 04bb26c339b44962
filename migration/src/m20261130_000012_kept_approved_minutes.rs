//! A volunteer's approved minutes, kept on their account row
//! (`users.approved_minutes`) instead of summed over every record on every
//! `GET /me`. The review that makes a record count (or stop counting)
//! moves the figure in its own transaction with `SET x = x + delta`
//! (`api/src/service/service_records.rs`).
//!
//! The backfill counts what `service_records::counts_as_approved` counts:
//! approved records that no approved correction replaced.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Also run by the demo seed after it inserts records directly.
pub const BACKFILL: &str = "UPDATE users SET approved_minutes = COALESCE(( \
     SELECT SUM(r.minutes) FROM service_records r \
     WHERE r.volunteer_id = users.id AND r.status = 'approved' \
       AND NOT EXISTS (SELECT 1 FROM service_records c \
                       WHERE c.supersedes_id = r.id AND c.status = 'approved') \
     ), 0)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(big_integer(Users::ApprovedMinutes).default(0))
                .to_owned(),
        )
        .await?;
        m.get_connection().execute_unprepared(BACKFILL).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::ApprovedMinutes)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    ApprovedMinutes,
}

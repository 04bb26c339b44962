//! Safeguarding and the account lifecycle: account status, background-check
//! validity and a token version on users; pending memberships; retired
//! residents; and a database backstop so that no bug can ever overfill a
//! request (`signups_count <= volunteers_needed`).

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one change per ALTER TABLE.
        let add = |table: Alias, column: ColumnDef| {
            Table::alter().table(table).add_column(column).to_owned()
        };
        m.alter_table(add(
            Alias::new("users"),
            string(Users::Status).default("active").to_owned(),
        ))
        .await?;
        m.alter_table(add(
            Alias::new("users"),
            date_null(Users::VettedUntil).to_owned(),
        ))
        .await?;
        m.alter_table(add(
            Alias::new("users"),
            integer(Users::TokenVersion).default(0).to_owned(),
        ))
        .await?;
        m.alter_table(add(
            Alias::new("team_members"),
            string(TeamMembers::Status).default("active").to_owned(),
        ))
        .await?;
        m.alter_table(add(
            Alias::new("residents"),
            boolean(Residents::Active).default(true).to_owned(),
        ))
        .await?;
        add_capacity_backstop(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE help_requests DROP CONSTRAINT IF EXISTS help_requests_capacity",
                )
                .await?;
            }
            _ => {
                for trigger in [
                    "help_requests_capacity_insert",
                    "help_requests_capacity_update",
                ] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {trigger}"))
                        .await?;
                }
            }
        }
        let drop = |table: &str, column: &str| {
            Table::alter()
                .table(Alias::new(table))
                .drop_column(Alias::new(column))
                .to_owned()
        };
        for (table, column) in [
            ("residents", "active"),
            ("team_members", "status"),
            ("users", "token_version"),
            ("users", "vetted_until"),
            ("users", "status"),
        ] {
            m.alter_table(drop(table, column)).await?;
        }
        Ok(())
    }
}

/// PostgreSQL gets a real `CHECK` constraint. SQLite cannot add one to an
/// existing table without rebuilding it (and every table that refers to
/// it), so it gets triggers that abort the same writes.
async fn add_capacity_backstop(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    if m.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(
            "ALTER TABLE help_requests ADD CONSTRAINT help_requests_capacity \
             CHECK (signups_count >= 0 AND signups_count <= volunteers_needed)",
        )
        .await?;
        return Ok(());
    }
    for (name, event) in [
        ("help_requests_capacity_insert", "INSERT"),
        ("help_requests_capacity_update", "UPDATE"),
    ] {
        db.execute_unprepared(&format!(
            "CREATE TRIGGER {name} BEFORE {event} ON help_requests \
             WHEN NEW.signups_count < 0 OR NEW.signups_count > NEW.volunteers_needed \
             BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: help_requests_capacity'); END"
        ))
        .await?;
    }
    Ok(())
}

#[derive(DeriveIden)]
enum Users {
    Status,
    VettedUntil,
    TokenVersion,
}

#[derive(DeriveIden)]
enum TeamMembers {
    Status,
}

#[derive(DeriveIden)]
enum Residents {
    Active,
}

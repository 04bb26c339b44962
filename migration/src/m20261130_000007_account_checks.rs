//! Accounts: a per-client-address attempt counter for login and
//! registration, and (PostgreSQL) a `NOTIFY` when `users` changes, so a
//! disable or password change in one process retires every other
//! process's cached account checks at commit (`api/src/auth/standing.rs`).

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One row per address and minute; the key makes the count one
        // upsert, exact under any concurrency.
        m.create_table(
            Table::create()
                .table(ClientAttempts::Table)
                .col(string(ClientAttempts::Address))
                .col(big_integer(ClientAttempts::WindowStart))
                .col(integer(ClientAttempts::Attempts))
                .primary_key(
                    Index::create()
                        .col(ClientAttempts::Address)
                        .col(ClientAttempts::WindowStart),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_client_attempts_window")
                .table(ClientAttempts::Table)
                .col(ClientAttempts::WindowStart)
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            // The function comes from migration 5.
            m.get_connection()
                .execute_unprepared(
                    "CREATE TRIGGER users_changed \
                     AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users \
                     FOR EACH STATEMENT EXECUTE FUNCTION notify_read_views_changed()",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP TRIGGER IF EXISTS users_changed ON users")
                .await?;
        }
        m.drop_table(Table::drop().table(ClientAttempts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ClientAttempts {
    Table,
    Address,
    WindowStart,
    Attempts,
}

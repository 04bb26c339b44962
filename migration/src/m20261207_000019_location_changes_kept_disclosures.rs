//! Two small things the per-client limits and idempotent replays need:
//!
//! - `location_changes`: how often each person moved their own location
//!   on one local day (`day`: the day's first instant, Unix seconds), so
//!   the daily limit holds across server processes. One upsert per
//!   change, exact under any concurrency.
//! - `idempotency_keys.disclosed`: the residents whose personal data a
//!   kept answer carries (UUIDs, comma-separated), so a replay is logged
//!   in the access log like the first answer.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LocationChanges::Table)
                .col(uuid(LocationChanges::UserId))
                .col(big_integer(LocationChanges::Day))
                .col(integer(LocationChanges::Changes))
                .primary_key(
                    Index::create()
                        .col(LocationChanges::UserId)
                        .col(LocationChanges::Day),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(IdempotencyKeys::Table)
                .add_column(text_null(IdempotencyKeys::Disclosed))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(IdempotencyKeys::Table)
                .drop_column(IdempotencyKeys::Disclosed)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(LocationChanges::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum LocationChanges {
    Table,
    UserId,
    Day,
    Changes,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Disclosed,
}

//! The daily vetting pass: one row per local day, inserted in the
//! transaction that holds lapsed members and withdraws their sign-ups, so
//! the pass runs once a day however many processes try.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(VettingPasses::Table)
                .col(string(VettingPasses::Day).primary_key())
                .col(big_integer(VettingPasses::RanAt))
                .col(integer(VettingPasses::Withdrawn))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(VettingPasses::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum VettingPasses {
    Table,
    Day,
    RanAt,
    Withdrawn,
}

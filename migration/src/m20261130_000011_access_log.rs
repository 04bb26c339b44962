//! The access log of residents' personal data: one row per resident per
//! answer that carried their address, phone or ID number. Read newest
//! first per resident, so the index leads with the resident and ends with
//! the (time-ordered, UUIDv7) id.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ResidentAccessLog::Table)
                .col(uuid(ResidentAccessLog::Id).primary_key())
                .col(uuid(ResidentAccessLog::ResidentId))
                .col(uuid(ResidentAccessLog::ActorId))
                .col(string(ResidentAccessLog::ActorRole))
                .col(string(ResidentAccessLog::Route))
                .col(big_integer(ResidentAccessLog::AccessedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_resident_access_log_resident")
                .table(ResidentAccessLog::Table)
                .col(ResidentAccessLog::ResidentId)
                .col(ResidentAccessLog::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ResidentAccessLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ResidentAccessLog {
    Table,
    Id,
    ResidentId,
    ActorId,
    ActorRole,
    Route,
    AccessedAt,
}

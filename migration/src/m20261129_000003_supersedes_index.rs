//! Index on `service_records.supersedes_id`: "approved and not replaced by
//! an approved correction" is checked per record (hours, statistics,
//! exports), and without it every check scanned the table.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_service_records_supersedes")
                .table(ServiceRecords::Table)
                .col(ServiceRecords::SupersedesId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_service_records_supersedes")
                .table(ServiceRecords::Table)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum ServiceRecords {
    Table,
    SupersedesId,
}

//! Certificate signing keys can be withdrawn (a leaked key): a withdrawn
//! key leaves the published set, and certificates it signed no longer
//! verify as valid. The row stays, so a check can still say why.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(CertificateKeys::Table)
                .add_column(big_integer_null(CertificateKeys::WithdrawnAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(CertificateKeys::Table)
                .drop_column(CertificateKeys::WithdrawnAt)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum CertificateKeys {
    Table,
    WithdrawnAt,
}

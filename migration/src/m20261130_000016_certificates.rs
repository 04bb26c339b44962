//! Service certificates (志愿服务记录证明): their figures frozen at issue,
//! looked up by the SHA-256 of their number. Certificate signing keys: one
//! row per generation; the unique generation decides which of several
//! processes' fresh keys becomes the key, and old rows stay so that old
//! certificates still verify.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Certificates::Table)
                .col(uuid(Certificates::Id).primary_key())
                .col(string(Certificates::Number).unique_key())
                .col(string(Certificates::NumberHash).unique_key())
                .col(uuid(Certificates::VolunteerId))
                .col(text(Certificates::VolunteerName))
                .col(big_integer(Certificates::Minutes))
                .col(big_integer(Certificates::Records))
                .col(string(Certificates::PeriodFrom))
                .col(string(Certificates::PeriodTo))
                .col(text(Certificates::ByCategory))
                .col(big_integer(Certificates::IssuedAt))
                .col(uuid(Certificates::IssuedBy))
                .col(text(Certificates::Issuer))
                .col(text(Certificates::Signature))
                .col(string(Certificates::Status))
                .col(text_null(Certificates::RevokedReason))
                .col(big_integer_null(Certificates::RevokedAt))
                .col(uuid_null(Certificates::RevokedBy))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_certificates_volunteer")
                .table(Certificates::Table)
                .col(Certificates::VolunteerId)
                .col(Certificates::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CertificateKeys::Table)
                .col(string(CertificateKeys::Kid).primary_key())
                .col(big_integer(CertificateKeys::Generation).unique_key())
                .col(string(CertificateKeys::PublicKey))
                .col(text_null(CertificateKeys::SealedSeed))
                .col(big_integer(CertificateKeys::CreatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Certificates::Table.into_iden(),
            CertificateKeys::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    Id,
    Number,
    NumberHash,
    VolunteerId,
    VolunteerName,
    Minutes,
    Records,
    PeriodFrom,
    PeriodTo,
    ByCategory,
    IssuedAt,
    IssuedBy,
    Issuer,
    Signature,
    Status,
    RevokedReason,
    RevokedAt,
    RevokedBy,
}

#[derive(DeriveIden)]
enum CertificateKeys {
    Table,
    Kid,
    Generation,
    PublicKey,
    SealedSeed,
    CreatedAt,
}

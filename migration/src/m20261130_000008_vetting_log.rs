//! The trail of background-check changes: who set whose `vetted_until` to
//! what, when, and with which note. Managers are asked who vouched for a
//! person; `users.vetted_until` only says the latest answer.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(VettingChanges::Table)
                .col(uuid(VettingChanges::Id).primary_key())
                .col(uuid(VettingChanges::UserId))
                .col(date_null(VettingChanges::PreviousUntil))
                .col(date_null(VettingChanges::VettedUntil))
                .col(text_null(VettingChanges::Note))
                .col(uuid(VettingChanges::ChangedBy))
                .col(big_integer(VettingChanges::ChangedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(VettingChanges::Table, VettingChanges::UserId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(VettingChanges::Table, VettingChanges::ChangedBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        // One person's trail, newest first (ids are time-ordered v7).
        m.create_index(
            Index::create()
                .name("idx_vetting_changes_user")
                .table(VettingChanges::Table)
                .col(VettingChanges::UserId)
                .col(VettingChanges::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(VettingChanges::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum VettingChanges {
    Table,
    Id,
    UserId,
    PreviousUntil,
    VettedUntil,
    Note,
    ChangedBy,
    ChangedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

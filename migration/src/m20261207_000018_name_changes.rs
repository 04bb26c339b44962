//! The trail of name changes: who changed whose name from what to what,
//! and when. Certificates carry the real name, so once a volunteer has
//! approved service only a manager renames them, and the trail says who
//! did and why.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(NameChanges::Table)
                .col(uuid(NameChanges::Id).primary_key())
                .col(uuid(NameChanges::UserId))
                .col(text(NameChanges::PreviousName))
                .col(text(NameChanges::Name))
                .col(text_null(NameChanges::Note))
                .col(uuid(NameChanges::ChangedBy))
                .col(big_integer(NameChanges::ChangedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(NameChanges::Table, NameChanges::UserId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(NameChanges::Table, NameChanges::ChangedBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        // One person's trail, newest first (ids are time-ordered v7).
        m.create_index(
            Index::create()
                .name("idx_name_changes_user")
                .table(NameChanges::Table)
                .col(NameChanges::UserId)
                .col(NameChanges::Id)
                .to_owned(),
        )
        .await?;
        // Today's certificates of one volunteer are counted at each issue
        // (`CERTIFICATES_PER_DAY`).
        m.create_index(
            Index::create()
                .name("idx_certificates_volunteer_issued")
                .table(Certificates::Table)
                .col(Certificates::VolunteerId)
                .col(Certificates::IssuedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_certificates_volunteer_issued")
                .table(Certificates::Table)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(NameChanges::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum NameChanges {
    Table,
    Id,
    UserId,
    PreviousName,
    Name,
    Note,
    ChangedBy,
    ChangedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    VolunteerId,
    IssuedAt,
}

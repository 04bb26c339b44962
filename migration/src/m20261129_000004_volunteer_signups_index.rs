//! Index on `signups (volunteer_id, request_id)`: every volunteer read of
//! requests asks "which of these did I sign up for?", and the unique index
//! (request_id, volunteer_id) cannot answer it by volunteer.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_signups_volunteer")
                .table(Signups::Table)
                .col(Signups::VolunteerId)
                .col(Signups::RequestId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_signups_volunteer")
                .table(Signups::Table)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Signups {
    Table,
    VolunteerId,
    RequestId,
}

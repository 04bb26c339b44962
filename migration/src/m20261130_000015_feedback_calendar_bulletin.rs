//! Feedback after a visit (回访), one per request: the unique request id
//! decides a second one, whatever the concurrency. Volunteers' calendar
//! feeds: one secret per volunteer, stored as its SHA-256. Monthly
//! bulletins: one row per month, inserted with the event it sends, so the
//! bulletin goes out once however many processes try.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RequestFeedback::Table)
                .col(uuid(RequestFeedback::Id).primary_key())
                .col(uuid(RequestFeedback::RequestId).unique_key())
                .col(uuid(RequestFeedback::AuthorId))
                .col(integer(RequestFeedback::Satisfaction))
                .col(text_null(RequestFeedback::Comment))
                .col(boolean(RequestFeedback::Concern))
                .col(text_null(RequestFeedback::ConcernNote))
                .col(big_integer(RequestFeedback::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CalendarFeeds::Table)
                .col(uuid(CalendarFeeds::UserId).primary_key())
                .col(string(CalendarFeeds::TokenHash).unique_key())
                .col(big_integer(CalendarFeeds::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(MonthlyBulletins::Table)
                .col(string(MonthlyBulletins::Month).primary_key())
                .col(big_integer(MonthlyBulletins::SentAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RequestFeedback::Table.into_iden(),
            CalendarFeeds::Table.into_iden(),
            MonthlyBulletins::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum RequestFeedback {
    Table,
    Id,
    RequestId,
    AuthorId,
    Satisfaction,
    Comment,
    Concern,
    ConcernNote,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CalendarFeeds {
    Table,
    UserId,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MonthlyBulletins {
    Table,
    Month,
    SentAt,
}

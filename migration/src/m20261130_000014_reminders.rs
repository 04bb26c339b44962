//! Timed events (reminder, unfilled alert, no-shows) and the status of a
//! sign-up.
//!
//! Each timed event has a "handled at" column on the request. The
//! scheduler claims a due request with `UPDATE … SET x_at = now WHERE id =
//! … AND x_at IS NULL`, in the transaction that writes the outbox rows, so
//! an event is written once however many processes tick. Every request
//! that passes its due time is marked, whether or not it needed the event,
//! so the `NULL` part of each `(x_at, starts_at)` index holds only requests
//! not yet due: a tick reads what is due and nothing else.
//!
//! Requests that already started when this migration runs are marked
//! handled, so that upgrading does not announce the past.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const DUE_INDEXES: [(&str, HelpRequests); 3] = [
    (
        "idx_help_requests_reminder_due",
        HelpRequests::ReminderSentAt,
    ),
    (
        "idx_help_requests_unfilled_due",
        HelpRequests::UnfilledSentAt,
    ),
    (
        "idx_help_requests_no_show_due",
        HelpRequests::NoShowsSettledAt,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one change per ALTER TABLE.
        for (_, column) in DUE_INDEXES {
            m.alter_table(
                Table::alter()
                    .table(HelpRequests::Table)
                    .add_column(big_integer_null(column))
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Signups::Table)
                .add_column(string(Signups::Status).default("signed_up"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Signups::Table)
                .add_column(big_integer_null(Signups::StatusChangedAt))
                .to_owned(),
        )
        .await?;
        for (name, column) in DUE_INDEXES {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(HelpRequests::Table)
                    .col(column)
                    .col(HelpRequests::StartsAt)
                    .to_owned(),
            )
            .await?;
        }
        // No-shows of a volunteer (member lists, matching).
        m.create_index(
            Index::create()
                .name("idx_signups_volunteer_status")
                .table(Signups::Table)
                .col(Signups::VolunteerId)
                .col(Signups::Status)
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        db.execute_unprepared(&format!(
            "UPDATE help_requests SET reminder_sent_at = {now}, unfilled_sent_at = {now}, \
             no_shows_settled_at = {now} WHERE starts_at <= {now}"
        ))
        .await?;
        db.execute_unprepared(
            "UPDATE signups SET status = 'attended' WHERE EXISTS (SELECT 1 FROM service_records r \
             WHERE r.request_id = signups.request_id AND r.volunteer_id = signups.volunteer_id)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_signups_volunteer_status")
                .table(Signups::Table)
                .to_owned(),
        )
        .await?;
        for (name, _) in DUE_INDEXES {
            m.drop_index(
                Index::drop()
                    .name(name)
                    .table(HelpRequests::Table)
                    .to_owned(),
            )
            .await?;
        }
        for column in [Signups::Status, Signups::StatusChangedAt] {
            m.alter_table(
                Table::alter()
                    .table(Signups::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        for (_, column) in DUE_INDEXES {
            m.alter_table(
                Table::alter()
                    .table(HelpRequests::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum HelpRequests {
    Table,
    StartsAt,
    ReminderSentAt,
    UnfilledSentAt,
    NoShowsSettledAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Signups {
    Table,
    VolunteerId,
    Status,
    StatusChangedAt,
}

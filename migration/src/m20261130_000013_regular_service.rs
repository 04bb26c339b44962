//! Regular service: pairings (结对帮扶) whose occurrences are ordinary
//! requests, campaigns that post one request per resident, and community
//! activities — requests with no resident and a public place of their own.
//!
//! The unique index on `(pairing_id, occurrence_at)` is what makes each
//! occurrence exist once however many processes top pairings up: a second
//! insert of the same occurrence conflicts and inserts nothing.

use sea_orm_migration::sea_orm::{DbBackend, Statement};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Pairings::Table)
                .col(uuid(Pairings::Id).primary_key())
                .col(uuid(Pairings::ResidentId))
                .col(uuid(Pairings::TeamId))
                .col(uuid(Pairings::CaseworkerId))
                .col(string(Pairings::Category))
                .col(string(Pairings::Title))
                .col(text(Pairings::Description))
                .col(string(Pairings::Rrule))
                .col(string(Pairings::StartTime))
                .col(integer(Pairings::DurationMinutes))
                .col(integer(Pairings::VolunteersNeeded))
                .col(date(Pairings::StartsOn))
                .col(text(Pairings::RegularVolunteerIds))
                .col(boolean(Pairings::Active).default(true))
                // Occurrences exist as requests up to here (Unix seconds).
                .col(big_integer(Pairings::GeneratedUntil).default(0))
                .col(big_integer(Pairings::CreatedAt))
                .col(big_integer(Pairings::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Pairings::Table, Pairings::ResidentId)
                        .to(Alias::new("residents"), Alias::new("id")),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Pairings::Table, Pairings::TeamId)
                        .to(Alias::new("teams"), Alias::new("id")),
                )
                .to_owned(),
        )
        .await?;
        for (name, column) in [
            ("idx_pairings_resident", Pairings::ResidentId),
            ("idx_pairings_team", Pairings::TeamId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Pairings::Table)
                    .col(column)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(Campaigns::Table)
                .col(uuid(Campaigns::Id).primary_key())
                .col(string(Campaigns::Name))
                .col(text(Campaigns::ResidentCategories))
                .col(string(Campaigns::Category))
                .col(string(Campaigns::Title))
                .col(text(Campaigns::Description))
                .col(big_integer(Campaigns::StartsAt))
                .col(big_integer(Campaigns::EndsAt))
                .col(integer(Campaigns::VolunteersPerRequest))
                .col(uuid(Campaigns::CreatedBy))
                .col(big_integer(Campaigns::CreatedAt))
                .to_owned(),
        )
        .await?;

        // SQLite takes one change per ALTER TABLE.
        let add = |column: ColumnDef| {
            Table::alter()
                .table(HelpRequests::Table)
                .add_column(column)
                .to_owned()
        };
        m.alter_table(add(uuid_null(HelpRequests::PairingId).to_owned()))
            .await?;
        m.alter_table(add(big_integer_null(HelpRequests::OccurrenceAt).to_owned()))
            .await?;
        m.alter_table(add(uuid_null(HelpRequests::CampaignId).to_owned()))
            .await?;
        m.alter_table(add(double_null(HelpRequests::LocationLat).to_owned()))
            .await?;
        m.alter_table(add(double_null(HelpRequests::LocationLng).to_owned()))
            .await?;
        m.alter_table(add(text_null(HelpRequests::Address).to_owned()))
            .await?;
        m.create_index(
            Index::create()
                .name("uq_help_requests_occurrence")
                .table(HelpRequests::Table)
                .col(HelpRequests::PairingId)
                .col(HelpRequests::OccurrenceAt)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_help_requests_campaign")
                .table(HelpRequests::Table)
                .col(HelpRequests::CampaignId)
                .to_owned(),
        )
        .await?;
        resident_becomes_optional(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for index in ["idx_help_requests_campaign", "uq_help_requests_occurrence"] {
            m.drop_index(
                Index::drop()
                    .name(index)
                    .table(HelpRequests::Table)
                    .to_owned(),
            )
            .await?;
        }
        for column in [
            HelpRequests::Address,
            HelpRequests::LocationLng,
            HelpRequests::LocationLat,
            HelpRequests::CampaignId,
            HelpRequests::OccurrenceAt,
            HelpRequests::PairingId,
        ] {
            m.alter_table(
                Table::alter()
                    .table(HelpRequests::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table(Campaigns::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Pairings::Table).to_owned())
            .await
    }
}

/// A community activity has no resident, so `help_requests.resident_id`
/// may be null. PostgreSQL alters the column. SQLite cannot, so the table
/// is rebuilt the way SQLite's documentation prescribes (ALTER TABLE,
/// "other kinds of table schema changes"): foreign keys off, a copy with
/// the new definition, the old table dropped, the copy renamed, its
/// indexes and triggers made again, the keys checked, all in one
/// transaction. The writer is a single connection, so the pragma covers
/// exactly this work.
async fn resident_becomes_optional(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    if m.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("ALTER TABLE help_requests ALTER COLUMN resident_id DROP NOT NULL")
            .await?;
        return Ok(());
    }
    let schema = |sql: &str| Statement::from_string(DbBackend::Sqlite, sql.to_owned());
    let create: String = db
        .query_one_raw(schema(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'help_requests'",
        ))
        .await?
        .ok_or_else(|| DbErr::Migration("help_requests is missing".into()))?
        .try_get("", "sql")?;
    let required = "\"resident_id\" uuid_text NOT NULL";
    if !create.contains(required) {
        return Err(DbErr::Migration(format!(
            "help_requests.resident_id is not as expected: {create}"
        )));
    }
    let rebuilt = create
        .replacen(required, "\"resident_id\" uuid_text", 1)
        .replacen("\"help_requests\"", "\"help_requests_rebuilt\"", 1);
    let mut dependents = Vec::new();
    for row in db
        .query_all_raw(schema(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'help_requests' \
             AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        ))
        .await?
    {
        dependents.push(row.try_get::<String>("", "sql")?);
    }
    db.execute_unprepared("PRAGMA foreign_keys = OFF").await?;
    let rebuild = async {
        db.execute_unprepared("BEGIN").await?;
        db.execute_unprepared(&rebuilt).await?;
        db.execute_unprepared("INSERT INTO help_requests_rebuilt SELECT * FROM help_requests")
            .await?;
        db.execute_unprepared("DROP TABLE help_requests").await?;
        db.execute_unprepared("ALTER TABLE help_requests_rebuilt RENAME TO help_requests")
            .await?;
        for sql in &dependents {
            db.execute_unprepared(sql).await?;
        }
        let broken = db
            .query_all_raw(schema("PRAGMA foreign_key_check"))
            .await?
            .len();
        if broken > 0 {
            return Err(DbErr::Migration(format!(
                "{broken} rows break a foreign key after rebuilding help_requests"
            )));
        }
        db.execute_unprepared("COMMIT").await?;
        Ok(())
    };
    let outcome = rebuild.await;
    if outcome.is_err() {
        db.execute_unprepared("ROLLBACK").await.ok();
    }
    db.execute_unprepared("PRAGMA foreign_keys = ON").await?;
    outcome
}

#[derive(DeriveIden)]
enum Pairings {
    Table,
    Id,
    ResidentId,
    TeamId,
    CaseworkerId,
    Category,
    Title,
    Description,
    Rrule,
    StartTime,
    DurationMinutes,
    VolunteersNeeded,
    StartsOn,
    RegularVolunteerIds,
    Active,
    GeneratedUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    Name,
    ResidentCategories,
    Category,
    Title,
    Description,
    StartsAt,
    EndsAt,
    VolunteersPerRequest,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum HelpRequests {
    Table,
    PairingId,
    OccurrenceAt,
    CampaignId,
    LocationLat,
    LocationLng,
    Address,
}

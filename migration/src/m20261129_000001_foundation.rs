//! Accounts, teams, residents, help requests, sign-ups, service records
//! with their history, login throttling and idempotency keys.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(uuid(Users::Id).primary_key())
                .col(string(Users::Phone).unique_key())
                .col(string(Users::PasswordHash))
                .col(string(Users::Name))
                .col(string(Users::Role))
                .col(text(Users::Skills))
                .col(double_null(Users::LocationLat))
                .col(double_null(Users::LocationLng))
                .col(text(Users::Availability))
                .col(big_integer(Users::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LoginFailures::Table)
                .col(uuid(LoginFailures::Id).primary_key())
                .col(string(LoginFailures::Phone))
                .col(big_integer(LoginFailures::FailedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_login_failures_phone")
                .table(LoginFailures::Table)
                .col(LoginFailures::Phone)
                .col(LoginFailures::FailedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Teams::Table)
                .col(uuid(Teams::Id).primary_key())
                .col(string(Teams::Name))
                .col(string(Teams::Kind))
                .col(text(Teams::ServiceCategories))
                .col(double(Teams::LocationLat))
                .col(double(Teams::LocationLng))
                .col(double(Teams::ServiceRadiusKm))
                .col(boolean(Teams::Vetted))
                .col(big_integer(Teams::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(TeamMembers::Table)
                .col(uuid(TeamMembers::TeamId))
                .col(uuid(TeamMembers::UserId))
                .col(string(TeamMembers::Role))
                .col(big_integer(TeamMembers::JoinedAt))
                .primary_key(
                    Index::create()
                        .col(TeamMembers::TeamId)
                        .col(TeamMembers::UserId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(TeamMembers::Table, TeamMembers::TeamId)
                        .to(Teams::Table, Teams::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(TeamMembers::Table, TeamMembers::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_team_members_user")
                .table(TeamMembers::Table)
                .col(TeamMembers::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Residents::Table)
                .col(uuid(Residents::Id).primary_key())
                .col(string(Residents::Name))
                .col(string(Residents::Category))
                .col(string_null(Residents::Phone))
                .col(text(Residents::Address))
                .col(double(Residents::LocationLat))
                .col(double(Residents::LocationLng))
                .col(string_null(Residents::IdNumberMasked))
                .col(string_null(Residents::GuardianName))
                .col(string_null(Residents::GuardianPhone))
                .col(text_null(Residents::Notes))
                .col(uuid(Residents::CreatedBy))
                .col(big_integer(Residents::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(HelpRequests::Table)
                .col(uuid(HelpRequests::Id).primary_key())
                .col(uuid(HelpRequests::ResidentId))
                .col(uuid(HelpRequests::CaseworkerId))
                .col(string(HelpRequests::Category))
                .col(string(HelpRequests::Title))
                .col(text(HelpRequests::Description))
                .col(big_integer(HelpRequests::StartsAt))
                .col(big_integer(HelpRequests::EndsAt))
                .col(integer(HelpRequests::VolunteersNeeded))
                .col(integer(HelpRequests::SignupsCount))
                .col(string(HelpRequests::Urgency))
                .col(string(HelpRequests::Status))
                .col(uuid_null(HelpRequests::TeamId))
                .col(big_integer(HelpRequests::CreatedAt))
                .col(big_integer(HelpRequests::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(HelpRequests::Table, HelpRequests::ResidentId)
                        .to(Residents::Table, Residents::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(HelpRequests::Table, HelpRequests::TeamId)
                        .to(Teams::Table, Teams::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, column) in [
            ("idx_help_requests_team", HelpRequests::TeamId),
            ("idx_help_requests_resident", HelpRequests::ResidentId),
            ("idx_help_requests_status", HelpRequests::Status),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(HelpRequests::Table)
                    .col(column)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(Signups::Table)
                .col(uuid(Signups::Id).primary_key())
                .col(uuid(Signups::RequestId))
                .col(uuid(Signups::VolunteerId))
                .col(uuid(Signups::TeamId))
                .col(big_integer(Signups::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Signups::Table, Signups::RequestId)
                        .to(HelpRequests::Table, HelpRequests::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_signups_request_volunteer")
                .table(Signups::Table)
                .col(Signups::RequestId)
                .col(Signups::VolunteerId)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ServiceRecords::Table)
                .col(uuid(ServiceRecords::Id).primary_key())
                .col(uuid(ServiceRecords::VolunteerId))
                .col(uuid(ServiceRecords::RequestId))
                .col(uuid(ServiceRecords::TeamId))
                .col(big_integer(ServiceRecords::StartedAt))
                .col(big_integer_null(ServiceRecords::EndedAt))
                .col(integer_null(ServiceRecords::Minutes))
                .col(string(ServiceRecords::Status))
                .col(string(ServiceRecords::Source))
                .col(text_null(ServiceRecords::Note))
                .col(uuid(ServiceRecords::RecorderId))
                .col(double_null(ServiceRecords::CheckInDistanceM))
                .col(double_null(ServiceRecords::CheckOutDistanceM))
                .col(uuid_null(ServiceRecords::SupersedesId))
                .col(uuid_null(ServiceRecords::ReviewedBy))
                .col(big_integer_null(ServiceRecords::ReviewedAt))
                .col(text_null(ServiceRecords::RejectReason))
                .col(big_integer(ServiceRecords::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ServiceRecords::Table, ServiceRecords::RequestId)
                        .to(HelpRequests::Table, HelpRequests::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ServiceRecords::Table, ServiceRecords::VolunteerId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, column) in [
            ("idx_service_records_volunteer", ServiceRecords::VolunteerId),
            ("idx_service_records_request", ServiceRecords::RequestId),
            ("idx_service_records_started", ServiceRecords::StartedAt),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(ServiceRecords::Table)
                    .col(column)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(ServiceRecordEvents::Table)
                .col(uuid(ServiceRecordEvents::Id).primary_key())
                .col(uuid(ServiceRecordEvents::RecordId))
                .col(string(ServiceRecordEvents::Action))
                .col(uuid(ServiceRecordEvents::ActorId))
                .col(text_null(ServiceRecordEvents::Reason))
                .col(big_integer(ServiceRecordEvents::At))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_service_record_events_record")
                .table(ServiceRecordEvents::Table)
                .col(ServiceRecordEvents::RecordId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(string(IdempotencyKeys::Owner))
                .col(string(IdempotencyKeys::Key))
                .col(string(IdempotencyKeys::RequestHash))
                .col(integer_null(IdempotencyKeys::StatusCode))
                .col(text_null(IdempotencyKeys::ResponseBody))
                .col(big_integer(IdempotencyKeys::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(IdempotencyKeys::Owner)
                        .col(IdempotencyKeys::Key),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            ServiceRecordEvents::Table.into_iden(),
            ServiceRecords::Table.into_iden(),
            Signups::Table.into_iden(),
            HelpRequests::Table.into_iden(),
            Residents::Table.into_iden(),
            TeamMembers::Table.into_iden(),
            Teams::Table.into_iden(),
            LoginFailures::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Phone,
    PasswordHash,
    Name,
    Role,
    Skills,
    LocationLat,
    LocationLng,
    Availability,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Id,
    Phone,
    FailedAt,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    Name,
    Kind,
    ServiceCategories,
    LocationLat,
    LocationLng,
    ServiceRadiusKm,
    Vetted,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TeamMembers {
    Table,
    TeamId,
    UserId,
    Role,
    JoinedAt,
}

#[derive(DeriveIden)]
enum Residents {
    Table,
    Id,
    Name,
    Category,
    Phone,
    Address,
    LocationLat,
    LocationLng,
    IdNumberMasked,
    GuardianName,
    GuardianPhone,
    Notes,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum HelpRequests {
    Table,
    Id,
    ResidentId,
    CaseworkerId,
    Category,
    Title,
    Description,
    StartsAt,
    EndsAt,
    VolunteersNeeded,
    SignupsCount,
    Urgency,
    Status,
    TeamId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Signups {
    Table,
    Id,
    RequestId,
    VolunteerId,
    TeamId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ServiceRecords {
    Table,
    Id,
    VolunteerId,
    RequestId,
    TeamId,
    StartedAt,
    EndedAt,
    Minutes,
    Status,
    Source,
    Note,
    RecorderId,
    CheckInDistanceM,
    CheckOutDistanceM,
    SupersedesId,
    ReviewedBy,
    ReviewedAt,
    RejectReason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ServiceRecordEvents {
    Table,
    Id,
    RecordId,
    Action,
    ActorId,
    Reason,
    At,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Owner,
    Key,
    RequestHash,
    StatusCode,
    ResponseBody,
    CreatedAt,
}

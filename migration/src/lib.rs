//! Schema migrations, applied by the server at start-up. Written with
//! SeaORM's schema builders so that one migration serves SQLite and
//! PostgreSQL alike.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_foundation;
mod m20261129_000002_notifications;
mod m20261129_000003_supersedes_index;
mod m20261129_000004_volunteer_signups_index;
mod m20261129_000005_change_notifications;
mod m20261130_000006_safeguarding;
mod m20261130_000007_account_checks;
mod m20261130_000008_vetting_log;
mod m20261130_000009_one_live_correction;
mod m20261130_000011_access_log;
mod m20261130_000012_kept_approved_minutes;
mod m20261130_000013_regular_service;
mod m20261130_000014_reminders;
mod m20261130_000015_feedback_calendar_bulletin;
mod m20261130_000016_certificates;
mod m20261207_000017_vetting_passes;
mod m20261207_000018_name_changes;
mod m20261207_000019_location_changes_kept_disclosures;
mod m20261207_000020_withdrawn_certificate_keys;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_foundation::Migration),
            Box::new(m20261129_000002_notifications::Migration),
            Box::new(m20261129_000003_supersedes_index::Migration),
            Box::new(m20261129_000004_volunteer_signups_index::Migration),
            Box::new(m20261129_000005_change_notifications::Migration),
            Box::new(m20261130_000006_safeguarding::Migration),
            Box::new(m20261130_000007_account_checks::Migration),
            Box::new(m20261130_000008_vetting_log::Migration),
            Box::new(m20261130_000009_one_live_correction::Migration),
            Box::new(m20261130_000011_access_log::Migration),
            Box::new(m20261130_000012_kept_approved_minutes::Migration),
            Box::new(m20261130_000013_regular_service::Migration),
            Box::new(m20261130_000014_reminders::Migration),
            Box::new(m20261130_000015_feedback_calendar_bulletin::Migration),
            Box::new(m20261130_000016_certificates::Migration),
            Box::new(m20261207_000017_vetting_passes::Migration),
            Box::new(m20261207_000018_name_changes::Migration),
            Box::new(m20261207_000019_location_changes_kept_disclosures::Migration),
            Box::new(m20261207_000020_withdrawn_certificate_keys::Migration),
        ]
    }
}

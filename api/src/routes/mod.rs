//! The route table: every route of the contract, under `/api/v1`; the
//! health check, calendar feeds, certificate checks and keys also at the
//! root.

use utoipa_actix_web::{scope, service_config::ServiceConfig};

mod accounts;
mod calendar;
mod campaigns;
mod certificates;
mod feedback;
mod health;
mod memberships;
mod metrics;
mod pairings;
mod reports;
mod requests;
mod residents;
mod service_records;
mod signups;
mod teams;
mod users;
mod vetting;
mod webhooks;

pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::livez)
        .service(calendar::calendar_feed)
        .configure(certificates::public)
        .configure(metrics::config)
        .service(
            scope("/api/v1")
                .configure(health::config)
                .configure(accounts::config)
                .configure(users::config)
                .configure(vetting::config)
                .configure(teams::config)
                .configure(memberships::config)
                .configure(residents::config)
                .configure(requests::config)
                .configure(pairings::config)
                .configure(campaigns::config)
                .configure(signups::config)
                .configure(service_records::config)
                .configure(reports::config)
                .configure(feedback::config)
                .configure(certificates::config)
                .configure(calendar::config)
                .configure(webhooks::config),
        );
}

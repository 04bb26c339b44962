//! Prometheus metrics of this process, served at `GET /metrics`: requests
//! by route and status, their latency, webhook delivery attempts by
//! outcome — plus, read from the database at scrape time, the outbox depth
//! and the failed deliveries, which belong to all processes together.
//!
//! Routes are labelled by their pattern (`/api/v1/requests/{id}`), never
//! by the path itself: ids would explode the label set, and paths are not
//! for logs or metrics anyway.

use crate::read_cache::Lookup;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    delivery_attempts: IntCounterVec,
    deliveries: IntGaugeVec,
    pool: IntGaugeVec,
    read_cache: IntCounterVec,
    account_checks: IntCounterVec,
    pairings_skipped: IntCounter,
}

/// Database figures gathered at scrape time.
#[derive(Debug, Default, Clone, Copy)]
pub struct StoredFigures {
    pub pending_deliveries: i64,
    pub failed_deliveries: i64,
    pub pool_size: u32,
    pub pool_idle: usize,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer an HTTP request (to the first byte of the body)",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route"],
        )?;
        let delivery_attempts = IntCounterVec::new(
            Opts::new(
                "webhook_delivery_attempts_total",
                "Webhook sends by this process, by outcome (delivered, retry, failed)",
            ),
            &["outcome"],
        )?;
        let deliveries = IntGaugeVec::new(
            Opts::new(
                "webhook_deliveries",
                "Webhook deliveries in the database: pending (the outbox depth) and failed",
            ),
            &["status"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database connections of this process",
            ),
            &["state"],
        )?;
        let read_cache = IntCounterVec::new(
            Opts::new(
                "read_cache_lookups_total",
                "Cached reads of this process by outcome: hit, miss, bypass (cache off, or \
                 PostgreSQL change listener not connected)",
            ),
            &["outcome"],
        )?;
        let account_checks = IntCounterVec::new(
            Opts::new(
                "account_checks_total",
                "Checks of a token's account (disabled, revoked) by where the answer came \
                 from: memory or database",
            ),
            &["source"],
        )?;
        let pairings_skipped = IntCounter::new(
            "pairing_visits_skipped_total",
            "Pairings the visit maker of this process could not top up in a round (each \
             is logged with its id and tried again next round)",
        )?;
        registry.register(Box::new(pairings_skipped.clone()))?;
        registry.register(Box::new(account_checks.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(read_cache.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(delivery_attempts.clone()))?;
        registry.register(Box::new(deliveries.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            delivery_attempts,
            deliveries,
            pool,
            read_cache,
            account_checks,
            pairings_skipped,
        })
    }

    pub fn pairings_skipped(&self, count: usize) {
        self.pairings_skipped.inc_by(count as u64);
    }

    pub fn account_check(&self, from_memory: bool) {
        let source = if from_memory { "memory" } else { "database" };
        self.account_checks.with_label_values(&[source]).inc();
    }

    pub fn read_cache_lookup(&self, lookup: Lookup) {
        let outcome = match lookup {
            Lookup::Hit => "hit",
            Lookup::Miss => "miss",
            Lookup::Bypass => "bypass",
        };
        self.read_cache.with_label_values(&[outcome]).inc();
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, status_label(status)])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    pub fn delivery_attempt(&self, outcome: &str) {
        self.delivery_attempts.with_label_values(&[outcome]).inc();
    }

    /// The text exposition format.
    pub fn render(&self, stored: StoredFigures) -> String {
        self.deliveries
            .with_label_values(&["pending"])
            .set(stored.pending_deliveries);
        self.deliveries
            .with_label_values(&["failed"])
            .set(stored.failed_deliveries);
        self.pool
            .with_label_values(&["open"])
            .set(i64::from(stored.pool_size));
        self.pool
            .with_label_values(&["idle"])
            .set(stored.pool_idle as i64);
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for these metric types.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Status codes as static labels (the set is small and fixed).
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        201 => "201",
        202 => "202",
        204 => "204",
        301 | 302 | 307 | 308 => "3xx",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        409 => "409",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        500 => "500",
        503 => "503",
        s if s >= 500 => "5xx",
        s if s >= 400 => "4xx",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_pattern_and_status() {
        let metrics = Metrics::new().unwrap();
        metrics.observe_request("GET", "/api/v1/requests/{id}", 200, 0.003);
        metrics.observe_request("GET", "/api/v1/requests/{id}", 200, 0.004);
        metrics.observe_request("GET", "/api/v1/requests/{id}", 404, 0.001);
        metrics.delivery_attempt("retry");
        let text = metrics.render(StoredFigures {
            pending_deliveries: 7,
            failed_deliveries: 2,
            pool_size: 3,
            pool_idle: 1,
        });
        assert!(text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/requests/{id}",status="200"} 2"#
        ));
        assert!(text.contains(
            r#"http_requests_total{method="GET",route="/api/v1/requests/{id}",status="404"} 1"#
        ));
        assert!(text.contains(
            r#"http_request_duration_seconds_count{method="GET",route="/api/v1/requests/{id}"} 3"#
        ));
        assert!(text.contains(r#"webhook_delivery_attempts_total{outcome="retry"} 1"#));
        assert!(text.contains(r#"webhook_deliveries{status="pending"} 7"#));
        assert!(text.contains(r#"webhook_deliveries{status="failed"} 2"#));
    }

    #[test]
    fn unusual_statuses_share_a_label() {
        assert_eq!(status_label(418), "4xx");
        assert_eq!(status_label(599), "5xx");
        assert_eq!(status_label(201), "201");
    }
}

//! Settings from the command line, the environment (and a `.env` file),
//! with the contract's defaults, every one declared once in [`declared`].
//! `Debug` never prints the JWT secret, the secrets key, the metrics token,
//! the admin password or the database password.

use std::fmt;
use std::str::FromStr;

pub mod declared;
pub use declared::SettingsArgs;

use chrono_tz::Tz;

use crate::domain::stars::StarThresholds;
use crate::secrets::SecretsKey;

#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind_addr: String,
    pub jwt_secret: Vec<u8>,
    /// No `JWT_SECRET` was set: tokens die with the process.
    pub jwt_secret_is_random: bool,
    pub bootstrap_admin: Option<(String, String)>,
    pub webhook_allow_private_targets: bool,
    pub webhook_retry_base_ms: u64,
    pub star_thresholds: StarThresholds,
    pub time_zone: Tz,
    /// Lifetime of an access token.
    pub token_ttl_secs: i64,
    /// The community's name: the place of service records and messages,
    /// so that no resident's address is ever needed there.
    pub community_name: String,
    pub pool: PoolSettings,
    /// How long a stopping server lets requests in flight, and webhook
    /// sends in flight, finish.
    pub shutdown_grace_secs: u64,
    /// Memory for answers of hot reads (`READ_CACHE_MB`); 0 turns the
    /// read cache off. See `read_cache`.
    pub read_cache_bytes: u64,
    /// Login and register attempts per client address per minute.
    pub login_attempts_per_minute: u32,
    /// `GET /verify/{number}` per client address per minute.
    pub verify_requests_per_minute: u32,
    /// Certificates a volunteer issues for themselves per local day.
    pub certificates_per_day: u32,
    /// Changes of one's own location per local day (`PATCH /me`).
    pub location_changes_per_day: u32,
    /// `CERTIFICATE_SIGNING_KEY`: the operator's Ed25519 seed; `None`
    /// signs with the key kept in the database.
    pub certificate_signing_key: Option<[u8; 32]>,
    /// Peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Password hashes computed at once, and how many more may wait.
    pub password_hash_concurrency: usize,
    pub password_hash_queue: usize,
    /// `SECRETS_KEY`: webhook secrets are sealed with it; `None` stores
    /// them in clear (with a warning at start).
    pub secrets_key: Option<SecretsKey>,
    /// `METRICS_TOKEN`: the bearer token `GET /metrics` needs; `None`
    /// hides `/metrics` (404).
    pub metrics_token: Option<String>,
    /// How long a claimed webhook delivery is held before another process
    /// may take it; renewed while the send is in flight.
    pub webhook_lease_ms: u64,
    /// Pairings' visits exist as requests this many days ahead.
    pub pairing_horizon_days: i64,
    /// How often the pairing worker of each process tops visits up.
    pub pairing_tick_secs: u64,
    /// `PUBLIC_BASE_URL`, without a trailing slash: links in calendars
    /// and messages.
    pub public_base_url: String,
    /// `CLOCK_START` minus the real time at start: what [`Settings::now`]
    /// adds to the real clock (0 unless rehearsing).
    pub clock_offset_secs: i64,
    /// `REMINDER_LEAD_MINUTES`, in seconds.
    pub reminder_lead_secs: i64,
    /// How often the scheduler of each process looks for due events.
    pub scheduler_tick_secs: u64,
}

/// Database connections of one process. PostgreSQL only: SQLite always
/// runs one connection (see `startup::connect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout_secs: u64,
    /// SQLite: read-only connections beside the one writer.
    pub sqlite_readers: u32,
}

impl PoolSettings {
    /// How long a request waits for a connection (including making one)
    /// before it answers 503.
    pub fn acquire_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.acquire_timeout_secs)
    }

    /// The pool the declared defaults give.
    pub fn declared() -> Result<Self, String> {
        Self::from_values(&Values::new(|_| None))
    }

    fn from_values(values: &Values<impl Fn(&str) -> Option<String>>) -> Result<Self, String> {
        let pool = Self {
            max_connections: values.number("DATABASE_MAX_CONNECTIONS")?.clamp(1, 1_000) as u32,
            min_connections: values.number("DATABASE_MIN_CONNECTIONS")?.min(1_000) as u32,
            acquire_timeout_secs: values.number("DATABASE_ACQUIRE_TIMEOUT_SECS")?.max(1),
            sqlite_readers: values.number("SQLITE_READ_CONNECTIONS")?.clamp(1, 64) as u32,
        };
        if pool.min_connections > pool.max_connections {
            return Err("DATABASE_MIN_CONNECTIONS must not exceed DATABASE_MAX_CONNECTIONS".into());
        }
        Ok(pool)
    }
}

/// Shorter leases would be renewed more often than is worth a write.
const MIN_WEBHOOK_LEASE_MS: u64 = 300;
/// HS256 keys shorter than the hash are below the JWT spec's floor
/// (RFC 7518 §3.2).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// The raw value of each setting: as given when given and not blank,
/// else its declared default (the only place defaults live).
struct Values<F> {
    given: F,
}

impl<F: Fn(&str) -> Option<String>> Values<F> {
    fn new(given: F) -> Self {
        Self { given }
    }

    /// `None`: neither given nor declared with a default.
    fn get(&self, key: &str) -> Option<String> {
        debug_assert!(
            declared::SETTINGS.iter().any(|s| s.var == key),
            "{key} is not declared"
        );
        (self.given)(key)
            .filter(|v| !v.trim().is_empty())
            .or_else(|| declared::default_of(key).map(str::to_string))
    }

    /// A setting declared with a default.
    fn text(&self, key: &str) -> Result<String, String> {
        self.get(key)
            .ok_or_else(|| format!("{key}: no value and no declared default"))
    }

    /// A setting declared with a default, parsed; a bad value names the
    /// variable and says what it should be.
    fn parsed<T: FromStr>(&self, key: &str, what: &str) -> Result<T, String> {
        let v = self.text(key)?;
        v.trim()
            .parse()
            .map_err(|_| format!("{key}: not {what}: {v}"))
    }

    fn number(&self, key: &str) -> Result<u64, String> {
        self.parsed(key, "a whole number")
    }

    /// A number whose default is computed at start (`None` here).
    fn optional_number(&self, key: &str) -> Result<Option<u64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.number(key).map(Some),
        }
    }
}

impl Settings {
    /// Now, in Unix seconds, on the clock of timed events: the real clock,
    /// moved by `CLOCK_START` when given.
    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.clock_offset_secs
    }

    /// Loads `.env` into the process environment if present; call before
    /// parsing the command line so that its values count.
    pub fn load_dotenv() {
        let _ = dotenvy::dotenv();
    }

    /// Reads the process environment after loading `.env` if present.
    pub fn from_env() -> Result<Self, String> {
        Self::load_dotenv();
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// The settings the command line parsed (flags, environment, defaults).
    pub fn from_args(args: &SettingsArgs) -> Result<Self, String> {
        Self::from_lookup(|key| args.get(key))
    }

    /// Builds settings from any key lookup; tests pass their own. An empty
    /// or absent value takes the declared default.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let values = Values::new(get);
        let database_url = values.text("DATABASE_URL")?;
        let jwt_secret_is_random = values.get("JWT_SECRET").is_none();
        let jwt_secret = jwt_secret(values.get("JWT_SECRET"), is_postgres_url(&database_url))?;
        let secrets_key = values
            .get("SECRETS_KEY")
            .map(|v| SecretsKey::from_base64(&v).map_err(|e| format!("SECRETS_KEY: {e}")))
            .transpose()?;
        let bootstrap_admin = match (
            values.get("BOOTSTRAP_ADMIN_PHONE"),
            values.get("BOOTSTRAP_ADMIN_PASSWORD"),
        ) {
            (Some(phone), Some(password)) => Some((phone, password)),
            (None, None) => None,
            _ => {
                return Err(
                    "BOOTSTRAP_ADMIN_PHONE and BOOTSTRAP_ADMIN_PASSWORD must be set together"
                        .into(),
                );
            }
        };
        let allow_private = values.text("WEBHOOK_ALLOW_PRIVATE_TARGETS")?;
        let webhook_allow_private_targets = parse_bool(&allow_private).ok_or_else(|| {
            format!("WEBHOOK_ALLOW_PRIVATE_TARGETS: not a boolean: {allow_private}")
        })?;
        let webhook_retry_base_ms =
            values.parsed("WEBHOOK_RETRY_BASE_MS", "a number of milliseconds")?;
        let star_thresholds = StarThresholds::parse(&values.text("STAR_THRESHOLDS_HOURS")?)
            .map_err(|e| format!("STAR_THRESHOLDS_HOURS: {e}"))?;
        let time_zone = values.parsed("TIME_ZONE", "a known time zone")?;
        let token_ttl_secs = values.parsed("ACCESS_TOKEN_TTL_SECS", "a number")?;
        let pairing_horizon_days = values.number("PAIRING_HORIZON_DAYS")?;
        if !(1..=366).contains(&pairing_horizon_days) {
            return Err("PAIRING_HORIZON_DAYS: must be from 1 to 366".into());
        }
        let pool = PoolSettings::from_values(&values)?;
        let reminder_lead_minutes = values.number("REMINDER_LEAD_MINUTES")?;
        if !(1..=10_080).contains(&reminder_lead_minutes) {
            return Err("REMINDER_LEAD_MINUTES: must be from 1 to 10080".into());
        }
        let login_attempts_per_minute = values.number("LOGIN_ATTEMPTS_PER_MINUTE")?;
        if login_attempts_per_minute == 0 || login_attempts_per_minute > u32::MAX.into() {
            return Err(format!(
                "LOGIN_ATTEMPTS_PER_MINUTE: must be from 1 to {}",
                u32::MAX
            ));
        }
        let verify_requests_per_minute = values.number("VERIFY_REQUESTS_PER_MINUTE")?;
        if verify_requests_per_minute == 0 || verify_requests_per_minute > u32::MAX.into() {
            return Err(format!(
                "VERIFY_REQUESTS_PER_MINUTE: must be from 1 to {}",
                u32::MAX
            ));
        }
        let certificates_per_day = values.number("CERTIFICATES_PER_DAY")?;
        if !(1..=1000).contains(&certificates_per_day) {
            return Err("CERTIFICATES_PER_DAY: must be from 1 to 1000".into());
        }
        let location_changes_per_day = values.number("LOCATION_CHANGES_PER_DAY")?;
        if location_changes_per_day == 0 || location_changes_per_day > u32::MAX.into() {
            return Err(format!(
                "LOCATION_CHANGES_PER_DAY: must be from 1 to {}",
                u32::MAX
            ));
        }
        let certificate_signing_key = values
            .get("CERTIFICATE_SIGNING_KEY")
            .map(|v| {
                crate::domain::certificate::parse_seed(&v)
                    .map_err(|e| format!("CERTIFICATE_SIGNING_KEY: {e}"))
            })
            .transpose()?;
        let trusted_proxies = match values.get("TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(v) => crate::domain::client_address::parse_trusted(&v)
                .map_err(|e| format!("TRUSTED_PROXIES: {e}"))?,
        };
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        let password_hash_concurrency = values
            .optional_number("PASSWORD_HASH_CONCURRENCY")?
            .unwrap_or(cpus);
        if !(1..=1024).contains(&password_hash_concurrency) {
            return Err("PASSWORD_HASH_CONCURRENCY: must be from 1 to 1024".into());
        }
        let password_hash_queue = values
            .optional_number("PASSWORD_HASH_QUEUE")?
            .unwrap_or(2 * password_hash_concurrency)
            .min(100_000);
        let bind_addr = values.text("BIND_ADDR")?;
        let public_base_url = values
            .get("PUBLIC_BASE_URL")
            .map(|v| v.trim().trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{bind_addr}"));
        if !(public_base_url.starts_with("http://") || public_base_url.starts_with("https://")) {
            return Err(format!(
                "PUBLIC_BASE_URL: not an http(s) address: {public_base_url}"
            ));
        }
        let clock_offset_secs = match values.get("CLOCK_START") {
            None => 0,
            Some(v) => {
                let start = chrono::DateTime::parse_from_rfc3339(v.trim())
                    .map_err(|_| format!("CLOCK_START: not an RFC 3339 time: {v}"))?;
                start.timestamp() - chrono::Utc::now().timestamp()
            }
        };
        Ok(Self {
            public_base_url,
            clock_offset_secs,
            login_attempts_per_minute: login_attempts_per_minute as u32,
            verify_requests_per_minute: verify_requests_per_minute as u32,
            certificates_per_day: certificates_per_day as u32,
            location_changes_per_day: location_changes_per_day as u32,
            certificate_signing_key,
            trusted_proxies,
            password_hash_concurrency: password_hash_concurrency as usize,
            password_hash_queue: password_hash_queue as usize,
            jwt_secret_is_random,
            secrets_key,
            metrics_token: values.get("METRICS_TOKEN").map(|v| v.trim().to_string()),
            webhook_lease_ms: values.number("WEBHOOK_LEASE_MS")?.max(MIN_WEBHOOK_LEASE_MS),
            pairing_horizon_days: pairing_horizon_days as i64,
            pairing_tick_secs: values.number("PAIRING_TICK_SECS")?.max(1),
            reminder_lead_secs: reminder_lead_minutes as i64 * 60,
            scheduler_tick_secs: values.number("SCHEDULER_TICK_SECS")?.max(1),
            pool,
            shutdown_grace_secs: values.number("SHUTDOWN_GRACE_SECS")?,
            read_cache_bytes: values.number("READ_CACHE_MB")?.min(64 * 1024) * 1024 * 1024,
            database_url,
            bind_addr,
            jwt_secret,
            bootstrap_admin,
            webhook_allow_private_targets,
            webhook_retry_base_ms,
            star_thresholds,
            time_zone,
            token_ttl_secs,
            community_name: values.text("COMMUNITY_NAME")?,
        })
    }
}

fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `JWT_SECRET`: at least 32 bytes when set, and required on PostgreSQL,
/// where several processes must accept each other's tokens. Unset on
/// SQLite: a random key for this process (`Application::build` warns).
fn jwt_secret(value: Option<String>, on_postgres: bool) -> Result<Vec<u8>, String> {
    match value {
        Some(secret) if secret.len() < MIN_JWT_SECRET_BYTES => Err(format!(
            "JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes, not {}",
            secret.len()
        )),
        Some(secret) => Ok(secret.into_bytes()),
        None if on_postgres => Err(
            "JWT_SECRET must be set on PostgreSQL: every process must sign and accept the same tokens"
                .into(),
        ),
        None => Ok(rand::random::<[u8; 32]>().to_vec()),
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url_password(&self.database_url))
            .field("bind_addr", &self.bind_addr)
            .field("jwt_secret", &"<redacted>")
            .field(
                "secrets_key",
                &self.secrets_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "certificate_signing_key",
                &self.certificate_signing_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "verify_requests_per_minute",
                &self.verify_requests_per_minute,
            )
            .field("certificates_per_day", &self.certificates_per_day)
            .field("location_changes_per_day", &self.location_changes_per_day)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .field("webhook_lease_ms", &self.webhook_lease_ms)
            .field("pairing_horizon_days", &self.pairing_horizon_days)
            .field("pairing_tick_secs", &self.pairing_tick_secs)
            .field("public_base_url", &self.public_base_url)
            .field("clock_offset_secs", &self.clock_offset_secs)
            .field("reminder_lead_secs", &self.reminder_lead_secs)
            .field("scheduler_tick_secs", &self.scheduler_tick_secs)
            .field(
                "bootstrap_admin",
                &self
                    .bootstrap_admin
                    .as_ref()
                    .map(|(phone, _)| (crate::domain::phone::mask_phone(phone), "<redacted>")),
            )
            .field(
                "webhook_allow_private_targets",
                &self.webhook_allow_private_targets,
            )
            .field("webhook_retry_base_ms", &self.webhook_retry_base_ms)
            .field("star_thresholds", &self.star_thresholds)
            .field("time_zone", &self.time_zone)
            .field("community_name", &self.community_name)
            .field("pool", &self.pool)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("read_cache_bytes", &self.read_cache_bytes)
            .field("login_attempts_per_minute", &self.login_attempts_per_minute)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("password_hash_concurrency", &self.password_hash_concurrency)
            .field("password_hash_queue", &self.password_hash_queue)
            .finish()
    }
}

fn redact_url_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.bind_addr, "127.0.0.1:8080");
        assert!(s.database_url.starts_with("sqlite://data/"));
        assert!(!s.webhook_allow_private_targets);
        assert_eq!(s.time_zone, chrono_tz::Asia::Shanghai);
        assert_eq!(
            s.star_thresholds,
            StarThresholds::parse("100,300,600,1000,1500").unwrap()
        );
        assert_eq!(s.token_ttl_secs, 24 * 3600);
        assert_eq!(s.webhook_retry_base_ms, 5_000);
        assert_eq!(s.community_name, "本社区");
        assert_eq!(s.shutdown_grace_secs, 10);
        assert_eq!(s.read_cache_bytes, 32 * 1024 * 1024);
        assert_eq!(
            s.pool,
            PoolSettings {
                max_connections: 10,
                min_connections: 1,
                acquire_timeout_secs: 1,
                sqlite_readers: 4,
            }
        );
        assert_eq!(PoolSettings::declared().unwrap(), s.pool);
        assert_eq!(s.login_attempts_per_minute, 30);
        assert!(s.trusted_proxies.is_empty());
        assert!(s.password_hash_concurrency >= 1);
        assert_eq!(s.password_hash_queue, 2 * s.password_hash_concurrency);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let s = settings(&[
            ("JWT_SECRET", "topsecretvalue-topsecretvalue-topsecretvalue"),
            (
                "SECRETS_KEY",
                "B3Bzb21lLWtleS1zb21lLWtleS1zb21lLWtleS0xMjM=",
            ),
            ("METRICS_TOKEN", "metricstokenvalue"),
            ("BOOTSTRAP_ADMIN_PHONE", "13800000000"),
            ("BOOTSTRAP_ADMIN_PASSWORD", "adminpassword"),
            ("DATABASE_URL", "postgres://u:dbpass@localhost/x"),
        ])
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("topsecretvalue"));
        assert!(!shown.contains("B3Bzb21l"));
        assert!(!shown.contains("metricstokenvalue"));
        assert!(!shown.contains("adminpassword"));
        assert!(!shown.contains("dbpass"));
        assert!(
            !shown.contains("13800000000"),
            "the admin's phone is masked"
        );
    }

    #[test]
    fn bad_values_are_refused_at_start() {
        assert!(settings(&[("TIME_ZONE", "Mars/Olympus")]).is_err());
        assert!(settings(&[("STAR_THRESHOLDS_HOURS", "100,50")]).is_err());
        assert!(settings(&[("BOOTSTRAP_ADMIN_PHONE", "13800000000")]).is_err());
        assert!(settings(&[("WEBHOOK_ALLOW_PRIVATE_TARGETS", "maybe")]).is_err());
        assert!(settings(&[("DATABASE_MAX_CONNECTIONS", "many")]).is_err());
        assert!(settings(&[("LOGIN_ATTEMPTS_PER_MINUTE", "0")]).is_err());
        assert!(settings(&[("LOGIN_ATTEMPTS_PER_MINUTE", "lots")]).is_err());
        let named = settings(&[("TRUSTED_PROXIES", "10.0.0.1,proxy.local")]).unwrap_err();
        assert!(named.contains("TRUSTED_PROXIES"), "{named}");
        assert!(settings(&[("PASSWORD_HASH_CONCURRENCY", "0")]).is_err());
        assert!(
            settings(&[
                ("DATABASE_MAX_CONNECTIONS", "2"),
                ("DATABASE_MIN_CONNECTIONS", "5")
            ])
            .is_err()
        );
    }

    #[test]
    fn a_bad_value_stops_the_start_naming_its_variable() {
        for var in [
            "WEBHOOK_ALLOW_PRIVATE_TARGETS",
            "WEBHOOK_RETRY_BASE_MS",
            "WEBHOOK_LEASE_MS",
            "STAR_THRESHOLDS_HOURS",
            "TIME_ZONE",
            "ACCESS_TOKEN_TTL_SECS",
            "DATABASE_MAX_CONNECTIONS",
            "DATABASE_MIN_CONNECTIONS",
            "DATABASE_ACQUIRE_TIMEOUT_SECS",
            "SQLITE_READ_CONNECTIONS",
            "SHUTDOWN_GRACE_SECS",
            "READ_CACHE_MB",
            "LOGIN_ATTEMPTS_PER_MINUTE",
            "TRUSTED_PROXIES",
            "PASSWORD_HASH_CONCURRENCY",
            "PASSWORD_HASH_QUEUE",
        ] {
            let err = settings(&[(var, "lots?")]).unwrap_err();
            assert!(err.starts_with(var), "{var}: {err}");
        }
    }

    #[test]
    fn blank_values_take_the_declared_default() {
        let s = settings(&[("BIND_ADDR", "  "), ("COMMUNITY_NAME", "")]).unwrap();
        assert_eq!(s.bind_addr, "127.0.0.1:8080");
        assert_eq!(s.community_name, "本社区");
    }

    #[test]
    fn jwt_secret_must_be_long_enough_and_is_required_on_postgres() {
        let short = settings(&[("JWT_SECRET", "thirty-one-bytes-is-not-enough")]).unwrap_err();
        assert!(short.contains("JWT_SECRET"), "{short}");
        let long = "a-secret-of-exactly-32-bytes-ok!";
        assert_eq!(long.len(), 32);
        let s = settings(&[("JWT_SECRET", long)]).unwrap();
        assert_eq!(s.jwt_secret, long.as_bytes());
        assert!(!s.jwt_secret_is_random);

        let unset_pg = settings(&[("DATABASE_URL", "postgres://u@localhost/x")]).unwrap_err();
        assert!(unset_pg.contains("JWT_SECRET"), "{unset_pg}");
        assert!(
            settings(&[("DATABASE_URL", "postgresql://u@localhost/x")]).is_err(),
            "both spellings of PostgreSQL"
        );
        let pg = settings(&[
            ("DATABASE_URL", "postgres://u@localhost/x"),
            ("JWT_SECRET", long),
        ]);
        assert!(pg.is_ok());

        let sqlite = settings(&[]).unwrap();
        assert!(sqlite.jwt_secret_is_random);
        assert_eq!(sqlite.jwt_secret.len(), 32);
    }

    #[test]
    fn secrets_key_is_32_bytes_of_base64() {
        assert!(settings(&[]).unwrap().secrets_key.is_none());
        let good = "B3Bzb21lLWtleS1zb21lLWtleS1zb21lLWtleS0xMjM=";
        assert!(
            settings(&[("SECRETS_KEY", good)])
                .unwrap()
                .secrets_key
                .is_some()
        );
        for bad in ["c2hvcnQ=", "not base64!"] {
            let err = settings(&[("SECRETS_KEY", bad)]).unwrap_err();
            assert!(err.contains("SECRETS_KEY"), "{err}");
        }
    }

    #[test]
    fn metrics_token_and_lease_have_defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.metrics_token, None);
        assert_eq!(s.webhook_lease_ms, 30_000);
        let s = settings(&[("METRICS_TOKEN", " scrape-me "), ("WEBHOOK_LEASE_MS", "1")]).unwrap();
        assert_eq!(s.metrics_token.as_deref(), Some("scrape-me"));
        assert_eq!(s.webhook_lease_ms, MIN_WEBHOOK_LEASE_MS);
        assert!(settings(&[("WEBHOOK_LEASE_MS", "soon")]).is_err());
    }
}

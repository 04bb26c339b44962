//! Settings from the command line, the environment (and a `.env` file),
//! with the contract's defaults, every one declared once in [`declared`].
//! `Debug` never prints the JWT secret, the secrets key, the metrics token,
//! the admin password or the database password.

use std::fmt;

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

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 1,
            acquire_timeout_secs: 10,
            sqlite_readers: 4,
        }
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/volunteer.db?mode=rwc";
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8080";
/// WeCom and DingTalk robots allow 20 messages a minute; starting retries
/// at a few seconds keeps a burst inside that.
pub const DEFAULT_WEBHOOK_RETRY_BASE_MS: u64 = 5_000;
/// Longer than a send may take (10 s), so even a renewal that fails to
/// reach the database leaves the lease standing until the send ends.
pub const DEFAULT_WEBHOOK_LEASE_MS: u64 = 30_000;
/// Shorter leases would be renewed more often than is worth a write.
const MIN_WEBHOOK_LEASE_MS: u64 = 300;
/// HS256 keys shorter than the hash are below the JWT spec's floor
/// (RFC 7518 §3.2).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Settings {
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
        let non_empty = |key: &str| {
            debug_assert!(
                declared::SETTINGS.iter().any(|s| s.var == key),
                "{key} is not declared"
            );
            get(key)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| declared::default_of(key).map(str::to_string))
        };
        let database_url = non_empty("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let jwt_secret_is_random = non_empty("JWT_SECRET").is_none();
        let jwt_secret = jwt_secret(non_empty("JWT_SECRET"), is_postgres_url(&database_url))?;
        let secrets_key = non_empty("SECRETS_KEY")
            .map(|v| SecretsKey::from_base64(&v).map_err(|e| format!("SECRETS_KEY: {e}")))
            .transpose()?;
        let bootstrap_admin = match (
            non_empty("BOOTSTRAP_ADMIN_PHONE"),
            non_empty("BOOTSTRAP_ADMIN_PASSWORD"),
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
        let webhook_allow_private_targets = match non_empty("WEBHOOK_ALLOW_PRIVATE_TARGETS") {
            None => false,
            Some(v) => parse_bool(&v)
                .ok_or_else(|| format!("WEBHOOK_ALLOW_PRIVATE_TARGETS: not a boolean: {v}"))?,
        };
        let webhook_retry_base_ms = match non_empty("WEBHOOK_RETRY_BASE_MS") {
            None => DEFAULT_WEBHOOK_RETRY_BASE_MS,
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("WEBHOOK_RETRY_BASE_MS: not a number of milliseconds: {v}"))?,
        };
        let star_thresholds = match non_empty("STAR_THRESHOLDS_HOURS") {
            None => StarThresholds::default(),
            Some(v) => {
                StarThresholds::parse(&v).map_err(|e| format!("STAR_THRESHOLDS_HOURS: {e}"))?
            }
        };
        let time_zone = match non_empty("TIME_ZONE") {
            None => chrono_tz::Asia::Shanghai,
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("TIME_ZONE: unknown time zone: {v}"))?,
        };
        let token_ttl_secs = match non_empty("ACCESS_TOKEN_TTL_SECS") {
            None => 24 * 3600,
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("ACCESS_TOKEN_TTL_SECS: not a number: {v}"))?,
        };
        let number = |key: &str, default: u64| -> Result<u64, String> {
            match non_empty(key) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| format!("{key}: not a whole number: {v}")),
            }
        };
        let defaults = PoolSettings::default();
        let pool = PoolSettings {
            max_connections: number("DATABASE_MAX_CONNECTIONS", defaults.max_connections.into())?
                .clamp(1, 1_000) as u32,
            min_connections: number("DATABASE_MIN_CONNECTIONS", defaults.min_connections.into())?
                .min(1_000) as u32,
            acquire_timeout_secs: number(
                "DATABASE_ACQUIRE_TIMEOUT_SECS",
                defaults.acquire_timeout_secs,
            )?
            .max(1),
            sqlite_readers: number("SQLITE_READ_CONNECTIONS", defaults.sqlite_readers.into())?
                .clamp(1, 64) as u32,
        };
        if pool.min_connections > pool.max_connections {
            return Err("DATABASE_MIN_CONNECTIONS must not exceed DATABASE_MAX_CONNECTIONS".into());
        }
        let login_attempts_per_minute = number("LOGIN_ATTEMPTS_PER_MINUTE", 30)?;
        if login_attempts_per_minute == 0 || login_attempts_per_minute > u32::MAX.into() {
            return Err(format!(
                "LOGIN_ATTEMPTS_PER_MINUTE: must be from 1 to {}",
                u32::MAX
            ));
        }
        let trusted_proxies = match non_empty("TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(v) => crate::domain::client_address::parse_trusted(&v)
                .map_err(|e| format!("TRUSTED_PROXIES: {e}"))?,
        };
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        let password_hash_concurrency = number("PASSWORD_HASH_CONCURRENCY", cpus)?;
        if !(1..=1024).contains(&password_hash_concurrency) {
            return Err("PASSWORD_HASH_CONCURRENCY: must be from 1 to 1024".into());
        }
        let password_hash_queue =
            number("PASSWORD_HASH_QUEUE", 2 * password_hash_concurrency)?.min(100_000);
        Ok(Self {
            login_attempts_per_minute: login_attempts_per_minute as u32,
            trusted_proxies,
            password_hash_concurrency: password_hash_concurrency as usize,
            password_hash_queue: password_hash_queue as usize,
            jwt_secret_is_random,
            secrets_key,
            metrics_token: non_empty("METRICS_TOKEN").map(|v| v.trim().to_string()),
            webhook_lease_ms: number("WEBHOOK_LEASE_MS", DEFAULT_WEBHOOK_LEASE_MS)?
                .max(MIN_WEBHOOK_LEASE_MS),
            pool,
            shutdown_grace_secs: number("SHUTDOWN_GRACE_SECS", 10)?,
            read_cache_bytes: number("READ_CACHE_MB", 32)?.min(64 * 1024) * 1024 * 1024,
            database_url,
            bind_addr: non_empty("BIND_ADDR").unwrap_or_else(|| DEFAULT_BIND_ADDR.into()),
            jwt_secret,
            bootstrap_admin,
            webhook_allow_private_targets,
            webhook_retry_base_ms,
            star_thresholds,
            time_zone,
            token_ttl_secs,
            community_name: non_empty("COMMUNITY_NAME").unwrap_or_else(|| "本社区".into()),
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
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .field("webhook_lease_ms", &self.webhook_lease_ms)
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
        assert_eq!(s.star_thresholds, StarThresholds::default());
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
        assert_eq!(s.webhook_lease_ms, DEFAULT_WEBHOOK_LEASE_MS);
        let s = settings(&[("METRICS_TOKEN", " scrape-me "), ("WEBHOOK_LEASE_MS", "1")]).unwrap();
        assert_eq!(s.metrics_token.as_deref(), Some("scrape-me"));
        assert_eq!(s.webhook_lease_ms, MIN_WEBHOOK_LEASE_MS);
        assert!(settings(&[("WEBHOOK_LEASE_MS", "soon")]).is_err());
    }
}

//! Every setting, declared once: its variable, its command-line flag, its
//! default and what it means. `volunteer-service --help` lists this table;
//! `Settings::from_lookup` takes its defaults from here and from nowhere
//! else, so a default shown is the default used.

use std::collections::HashMap;

use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};

/// One setting. `default: None` means unset unless given (or, where the
/// help says so, computed at start).
pub struct Declared {
    pub var: &'static str,
    pub flag: &'static str,
    pub default: Option<&'static str>,
    pub help: &'static str,
    /// Secrets (and URLs that may hold a password) never show their
    /// current value in `--help`.
    pub secret: bool,
}

const fn setting(
    var: &'static str,
    flag: &'static str,
    default: Option<&'static str>,
    help: &'static str,
) -> Declared {
    Declared {
        var,
        flag,
        default,
        help,
        secret: false,
    }
}

const fn secret(var: &'static str, flag: &'static str, help: &'static str) -> Declared {
    Declared {
        var,
        flag,
        default: None,
        help,
        secret: true,
    }
}

pub const SETTINGS: &[Declared] = &[
    Declared {
        secret: true,
        ..setting(
            "DATABASE_URL",
            "database-url",
            Some("sqlite://data/volunteer.db?mode=rwc"),
            "Database: sqlite://… or postgres://…",
        )
    },
    setting(
        "BIND_ADDR",
        "bind-addr",
        Some("127.0.0.1:8080"),
        "Address and port to listen on",
    ),
    secret(
        "JWT_SECRET",
        "jwt-secret",
        "Token signing key, at least 32 bytes; required on PostgreSQL (unset on SQLite: random per process)",
    ),
    secret(
        "SECRETS_KEY",
        "secrets-key",
        "32 bytes, base64: webhook secrets are stored sealed with it (unset: in clear, with a warning)",
    ),
    secret(
        "CERTIFICATE_SIGNING_KEY",
        "certificate-signing-key",
        "Service certificates: base64 of a 32-byte Ed25519 seed to sign with (unset: a key made on first start, kept in the database, sealed with SECRETS_KEY when set)",
    ),
    secret(
        "METRICS_TOKEN",
        "metrics-token",
        "Bearer token GET /metrics needs (unset: /metrics answers 404)",
    ),
    setting(
        "BOOTSTRAP_ADMIN_PHONE",
        "bootstrap-admin-phone",
        None,
        "Phone of the admin account created at start if missing (with BOOTSTRAP_ADMIN_PASSWORD)",
    ),
    secret(
        "BOOTSTRAP_ADMIN_PASSWORD",
        "bootstrap-admin-password",
        "Password of that admin account (with BOOTSTRAP_ADMIN_PHONE)",
    ),
    setting(
        "WEBHOOK_ALLOW_PRIVATE_TARGETS",
        "webhook-allow-private-targets",
        Some("false"),
        "Allow webhook URLs on loopback, private and link-local addresses",
    ),
    // WeCom and DingTalk robots allow 20 messages a minute; starting
    // retries at a few seconds keeps a burst inside that.
    setting(
        "WEBHOOK_RETRY_BASE_MS",
        "webhook-retry-base-ms",
        Some("5000"),
        "First delay before a failed webhook is retried (doubles each time), ms",
    ),
    // Longer than a send may take (10 s), so even a renewal that fails to
    // reach the database leaves the lease standing until the send ends.
    setting(
        "WEBHOOK_LEASE_MS",
        "webhook-lease-ms",
        Some("30000"),
        "How long a claimed webhook delivery is held before another process may take it, ms (at least 300)",
    ),
    setting(
        "STAR_THRESHOLDS_HOURS",
        "star-thresholds-hours",
        Some("100,300,600,1000,1500"),
        "Cumulative approved hours for 1★ … 5★",
    ),
    setting(
        "TIME_ZONE",
        "time-zone",
        Some("Asia/Shanghai"),
        "IANA time zone of the community (days, months, reminders)",
    ),
    setting(
        "PAIRING_HORIZON_DAYS",
        "pairing-horizon-days",
        Some("28"),
        "Pairings: visits exist as requests this many days ahead (1–366)",
    ),
    setting(
        "PAIRING_TICK_SECS",
        "pairing-tick-secs",
        Some("300"),
        "Pairings: how often each process tops up visits as time passes, seconds (at least 1)",
    ),
    setting(
        "PUBLIC_BASE_URL",
        "public-base-url",
        None,
        "The address people reach the service at, for links in calendars and messages (unset: http:// + BIND_ADDR)",
    ),
    // Rehearsals and tests of timed events: restart with another value to
    // move time, instead of waiting for it.
    setting(
        "CLOCK_START",
        "clock-start",
        None,
        "Rehearsals and tests only: the clock of timed events (reminders, unfilled alerts, no-shows, the monthly bulletin) starts at this RFC 3339 time and runs on (unset: the real clock)",
    ),
    setting(
        "REMINDER_LEAD_MINUTES",
        "reminder-lead-minutes",
        Some("120"),
        "How long before a request starts its reminder (signup.reminder) goes out, minutes (1–10080)",
    ),
    setting(
        "SCHEDULER_TICK_SECS",
        "scheduler-tick-secs",
        Some("30"),
        "How often each process's scheduler looks for due reminders, unfilled alerts and no-shows, seconds (at least 1)",
    ),
    setting(
        "ACCESS_TOKEN_TTL_SECS",
        "access-token-ttl-secs",
        Some("86400"),
        "Lifetime of an access token, seconds",
    ),
    setting(
        "COMMUNITY_NAME",
        "community-name",
        Some("本社区"),
        "The community's name, in certificates and messages",
    ),
    setting(
        "DATABASE_MAX_CONNECTIONS",
        "database-max-connections",
        Some("10"),
        "PostgreSQL pool size of this process (1–1000)",
    ),
    setting(
        "DATABASE_MIN_CONNECTIONS",
        "database-min-connections",
        Some("1"),
        "PostgreSQL connections kept open (at most the maximum)",
    ),
    setting(
        "DATABASE_ACQUIRE_TIMEOUT_SECS",
        "database-acquire-timeout-secs",
        Some("1"),
        "How long a request waits for a pool connection (or for making one) before 503 database_unavailable, seconds; keeps every answer within 2 s while the database is away",
    ),
    setting(
        "SQLITE_READ_CONNECTIONS",
        "sqlite-read-connections",
        Some("4"),
        "SQLite: read-only connections beside the one writer (1–64)",
    ),
    setting(
        "SHUTDOWN_GRACE_SECS",
        "shutdown-grace-secs",
        Some("10"),
        "How long a stopping server lets requests and webhook sends in flight finish, seconds",
    ),
    setting(
        "READ_CACHE_MB",
        "read-cache-mb",
        Some("32"),
        "Memory for answers of hot reads, MiB (0 turns the read cache off)",
    ),
    setting(
        "VERIFY_REQUESTS_PER_MINUTE",
        "verify-requests-per-minute",
        Some("30"),
        "Certificate checks (GET /verify/…) allowed per client address per minute; more answer 429",
    ),
    setting(
        "CERTIFICATES_PER_DAY",
        "certificates-per-day",
        Some("5"),
        "Certificates a volunteer may issue for themselves per day in TIME_ZONE, 1–1000 (429 beyond; managers' issues are not counted)",
    ),
    setting(
        "LOCATION_CHANGES_PER_DAY",
        "location-changes-per-day",
        Some("10"),
        "Changes of a volunteer's own location (PATCH /me) per local day; more answer 429",
    ),
    setting(
        "LOGIN_ATTEMPTS_PER_MINUTE",
        "login-attempts-per-minute",
        Some("30"),
        "Login and register attempts per client address per minute (429 beyond)",
    ),
    setting(
        "TRUSTED_PROXIES",
        "trusted-proxies",
        None,
        "Comma-separated addresses whose X-Forwarded-For names the client (unset: none)",
    ),
    setting(
        "PASSWORD_HASH_CONCURRENCY",
        "password-hash-concurrency",
        None,
        "Password hashes computed at once, 1–1024 (unset: the number of CPUs)",
    ),
    setting(
        "PASSWORD_HASH_QUEUE",
        "password-hash-queue",
        None,
        "Password hashes that may wait before 503 busy (unset: twice the concurrency)",
    ),
];

/// The declared default of `var`, if it has one.
pub fn default_of(var: &str) -> Option<&'static str> {
    SETTINGS.iter().find(|s| s.var == var)?.default
}

impl Declared {
    fn arg(&self) -> Arg {
        let arg = Arg::new(self.var)
            .long(self.flag)
            .env(self.var)
            .value_name(self.var)
            .help(self.help)
            .hide_env_values(self.secret)
            .help_heading("Settings (each also read from its environment variable or .env)");
        match self.default {
            Some(default) => arg.default_value(default),
            None => arg,
        }
    }
}

/// The settings as given on the command line, in the environment, or by
/// default: raw text per variable, parsed by `Settings::from_args`. No
/// `Debug`: it holds secrets.
#[derive(Clone, Default)]
pub struct SettingsArgs {
    values: HashMap<&'static str, String>,
}

impl SettingsArgs {
    pub fn get(&self, var: &str) -> Option<String> {
        self.values.get(var).cloned()
    }
}

impl FromArgMatches for SettingsArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut args = Self::default();
        args.update_from_arg_matches(matches)?;
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for declared in SETTINGS {
            if let Some(value) = matches.get_one::<String>(declared.var) {
                self.values.insert(declared.var, value.clone());
            }
        }
        Ok(())
    }
}

impl Args for SettingsArgs {
    fn augment_args(cmd: Command) -> Command {
        cmd.args(SETTINGS.iter().map(Declared::arg))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_declared_once() {
        let mut vars: Vec<&str> = SETTINGS.iter().map(|s| s.var).collect();
        vars.sort_unstable();
        vars.dedup();
        assert_eq!(vars.len(), SETTINGS.len());
    }

    #[test]
    fn help_lists_every_variable_and_hides_secret_values() {
        let cmd = SettingsArgs::augment_args(Command::new("t"));
        let help = cmd.clone().render_long_help().to_string();
        for declared in SETTINGS {
            assert!(help.contains(declared.var), "{} missing", declared.var);
        }
        assert!(help.contains("[default: 127.0.0.1:8080]"), "{help}");
        cmd.debug_assert();
    }

    #[test]
    fn flags_override_defaults() {
        let cmd = SettingsArgs::augment_args(Command::new("t"));
        let m = cmd
            .try_get_matches_from(["t", "--bind-addr", "0.0.0.0:9"])
            .unwrap();
        let args = SettingsArgs::from_arg_matches(&m).unwrap();
        assert_eq!(args.get("BIND_ADDR").as_deref(), Some("0.0.0.0:9"));
    }
}

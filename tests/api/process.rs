//! The real binary as a child process: for tests that need several server
//! processes on one database, signals, or the process's own output.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::*;

pub const PROCESS_JWT_SECRET: &str = "process-test-secret-of-at-least-32-bytes";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether the tests run on PostgreSQL: several processes share a
/// PostgreSQL database; an SQLite file belongs to one process.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
    /// Where stdout (the logs) goes.
    pub log: PathBuf,
}

impl ServerProcess {
    /// Starts `volunteer-service` on `database_url` with the test
    /// defaults plus `extra` settings.
    pub fn start(database_url: &str, extra: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("vs-process-{}.log", uuid::Uuid::new_v4()));
        let mut command = Command::new(env!("CARGO_BIN_EXE_volunteer-service"));
        command
            .env("DATABASE_URL", database_url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("JWT_SECRET", PROCESS_JWT_SECRET)
            .env("BOOTSTRAP_ADMIN_PHONE", ADMIN_PHONE)
            .env("BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("METRICS_TOKEN", METRICS_TOKEN)
            .env("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
            .env("WEBHOOK_RETRY_BASE_MS", "200")
            .env("RUST_LOG", "warn")
            .env("LOGIN_ATTEMPTS_PER_MINUTE", "1000000")
            .env("PASSWORD_HASH_QUEUE", "1000")
            .stdout(std::fs::File::create(&log).expect("log file"))
            .stderr(Stdio::null());
        for (k, v) in extra {
            command.env(k, v);
        }
        let child = command.spawn().expect("server binary starts");
        Self { child, port, log }
    }

    /// Waits for `/healthz`, then logs the admin in.
    pub async fn connect(&self, database_url: &str) -> TestApp {
        let base = format!("http://127.0.0.1:{}", self.port);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .map(|r| r.status() != 200)
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        TestApp::with_admin(base, database_url.to_string()).await
    }

    /// SIGTERM: what a process manager sends to stop a server.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the process to exit, at most `seconds`.
    pub async fn wait_exit(&mut self, seconds: u64) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop in time");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

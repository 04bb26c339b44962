//! `volunteer-service`: the API server on the settings of the command line,
//! the environment (and `.env`), or one of its maintenance commands.
//!
//! ```sh
//! cargo run --release                              # serve
//! cargo run --release -- --help                    # every setting, its variable and default
//! cargo run --release -- seed --records 1000000    # demo data
//! cargo run --release -- backup backup.db          # SQLite: a copy while serving
//! cargo run --release -- restore backup.db         # SQLite: with the server stopped
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Every answer allocates per row and per value (sqlx values, models,
// views, JSON); glibc malloc was the largest single item in the read
// profiles (docs/performance.md), mimalloc the first remedy they named.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(version, about = "社区志愿服务 API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: api::config::SettingsArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Fill the configured (empty) database with a demo community: teams of
    /// every kind, volunteers, residents, help requests, sign-ups and
    /// approved service records with their history.
    Seed {
        /// Approved service records to create (noise comes on top).
        #[arg(long, default_value_t = 10_000)]
        records: usize,
        /// Volunteers; by default one per thousand records, at least 50.
        #[arg(long)]
        volunteers: Option<usize>,
        /// Password of every seeded account (manager 13700000000,
        /// caseworkers 1360000xxxx, volunteers).
        #[arg(long, env = "SEED_PASSWORD", default_value = "demo-password")]
        password: String,
    },
    /// SQLite: write a consistent copy of the database to FILE (which must
    /// not exist) while the server keeps running.
    Backup {
        /// Where the copy goes.
        file: std::path::PathBuf,
    },
    /// SQLite: replace the database with the backup FILE. Refused while a
    /// server (or any other process) has the database open.
    Restore {
        /// A file written by `backup`.
        file: std::path::PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    api::telemetry::init();
    api::Settings::load_dotenv();
    let cli = Cli::parse();
    let settings = match api::Settings::from_args(&cli.settings) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Seed {
            records,
            volunteers,
            password,
        } => {
            let plan = api::seed::SeedPlan {
                records,
                volunteers,
                password,
                now: chrono::Utc::now().timestamp(),
            };
            seed(settings, plan).await
        }
        Command::Backup { file } => api::backup::backup(&settings.database_url, &file)
            .await
            .map(|bytes| println!("backup written: {} ({bytes} bytes)", file.display())),
        Command::Restore { file } => api::backup::restore(&settings.database_url, &file)
            .await
            .map(|()| println!("restored from {}", file.display())),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: api::Settings) -> Result<(), String> {
    tracing::info!(?settings, "starting");
    let app = api::Application::build(settings)
        .await
        .map_err(|e| format!("start-up failed: {e}"))?;
    tracing::info!(port = app.port(), "listening");
    app.run_until_stopped()
        .await
        .map_err(|e| format!("server error: {e}"))
}

async fn seed(settings: api::Settings, plan: api::seed::SeedPlan) -> Result<(), String> {
    let started = std::time::Instant::now();
    let db = api::startup::connect_with(&settings.database_url, settings.pool).await?;
    let report = api::seed::seed(&db, &plan)
        .await
        .map_err(|e| format!("seeding failed: {e}"))?;
    println!(
        "seeded in {:.1} s: {} users, {} teams, {} residents, {} requests, {} sign-ups, \
         {} pairings (visits made when the server starts), {} service records ({} approved, {} minutes), {} history events; \
         manager {} / password as given",
        started.elapsed().as_secs_f64(),
        report.users,
        report.teams,
        report.residents,
        report.requests,
        report.signups,
        report.pairings,
        report.records,
        report.approved,
        report.approved_minutes,
        report.history_events,
        api::seed::MANAGER_PHONE,
    );
    Ok(())
}

//! `cargo run --release`: the volunteer-service API on the settings of the
//! environment (and `.env`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    api::telemetry::init();
    let settings = match api::Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(?settings, "starting");
    let app = match api::Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("start-up failed: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(port = app.port(), "listening");
    match app.run_until_stopped().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! `server` binary: settings -> telemetry -> application -> run until SIGINT/SIGTERM.

use chat_server::settings::Settings;
use chat_server::startup::{Application, shutdown_signal};
use chat_server::telemetry;
use clap::Parser;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::parse();
    telemetry::init();
    let app = Application::build(settings).await?;
    tracing::info!("chat server listening on http://{}", app.local_addr());
    app.run_until_stopped(shutdown_signal()).await
}

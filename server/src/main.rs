//! `server` binary: settings -> telemetry -> application -> run until SIGINT/SIGTERM
//! (or, with `backup PATH`, copy the database and exit; with `new-epoch`,
//! mark a restored database as a new history and exit).

use chat_server::settings::{Command, Settings};
use chat_server::startup::{Application, shutdown_signal};
use chat_server::store::Store;
use chat_server::telemetry;
use clap::Parser;

fn main() -> anyhow::Result<()> {
    chat_server::memory::return_large_blocks_to_the_system();
    serve()
}

#[actix_web::main]
async fn serve() -> anyhow::Result<()> {
    let settings = Settings::parse();
    telemetry::init(settings.log_format, "info");
    if let Some(Command::Backup { path }) = &settings.command {
        anyhow::ensure!(!path.exists(), "{} exists already", path.display());
        let store = Store::open(&settings.database_url).await?;
        store.backup_to(path).await?;
        store.close().await;
        tracing::info!("backed up {} to {}", settings.database_url, path.display());
        return Ok(());
    }
    if let Some(Command::NewEpoch) = &settings.command {
        let store = Store::open(&settings.database_url).await?;
        let epoch = store.new_epoch().await?;
        store.close().await;
        tracing::info!(epoch, "{} has a new epoch", settings.database_url);
        return Ok(());
    }
    let app = Application::build(settings).await?;
    let shutdown = shutdown_signal();
    tracing::info!("chat server listening on http://{}", app.local_addr());
    app.run_until_stopped(shutdown).await
}

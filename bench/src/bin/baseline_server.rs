//! The baseline for `cargo xtask bench`: the smallest actix-ws broadcast
//! server (no accounts, no storage, no protocol), with TCP_NODELAY like the
//! real server. Every text frame is sent to every connected socket.
//! `POST /upload` is the yardstick for uploads: it streams the body into a
//! file, syncs it and removes it, with no checks at all.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use actix_ws::{AggregatedMessage, Session};
use clap::Parser;
use futures_util::StreamExt;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    #[arg(long, default_value_t = 1)]
    workers: usize,
}

type Sessions = Arc<Mutex<Vec<Session>>>;

async fn ws(
    request: HttpRequest,
    body: web::Payload,
    sessions: web::Data<Sessions>,
) -> actix_web::Result<HttpResponse> {
    let (response, session, stream) = actix_ws::handle(&request, body)?;
    sessions.lock().unwrap().push(session);
    let sessions = sessions.get_ref().clone();
    actix_web::rt::spawn(async move {
        let mut stream = stream.aggregate_continuations();
        while let Some(Ok(message)) = stream.next().await {
            if let AggregatedMessage::Text(text) = message {
                let targets: Vec<Session> = sessions.lock().unwrap().clone();
                for mut target in targets {
                    let _ = target.text(text.clone()).await;
                }
            }
        }
    });
    Ok(response)
}

async fn upload(mut body: web::Payload) -> actix_web::Result<HttpResponse> {
    use tokio::io::AsyncWriteExt;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("baseline-upload-{}-{n}", std::process::id()));
    let mut file = tokio::fs::File::create(&path).await?;
    while let Some(chunk) = body.next().await {
        file.write_all(&chunk?).await?;
    }
    file.flush().await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::remove_file(&path).await?;
    Ok(HttpResponse::Created().finish())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let sessions: Sessions = Arc::default();
    let listener = std::net::TcpListener::bind(&args.addr)?;
    println!("listening on {}", listener.local_addr()?);
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(sessions.clone()))
            .route("/ws", web::get().to(ws))
            .route("/upload", web::post().to(upload))
    })
    .on_connect(|connection, _| {
        if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
            let _ = tcp.set_nodelay(true);
        }
    })
    .workers(args.workers)
    .listen(listener)?
    .run()
    .await
}

//! A peer for `cargo xtask bench`: the barest broadcast server on
//! tokio-tungstenite (one thread, no protocol, no accounts, no storage),
//! with TCP_NODELAY: every text frame goes to every connected socket, the
//! sender included, as in `baseline-server`. Each socket's writer drains
//! what is queued for it before flushing.

use std::sync::{Arc, Mutex};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
}

type Peers = Arc<Mutex<Vec<mpsc::UnboundedSender<Message>>>>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(&args.addr).await?;
    bench::loopback_only(listener.local_addr()?)?;
    println!("listening on {}", listener.local_addr()?);
    let peers: Peers = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(serve(stream, peers.clone()));
    }
}

async fn serve(stream: tokio::net::TcpStream, peers: Peers) {
    let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut sink, mut source) = socket.split();
    let (sender, mut queue) = mpsc::unbounded_channel::<Message>();
    peers.lock().unwrap().push(sender);
    tokio::spawn(async move {
        while let Some(message) = queue.recv().await {
            if sink.feed(message).await.is_err() {
                return;
            }
            while let Ok(more) = queue.try_recv() {
                if sink.feed(more).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(message)) = source.next().await {
        if message.is_text() {
            peers
                .lock()
                .unwrap()
                .retain(|peer| peer.send(message.clone()).is_ok());
        }
    }
}

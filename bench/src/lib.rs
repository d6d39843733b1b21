//! What the load generators share: joining the chat as a new user, client
//! sockets spread over loopback addresses, and reading a process's CPU time.

use actix_web::cookie::Cookie;
use actix_web::web::{Bytes, BytesMut};
use actix_ws::Item;
use awc::ws::Frame;
use futures_util::StreamExt;
use shared::{ChannelId, ServerMsg};

/// A client WebSocket.
pub type Framed = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

/// Refuses any address off loopback: load tests, attacks and bench servers
/// never touch another machine, not even by a mistyped flag.
pub fn loopback_only(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    anyhow::ensure!(
        addr.ip().is_loopback(),
        "{addr}: load tests and bench servers use loopback only"
    );
    Ok(())
}

/// Picks the username `name` on the server at `addr`; returns the session token.
pub async fn sign_up(
    http: &awc::Client,
    addr: std::net::SocketAddr,
    name: &str,
) -> anyhow::Result<String> {
    let response = http
        .post(format!("http://{addr}/api/session"))
        .send_json(&serde_json::json!({ "username": name }))
        .await
        .map_err(|e| anyhow::anyhow!("sign up: {e}"))?;
    anyhow::ensure!(
        response.status().as_u16() == 201,
        "sign up: {}",
        response.status()
    );
    Ok(response
        .cookie("chat_session")
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))?
        .value()
        .to_owned())
}

/// Opens the WebSocket from the server's own origin, signed in when `token` is given.
pub async fn open_socket(
    http: &awc::Client,
    addr: std::net::SocketAddr,
    token: Option<&str>,
) -> anyhow::Result<Framed> {
    let mut request = http
        .ws(format!("ws://{addr}/ws"))
        .origin(format!("http://{addr}"))
        .max_frame_size(1 << 20);
    if let Some(token) = token {
        request = request.cookie(Cookie::new("chat_session", token.to_owned()));
    }
    let (_, framed) = request
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("connect: {e}"))?;
    Ok(framed)
}

/// Puts text messages sent in fragments (the server splits long frames)
/// back together: feed it every frame, get each whole text once.
#[derive(Default)]
pub struct Reassembler {
    partial: Option<BytesMut>,
}

impl Reassembler {
    /// The whole text `frame` completes, if any.
    pub fn text(&mut self, frame: Frame) -> Option<Bytes> {
        match frame {
            Frame::Text(bytes) => Some(bytes),
            Frame::Continuation(Item::FirstText(bytes)) => {
                self.partial = Some(BytesMut::from(&bytes[..]));
                None
            }
            Frame::Continuation(Item::Continue(bytes)) => {
                if let Some(partial) = &mut self.partial {
                    partial.extend_from_slice(&bytes);
                }
                None
            }
            Frame::Continuation(Item::Last(bytes)) => {
                let mut whole = self.partial.take()?;
                whole.extend_from_slice(&bytes);
                Some(whole.freeze())
            }
            _ => None,
        }
    }
}

/// Reads frames until a message `pick` takes; fails if the socket closes first.
pub async fn next_matching<T>(
    framed: &mut Framed,
    mut pick: impl FnMut(ServerMsg) -> Option<T>,
) -> anyhow::Result<T> {
    let mut texts = Reassembler::default();
    while let Some(frame) = framed.next().await {
        match frame? {
            Frame::Close(reason) => anyhow::bail!("closed: {reason:?}"),
            frame => {
                if let Some(bytes) = texts.text(frame)
                    && let Ok(message) = serde_json::from_slice(&bytes)
                    && let Some(found) = pick(message)
                {
                    return Ok(found);
                }
            }
        }
    }
    anyhow::bail!("the socket closed")
}

/// Sends one protocol message as a text frame.
pub async fn send(framed: &mut Framed, message: &shared::ClientMsg) -> anyhow::Result<()> {
    use futures_util::SinkExt;
    framed
        .send(awc::ws::Message::Text(
            serde_json::to_string(message)?.into(),
        ))
        .await?;
    Ok(())
}

/// Runs `work` for at most `seconds`, then prints its JSON line.
pub async fn within(
    seconds: u64,
    work: impl std::future::Future<Output = anyhow::Result<serde_json::Value>>,
) -> anyhow::Result<()> {
    let result = tokio::time::timeout(std::time::Duration::from_secs(seconds), work)
        .await
        .map_err(|_| anyhow::anyhow!("gave up after {seconds} s"))??;
    println!("{result}");
    Ok(())
}

/// Reads frames up to the chat's `welcome`; returns the first channel (#general).
pub async fn general_from_welcome(framed: &mut Framed) -> anyhow::Result<ChannelId> {
    let mut texts = Reassembler::default();
    while let Some(frame) = framed.next().await {
        if let Ok(frame) = frame
            && let Some(bytes) = texts.text(frame)
            && let Ok(ServerMsg::Welcome { channels, .. }) = serde_json::from_slice(&bytes)
            && let Some(general) = channels.into_iter().next()
        {
            return Ok(general.id);
        }
    }
    anyhow::bail!("the socket closed before the welcome")
}

/// HTTP clients bound to `sources` loopback source addresses (127.0.0.2, …),
/// so thousands of sockets do not run out of ephemeral ports; no limit on
/// connections per client.
pub fn spread_clients(sources: usize) -> Vec<awc::Client> {
    (0..sources.max(1))
        .map(|n| {
            let source = std::net::IpAddr::V4(std::net::Ipv4Addr::new(
                127,
                0,
                (2 + n / 250) as u8,
                (2 + n % 250) as u8,
            ));
            awc::Client::builder()
                .connector(awc::Connector::new().local_address(source).limit(0))
                .timeout(std::time::Duration::from_secs(30))
                .finish()
        })
        .collect()
}

/// User + system CPU seconds of a process, from /proc/PID/stat.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

//! One WebSocket connection. It only moves frames: the reader parses client
//! frames and answers them, the writer is the only code that writes to the
//! socket, draining the connection's [`Outbox`]. Either side ending (client
//! gone, protocol error, heartbeat timeout, kicked by the hub, session
//! revoked) ends both, and the hub is told.
//!
//! Every request first waits for its user's budget of that kind (so a flood
//! slows only its sender, on every socket the user has), and every reply
//! waits until the client has read most of what is queued for it (so a
//! client that asks without reading stops being read, and is closed if it
//! stays stalled). Replies are at most [`MAX_REPLY_BYTES`]: longer catch-ups
//! are sent in parts.

use std::time::Duration;

use actix_ws::{
    AggregatedMessage, CloseCode, CloseReason, Item, MessageStream, ProtocolError, Session,
};
use bytestring::ByteString;
use shared::limits::MAX_FRAME_BYTES;
use shared::protocol::ClientMsgError;
use shared::{ClientMsg, ClientMsgId, ErrorCode, ServerMsg};
use tokio::time::{interval, timeout};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::commands::{self, Caller, ConnectionState, Reply};
use super::context::Realtime;
use super::fanout::{ConnId, Sessions, next_conn_id};
use super::hub::Registration;
use super::outbox::{Outbox, OutboxReceiver, Outgoing, PushFailure, outbox};
use crate::connection_limits::ConnectionSlot;
use crate::store::SessionUser;

/// How often the server pings an idle client.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);
/// A client silent (not even a pong) for this long is disconnected.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// How long a closing connection may take to flush its last frames.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Longest WebSocket frame written; longer messages go out as fragments.
const FRAGMENT_BYTES: usize = 16 * 1024;

/// Serves one upgraded socket until it closes. `slot` counts it against
/// its user's and address's connection limits while it is open.
pub async fn serve(
    context: Realtime,
    session_user: SessionUser,
    session: Session,
    stream: MessageStream,
    slot: ConnectionSlot,
) {
    let conn = next_conn_id();
    let span = tracing::info_span!("connection", conn, user = %session_user.user.name);
    serve_connection(context, session_user, session, stream, conn)
        .instrument(span)
        .await;
    drop(slot);
}

async fn serve_connection(
    context: Realtime,
    session_user: SessionUser,
    session: Session,
    stream: MessageStream,
    conn: ConnId,
) {
    let (outbox, receiver) = outbox(context.outbox, context.metrics.clone());
    let kick = CancellationToken::new();
    let stop_reading = CancellationToken::new();
    let writer_task = actix_web::rt::spawn(write_loop(session, receiver, kick.clone()));

    let user = &session_user.user;
    let loaded = async {
        let channels = context.store.channels_of(user).await?;
        let blocked = context.store.blocked_by(&user.id).await?;
        Ok::<_, crate::store::StoreError>((channels, blocked))
    };
    let (channels, blocked) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => {
            tracing::error!(%error, "could not load channels for a new connection");
            let _ = outbox.push(Outgoing::Close(CloseReason {
                code: CloseCode::Error,
                description: Some("database unavailable, try again".into()),
            }));
            drop(outbox);
            let _ = timeout(CLOSE_GRACE, writer_task).await;
            return;
        }
    };
    context
        .hub
        .connect(Registration {
            conn,
            user: user.clone(),
            session_id: session_user.session_id.clone(),
            channels,
            blocked,
            outbox: outbox.clone(),
            kick: kick.clone(),
            stop_reading: stop_reading.clone(),
            max_upload_bytes: context.max_upload_bytes,
        })
        .await;
    // A sign-out that ran between the upgrade's session check and this
    // registration removed the session before telling the hub: look again.
    if matches!(
        context.store.session_exists(&session_user.session_id).await,
        Ok(false)
    ) {
        context
            .fanout
            .close_sessions(
                user.id.clone(),
                Sessions::One(session_user.session_id.clone()),
            )
            .await;
    }
    context.metrics.connections.inc();
    context.metrics.connections_opened.inc();
    tracing::debug!("connected");

    let mut reader = Reader {
        conn,
        context: &context,
        session_user: &session_user,
        state: ConnectionState::default(),
        outbox,
        kick: kick.clone(),
        stop_reading,
    };
    reader.run(stream).await;

    context.hub.disconnect(conn).await;
    drop(reader);
    // The writer ends once the queue is drained (or at once if kicked).
    if timeout(CLOSE_GRACE, writer_task).await.is_err() {
        kick.cancel();
    }
    context.metrics.connections.dec();
    tracing::debug!("disconnected");
}

/// Sends queued frames and heartbeat pings; the only writer to the socket.
async fn write_loop(mut session: Session, mut queue: OutboxReceiver, kick: CancellationToken) {
    let mut heartbeat = interval(HEARTBEAT_INTERVAL);
    heartbeat.tick().await;
    loop {
        let next = tokio::select! {
            biased;
            () = kick.cancelled() => return,
            next = queue.recv() => next,
            _ = heartbeat.tick() => {
                let sent = tokio::select! {
                    () = kick.cancelled() => return,
                    sent = session.ping(b"") => sent,
                };
                if sent.is_err() {
                    kick.cancel();
                    return;
                }
                continue;
            }
        };
        let len = next.as_ref().map_or(0, Outgoing::len);
        let sent = match next {
            Some(Outgoing::Frame(text)) => {
                tokio::select! {
                    () = kick.cancelled() => return,
                    sent = send_text(&mut session, text) => sent,
                }
            }
            Some(Outgoing::Pong(payload)) => {
                tokio::select! {
                    () = kick.cancelled() => return,
                    sent = session.pong(&payload) => sent,
                }
            }
            Some(Outgoing::Close(reason)) => {
                tokio::select! {
                    () = kick.cancelled() => {}
                    _ = session.close(Some(reason)) => {}
                }
                kick.cancel();
                return;
            }
            None => {
                tokio::select! {
                    () = kick.cancelled() => {}
                    _ = session.close(Some(CloseCode::Normal.into())) => {}
                }
                return;
            }
        };
        queue.written(len);
        if sent.is_err() {
            // The client went away.
            kick.cancel();
            return;
        }
    }
}

/// Sends a text frame, in fragments of at most [`FRAGMENT_BYTES`] when it is
/// longer. actix-ws queues up to 32 items per socket beyond what has been
/// written, so fragments keep that queue under 32 x 16 KiB whatever the
/// replies are; the connection's [`Outbox`] counts everything before it.
async fn send_text(session: &mut Session, text: ByteString) -> Result<(), actix_ws::Closed> {
    if text.len() <= FRAGMENT_BYTES {
        return session.text(text).await;
    }
    let bytes = text.into_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let end = (start + FRAGMENT_BYTES).min(bytes.len());
        let part = bytes.slice(start..end);
        let item = match (start == 0, end == bytes.len()) {
            (true, _) => Item::FirstText(part),
            (false, true) => Item::Last(part),
            (false, false) => Item::Continue(part),
        };
        session.continuation(item).await?;
        start = end;
    }
    Ok(())
}

struct Reader<'a> {
    conn: ConnId,
    context: &'a Realtime,
    session_user: &'a SessionUser,
    /// What the dispatch remembers between this connection's requests.
    state: ConnectionState,
    outbox: Outbox,
    kick: CancellationToken,
    /// Cancelled when the session is revoked: nothing more is read or done.
    stop_reading: CancellationToken,
}

impl Reader<'_> {
    async fn run(&mut self, stream: MessageStream) {
        let mut stream = stream
            .max_frame_size(MAX_FRAME_BYTES)
            .aggregate_continuations()
            .max_continuation_size(MAX_FRAME_BYTES);
        loop {
            let next = tokio::select! {
                biased;
                () = self.kick.cancelled() => return,
                () = self.stop_reading.cancelled() => return,
                next = timeout(CLIENT_TIMEOUT, stream.recv()) => next,
            };
            let message = match next {
                Err(_elapsed) => {
                    self.close(CloseCode::Away, "no heartbeat from client")
                        .await;
                    return;
                }
                Ok(None) => return,
                Ok(Some(Err(error))) => {
                    self.protocol_error(error).await;
                    return;
                }
                Ok(Some(Ok(message))) => message,
            };
            let (kick, stop_reading) = (self.kick.clone(), self.stop_reading.clone());
            let done = tokio::select! {
                biased;
                () = kick.cancelled() => true,
                () = stop_reading.cancelled() => true,
                done = self.handle(message) => done,
            };
            if done {
                return;
            }
        }
    }

    /// Handles one frame; `true` when the connection should end.
    async fn handle(&mut self, message: AggregatedMessage) -> bool {
        match message {
            AggregatedMessage::Text(text) => self.handle_text(&text).await,
            AggregatedMessage::Binary(_) => {
                self.error(
                    ErrorCode::BinaryNotSupported,
                    "binary frames are not supported; send JSON text frames".into(),
                    None,
                )
                .await;
            }
            AggregatedMessage::Ping(payload) => self.enqueue(Outgoing::Pong(payload)).await,
            AggregatedMessage::Pong(_) => {}
            AggregatedMessage::Close(_) => {
                self.close(CloseCode::Normal, "bye").await;
                return true;
            }
        }
        false
    }

    async fn protocol_error(&mut self, error: ProtocolError) {
        let too_large = matches!(error, ProtocolError::Overflow)
            || matches!(&error, ProtocolError::Io(e) if e.to_string().contains("maximum continuation size"));
        if too_large {
            let limit = format!("frames are limited to {} KiB", MAX_FRAME_BYTES / 1024);
            self.error(ErrorCode::FrameTooLarge, limit.clone(), None)
                .await;
            self.close(CloseCode::Size, &limit).await;
        } else {
            tracing::debug!(%error, "websocket protocol error");
            self.close(CloseCode::Protocol, "websocket protocol error")
                .await;
        }
    }

    /// Parses a text frame and hands it to the one dispatch of requests.
    async fn handle_text(&mut self, text: &str) {
        let request = match ClientMsg::parse(text) {
            Ok(request) => request,
            Err(ClientMsgError::Malformed(detail)) => {
                return self.error(ErrorCode::MalformedFrame, detail, None).await;
            }
            Err(ClientMsgError::UnknownType(kind)) => {
                let detail = format!("unknown message type {kind:?}");
                return self.error(ErrorCode::UnknownType, detail, None).await;
            }
            Err(ClientMsgError::InvalidFields(detail)) => {
                return self.error(ErrorCode::InvalidFields, detail, None).await;
            }
        };
        let caller = Caller {
            realtime: self.context,
            user: &self.session_user.user,
            conn: self.conn,
        };
        let reply = commands::dispatch(&caller, &mut self.state, request).await;
        self.answer(reply).await;
    }

    async fn answer(&mut self, reply: Reply) {
        match reply {
            Ok(frames) => {
                for frame in &frames {
                    self.send(frame).await;
                }
            }
            Err(refusal) => {
                self.error(refusal.code, refusal.message, refusal.client_id)
                    .await;
            }
        }
    }

    async fn error(&mut self, code: ErrorCode, message: String, client_id: Option<ClientMsgId>) {
        self.context.metrics.refused(code.as_str());
        self.send(&ServerMsg::Error {
            code,
            message,
            client_id,
        })
        .await;
    }

    async fn send(&mut self, message: &ServerMsg) {
        self.enqueue(Outgoing::Frame(ByteString::from(message.to_json())))
            .await;
    }

    async fn close(&mut self, code: CloseCode, description: &str) {
        self.enqueue(Outgoing::Close(CloseReason {
            code,
            description: Some(description.to_owned()),
        }))
        .await;
    }

    /// Queues a frame for this connection's own socket once the client has
    /// read most of what is queued; a client that stays stalled is closed.
    async fn enqueue(&mut self, item: Outgoing) {
        match self
            .outbox
            .push_reply(item, self.context.stall_timeout)
            .await
        {
            Ok(()) => {}
            Err(PushFailure::Stalled) => {
                tracing::warn!(
                    queued_bytes = self.outbox.queued_bytes(),
                    "the client stopped reading its replies; disconnecting it"
                );
                self.context.metrics.kicked("stalled");
                self.kick.cancel();
            }
            Err(_) => self.kick.cancel(),
        }
    }
}

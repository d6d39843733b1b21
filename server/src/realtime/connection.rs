//! One WebSocket connection. [`start`] registers it and returns the
//! socket's only writer ([`SocketWriter`], the upgrade response's body,
//! draining the connection's [`Outbox`]); a reader task reads whole client
//! messages ([`ClientFrames`]), hands each to the one dispatch, and queues
//! the answers. Either side ending (client gone, protocol error, heartbeat
//! timeout, kicked by the hub, session revoked) ends both, and the hub is
//! told.
//!
//! Every reply waits until the client has read most of what is queued for
//! it (so a client that asks without reading stops being read, and is
//! closed if it stays stalled).

use std::time::Duration;

use actix_http::ws::{CloseCode, CloseReason};
use actix_web::web::Payload;
use shared::protocol::ClientMsgError;
use shared::{ClientMsg, ClientMsgId, ErrorCode, ServerMsg};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::commands::{self, Caller, ConnectionState, Reply};
use super::context::Realtime;
use super::fanout::{ConnId, Sessions, next_conn_id};
use super::frames::{self, ClientFrames, FrameError, Incoming};
use super::hub::Registration;
use super::outbox::{Outbox, Outgoing, PushFailure, outbox};
use super::socket_writer::SocketWriter;
use crate::connection_limits::ConnectionSlot;
use crate::store::{Accounts, Channels, Moderation, SessionUser};

/// A client silent (not even a pong) for this long is disconnected.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// How long a closing connection may take to flush its last frames.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Starts serving an upgraded socket: the reader runs as its own task, and
/// the returned writer is the body of the upgrade response. `slot` counts
/// it against its user's and address's connection limits while the socket
/// is open (the writer holds it).
pub fn start(
    context: Realtime,
    session_user: SessionUser,
    payload: Payload,
    slot: ConnectionSlot,
) -> SocketWriter {
    let conn = next_conn_id();
    let (outbox, receiver) = outbox(context.outbox, context.metrics.clone());
    let kick = CancellationToken::new();
    let writer = SocketWriter::new(receiver, kick.clone(), slot);
    let span = tracing::info_span!("connection", conn, user = %session_user.user.name);
    actix_web::rt::spawn(
        async move {
            // Whatever way the reader ends (a panic included), the socket ends too.
            let _stop_writer = kick.clone().drop_guard();
            serve(
                context,
                session_user,
                ClientFrames::new(payload),
                outbox,
                kick,
                conn,
            )
            .await;
        }
        .instrument(span),
    );
    writer
}

async fn serve(
    context: Realtime,
    session_user: SessionUser,
    frames: ClientFrames,
    outbox: Outbox,
    kick: CancellationToken,
    conn: ConnId,
) {
    let stop_reading = CancellationToken::new();
    let user = &session_user.user;
    let loaded = async {
        let channels = context.store.channels_of(user).await?;
        let blocked = context.store.blocked_by(&user.id).await?;
        let standing = context.store.standing(&user.id).await?;
        Ok::<_, crate::store::StoreError>((channels, blocked, standing))
    };
    // Every await apart from the read loop's is boxed: a task's memory is its
    // largest state, and an idle connection should not carry the biggest
    // command's.
    let (channels, blocked, standing) = match Box::pin(loaded).await {
        Ok(loaded) => loaded,
        Err(error) => {
            tracing::error!(%error, "could not load channels for a new connection");
            let _ = outbox.push(Outgoing::Close(CloseReason {
                code: CloseCode::Error,
                description: Some("database unavailable, try again".into()),
            }));
            drop(outbox);
            let_the_writer_close(&kick).await;
            return;
        }
    };
    Box::pin(context.hub.connect(Registration {
        conn,
        user: user.clone(),
        session_id: session_user.session_id.clone(),
        channels,
        blocked,
        outbox: outbox.clone(),
        kick: kick.clone(),
        stop_reading: stop_reading.clone(),
        max_upload_bytes: context.max_upload_bytes,
        mention_everyone_max_members: context.mention_everyone_max_members,
        epoch: context.store.epoch().to_owned(),
        role: standing.map(|s| s.role).unwrap_or_default(),
        muted_until: standing.and_then(|s| s.muted_at(crate::random::now_millis())),
    }))
    .await;
    // A sign-out that ran between the upgrade's session check and this
    // registration removed the session before telling the hub: look again.
    if matches!(
        Box::pin(context.store.session_exists(&session_user.session_id)).await,
        Ok(false)
    ) {
        Box::pin(context.fanout.close_sessions(
            user.id.clone(),
            Sessions::One(session_user.session_id.clone()),
        ))
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
    reader.run(frames).await;

    Box::pin(context.hub.disconnect(conn)).await;
    drop(reader);
    let_the_writer_close(&kick).await;
    context.metrics.connections.dec();
    tracing::debug!("disconnected");
}

/// With every sender of its outbox gone, the socket writer sends a close
/// frame and ends (cancelling `kick`); one that cannot finish within
/// [`CLOSE_GRACE`] is stopped.
async fn let_the_writer_close(kick: &CancellationToken) {
    let _ = timeout(CLOSE_GRACE, kick.cancelled()).await;
    kick.cancel();
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
    async fn run(&mut self, mut frames: ClientFrames) {
        loop {
            let next = tokio::select! {
                biased;
                () = self.kick.cancelled() => return,
                () = self.stop_reading.cancelled() => return,
                next = timeout(CLIENT_TIMEOUT, frames.next()) => next,
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
                // Boxed: only a frame being handled holds a command's state.
                done = Box::pin(self.handle(message)) => done,
            };
            if done {
                return;
            }
        }
    }

    /// Handles one message; `true` when the connection should end.
    async fn handle(&mut self, message: Incoming) -> bool {
        match message {
            Incoming::Text(text) => self.handle_text(&text).await,
            Incoming::Binary => {
                self.error(
                    ErrorCode::BinaryNotSupported,
                    "binary frames are not supported; send JSON text frames".into(),
                    None,
                )
                .await;
            }
            Incoming::Ping(payload) => {
                self.enqueue(Outgoing::Frame(frames::pong(&payload))).await;
            }
            Incoming::Pong => {}
            Incoming::Close => {
                self.close(CloseCode::Normal, "bye").await;
                return true;
            }
        }
        false
    }

    async fn protocol_error(&mut self, error: FrameError) {
        if let FrameError::TooLarge = error {
            self.error(ErrorCode::FrameTooLarge, error.to_string(), None)
                .await;
        } else {
            tracing::debug!(%error, "websocket protocol error");
        }
        self.enqueue(Outgoing::Close(frames::close_reason(&error)))
            .await;
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
        self.enqueue(Outgoing::Frame(frames::text(message))).await;
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

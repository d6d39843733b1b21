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

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_ws::{
    AggregatedMessage, CloseCode, CloseReason, Item, MessageStream, ProtocolError, Session,
};
use bytestring::ByteString;
use shared::limits::{
    HISTORY_PAGE, MAX_ATTACHMENTS, MAX_FRAME_BYTES, MAX_HISTORY_PAGE, MAX_SYNC_BATCH,
};
use shared::protocol::ClientMsgError;
use shared::validate::{MessageText, MessageTextError};
use shared::{ChannelId, ChatMessage, ClientMsg, ClientMsgId, ErrorCode, FileId, Seq, ServerMsg};
use tokio::time::{interval, timeout};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::budget::{RequestBudgets, RequestKind};
use crate::commands::{self, Caller, Refusal, Reply};
use crate::connection_limits::ConnectionSlot;
use crate::hub::{ConnId, HubHandle, Registration, next_conn_id};
use crate::metrics::Metrics;
use crate::outbox::{Outbox, OutboxLimits, OutboxReceiver, Outgoing, PushFailure, outbox};
use crate::preview::Previews;
use crate::store::writer::{MessageWriter, WriteRequest};
use crate::store::{NewMessage, SessionUser, Store};

/// How often the server pings an idle client.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);
/// A client silent (not even a pong) for this long is disconnected.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// Typing notices from one connection in one channel are passed on at most this often.
const TYPING_THROTTLE: Duration = Duration::from_secs(2);
/// How long a closing connection may take to flush its last frames.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Largest reply frame; longer catch-ups and pages come in parts.
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;
/// Longest WebSocket frame written; longer messages go out as fragments.
const FRAGMENT_BYTES: usize = 16 * 1024;

/// What every connection needs from the application.
#[derive(Clone)]
pub struct ConnectionContext {
    pub store: Store,
    pub hub: HubHandle,
    pub writer: MessageWriter,
    /// Bounds of each connection's outgoing queue.
    pub outbox: OutboxLimits,
    /// How long a connection's own reply may wait for the client to read
    /// before the connection is closed as stalled.
    pub stall_timeout: Duration,
    /// Link previews, when turned on.
    pub previews: Option<Previews>,
    /// Largest upload accepted, in bytes (told to clients).
    pub max_upload_bytes: u64,
    /// Every user's request budgets.
    pub budgets: std::sync::Arc<RequestBudgets>,
    pub metrics: Metrics,
}

/// Serves one upgraded socket until it closes. `slot` counts it against
/// its user's and address's connection limits while it is open.
pub async fn serve(
    context: ConnectionContext,
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
    context: ConnectionContext,
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
            .hub
            .close_session(user.id.clone(), session_user.session_id.clone())
            .await;
    }
    context.metrics.connections.inc();
    context.metrics.connections_opened.inc();
    tracing::debug!("connected");

    let mut reader = Reader {
        conn,
        context: &context,
        session_user: &session_user,
        last_typing: HashMap::new(),
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
    context: &'a ConnectionContext,
    session_user: &'a SessionUser,
    /// When this connection last announced typing, per channel (to throttle).
    last_typing: HashMap<ChannelId, Instant>,
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

    /// The one dispatch of client requests: parse, wait for the user's
    /// budget of that kind, then do it and answer.
    async fn handle_text(&mut self, text: &str) {
        let message = match ClientMsg::parse(text) {
            Ok(message) => message,
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
        let kind = request_kind(&message);
        let user = self.session_user.user.id.0.as_str();
        let budgets = &self.context.budgets;
        if kind == RequestKind::Typing {
            // Only a hint: over budget, it is dropped.
            if !budgets.try_spend(kind, user) {
                return;
            }
        } else {
            budgets.wait(kind, user).await;
        }
        let reply = match message {
            ClientMsg::Send {
                channel,
                client_id,
                text,
                attachments,
            } => self.post(channel, client_id, text, attachments).await,
            ClientMsg::Sync {
                channel,
                after_seq,
                after_change,
            } => self.sync(channel, after_seq, after_change).await,
            ClientMsg::History {
                channel,
                before_seq,
                limit,
            } => self.history(channel, before_seq, limit).await,
            ClientMsg::Typing { channel } => self.typing(channel).await,
            ClientMsg::SetAway { away } => {
                self.context.hub.set_away(self.conn, away).await;
                Ok(None)
            }
            ClientMsg::CreateChannel {
                name,
                topic,
                private,
            } => commands::create_channel(&self.caller(), &name, &topic, private).await,
            ClientMsg::BrowseChannels { query } => {
                commands::browse_channels(&self.caller(), &query).await
            }
            ClientMsg::JoinChannel { channel } => {
                commands::join_channel(&self.caller(), &channel).await
            }
            ClientMsg::LeaveChannel { channel } => {
                commands::leave_channel(&self.caller(), &channel).await
            }
            ClientMsg::Invite { channel, user } => {
                commands::invite(&self.caller(), &channel, &user).await
            }
            ClientMsg::RemoveMember { channel, user } => {
                commands::remove_member(&self.caller(), &channel, &user).await
            }
            ClientMsg::SetTopic { channel, topic } => {
                commands::set_topic(&self.caller(), &channel, &topic).await
            }
            ClientMsg::OpenDirect { users } => commands::open_direct(&self.caller(), &users).await,
            ClientMsg::Members { channel } => commands::members(&self.caller(), &channel).await,
            ClientMsg::MarkRead { channel, seq } => {
                commands::mark_read(&self.caller(), &channel, seq).await
            }
            ClientMsg::Block { user, blocked } => {
                commands::block(&self.caller(), &user, blocked).await
            }
            ClientMsg::ListUsers => commands::list_users(&self.caller()).await,
            ClientMsg::Edit { channel, seq, text } => {
                commands::edit(&self.caller(), &channel, seq, &text).await
            }
            ClientMsg::Delete { channel, seq } => {
                commands::delete(&self.caller(), &channel, seq).await
            }
            ClientMsg::React {
                channel,
                seq,
                emoji,
                add,
            } => commands::react(&self.caller(), &channel, seq, &emoji, add).await,
        };
        self.answer(reply).await;
    }

    fn caller(&self) -> Caller<'_> {
        Caller {
            context: self.context,
            user: &self.session_user.user,
            conn: self.conn,
        }
    }

    async fn answer(&mut self, reply: Reply) {
        match reply {
            Ok(Some(message)) => self.send(&message).await,
            Ok(None) => {}
            Err(refusal) => {
                self.error(refusal.code, refusal.message, refusal.client_id)
                    .await;
            }
        }
    }

    /// Refuses unless the user is a member of `channel` now.
    async fn check_member(&self, channel: &ChannelId) -> Result<(), Refusal> {
        if self
            .context
            .store
            .is_member(&self.session_user.user.id, channel)
            .await?
        {
            Ok(())
        } else {
            Err(commands::not_a_member())
        }
    }

    async fn typing(&mut self, channel: ChannelId) -> Reply {
        let now = Instant::now();
        let recent = self
            .last_typing
            .get(&channel)
            .is_some_and(|at| now.duration_since(*at) < TYPING_THROTTLE);
        if recent {
            return Ok(None);
        }
        let reply = commands::typing(&self.caller(), &channel).await;
        if reply.is_ok() {
            self.last_typing.insert(channel, now);
        }
        reply
    }

    /// Membership is checked inside the writer's transaction, atomically with the insert.
    async fn post(
        &mut self,
        channel: ChannelId,
        client_id: ClientMsgId,
        text: String,
        attachments: Vec<FileId>,
    ) -> Reply {
        // A message ends "is typing" for the others: the next keystroke may announce again.
        self.last_typing.remove(&channel);
        if attachments.len() > MAX_ATTACHMENTS {
            let message = format!("at most {MAX_ATTACHMENTS} files can be attached to one message");
            return Err(
                commands::refuse(ErrorCode::InvalidAttachment, message).for_message(client_id)
            );
        }
        let text = match MessageText::parse(&text) {
            Ok(text) => text.into_string(),
            // A caption is optional.
            Err(MessageTextError::Empty) if !attachments.is_empty() => String::new(),
            Err(error) => {
                let code = match error {
                    MessageTextError::Empty => ErrorCode::EmptyText,
                    MessageTextError::TooLong { .. } => ErrorCode::TextTooLong,
                };
                return Err(commands::refuse(code, error.to_string()).for_message(client_id));
            }
        };
        let request = WriteRequest {
            origin: self.conn,
            message: NewMessage {
                channel,
                author: self.session_user.user.clone(),
                client_id: client_id.clone(),
                text,
                attachments,
            },
        };
        match self.context.writer.submit(request).await {
            Ok(()) => Ok(None),
            Err(_) => Err(commands::refuse(
                ErrorCode::StoreUnavailable,
                "the server is shutting down; the message will be sent again",
            )
            .for_message(client_id)),
        }
    }

    async fn sync(
        &mut self,
        channel: ChannelId,
        after_seq: Option<Seq>,
        after_change: Option<i64>,
    ) -> Reply {
        self.check_member(&channel).await?;
        let store = &self.context.store;
        let session_user = self.session_user;
        let reader = &session_user.user.id;
        let Some(after) = after_seq else {
            let page = store
                .latest_messages(&channel, HISTORY_PAGE, reader)
                .await?;
            let (messages, cut) = fit_newest(page.messages);
            return Ok(Some(ServerMsg::Synced {
                channel,
                messages,
                has_older: page.has_older || cut,
                complete: true,
                updated: Vec::new(),
            }));
        };
        let after = after.max(0);
        let updated = match after_change {
            Some(change) => {
                store
                    .messages_changed(&channel, after, change, MAX_SYNC_BATCH, reader)
                    .await?
            }
            None => Vec::new(),
        };
        let messages = store
            .messages_after(&channel, after, MAX_SYNC_BATCH, reader)
            .await?;
        let complete = messages.len() < MAX_SYNC_BATCH as usize;
        let has_older = messages.first().map_or(after > 0, |m| m.seq > 1);
        let (messages, cut) = fit_oldest(messages);
        // Changes to held messages that do not fit travel as separate
        // updates (the client treats both the same way).
        let (updated, overflow) = split_to_fit(updated);
        self.send(&ServerMsg::Synced {
            channel,
            messages,
            has_older,
            complete: complete && !cut,
            updated,
        })
        .await;
        for message in overflow {
            self.send(&ServerMsg::MessageUpdated { message }).await;
        }
        Ok(None)
    }

    async fn history(&mut self, channel: ChannelId, before_seq: Seq, limit: Option<u32>) -> Reply {
        self.check_member(&channel).await?;
        let limit = limit.unwrap_or(HISTORY_PAGE).clamp(1, MAX_HISTORY_PAGE);
        let page = self
            .context
            .store
            .messages_before(&channel, before_seq, limit, &self.session_user.user.id)
            .await?;
        let (messages, cut) = fit_newest(page.messages);
        Ok(Some(ServerMsg::History {
            channel,
            messages,
            has_older: page.has_older || cut,
        }))
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

/// Which budget a request is counted in.
fn request_kind(message: &ClientMsg) -> RequestKind {
    match message {
        ClientMsg::Send { .. } => RequestKind::Post,
        ClientMsg::Edit { .. } | ClientMsg::Delete { .. } | ClientMsg::React { .. } => {
            RequestKind::Change
        }
        ClientMsg::MarkRead { .. } => RequestKind::ReadMark,
        ClientMsg::SetAway { .. } => RequestKind::Presence,
        ClientMsg::Typing { .. } => RequestKind::Typing,
        ClientMsg::CreateChannel { .. } => RequestKind::CreateChannel,
        ClientMsg::JoinChannel { .. }
        | ClientMsg::LeaveChannel { .. }
        | ClientMsg::Invite { .. }
        | ClientMsg::RemoveMember { .. }
        | ClientMsg::SetTopic { .. }
        | ClientMsg::OpenDirect { .. }
        | ClientMsg::Block { .. } => RequestKind::Membership,
        ClientMsg::Sync { .. } | ClientMsg::History { .. } => RequestKind::Read,
        ClientMsg::Members { .. } | ClientMsg::BrowseChannels { .. } | ClientMsg::ListUsers => {
            RequestKind::Directory
        }
    }
}

/// The JSON size of a message inside a reply.
fn json_len(message: &ChatMessage) -> usize {
    serde_json::to_string(message).map_or(0, |json| json.len() + 1)
}

/// Room in a reply for messages, leaving space for the envelope.
const MESSAGES_BUDGET: usize = MAX_REPLY_BYTES - 1024;

/// The oldest messages that fit in a reply, and whether some were left out.
fn fit_oldest(messages: Vec<ChatMessage>) -> (Vec<ChatMessage>, bool) {
    let (fitting, rest) = split_to_fit(messages);
    (fitting, !rest.is_empty())
}

/// The newest messages (held oldest first) that fit in a reply, and whether
/// older ones were left out.
fn fit_newest(mut messages: Vec<ChatMessage>) -> (Vec<ChatMessage>, bool) {
    messages.reverse();
    let (mut fitting, rest) = split_to_fit(messages);
    fitting.reverse();
    (fitting, !rest.is_empty())
}

/// Splits `messages` after the longest start that fits in a reply (at least one).
fn split_to_fit(mut messages: Vec<ChatMessage>) -> (Vec<ChatMessage>, Vec<ChatMessage>) {
    let mut total = 0;
    let mut keep = messages.len();
    for (index, message) in messages.iter().enumerate() {
        total += json_len(message);
        if total > MESSAGES_BUDGET && index > 0 {
            keep = index;
            break;
        }
    }
    let rest = messages.split_off(keep);
    (messages, rest)
}

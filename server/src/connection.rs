//! One WebSocket connection. It only moves frames: the reader parses client
//! frames and answers them, the writer is the only code that writes to the
//! socket, draining the bounded queue the hub and the reader fill. Either side
//! ending (client gone, protocol error, heartbeat timeout, kicked by the hub)
//! ends both, and the hub is told.

use std::collections::HashMap;
use std::time::Duration;
use std::time::Instant;

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, MessageStream, ProtocolError, Session};
use bytestring::ByteString;
use shared::limits::{
    HISTORY_PAGE, MAX_ATTACHMENTS, MAX_FRAME_BYTES, MAX_HISTORY_PAGE, MAX_SYNC_BATCH,
};
use shared::protocol::ClientMsgError;
use shared::validate::{MessageText, MessageTextError};
use shared::{ChannelId, ClientMsg, ClientMsgId, ErrorCode, FileId, Seq, ServerMsg};
use tokio::sync::mpsc;
use tokio::time::{interval, timeout};
use tokio_util::sync::CancellationToken;

use crate::commands::{self, Caller};
use crate::hub::{ConnId, HubHandle, Outgoing, Registration, next_conn_id};
use crate::preview::Previews;
use crate::store::writer::{MAX_BATCH, MessageWriter, WriteRequest};
use crate::store::{NewMessage, SessionUser, Store};
use crate::throttle::TokenBucket;

/// How often the server pings an idle client.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);
/// A client silent (not even a pong) for this long is disconnected.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// Typing notices from one connection in one channel are passed on at most this often.
const TYPING_THROTTLE: Duration = Duration::from_secs(2);
/// How long a closing connection may take to flush its last frames.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// What every connection needs from the application.
#[derive(Clone)]
pub struct ConnectionContext {
    pub store: Store,
    pub hub: HubHandle,
    pub writer: MessageWriter,
    /// Capacity of each connection's outgoing queue.
    pub outbound_queue: usize,
    /// Link previews, when turned on.
    pub previews: Option<Previews>,
    /// Largest upload accepted, in bytes (told to clients).
    pub max_upload_bytes: u64,
    /// Pace of one connection's messages: burst, then per second.
    pub message_burst: u32,
    pub messages_per_second: u32,
}

/// Serves one upgraded socket until it closes.
pub async fn serve(
    context: ConnectionContext,
    session_user: SessionUser,
    session: Session,
    stream: MessageStream,
) {
    let conn = next_conn_id();
    let (queue, queue_receiver) = mpsc::channel(context.outbound_queue.max(MAX_BATCH));
    let kick = CancellationToken::new();
    let writer_task = actix_web::rt::spawn(write_loop(session, queue_receiver, kick.clone()));

    let channels = match context.store.channels_of(&session_user.user).await {
        Ok(channels) => channels,
        Err(error) => {
            tracing::error!(%error, "could not load channels for a new connection");
            let _ = queue.try_send(Outgoing::Close(CloseReason {
                code: CloseCode::Error,
                description: Some("database unavailable, try again".into()),
            }));
            drop(queue);
            let _ = timeout(CLOSE_GRACE, writer_task).await;
            return;
        }
    };
    context
        .hub
        .connect(Registration {
            conn,
            user: session_user.user.clone(),
            session_id: session_user.session_id.clone(),
            channels,
            queue: queue.clone(),
            kick: kick.clone(),
            max_upload_bytes: context.max_upload_bytes,
        })
        .await;
    tracing::debug!(conn, user = %session_user.user.name, "connected");

    let mut reader = Reader {
        conn,
        context: &context,
        session_user: &session_user,
        last_typing: HashMap::new(),
        queue,
        kick: kick.clone(),
        pace: TokenBucket::new(context.message_burst, context.messages_per_second),
    };
    reader.run(stream).await;

    context.hub.disconnect(conn).await;
    drop(reader);
    // The writer ends once the queue is drained (or at once if kicked).
    if timeout(CLOSE_GRACE, writer_task).await.is_err() {
        kick.cancel();
    }
    tracing::debug!(conn, user = %session_user.user.name, "disconnected");
}

/// Sends queued frames and heartbeat pings; the only writer to the socket.
async fn write_loop(
    mut session: Session,
    mut queue: mpsc::Receiver<Outgoing>,
    kick: CancellationToken,
) {
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
        let sent = match next {
            Some(Outgoing::Frame(text)) => {
                tokio::select! {
                    () = kick.cancelled() => return,
                    sent = session.text(text) => sent,
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
        if sent.is_err() {
            // The client went away.
            kick.cancel();
            return;
        }
    }
}

struct Reader<'a> {
    conn: ConnId,
    context: &'a ConnectionContext,
    session_user: &'a SessionUser,
    /// When this connection last announced typing, per channel (to throttle).
    last_typing: HashMap<ChannelId, Instant>,
    queue: mpsc::Sender<Outgoing>,
    kick: CancellationToken,
    /// Paces posts: a flood waits here (and stops being read) instead of being refused.
    pace: TokenBucket,
}

impl Reader<'_> {
    async fn run(&mut self, stream: MessageStream) {
        let mut stream = stream
            .max_frame_size(MAX_FRAME_BYTES)
            .aggregate_continuations()
            .max_continuation_size(MAX_FRAME_BYTES);
        loop {
            let next = tokio::select! {
                () = self.kick.cancelled() => return,
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
                    return;
                }
            }
        }
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
            tracing::debug!(conn = self.conn, %error, "websocket protocol error");
            self.close(CloseCode::Protocol, "websocket protocol error")
                .await;
        }
    }

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
        match message {
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
            ClientMsg::Typing { channel } => {
                let now = Instant::now();
                let recent = self
                    .last_typing
                    .get(&channel)
                    .is_some_and(|at| now.duration_since(*at) < TYPING_THROTTLE);
                if !recent {
                    let reply = commands::typing(&self.caller(), &channel).await;
                    if reply.is_ok() {
                        self.last_typing.insert(channel, now);
                    }
                    self.answer(reply).await;
                }
            }
            ClientMsg::SetAway { away } => self.context.hub.set_away(self.conn, away).await,
            other => {
                let caller = self.caller();
                let reply = match &other {
                    ClientMsg::CreateChannel {
                        name,
                        topic,
                        private,
                    } => commands::create_channel(&caller, name, topic, *private).await,
                    ClientMsg::BrowseChannels { query } => {
                        commands::browse_channels(&caller, query).await
                    }
                    ClientMsg::JoinChannel { channel } => {
                        commands::join_channel(&caller, channel).await
                    }
                    ClientMsg::LeaveChannel { channel } => {
                        commands::leave_channel(&caller, channel).await
                    }
                    ClientMsg::Invite { channel, user } => {
                        commands::invite(&caller, channel, user).await
                    }
                    ClientMsg::RemoveMember { channel, user } => {
                        commands::remove_member(&caller, channel, user).await
                    }
                    ClientMsg::SetTopic { channel, topic } => {
                        commands::set_topic(&caller, channel, topic).await
                    }
                    ClientMsg::OpenDirect { users } => commands::open_direct(&caller, users).await,
                    ClientMsg::Members { channel } => commands::members(&caller, channel).await,
                    ClientMsg::MarkRead { channel, seq } => {
                        commands::mark_read(&caller, channel, *seq).await
                    }
                    ClientMsg::ListUsers => commands::list_users(&caller).await,
                    ClientMsg::Edit { channel, seq, text } => {
                        commands::edit(&caller, channel, *seq, text).await
                    }
                    ClientMsg::Delete { channel, seq } => {
                        commands::delete(&caller, channel, *seq).await
                    }
                    ClientMsg::React {
                        channel,
                        seq,
                        emoji,
                        add,
                    } => commands::react(&caller, channel, *seq, emoji, *add).await,
                    ClientMsg::Send { .. }
                    | ClientMsg::Sync { .. }
                    | ClientMsg::History { .. }
                    | ClientMsg::Typing { .. }
                    | ClientMsg::SetAway { .. } => Ok(None),
                };
                self.answer(reply).await;
            }
        }
    }

    fn caller(&self) -> Caller<'_> {
        Caller {
            context: self.context,
            user: &self.session_user.user,
            conn: self.conn,
        }
    }

    async fn answer(&mut self, reply: commands::Reply) {
        match reply {
            Ok(Some(message)) => self.send(&message).await,
            Ok(None) => {}
            Err(refusal) => self.error(refusal.code, refusal.message, None).await,
        }
    }

    /// Whether the user is a member of `channel`; answers `not_a_member` (or
    /// `store_unavailable`) itself when not.
    async fn check_member(&mut self, channel: &ChannelId, client_id: Option<ClientMsgId>) -> bool {
        match self
            .context
            .store
            .is_member(&self.session_user.user.id, channel)
            .await
        {
            Ok(true) => true,
            Ok(false) => {
                self.not_a_member(client_id).await;
                false
            }
            Err(error) => {
                self.reply_or_unavailable(Err(error)).await;
                false
            }
        }
    }

    /// Membership is checked inside the writer's transaction, atomically with the insert.
    async fn post(
        &mut self,
        channel: ChannelId,
        client_id: ClientMsgId,
        text: String,
        attachments: Vec<FileId>,
    ) {
        // A message ends "is typing" for the others: the next keystroke may announce again.
        self.last_typing.remove(&channel);
        if attachments.len() > MAX_ATTACHMENTS {
            let message = format!("at most {MAX_ATTACHMENTS} files can be attached to one message");
            return self
                .error(ErrorCode::InvalidAttachment, message, Some(client_id))
                .await;
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
                return self.error(code, error.to_string(), Some(client_id)).await;
            }
        };
        tokio::select! {
            () = self.kick.cancelled() => return,
            () = self.pace.take() => {}
        }
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
        if self.context.writer.submit(request).await.is_err() {
            self.error(
                ErrorCode::StoreUnavailable,
                "the server is shutting down; the message will be sent again".into(),
                Some(client_id),
            )
            .await;
        }
    }

    async fn sync(
        &mut self,
        channel: ChannelId,
        after_seq: Option<Seq>,
        after_change: Option<i64>,
    ) {
        if !self.check_member(&channel, None).await {
            return;
        }
        let store = &self.context.store;
        let reply = match after_seq {
            None => store
                .latest_messages(&channel, HISTORY_PAGE)
                .await
                .map(|page| ServerMsg::Synced {
                    channel: channel.clone(),
                    messages: page.messages,
                    has_older: page.has_older,
                    complete: true,
                    updated: Vec::new(),
                }),
            Some(after) => {
                let after = after.max(0);
                let updated = match after_change {
                    Some(change) => {
                        store
                            .messages_changed(&channel, after, change, MAX_SYNC_BATCH)
                            .await
                    }
                    None => Ok(Vec::new()),
                };
                match (
                    store.messages_after(&channel, after, MAX_SYNC_BATCH).await,
                    updated,
                ) {
                    (Ok(messages), Ok(updated)) => Ok(ServerMsg::Synced {
                        channel: channel.clone(),
                        has_older: messages.first().map_or(after > 0, |m| m.seq > 1),
                        complete: messages.len() < MAX_SYNC_BATCH as usize,
                        messages,
                        updated,
                    }),
                    (Err(error), _) | (_, Err(error)) => Err(error),
                }
            }
        };
        self.reply_or_unavailable(reply).await;
    }

    async fn history(&mut self, channel: ChannelId, before_seq: Seq, limit: Option<u32>) {
        if !self.check_member(&channel, None).await {
            return;
        }
        let limit = limit.unwrap_or(HISTORY_PAGE).clamp(1, MAX_HISTORY_PAGE);
        let reply = self
            .context
            .store
            .messages_before(&channel, before_seq, limit)
            .await
            .map(|page| ServerMsg::History {
                channel: channel.clone(),
                messages: page.messages,
                has_older: page.has_older,
            });
        self.reply_or_unavailable(reply).await;
    }

    async fn reply_or_unavailable(&mut self, reply: Result<ServerMsg, crate::store::StoreError>) {
        match reply {
            Ok(reply) => self.send(&reply).await,
            Err(error) => {
                tracing::error!(%error, "reading messages failed");
                self.error(
                    ErrorCode::StoreUnavailable,
                    "messages could not be read right now; try again".into(),
                    None,
                )
                .await;
            }
        }
    }

    async fn not_a_member(&mut self, client_id: Option<ClientMsgId>) {
        self.error(
            ErrorCode::NotAMember,
            "you are not a member of that channel (or it does not exist)".into(),
            client_id,
        )
        .await;
    }

    async fn error(&mut self, code: ErrorCode, message: String, client_id: Option<ClientMsgId>) {
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

    /// Queues a frame for this connection's own socket, waiting while the
    /// queue is full (that only slows down this client's own requests).
    async fn enqueue(&mut self, item: Outgoing) {
        tokio::select! {
            () = self.kick.cancelled() => {}
            _ = self.queue.send(item) => {}
        }
    }
}

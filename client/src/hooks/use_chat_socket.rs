//! The WebSocket, and nothing else touches it. It turns `ServerMsg` frames
//! into reducer actions, catches up by sequence number after every (re)connect,
//! resends unacknowledged messages, and reconnects with exponential backoff.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use shared::limits::HISTORY_PAGE;
use shared::protocol::{CLOSE_SIGNED_OUT, DEFAULT_CHANNEL};
use shared::{ChannelId, ChatMessage, ClientMsg, ClientMsgId, Seq, ServerMsg};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};
use yew::prelude::*;

use crate::browser::{now_millis, websocket_url};
use crate::state::{Action, ChatState, Pending, TYPING_MS};

/// Longest wait between reconnect attempts.
const MAX_BACKOFF_MS: f64 = 10_000.0;
/// Wait before resending a message the server could not store.
const RETRY_STORE_MS: u32 = 3_000;
/// After this many failed attempts in a row, check whether the session still exists.
const CHECK_SESSION_AFTER: u32 = 3;

/// What the socket needs to know of the page's state to resend.
#[derive(Default, Clone)]
struct Snapshot {
    pending: Vec<Pending>,
    /// The open thread, asked for again after reconnecting.
    thread: Option<(ChannelId, shared::Seq)>,
}

struct Inner {
    ws: Option<WebSocket>,
    /// Channels with a `sync` for the latest page (no `after_seq`) in flight.
    fresh_syncs: HashSet<ChannelId>,
    dispatch: UseReducerDispatcher<ChatState>,
    on_signed_out: Callback<()>,
    /// Told of every new message (for browser notifications).
    on_message: Callback<ChatMessage>,
    attempt: u32,
    reconnect: Option<Timeout>,
    retries: Vec<Timeout>,
    stopped: bool,
    snapshot: Snapshot,
    handlers: Option<Handlers>,
}

/// The JS callbacks of the current socket, kept alive as long as it is.
struct Handlers {
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

/// Handle to the chat connection; cheap to clone.
#[derive(Clone)]
pub struct ChatSocket {
    inner: Rc<RefCell<Inner>>,
}

impl PartialEq for ChatSocket {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

/// Opens the chat connection for the lifetime of the calling component.
#[hook]
pub fn use_chat_socket(
    state: UseReducerHandle<ChatState>,
    on_signed_out: Callback<()>,
    on_message: Callback<ChatMessage>,
) -> ChatSocket {
    let dispatch = state.dispatcher();
    let socket = use_memo((), move |_| {
        ChatSocket::new(dispatch, on_signed_out, on_message)
    })
    .as_ref()
    .clone();
    socket.inner.borrow_mut().snapshot = Snapshot {
        pending: state.sendable().cloned().collect(),
        thread: state
            .threads
            .panel
            .as_ref()
            .map(|panel| (panel.channel.clone(), panel.root)),
    };
    {
        let socket = socket.clone();
        use_effect_with((), move |_| {
            socket.connect();
            move || socket.stop()
        });
    }
    socket
}

impl ChatSocket {
    fn new(
        dispatch: UseReducerDispatcher<ChatState>,
        on_signed_out: Callback<()>,
        on_message: Callback<ChatMessage>,
    ) -> Self {
        Self {
            inner: Rc::new(RefCell::new(Inner {
                ws: None,
                fresh_syncs: HashSet::new(),
                dispatch,
                on_signed_out,
                on_message,
                attempt: 0,
                reconnect: None,
                retries: Vec::new(),
                stopped: false,
                snapshot: Snapshot::default(),
                handlers: None,
            })),
        }
    }

    /// Sends a newly typed message now if the socket is ready; otherwise it
    /// goes out with the other pending ones on the next `welcome`.
    pub fn send_pending(&self, pending: &Pending) {
        if pending.channel.0.is_empty() {
            return;
        }
        let attachments = pending.attachments.iter().map(|a| a.id.clone()).collect();
        self.send(&match pending.thread {
            None => ClientMsg::Send {
                channel: pending.channel.clone(),
                client_id: pending.client_id.clone(),
                text: pending.text.clone(),
                attachments,
            },
            Some(root) => ClientMsg::Reply {
                channel: pending.channel.clone(),
                root,
                client_id: pending.client_id.clone(),
                text: pending.text.clone(),
                attachments,
                also_to_channel: pending.also_to_channel,
            },
        });
    }

    /// Asks for what is new in a conversation after `after_seq` (and what
    /// changed among held messages since `after_change`), or its latest page.
    pub fn sync(
        &self,
        channel: ChannelId,
        after_seq: Option<Seq>,
        after_change: Option<shared::ChangeNo>,
    ) -> bool {
        if after_seq.is_none() {
            self.inner.borrow_mut().fresh_syncs.insert(channel.clone());
        }
        self.send(&ClientMsg::Sync {
            channel,
            after_seq,
            after_change: after_seq.and(after_change),
        })
    }

    /// Asks for the page of messages before `before_seq`.
    pub fn load_older(&self, channel: ChannelId, before_seq: Seq) -> bool {
        self.send(&ClientMsg::History {
            channel,
            before_seq,
            limit: Some(HISTORY_PAGE),
        })
    }

    /// Sends a frame if the socket is open; returns whether it was sent.
    pub fn send(&self, message: &ClientMsg) -> bool {
        let ws = self.inner.borrow().ws.clone();
        match ws {
            Some(ws) if ws.ready_state() == WebSocket::OPEN => {
                let json = serde_json::to_string(message).unwrap_or_default();
                ws.send_with_str(&json).is_ok()
            }
            _ => false,
        }
    }

    fn connect(&self) {
        if self.inner.borrow().stopped {
            return;
        }
        let dispatch = self.inner.borrow().dispatch.clone();
        dispatch.dispatch(Action::Connecting);
        let ws = match WebSocket::new(&websocket_url()) {
            Ok(ws) => ws,
            Err(_) => {
                self.schedule_reconnect();
                return;
            }
        };
        let weak = Rc::downgrade(&self.inner);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let weak = weak.clone();
            move |event: MessageEvent| {
                if let (Some(inner), Some(text)) = (weak.upgrade(), event.data().as_string()) {
                    ChatSocket { inner }.on_frame(&text);
                }
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new({
            let weak = weak.clone();
            move |event: CloseEvent| {
                if let Some(inner) = weak.upgrade() {
                    ChatSocket { inner }.on_close(event.code());
                }
            }
        });
        // Errors are always followed by a close event, which does the work.
        let on_error = Closure::<dyn FnMut(Event)>::new(|_event: Event| {});
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let mut inner = self.inner.borrow_mut();
        inner.ws = Some(ws);
        inner.handlers = Some(Handlers {
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
        });
    }

    fn stop(&self) {
        let ws = {
            let mut inner = self.inner.borrow_mut();
            inner.stopped = true;
            inner.reconnect = None;
            inner.retries.clear();
            inner.ws.take()
        };
        if let Some(ws) = ws {
            ws.set_onclose(None);
            ws.set_onmessage(None);
            let _ = ws.close();
        }
        self.inner.borrow_mut().handlers = None;
    }

    fn on_close(&self, code: u16) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.ws = None;
            if inner.stopped {
                return;
            }
        }
        if code == CLOSE_SIGNED_OUT {
            let on_signed_out = self.inner.borrow().on_signed_out.clone();
            on_signed_out.emit(());
            return;
        }
        self.schedule_reconnect();
    }

    fn schedule_reconnect(&self) {
        let (attempt, dispatch) = {
            let mut inner = self.inner.borrow_mut();
            inner.attempt += 1;
            (inner.attempt, inner.dispatch.clone())
        };
        dispatch.dispatch(Action::Disconnected { attempt });
        let base =
            (500.0 * 2f64.powi(attempt.saturating_sub(1).min(10) as i32)).min(MAX_BACKOFF_MS);
        let delay = base * (0.75 + js_sys::Math::random() * 0.5);
        let weak = Rc::downgrade(&self.inner);
        let timer = Timeout::new(delay as u32, move || {
            let Some(inner) = weak.upgrade() else { return };
            let socket = ChatSocket { inner };
            if attempt >= CHECK_SESSION_AFTER {
                wasm_bindgen_futures::spawn_local(async move {
                    // A session that no longer exists cannot reconnect: back to the name prompt.
                    if let Ok(None) = crate::api::current_user().await {
                        let on_signed_out = socket.inner.borrow().on_signed_out.clone();
                        on_signed_out.emit(());
                    } else {
                        socket.connect();
                    }
                });
            } else {
                socket.connect();
            }
        });
        self.inner.borrow_mut().reconnect = Some(timer);
    }

    fn on_frame(&self, text: &str) {
        let message: ServerMsg = match serde_json::from_str(text) {
            Ok(message) => message,
            Err(_) => return,
        };
        let dispatch = self.inner.borrow().dispatch.clone();
        match message {
            ServerMsg::Welcome {
                user,
                channels,
                online,
                online_count,
                away,
                max_upload_bytes,
                mention_everyone_max_members,
                blocked,
                role,
                muted_until,
                epoch,
            } => {
                let snapshot = {
                    let mut inner = self.inner.borrow_mut();
                    inner.attempt = 0;
                    inner.fresh_syncs.clear();
                    inner.snapshot.clone()
                };
                let general = channels
                    .iter()
                    .find(|c| c.name == DEFAULT_CHANNEL)
                    .map(|c| c.id.clone());
                dispatch.dispatch(Action::Welcome {
                    me: user,
                    channels,
                    online,
                    online_count,
                    away,
                    max_upload_bytes,
                    mention_everyone_max_members,
                    blocked,
                    epoch,
                });
                dispatch.dispatch(Action::Standing { role, muted_until });
                // Conversations catch up when shown (the chat page asks);
                // unacknowledged messages go out again now.
                for pending in &snapshot.pending {
                    let mut pending = pending.clone();
                    if pending.channel.0.is_empty()
                        && let Some(general) = &general
                    {
                        pending.channel = general.clone();
                    }
                    self.send_pending(&pending);
                }
                // The threads followed, and the open thread, as they are now;
                // the server's settings (who may invite).
                self.send(&ClientMsg::Threads);
                self.send(&ClientMsg::ServerSettings);
                if let Some((channel, root)) = snapshot.thread {
                    self.send(&ClientMsg::Thread {
                        channel,
                        root,
                        before_seq: None,
                    });
                }
            }
            ServerMsg::Synced {
                channel,
                messages,
                has_older,
                complete,
                updated,
            } => {
                let last = messages.last().map(|m| m.seq);
                let fresh = self.inner.borrow_mut().fresh_syncs.remove(&channel);
                dispatch.dispatch(Action::Synced {
                    channel: channel.clone(),
                    messages,
                    updated,
                    has_older,
                    fresh,
                });
                if !complete && last.is_some() {
                    self.sync(channel, last, None);
                }
            }
            ServerMsg::History {
                channel,
                messages,
                has_older,
            } => dispatch.dispatch(Action::History {
                channel,
                messages,
                has_older,
            }),
            ServerMsg::Message { message } => {
                let on_message = self.inner.borrow().on_message.clone();
                on_message.emit(message.clone());
                dispatch.dispatch(Action::Message(message));
            }
            ServerMsg::Ack {
                channel,
                client_id,
                seq,
                sent_at,
            } => dispatch.dispatch(Action::Ack {
                channel,
                client_id,
                seq,
                sent_at,
            }),
            ServerMsg::UserJoined { user } => dispatch.dispatch(Action::UserJoined {
                user,
                at: now_millis(),
            }),
            ServerMsg::UserLeft { user } => dispatch.dispatch(Action::UserLeft {
                user,
                at: now_millis(),
            }),
            ServerMsg::Error {
                code,
                message,
                client_id,
            } => {
                if let (true, Some(id)) = (code.is_retryable(), client_id.clone()) {
                    self.retry_later(id);
                }
                dispatch.dispatch(Action::ServerError {
                    code,
                    message,
                    client_id,
                });
            }
            ServerMsg::ChannelJoined { channel } => {
                dispatch.dispatch(Action::ChannelJoined(channel))
            }
            ServerMsg::ChannelLeft { channel, reason } => {
                dispatch.dispatch(Action::ChannelLeft { channel, reason })
            }
            ServerMsg::ChannelDirectory { query, channels } => {
                dispatch.dispatch(Action::Directory { query, channels })
            }
            ServerMsg::Around {
                channel,
                seq,
                thread,
                messages,
                has_older,
                has_newer,
            } => {
                if let Some(root) = thread {
                    self.send(&ClientMsg::Thread {
                        channel: channel.clone(),
                        root,
                        before_seq: None,
                    });
                }
                dispatch.dispatch(Action::Around {
                    channel,
                    seq,
                    thread,
                    messages,
                    has_older,
                    has_newer,
                })
            }
            ServerMsg::Thread {
                channel,
                root,
                replies,
                has_older,
                following,
            } => dispatch.dispatch(Action::ThreadPage {
                channel,
                root,
                replies,
                has_older,
                following,
            }),
            ServerMsg::Threads { threads } => dispatch.dispatch(Action::Threads(threads)),
            ServerMsg::ThreadState {
                channel,
                root,
                following,
                read_seq,
            } => dispatch.dispatch(Action::ThreadState {
                channel,
                root,
                following,
                read_seq,
            }),
            ServerMsg::Newer {
                channel,
                messages,
                has_newer,
            } => dispatch.dispatch(Action::Newer {
                channel,
                messages,
                has_newer,
            }),
            ServerMsg::Mentions { messages } => dispatch.dispatch(Action::Mentions(messages)),
            ServerMsg::Standing { role, muted_until } => {
                dispatch.dispatch(Action::Standing { role, muted_until })
            }
            ServerMsg::AdminUsers {
                users,
                query,
                after,
                next,
            } => dispatch.dispatch(Action::AdminUsers {
                users,
                query,
                after,
                next,
            }),
            ServerMsg::AdminUser { user } => dispatch.dispatch(Action::AdminUser(user)),
            ServerMsg::ServerSettings { settings } => {
                dispatch.dispatch(Action::ServerSettings(settings))
            }
            ServerMsg::InviteCreated { invite, code } => {
                dispatch.dispatch(Action::InviteCreated { invite, code })
            }
            ServerMsg::Invites { invites } => dispatch.dispatch(Action::Invites(invites)),
            ServerMsg::Reports { reports } => dispatch.dispatch(Action::Reports(reports)),
            ServerMsg::ChannelRenamed { channel, name } => {
                dispatch.dispatch(Action::ChannelRenamed { channel, name })
            }
            ServerMsg::ChannelRules {
                channel,
                slow_mode_seconds,
                archived,
            } => dispatch.dispatch(Action::ChannelRules {
                channel,
                slow_mode_seconds,
                archived,
            }),
            ServerMsg::Reported { channel, seq } => {
                dispatch.dispatch(Action::Reported { channel, seq })
            }
            ServerMsg::AuditLog {
                entries,
                before,
                more,
            } => dispatch.dispatch(Action::AuditLog {
                entries,
                before,
                more,
            }),
            ServerMsg::NotifyChanged { channel, level } => {
                dispatch.dispatch(Action::NotifyChanged { channel, level })
            }
            ServerMsg::Pins { channel, messages } => {
                dispatch.dispatch(Action::Pins { channel, messages })
            }
            ServerMsg::SearchResults {
                query,
                before,
                results,
                highlight,
                next,
            } => dispatch.dispatch(Action::SearchResults {
                query,
                before,
                results,
                highlight,
                next,
            }),
            ServerMsg::MemberJoined { channel, user } => dispatch.dispatch(Action::MemberJoined {
                channel,
                user,
                at: now_millis(),
            }),
            ServerMsg::MemberLeft { channel, user } => dispatch.dispatch(Action::MemberLeft {
                channel,
                user,
                at: now_millis(),
            }),
            ServerMsg::TopicChanged { channel, topic, by } => {
                dispatch.dispatch(Action::TopicChanged {
                    channel,
                    topic,
                    by,
                    at: now_millis(),
                })
            }
            ServerMsg::Typing { channel, user } => dispatch.dispatch(Action::Typing {
                channel,
                user,
                until: now_millis() + TYPING_MS,
            }),
            ServerMsg::Presence { user, status } => {
                dispatch.dispatch(Action::Presence { user, status })
            }
            ServerMsg::Users {
                users,
                query,
                after,
                next,
            } => dispatch.dispatch(Action::Users {
                users,
                query,
                after,
                next,
            }),
            ServerMsg::PresenceSummary {
                online_count,
                joined,
                joined_others,
                left,
                left_others,
            } => dispatch.dispatch(Action::PresenceSummary {
                online_count,
                joined,
                joined_others,
                left,
                left_others,
                at: now_millis(),
            }),
            ServerMsg::OnlineMembers {
                query,
                users,
                next,
                online_count,
            } => dispatch.dispatch(Action::OnlinePage {
                query,
                users,
                next,
                online_count,
            }),
            ServerMsg::MembersJoined {
                channel,
                users,
                others,
            } => dispatch.dispatch(Action::MembersJoined {
                channel,
                users,
                others,
                at: now_millis(),
            }),
            ServerMsg::ReadUpTo { channel, seq } => {
                dispatch.dispatch(Action::Read { channel, seq })
            }
            ServerMsg::MessageUpdated { message } => dispatch.dispatch(Action::Updated(message)),
            ServerMsg::Members { channel, members } => {
                dispatch.dispatch(Action::Members { channel, members })
            }
            ServerMsg::Blocked { users } => dispatch.dispatch(Action::Blocked(users)),
        }
    }

    /// Resends a message the server could not store, a little later.
    fn retry_later(&self, client_id: ClientMsgId) {
        let weak: Weak<RefCell<Inner>> = Rc::downgrade(&self.inner);
        let timer = Timeout::new(RETRY_STORE_MS, move || {
            let Some(inner) = weak.upgrade() else { return };
            let socket = ChatSocket { inner };
            let pending = socket
                .inner
                .borrow()
                .snapshot
                .pending
                .iter()
                .find(|p| p.client_id == client_id)
                .cloned();
            if let Some(pending) = pending {
                socket.send_pending(&pending);
            }
        });
        let mut inner = self.inner.borrow_mut();
        if inner.retries.len() > 64 {
            drop(inner.retries.remove(0));
        }
        inner.retries.push(timer);
    }
}

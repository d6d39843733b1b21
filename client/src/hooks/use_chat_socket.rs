//! The WebSocket, and nothing else touches it. It turns `ServerMsg` frames
//! into reducer actions, catches up by sequence number after every (re)connect,
//! resends unacknowledged messages, and reconnects with exponential backoff.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use shared::limits::HISTORY_PAGE;
use shared::{ChannelId, ClientMsg, ClientMsgId, Seq, ServerMsg};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};
use yew::prelude::*;

use crate::browser::{now_millis, websocket_url};
use crate::state::{Action, ChatState, Pending};

/// Close code the server uses after sign-out.
const CLOSE_SIGNED_OUT: u16 = 4001;
/// Longest wait between reconnect attempts.
const MAX_BACKOFF_MS: f64 = 10_000.0;
/// Wait before resending a message the server could not store.
const RETRY_STORE_MS: u32 = 3_000;
/// After this many failed attempts in a row, check whether the session still exists.
const CHECK_SESSION_AFTER: u32 = 3;

/// What the socket needs to know of the page's state to catch up and resend.
#[derive(Default, Clone)]
struct Snapshot {
    last_seq: Option<Seq>,
    pending: Vec<Pending>,
}

struct Inner {
    ws: Option<WebSocket>,
    /// The channel to post in and sync, learnt from `welcome`.
    channel: Option<ChannelId>,
    dispatch: UseReducerDispatcher<ChatState>,
    on_signed_out: Callback<()>,
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
) -> ChatSocket {
    let dispatch = state.dispatcher();
    let socket = use_memo((), move |_| ChatSocket::new(dispatch, on_signed_out))
        .as_ref()
        .clone();
    socket.inner.borrow_mut().snapshot = Snapshot {
        last_seq: state.last_seq(),
        pending: state.sendable().cloned().collect(),
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
    fn new(dispatch: UseReducerDispatcher<ChatState>, on_signed_out: Callback<()>) -> Self {
        Self {
            inner: Rc::new(RefCell::new(Inner {
                ws: None,
                channel: None,
                dispatch,
                on_signed_out,
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
        let channel = self.inner.borrow().channel.clone();
        if let Some(channel) = channel {
            self.send(&ClientMsg::Send {
                channel,
                client_id: pending.client_id.clone(),
                text: pending.text.clone(),
            });
        }
    }

    /// Asks for the page of messages before `before_seq`.
    pub fn load_older(&self, before_seq: Seq) -> bool {
        let channel = self.inner.borrow().channel.clone();
        match channel {
            Some(channel) => self.send(&ClientMsg::History {
                channel,
                before_seq,
                limit: Some(HISTORY_PAGE),
            }),
            None => false,
        }
    }

    /// Sends a frame if the socket is open; returns whether it was sent.
    fn send(&self, message: &ClientMsg) -> bool {
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
                ..
            } => {
                let channel = channels
                    .iter()
                    .find(|c| c.name == "general")
                    .or(channels.first())
                    .map(|c| c.id.clone());
                let snapshot = {
                    let mut inner = self.inner.borrow_mut();
                    inner.attempt = 0;
                    inner.channel = channel.clone();
                    inner.snapshot.clone()
                };
                dispatch.dispatch(Action::Welcome {
                    me: user,
                    channels,
                    online,
                });
                if let Some(channel) = channel {
                    self.send(&ClientMsg::Sync {
                        channel: channel.clone(),
                        after_seq: snapshot.last_seq,
                    });
                    for pending in &snapshot.pending {
                        self.send(&ClientMsg::Send {
                            channel: channel.clone(),
                            client_id: pending.client_id.clone(),
                            text: pending.text.clone(),
                        });
                    }
                }
            }
            ServerMsg::Synced {
                channel,
                messages,
                has_older,
                complete,
            } => {
                let last = messages.last().map(|m| m.seq);
                let fresh = self.inner.borrow().snapshot.last_seq.is_none();
                dispatch.dispatch(Action::Synced {
                    messages,
                    has_older,
                    fresh,
                });
                if !complete && last.is_some() {
                    self.send(&ClientMsg::Sync {
                        channel,
                        after_seq: last,
                    });
                }
            }
            ServerMsg::History {
                messages,
                has_older,
                ..
            } => dispatch.dispatch(Action::History {
                messages,
                has_older,
            }),
            ServerMsg::Message { message } => dispatch.dispatch(Action::Message(message)),
            ServerMsg::Ack {
                client_id,
                seq,
                sent_at,
                ..
            } => dispatch.dispatch(Action::Ack {
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
            // Channel, direct-conversation, typing and presence frames: this
            // client shows the one room `general` and does not use them yet.
            _ => {}
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

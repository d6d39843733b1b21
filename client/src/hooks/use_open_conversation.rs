//! The conversation on screen: its history (or, after a jump, the messages
//! around the one jumped to) is asked for once connected, the address bar
//! follows it, and what it shows is marked read (unless the page is hidden).

use shared::ClientMsg;
use yew::prelude::*;

use super::use_chat_socket::ChatSocket;
use gloo_timers::callback::Timeout;

use crate::browser::{now_millis, page_hidden, push_path};
use crate::state::{Action, ChatState, Route};

/// Read marks go out at most this often (ms): in a busy channel one per
/// message would use up the connection's budget, and the reader's own posts
/// would wait behind them.
const MARK_READ_EVERY_MS: i64 = 1_000;

#[hook]
pub fn use_open_conversation(state: &UseReducerHandle<ChatState>, socket: &ChatSocket) {
    let current = state.current_conversation();
    let last_mark = use_mut_ref(|| (0i64, None::<Timeout>));
    {
        let state = state.clone();
        let socket = socket.clone();
        let key = (
            current
                .as_ref()
                .map(|c| (c.info.id.clone(), c.info.name.clone())),
            current.as_ref().map(|c| {
                (
                    c.requested,
                    c.info.last_seq,
                    c.info.last_read_seq,
                    c.jump_to,
                )
            }),
            state.connection,
            state.admin.open,
        );
        let last_mark = last_mark.clone();
        use_effect_with(key, move |_| {
            if let Some(conversation) = state.current_conversation() {
                let connected = state.connection.as_str() == "connected";
                if let (true, Some(seq)) = (connected, conversation.jump_to) {
                    let channel = conversation.info.id.clone();
                    if socket.send(&ClientMsg::Around {
                        channel: channel.clone(),
                        seq,
                    }) {
                        state.dispatch(Action::JumpAsked(channel.clone()));
                        state.dispatch(Action::Requested(channel));
                    }
                } else if connected
                    && !conversation.requested
                    && socket.sync(
                        conversation.info.id.clone(),
                        conversation.catch_up_from(),
                        Some(conversation.last_change),
                    )
                {
                    state.dispatch(Action::Requested(conversation.info.id.clone()));
                }
                if state.admin.open {
                    push_path(Route::ADMIN);
                    return;
                }
                push_path(&conversation.path());
                let unread = conversation.info.last_seq > conversation.info.last_read_seq
                    || conversation.info.unread_mentions > 0;
                if unread && !page_hidden() && state.connection.as_str() == "connected" {
                    let (channel, seq) = (conversation.info.id.clone(), conversation.info.last_seq);
                    let mark = move || {
                        if socket.send(&ClientMsg::MarkRead {
                            channel: channel.clone(),
                            seq,
                        }) {
                            state.dispatch(Action::Read { channel, seq });
                        }
                    };
                    let now = now_millis();
                    let mut last = last_mark.borrow_mut();
                    let wait = last.0 + MARK_READ_EVERY_MS - now;
                    if wait <= 0 {
                        last.0 = now;
                        last.1 = None;
                        mark();
                    } else {
                        // The newest mark goes out when the pause is over.
                        let sent_at = last_mark.clone();
                        last.1 = Some(Timeout::new(wait as u32, move || {
                            sent_at.borrow_mut().0 = now_millis();
                            mark();
                        }));
                    }
                }
            }
        });
    }
}

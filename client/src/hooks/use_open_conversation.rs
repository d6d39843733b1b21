//! The conversation on screen: its history is asked for once connected, the
//! address bar follows it, and what it shows is marked read (unless the page
//! is hidden).

use shared::ClientMsg;
use yew::prelude::*;

use super::use_chat_socket::ChatSocket;
use crate::browser::{page_hidden, push_path};
use crate::state::{Action, ChatState};

#[hook]
pub fn use_open_conversation(state: &UseReducerHandle<ChatState>, socket: &ChatSocket) {
    let current = state.current_conversation();
    {
        let state = state.clone();
        let socket = socket.clone();
        let key = (
            current.as_ref().map(|c| c.info.id.clone()),
            current
                .as_ref()
                .map(|c| (c.requested, c.info.last_seq, c.info.last_read_seq)),
            state.connection,
        );
        use_effect_with(key, move |_| {
            if let Some(conversation) = state.current_conversation() {
                if state.connection.as_str() == "connected"
                    && !conversation.requested
                    && socket.sync(
                        conversation.info.id.clone(),
                        conversation.catch_up_from(),
                        Some(conversation.last_change),
                    )
                {
                    state.dispatch(Action::Requested(conversation.info.id.clone()));
                }
                push_path(&conversation.path());
                let unread = conversation.info.last_seq > conversation.info.last_read_seq
                    || conversation.info.unread_mentions > 0;
                if unread && !page_hidden() && state.connection.as_str() == "connected" {
                    let (channel, seq) = (conversation.info.id.clone(), conversation.info.last_seq);
                    if socket.send(&ClientMsg::MarkRead {
                        channel: channel.clone(),
                        seq,
                    }) {
                        state.dispatch(Action::Read { channel, seq });
                    }
                }
            }
        });
    }
}

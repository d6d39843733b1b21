//! What the reader does to stored messages: which one is being edited or
//! reacted to (or had its link copied), and the requests each action sends.
//! A different conversation clears them.

use shared::{ChannelId, ClientMsg, Seq};
use yew::prelude::*;

use super::use_chat_socket::ChatSocket;
use super::use_event::use_event;
use crate::browser::{copy_to_clipboard, origin};
use crate::components::message_row::MessageAction;
use crate::state::{Action, ChatState, Entry, Route};

/// The message actions' state and handlers (all stable across renders).
pub struct MessageActions {
    /// The stored message being edited, if any.
    pub editing: Option<Seq>,
    /// The message whose reaction picker is open, if any.
    pub reacting: Option<Seq>,
    /// The message whose link was just copied.
    pub copied: Option<Seq>,
    /// The message being reported (the dialog asking why is open).
    pub reporting: Option<(ChannelId, Seq)>,
    /// Sends the report with its reason.
    pub on_report: Callback<String>,
    pub close_reporting: Callback<()>,
    pub on_action: Callback<MessageAction>,
    /// An emoji picked for `reacting`.
    pub on_pick_reaction: Callback<String>,
    pub close_reacting: Callback<()>,
    /// Up in an empty composer: edit your last message here.
    pub on_edit_last: Callback<()>,
}

#[hook]
pub fn use_message_actions(
    state: &UseReducerHandle<ChatState>,
    socket: &ChatSocket,
) -> MessageActions {
    let editing = use_state(|| None::<Seq>);
    let reacting = use_state(|| None::<Seq>);
    let copied = use_state(|| None::<Seq>);
    let reporting = use_state(|| None::<(ChannelId, Seq)>);
    {
        // A different conversation: nothing is being edited or reacted to there.
        let (editing, reacting, copied) = (editing.clone(), reacting.clone(), copied.clone());
        use_effect_with(state.current.clone(), move |_| {
            editing.set(None);
            reacting.set(None);
            copied.set(None);
        });
    }
    let on_action = {
        let (state, socket) = (state.clone(), socket.clone());
        let (editing, reacting, copied) = (editing.clone(), reacting.clone(), copied.clone());
        let reporting = reporting.clone();
        use_event(move |action: MessageAction| {
            let Some(channel) = state.current.clone() else {
                return;
            };
            match action {
                MessageAction::StartEdit(seq) => editing.set(Some(seq)),
                MessageAction::CancelEdit => editing.set(None),
                MessageAction::SaveEdit(seq, text) => {
                    let text = crate::emoji::replace_shortcodes(&text);
                    if !text.trim().is_empty() {
                        socket.send(&ClientMsg::Edit { channel, seq, text });
                    }
                    editing.set(None);
                }
                MessageAction::Delete(seq) => {
                    socket.send(&ClientMsg::Delete { channel, seq });
                }
                MessageAction::PickReaction(seq) => reacting.set(Some(seq)),
                MessageAction::CopyLink(seq) => {
                    if let Some(conversation) = state.current_conversation() {
                        let path = Route::message_path(&conversation.path(), seq);
                        copy_to_clipboard(&format!("{}{path}", origin()));
                        copied.set(Some(seq));
                    }
                }
                MessageAction::Pin(seq, pinned) => {
                    socket.send(&ClientMsg::Pin {
                        channel,
                        seq,
                        pinned,
                    });
                }
                MessageAction::OpenThread(root) => {
                    let open = state
                        .threads
                        .panel
                        .as_ref()
                        .is_some_and(|p| p.channel == channel && p.root == root);
                    if !open
                        && socket.send(&ClientMsg::Thread {
                            channel: channel.clone(),
                            root,
                            before_seq: None,
                        })
                    {
                        state.dispatch(Action::OpenThread {
                            channel,
                            root,
                            focus: None,
                        });
                    }
                }
                MessageAction::Report(seq) => reporting.set(Some((channel, seq))),
                MessageAction::React(seq, emoji, add) => {
                    socket.send(&ClientMsg::React {
                        channel,
                        seq,
                        emoji,
                        add,
                    });
                }
            }
        })
    };
    let on_pick_reaction = {
        let (state, socket, reacting) = (state.clone(), socket.clone(), reacting.clone());
        use_event(move |emoji: String| {
            if let (Some(channel), Some(seq)) = (state.current.clone(), *reacting) {
                socket.send(&ClientMsg::React {
                    channel,
                    seq,
                    emoji,
                    add: true,
                });
            }
            reacting.set(None);
        })
    };
    let on_report = {
        let (socket, reporting) = (socket.clone(), reporting.clone());
        use_event(move |reason: String| {
            if let Some((channel, seq)) = (*reporting).clone() {
                socket.send(&ClientMsg::Report {
                    channel,
                    seq,
                    reason,
                });
            }
        })
    };
    let close_reporting = {
        let reporting = reporting.clone();
        use_event(move |()| reporting.set(None))
    };
    let close_reacting = {
        let reacting = reacting.clone();
        use_event(move |()| reacting.set(None))
    };
    let on_edit_last = {
        let (state, editing) = (state.clone(), editing.clone());
        use_event(move |()| {
            let me = state.me.id.clone();
            let last = state.current_conversation().and_then(|conversation| {
                conversation
                    .timeline
                    .iter()
                    .rev()
                    .find_map(|entry| match entry {
                        Entry::Message(m) if m.author.id == me && !m.deleted => Some(m.seq),
                        _ => None,
                    })
            });
            if last.is_some() {
                editing.set(last);
            }
        })
    };
    MessageActions {
        editing: *editing,
        reacting: *reacting,
        copied: *copied,
        reporting: (*reporting).clone(),
        on_report,
        close_reporting,
        on_action,
        on_pick_reaction,
        close_reacting,
        on_edit_last,
    }
}

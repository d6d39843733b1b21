//! Running slash commands (`commands`) typed in the message box: those that
//! need a name looked up first (`/join #x`, `/invite @y`) ask the server and
//! finish when its answer is in the state; `/away` stays until typed again
//! (the activity hook leaves it alone meanwhile); `/help` shows the list.

use std::cell::Cell;
use std::rc::Rc;

use shared::ClientMsg;
use shared::protocol::NotifyLevel;
use yew::prelude::*;

use super::use_chat_socket::ChatSocket;
use super::use_event::use_event;
use crate::commands::Command;
use crate::state::{Action, ChatState};

/// A command waiting for the server's answer to a lookup.
#[derive(Debug, Clone, PartialEq)]
enum Waiting {
    Join(String),
    Invite(shared::ChannelId, String),
}

pub struct Commands {
    pub run: Callback<Command>,
    /// `/help` was typed: the list is shown.
    pub help: bool,
    pub close_help: Callback<()>,
}

#[hook]
pub fn use_commands(
    state: &UseReducerHandle<ChatState>,
    socket: &ChatSocket,
    manual_away: Rc<Cell<bool>>,
) -> Commands {
    let waiting = use_state(|| None::<Waiting>);
    let help = use_state(|| false);
    {
        // A lookup answered: finish the command, or say what was not found.
        let (state, socket, waiting) = (state.clone(), socket.clone(), waiting.clone());
        let key = (
            (*waiting).clone(),
            state.directory_query.clone(),
            state.directory.len(),
            state.users.clone(),
        );
        use_effect_with(key, move |_| match (*waiting).clone() {
            Some(Waiting::Join(name))
                if state.directory_query.as_deref() == Some(name.as_str()) =>
            {
                match state
                    .directory
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(&name))
                {
                    Some(found) => {
                        state.dispatch(Action::ExpectOpen);
                        socket.send(&ClientMsg::JoinChannel {
                            channel: found.id.clone(),
                        });
                    }
                    None => state.dispatch(Action::LocalError(format!(
                        "There is no public channel #{name}."
                    ))),
                }
                waiting.set(None);
            }
            Some(Waiting::Invite(channel, name)) => {
                if let Some(person) = state
                    .users
                    .iter()
                    .find(|p| p.user.name.eq_ignore_ascii_case(&name))
                {
                    socket.send(&ClientMsg::Invite {
                        channel,
                        user: person.user.id.clone(),
                    });
                    waiting.set(None);
                } else if state.users_query.eq_ignore_ascii_case(&name) {
                    state.dispatch(Action::LocalError(format!(
                        "There is nobody called {name}."
                    )));
                    waiting.set(None);
                }
            }
            _ => {}
        });
    }
    let run = {
        let (state, socket, waiting, help) =
            (state.clone(), socket.clone(), waiting.clone(), help.clone());
        use_event(move |command: Command| {
            let current = state.current_conversation();
            let channel = current.as_ref().map(|c| c.info.id.clone());
            match (command, channel) {
                (Command::Help, _) => help.set(true),
                (Command::Away, _) => {
                    let away = !manual_away.get();
                    if socket.send(&ClientMsg::SetAway { away }) {
                        manual_away.set(away);
                    }
                }
                (Command::Join(name), _) => {
                    let open = state
                        .conversations
                        .iter()
                        .find(|c| !c.is_direct() && c.info.name.eq_ignore_ascii_case(&name));
                    match open {
                        Some(conversation) => {
                            state.dispatch(Action::Switch(conversation.info.id.clone()))
                        }
                        None => {
                            socket.send(&ClientMsg::BrowseChannels {
                                query: name.clone(),
                            });
                            waiting.set(Some(Waiting::Join(name)));
                        }
                    }
                }
                (_, None) => {}
                (Command::Post(_), _) => {}
                (Command::Topic(topic), Some(channel)) => {
                    socket.send(&ClientMsg::SetTopic { channel, topic });
                }
                (Command::Leave, Some(channel)) => {
                    socket.send(&ClientMsg::LeaveChannel { channel });
                }
                (Command::Mute, Some(channel)) => {
                    socket.send(&ClientMsg::SetNotify {
                        channel,
                        level: NotifyLevel::None,
                    });
                }
                (Command::Invite(name), Some(channel)) => {
                    if current.is_some_and(|c| c.is_direct()) {
                        state.dispatch(Action::LocalError(
                            "Invite people to a channel; add people to a direct conversation from its header."
                                .into(),
                        ));
                        return;
                    }
                    socket.send(&ClientMsg::ListUsers {
                        query: name.clone(),
                        after: None,
                    });
                    waiting.set(Some(Waiting::Invite(channel, name)));
                }
            }
        })
    };
    let close_help = {
        let help = help.clone();
        use_event(move |()| help.set(false))
    };
    Commands {
        run,
        help: *help,
        close_help,
    }
}

//! The chat screen: owns the reducer and the socket, passes state and
//! callbacks down to the components.

use shared::{ClientMsgId, UserInfo};
use yew::prelude::*;

use crate::browser::{new_client_id, now_millis};
use crate::components::account_panel::AccountPanel;
use crate::components::composer::Composer;
use crate::components::header::Header;
use crate::components::message_list::MessageList;
use crate::components::online_users::OnlineUsers;
use crate::hooks::use_chat_socket::use_chat_socket;
use crate::outbox;
use crate::state::{Action, ChatState, Pending};

#[derive(Properties, PartialEq)]
pub struct ChatPageProps {
    pub me: UserInfo,
    /// Whether the user has set a password (changes the account panel's wording).
    pub has_password: bool,
    /// The session ended (sign-out here or elsewhere).
    pub on_signed_out: Callback<()>,
}

#[component]
pub fn ChatPage(props: &ChatPageProps) -> Html {
    let state = use_reducer({
        let me = props.me.clone();
        move || ChatState::new(me)
    });
    let show_users = use_state(|| false);
    {
        // Messages typed before a reload and never acknowledged are sent again.
        let state = state.clone();
        let user_id = props.me.id.0.clone();
        use_effect_with((), move |_| {
            state.dispatch(Action::Restore(outbox::load(&user_id)));
        });
    }
    let socket = use_chat_socket(state.clone(), props.on_signed_out.clone());
    {
        let user_id = props.me.id.0.clone();
        use_effect_with(state.pending.clone(), move |pending| {
            outbox::save(&user_id, pending);
        });
    }

    let on_send = {
        let state = state.clone();
        let socket = socket.clone();
        Callback::from(move |text: String| {
            let pending = Pending {
                client_id: new_client_id(),
                text,
                created_at: now_millis(),
                failed: None,
            };
            state.dispatch(Action::Queue(pending.clone()));
            socket.send_pending(&pending);
        })
    };
    let on_load_older = {
        let state = state.clone();
        let socket = socket.clone();
        Callback::from(move |()| {
            if state.loading_older {
                return;
            }
            if let Some(first) = state.first_seq()
                && socket.load_older(first)
            {
                state.dispatch(Action::LoadingOlder);
            }
        })
    };
    let on_discard = {
        let state = state.clone();
        Callback::from(move |id: ClientMsgId| state.dispatch(Action::Discard(id)))
    };
    let on_sign_out = {
        let on_signed_out = props.on_signed_out.clone();
        let user_id = props.me.id.0.clone();
        Callback::from(move |()| {
            let on_signed_out = on_signed_out.clone();
            let user_id = user_id.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = crate::api::sign_out().await;
                outbox::clear(&user_id);
                on_signed_out.emit(());
            });
        })
    };
    let toggle_users = {
        let show_users = show_users.clone();
        Callback::from(move |()| show_users.set(!*show_users))
    };
    let close_users = {
        let show_users = show_users.clone();
        Callback::from(move |()| show_users.set(false))
    };
    let dismiss_error = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| state.dispatch(Action::DismissError))
    };

    let (room, topic) = state
        .channel
        .as_ref()
        .map(|c| (c.name.clone(), c.topic.clone()))
        .unwrap_or_else(|| ("general".into(), String::new()));
    html! {
        <div class="app">
            <Header room={room.clone()} topic={topic} online_count={state.online.len()}
                    me={state.me.clone()} connection={state.connection}
                    on_toggle_users={toggle_users} on_sign_out={on_sign_out} />
            <div class="layout">
                <main class="conversation">
                    <MessageList state={state.clone()} on_load_older={on_load_older} on_discard={on_discard} />
                    if let Some(error) = &state.notice_error {
                        <div class="banner error" role="alert">
                            { error }
                            <button onclick={dismiss_error} aria-label="Dismiss">{ "×" }</button>
                        </div>
                    }
                    <Composer on_send={on_send} placeholder={format!("Message #{room}")} />
                </main>
                <OnlineUsers users={state.online.clone()} me={state.me.clone()}
                             open={*show_users} on_close={close_users}>
                    <AccountPanel has_password={props.has_password}
                                  on_signed_out={props.on_signed_out.clone()} />
                </OnlineUsers>
            </div>
        </div>
    }
}

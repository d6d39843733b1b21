//! The top bar: room name, message search, online count, connection, who
//! you are, sign out.

use shared::UserInfo;
use yew::prelude::*;

use super::connection_status::ConnectionStatus;
use super::search_panel::SearchBox;
use crate::state::Connection;

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub room: String,
    pub topic: String,
    pub online_count: usize,
    pub me: UserInfo,
    pub connection: Connection,
    pub on_toggle_users: Callback<()>,
    /// Opens the conversation list on narrow screens.
    pub on_toggle_nav: Callback<()>,
    pub on_sign_out: Callback<()>,
    /// A search typed in the box (empty: closed).
    pub on_search: Callback<String>,
}

#[component]
pub fn Header(props: &HeaderProps) -> Html {
    let on_toggle_users = props.on_toggle_users.reform(|_: MouseEvent| ());
    let on_sign_out = props.on_sign_out.reform(|_: MouseEvent| ());
    html! {
        <header class="topbar">
            <div class="room">
                <button class="menu" aria-label="Conversations" onclick={props.on_toggle_nav.reform(|_: MouseEvent| ())}>{ "☰" }</button>
                <h1 class="room-name"><bdi>{ &props.room }</bdi></h1>
                if !props.topic.is_empty() {
                    <span class="room-topic"><bdi>{ &props.topic }</bdi></span>
                }
            </div>
            <SearchBox on_search={props.on_search.clone()} />
            <button class="online-count" onclick={on_toggle_users} title="Who is online"
                    aria-label={format!("{} online", props.online_count)}>
                <span class="dot online" aria-hidden="true"></span>
                { format!("{} online", props.online_count) }
            </button>
            <ConnectionStatus connection={props.connection} />
            <div class="me">
                <span class="avatar" aria-hidden="true">{ initial(&props.me.name) }</span>
                <span data-testid="current-user" class="me-name"><bdi>{ &props.me.name }</bdi></span>
                <button data-testid="sign-out" class="sign-out" onclick={on_sign_out}>{ "Sign out" }</button>
            </div>
        </header>
    }
}

/// The first letter of a name, for avatars.
pub fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default()
}

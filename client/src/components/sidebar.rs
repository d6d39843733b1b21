//! The left sidebar: the mentions and threads views' entries, channels with unread counts
//! and mention markers (muted ones with a quiet count only), direct
//! conversations with presence, and the buttons to create and browse
//! channels and to start a direct conversation.

use shared::ChannelId;
use shared::protocol::{NotifyLevel, PresenceStatus};
use yew::prelude::*;

use crate::state::ChatState;

#[derive(Properties, PartialEq)]
pub struct SidebarProps {
    pub state: UseReducerHandle<ChatState>,
    pub on_switch: Callback<ChannelId>,
    pub on_create: Callback<()>,
    pub on_browse: Callback<()>,
    /// Start a direct conversation with one or more people.
    pub on_new_conversation: Callback<()>,
    /// Open (or close) the mentions view.
    pub on_mentions: Callback<()>,
    /// Open (or close) the threads view.
    pub on_threads: Callback<()>,
    /// Opens the admin panel (shown to moderators and above).
    pub on_admin: Callback<()>,
    pub open: bool,
}

pub fn presence_str(status: PresenceStatus) -> &'static str {
    match status {
        PresenceStatus::Online => "online",
        PresenceStatus::Away => "away",
        PresenceStatus::Offline => "offline",
    }
}

#[component]
pub fn Sidebar(props: &SidebarProps) -> Html {
    let state = &props.state;
    let current = state.current.clone();
    let item = |conversation: &crate::state::Conversation| {
        let id = conversation.info.id.clone();
        let on_click = props.on_switch.reform(move |event: MouseEvent| {
            event.prevent_default();
            id.clone()
        });
        let active = current.as_ref() == Some(&conversation.info.id);
        let is_current = active;
        let unread = if is_current { 0 } else { conversation.unread() };
        let muted = conversation.info.notify_level() == NotifyLevel::None;
        let mentions = if is_current || muted {
            0
        } else {
            conversation.info.unread_mentions
        };
        let class = classes!(
            "conversation-item",
            active.then_some("active"),
            (unread > 0 && !muted).then_some("unread"),
            muted.then_some("muted"),
        );
        let badge = if muted && unread > 0 {
            html! { <span class="quiet-count" data-testid="quiet-count" title="Muted">{ unread }</span> }
        } else if mentions > 0 {
            html! { <span class="badge mention" data-testid="mention-marker" title="You were mentioned">{ format!("@{mentions}") }</span> }
        } else if unread > 0 {
            html! { <span class="badge">{ unread }</span> }
        } else {
            html! {}
        };
        (class, on_click, unread, mentions, badge)
    };
    let unread_mentions: u32 = state
        .conversations
        .iter()
        .filter(|c| c.info.notify_level() != NotifyLevel::None)
        .map(|c| c.info.unread_mentions)
        .sum();
    let unread_threads = state.threads.unread();
    html! {
        <nav class={classes!("channels", props.open.then_some("open"))} aria-label="Conversations">
            <button class={classes!("views-item", state.mentions.open.then_some("active"))}
                    data-testid="mentions-view" aria-pressed={state.mentions.open.to_string()}
                    onclick={props.on_mentions.reform(|_: MouseEvent| ())}>
                <span class="at" aria-hidden="true">{ "@" }</span>
                <span class="name">{ "Mentions" }</span>
                if unread_mentions > 0 {
                    <span class="badge mention">{ unread_mentions }</span>
                }
            </button>
            <button class={classes!("views-item", state.threads.view_open.then_some("active"))}
                    data-testid="threads-view" aria-pressed={state.threads.view_open.to_string()}
                    data-unread={unread_threads.to_string()}
                    onclick={props.on_threads.reform(|_: MouseEvent| ())}>
                <span class="at" aria-hidden="true">{ crate::components::message_row::thread_icon() }</span>
                <span class="name">{ "Threads" }</span>
                if unread_threads > 0 {
                    <span class="badge" data-testid="threads-unread" title="Threads with new replies">{ unread_threads }</span>
                }
            </button>
            if state.admin.available() {
                <button class={classes!("views-item", state.admin.open.then_some("active"))}
                        data-testid="open-admin" aria-pressed={state.admin.open.to_string()}
                        onclick={props.on_admin.reform(|_: MouseEvent| ())}>
                    <span class="at" aria-hidden="true">{ "⚙" }</span>
                    <span class="name">{ "Admin" }</span>
                </button>
            }
            <div class="nav-head">
                <h2>{ "Channels" }</h2>
                <div class="nav-actions">
                    <button data-testid="browse-channels" title="Browse channels"
                            onclick={props.on_browse.reform(|_: MouseEvent| ())}>{ "Browse" }</button>
                    if state.admin.may_create_channels() {
                        <button data-testid="create-channel" title="Create a channel" class="icon"
                                onclick={props.on_create.reform(|_: MouseEvent| ())}>{ "+" }</button>
                    }
                </div>
            </div>
            <ul data-testid="channel-list">
                { for state.conversations.iter().filter(|c| !c.is_direct()).map(|conversation| {
                    let (class, on_click, unread, mentions, badge) = item(conversation);
                    html! {
                        <li key={conversation.info.id.0.clone()}>
                            <a href={conversation.path()} class={class} onclick={on_click}
                               data-testid="channel-item" data-channel={conversation.info.name.clone()}
                               data-unread={unread.to_string()} data-mentions={mentions.to_string()}
                               data-private={(conversation.info.kind == shared::protocol::ChannelKind::Private).to_string()}>
                                if conversation.info.kind == shared::protocol::ChannelKind::Private {
                                    <svg class="hash lock" viewBox="0 0 16 16" width="12" height="12" aria-label="private">
                                        <path d="M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7h1zm2 0h4V5a2 2 0 0 0-4 0v2z" fill="currentColor" />
                                    </svg>
                                } else {
                                    <span class="hash" aria-hidden="true">{ "#" }</span>
                                }
                                <span class="name"><bdi>{ &conversation.info.name }</bdi></span>
                                { badge }
                            </a>
                        </li>
                    }
                }) }
            </ul>
            <div class="nav-head">
                <h2>{ "Direct messages" }</h2>
                <div class="nav-actions">
                    <button data-testid="new-conversation" title="New conversation with one or more people"
                            class="icon" aria-label="New conversation"
                            onclick={props.on_new_conversation.reform(|_: MouseEvent| ())}>{ "+" }</button>
                </div>
            </div>
            <ul data-testid="dm-list">
                { for state.conversations.iter().filter(|c| c.is_direct()).map(|conversation| {
                    let (class, on_click, unread, _, badge) = item(conversation);
                    let status = conversation
                        .info
                        .direct_with
                        .first()
                        .map(|u| state.presence_of(&u.id))
                        .unwrap_or_default();
                    html! {
                        <li key={conversation.info.id.0.clone()}>
                            <a href={conversation.path()} class={class} onclick={on_click}
                               data-testid="dm-item" data-user={conversation.info.name.clone()}
                               data-unread={unread.to_string()} data-presence={presence_str(status)}>
                                <span class={classes!("dot", presence_str(status))} aria-hidden="true"></span>
                                <span class="name"><bdi>{ &conversation.info.name }</bdi></span>
                                { badge }
                            </a>
                        </li>
                    }
                }) }
            </ul>
        </nav>
    }
}

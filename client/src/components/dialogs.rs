//! Dialogs: create a channel, browse and join public channels, invite someone.

use shared::validate::ChannelName;
use shared::{ChannelId, UserId};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::state::ChatState;

/// What the create dialog submits.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChannel {
    pub name: String,
    pub topic: String,
    pub private: bool,
}

#[derive(Properties, PartialEq)]
pub struct CreateChannelProps {
    /// The server's refusal, if any.
    pub error: Option<String>,
    pub on_submit: Callback<NewChannel>,
    pub on_close: Callback<()>,
}

/// Puts the keyboard in `input` once the dialog has opened.
#[hook]
pub(crate) fn use_focus_on_open(input: NodeRef) {
    use_effect_with((), move |_| {
        if let Some(element) = input.cast::<HtmlInputElement>() {
            let _ = element.focus();
        }
    });
}

/// What Enter in a search field picks: the entry named `wanted` (any letter
/// case), or else the only entry there is.
fn exact_or_only<'a, T>(
    entries: &'a [T],
    name: impl Fn(&T) -> &str,
    wanted: &str,
) -> Option<&'a T> {
    entries
        .iter()
        .find(|entry| name(entry).to_lowercase() == wanted)
        .or(match entries {
            [only] => Some(only),
            _ => None,
        })
}

pub(crate) fn input_value(event: InputEvent) -> String {
    let input: HtmlInputElement = event.target_unchecked_into();
    input.value()
}

#[component]
pub fn CreateChannelDialog(props: &CreateChannelProps) -> Html {
    let name = use_state(String::new);
    let topic = use_state(String::new);
    let private = use_state(|| false);
    let local_error = use_state(|| None::<String>);
    let name_ref = use_node_ref();
    use_focus_on_open(name_ref.clone());
    let on_name = {
        let name = name.clone();
        let local_error = local_error.clone();
        Callback::from(move |event: InputEvent| {
            name.set(input_value(event));
            local_error.set(None);
        })
    };
    let on_topic = {
        let topic = topic.clone();
        Callback::from(move |event: InputEvent| topic.set(input_value(event)))
    };
    let on_private = {
        let private = private.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            private.set(input.checked());
        })
    };
    let on_submit = {
        let (name, topic, private, local_error) = (
            name.clone(),
            topic.clone(),
            private.clone(),
            local_error.clone(),
        );
        let on_submit = props.on_submit.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            match ChannelName::parse(&name) {
                Ok(valid) => on_submit.emit(NewChannel {
                    name: valid.as_str().to_owned(),
                    topic: (*topic).clone(),
                    private: *private,
                }),
                Err(problem) => local_error.set(Some(problem.to_string())),
            }
        })
    };
    let error = (*local_error).clone().or(props.error.clone());
    html! {
        <div class="modal-backdrop" onclick={props.on_close.reform(|_: MouseEvent| ())}>
            <form class="modal" onsubmit={on_submit} onclick={|e: MouseEvent| e.stop_propagation()}
                  aria-label="Create a channel">
                <h2>{ "Create a channel" }</h2>
                <label for="channel-name">{ "Name" }</label>
                <input id="channel-name" ref={name_ref} data-testid="channel-name-input"
                       placeholder="e.g. rust" maxlength="60" value={(*name).clone()} oninput={on_name} />
                <p class="hint">{ "Lowercase letters, digits, - and _; up to 40 characters." }</p>
                <label for="channel-topic">{ "Topic" }</label>
                <input id="channel-topic" data-testid="channel-topic-input" placeholder="What is it about?"
                       maxlength="250" value={(*topic).clone()} oninput={on_topic} />
                <label class="check">
                    <input type="checkbox" data-testid="channel-private-toggle" checked={*private}
                           onchange={on_private} />
                    { "Private: only people you invite can see it" }
                </label>
                if let Some(message) = error {
                    <p class="form-error" data-testid="channel-error" role="alert">{ message }</p>
                }
                <div class="modal-actions">
                    <button type="button" onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
                    <button type="submit" class="primary" data-testid="channel-create-submit">{ "Create" }</button>
                </div>
            </form>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct BrowseProps {
    pub state: UseReducerHandle<ChatState>,
    pub on_search: Callback<String>,
    pub on_join: Callback<ChannelId>,
    pub on_close: Callback<()>,
}

#[component]
pub fn BrowseDialog(props: &BrowseProps) -> Html {
    let query = use_state(String::new);
    let search_ref = use_node_ref();
    use_focus_on_open(search_ref.clone());
    let on_keydown = {
        let query = query.clone();
        let state = props.state.clone();
        let on_join = props.on_join.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() != "Enter" {
                return;
            }
            event.prevent_default();
            let wanted = query.trim().trim_start_matches('#').to_lowercase();
            if let Some(channel) = exact_or_only(&state.directory, |c| &c.name, &wanted) {
                on_join.emit(channel.id.clone());
            }
        })
    };
    let on_input = {
        let query = query.clone();
        let on_search = props.on_search.clone();
        Callback::from(move |event: InputEvent| {
            let value = input_value(event);
            on_search.emit(value.clone());
            query.set(value);
        })
    };
    html! {
        <div class="modal-backdrop" onclick={props.on_close.reform(|_: MouseEvent| ())}>
            <div class="modal wide" onclick={|e: MouseEvent| e.stop_propagation()} role="dialog"
                 aria-label="Browse channels">
                <h2>{ "Browse channels" }</h2>
                <input ref={search_ref} data-testid="channel-search" type="search" placeholder="Search by name or topic"
                       value={(*query).clone()} oninput={on_input} onkeydown={on_keydown} />
                <ul class="directory">
                    { for props.state.directory.iter().map(|channel| {
                        let id = channel.id.clone();
                        let on_join = props.on_join.reform(move |_: MouseEvent| id.clone());
                        html! {
                            <li key={channel.id.0.clone()} data-testid="directory-item" data-channel={channel.name.clone()}>
                                <div class="directory-text">
                                    <span class="name">{ "#" }<bdi>{ &channel.name }</bdi></span>
                                    <span class="topic"><bdi>{ &channel.topic }</bdi></span>
                                </div>
                                <span class="members">{ format!("{} member{}", channel.member_count,
                                    if channel.member_count == 1 { "" } else { "s" }) }</span>
                                <button class="primary small" data-testid="join-channel" data-channel={channel.name.clone()}
                                        onclick={on_join}>
                                    { if channel.joined { "Open" } else { "Join" } }
                                </button>
                            </li>
                        }
                    }) }
                    if props.state.directory.is_empty() {
                        <li class="empty">{ "No public channels match." }</li>
                    }
                </ul>
                <div class="modal-actions">
                    <button type="button" onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "Close" }</button>
                </div>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct InviteProps {
    pub state: UseReducerHandle<ChatState>,
    pub on_invite: Callback<UserId>,
    pub on_close: Callback<()>,
}

#[component]
pub fn InviteDialog(props: &InviteProps) -> Html {
    let query = use_state(String::new);
    let search_ref = use_node_ref();
    use_focus_on_open(search_ref.clone());
    let on_keydown = {
        let query = query.clone();
        let state = props.state.clone();
        let on_invite = props.on_invite.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() != "Enter" {
                return;
            }
            event.prevent_default();
            let wanted = query.trim().trim_start_matches('@').to_lowercase();
            let candidates: Vec<_> = state
                .users
                .iter()
                .filter(|p| {
                    p.user.id != state.me.id && p.user.name.to_lowercase().contains(&wanted)
                })
                .collect();
            if let Some(person) = exact_or_only(&candidates, |p| &p.user.name, &wanted) {
                on_invite.emit(person.user.id.clone());
            }
        })
    };
    let on_input = {
        let query = query.clone();
        Callback::from(move |event: InputEvent| query.set(input_value(event)))
    };
    let needle = query.trim().to_lowercase();
    html! {
        <div class="modal-backdrop" onclick={props.on_close.reform(|_: MouseEvent| ())}>
            <div class="modal" onclick={|e: MouseEvent| e.stop_propagation()} role="dialog" aria-label="Invite">
                <h2>{ "Invite someone" }</h2>
                <input ref={search_ref} data-testid="invite-search" type="search" placeholder="Name, then Enter"
                       value={(*query).clone()} oninput={on_input} onkeydown={on_keydown} />
                <ul class="directory">
                    { for props.state.users.iter()
                        .filter(|p| p.user.id != props.state.me.id)
                        .filter(|p| needle.is_empty() || p.user.name.to_lowercase().contains(&needle))
                        .map(|p| {
                            let id = p.user.id.clone();
                            let on_invite = props.on_invite.reform(move |_: MouseEvent| id.clone());
                            html! {
                                <li key={p.user.id.0.clone()}>
                                    <span class="name"><bdi>{ &p.user.name }</bdi></span>
                                    <button class="primary small" data-testid="invite-user" data-user={p.user.name.clone()}
                                            onclick={on_invite}>{ "Invite" }</button>
                                </li>
                            }
                        }) }
                </ul>
                <div class="modal-actions">
                    <button type="button" onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "Done" }</button>
                </div>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct MembersProps {
    pub state: UseReducerHandle<ChatState>,
    pub channel: ChannelId,
    /// Whether the viewer created the channel (and so may remove members).
    pub can_remove: bool,
    pub on_remove: Callback<UserId>,
    pub on_close: Callback<()>,
}

#[component]
pub fn MembersDialog(props: &MembersProps) -> Html {
    let members = props
        .state
        .members
        .as_ref()
        .filter(|(channel, _)| *channel == props.channel)
        .map(|(_, members)| members.clone());
    html! {
        <div class="modal-backdrop" onclick={props.on_close.reform(|_: MouseEvent| ())}>
            <div class="modal" onclick={|e: MouseEvent| e.stop_propagation()} role="dialog" aria-label="Members">
                <h2>{ "Members" }</h2>
                <ul class="directory" data-testid="member-list">
                    { match members {
                        None => html! { <li class="empty">{ "Loading…" }</li> },
                        Some(members) => members.iter().map(|member| {
                            let id = member.id.clone();
                            let on_remove = props.on_remove.reform(move |_: MouseEvent| id.clone());
                            let me = member.id == props.state.me.id;
                            html! {
                                <li key={member.id.0.clone()} data-testid="member-item" data-user={member.name.clone()}>
                                    <span class="name"><bdi>{ &member.name }</bdi>{ if me { " (you)" } else { "" } }</span>
                                    if props.can_remove && !me {
                                        <button class="small" data-testid="remove-member" data-user={member.name.clone()}
                                                onclick={on_remove}>{ "Remove" }</button>
                                    }
                                </li>
                            }
                        }).collect::<Html>(),
                    } }
                </ul>
                <div class="modal-actions">
                    <button type="button" onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "Close" }</button>
                </div>
            </div>
        </div>
    }
}

//! The dialog that starts a direct conversation with one to
//! [`MAX_DIRECT_OTHERS`] people, picked from the people list. Adding
//! someone to a direct conversation opens it here with its people already
//! picked: the result is a new conversation (as Slack does), and the old one
//! stays as it was.

use shared::limits::MAX_DIRECT_OTHERS;
use shared::{UserId, UserInfo};
use yew::prelude::*;

use super::dialogs::{input_value, use_focus_on_open};
use crate::state::ChatState;

#[derive(Properties, PartialEq)]
pub struct NewConversationProps {
    pub state: UseReducerHandle<ChatState>,
    /// People picked when the dialog opens (the others of the conversation
    /// someone is being added to); empty for a fresh start.
    #[prop_or_default]
    pub preset: Vec<UserInfo>,
    /// Search the people list (the server answers a page).
    pub on_search: Callback<String>,
    pub on_submit: Callback<Vec<UserId>>,
    pub on_close: Callback<()>,
}

#[component]
pub fn NewConversationDialog(props: &NewConversationProps) -> Html {
    let query = use_state(String::new);
    let picked = use_state({
        let preset = props.preset.clone();
        move || preset
    });
    let search_ref = use_node_ref();
    use_focus_on_open(search_ref.clone());
    let adding = !props.preset.is_empty();
    let toggle = {
        let picked = picked.clone();
        Callback::from(move |person: UserInfo| {
            let mut next = (*picked).clone();
            if let Some(at) = next.iter().position(|p| p.id == person.id) {
                next.remove(at);
            } else if next.len() < MAX_DIRECT_OTHERS {
                next.push(person);
            }
            picked.set(next);
        })
    };
    let on_input = {
        let query = query.clone();
        let on_search = props.on_search.clone();
        Callback::from(move |event: InputEvent| {
            let value = input_value(event);
            on_search.emit(value.trim().to_owned());
            query.set(value);
        })
    };
    let on_submit = {
        let picked = picked.clone();
        let on_submit = props.on_submit.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if !picked.is_empty() {
                on_submit.emit(picked.iter().map(|p| p.id.clone()).collect());
            }
        })
    };
    let full = picked.len() >= MAX_DIRECT_OTHERS;
    let needle = query.trim().trim_start_matches('@').to_lowercase();
    let me = &props.state.me.id;
    let title = if adding {
        "Add people"
    } else {
        "New conversation"
    };
    html! {
        <div class="modal-backdrop" onclick={props.on_close.reform(|_: MouseEvent| ())}>
            <form class="modal" onsubmit={on_submit} onclick={|e: MouseEvent| e.stop_propagation()}
                  aria-label={title}>
                <h2>{ title }</h2>
                if adding {
                    <p class="hint">{ "This starts a new conversation with everyone picked; the current one and its history stay as they are." }</p>
                }
                <ul class="picked" data-testid="conversation-picked" aria-label="Picked">
                    { for picked.iter().map(|person| {
                        let remove = toggle.reform({
                            let person = person.clone();
                            move |_: MouseEvent| person.clone()
                        });
                        html! {
                            <li key={person.id.0.clone()}>
                                <bdi>{ &person.name }</bdi>
                                <button type="button" class="chip-remove" onclick={remove}
                                        aria-label={format!("Remove {}", person.name)}>{ "×" }</button>
                            </li>
                        }
                    }) }
                </ul>
                <input ref={search_ref} data-testid="conversation-user-search" type="search"
                       placeholder="Find people" value={(*query).clone()} oninput={on_input}
                       aria-label="Find people" />
                <ul class="directory people-picker">
                    { for props.state.users.iter()
                        .filter(|p| &p.user.id != me)
                        .filter(|p| needle.is_empty() || p.user.name.to_lowercase().contains(&needle))
                        .map(|p| {
                            let chosen = picked.iter().any(|c| c.id == p.user.id);
                            let on_change = toggle.reform({
                                let person = p.user.clone();
                                move |_: Event| person.clone()
                            });
                            html! {
                                <li key={p.user.id.0.clone()}>
                                    <label class="check" data-testid="conversation-user-option"
                                           data-user={p.user.name.clone()} data-selected={chosen.to_string()}>
                                        <input type="checkbox" checked={chosen} disabled={full && !chosen}
                                               onchange={on_change} />
                                        <bdi>{ &p.user.name }</bdi>
                                    </label>
                                </li>
                            }
                        }) }
                </ul>
                <p class="hint">{ format!("Up to {MAX_DIRECT_OTHERS} people besides you.") }</p>
                if let Some(message) = props.state.channel_error.clone() {
                    <p class="form-error" data-testid="conversation-error" role="alert">{ message }</p>
                }
                <div class="modal-actions">
                    <button type="button" onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
                    <button type="submit" class="primary" data-testid="conversation-create-submit"
                            disabled={picked.is_empty()}>
                        { if adding { "Start new conversation" } else { "Start conversation" } }
                    </button>
                </div>
            </form>
        </div>
    }
}

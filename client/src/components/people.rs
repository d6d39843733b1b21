//! People with an account (a page at a time, searched by the server),
//! their presence, and buttons to message or block them.

use std::collections::HashSet;
use std::rc::Rc;

use shared::protocol::UserPresence;
use shared::{UserId, UserInfo};
use yew::prelude::*;

use super::block_button::BlockButton;
use super::header::initial;
use super::sidebar::presence_str;
use crate::state::presence_in;

/// Only what the list shows, so that it renders again when the people, who
/// is online or away, or who is blocked change, not on every message.
#[derive(Properties, PartialEq)]
pub struct PeopleProps {
    /// The pages of people shown, for the search `query`.
    pub users: Rc<Vec<UserPresence>>,
    pub query: String,
    /// Whether the server has more people for `query`.
    pub has_more: bool,
    /// Who is known to be online, and who of them is away.
    pub online: Rc<Vec<UserInfo>>,
    pub away: HashSet<UserId>,
    pub blocked: HashSet<UserId>,
    pub me: UserId,
    pub on_start_dm: Callback<UserId>,
    /// Block (`true`) or unblock someone.
    pub on_block: Callback<(UserId, bool)>,
    /// Ask the server for the people matching these words.
    pub on_search: Callback<String>,
    /// Ask for the next page.
    pub on_more: Callback<()>,
}

#[component]
pub fn People(props: &PeopleProps) -> Html {
    let query = use_state(String::new);
    let on_search = {
        let query = query.clone();
        let ask = props.on_search.clone();
        Callback::from(move |event: InputEvent| {
            let input: web_sys::HtmlInputElement = event.target_unchecked_into();
            ask.emit(input.value().trim().to_owned());
            query.set(input.value());
        })
    };
    let needle = query.trim().to_lowercase();
    html! {
        <section class="people" aria-label="People">
            <h2>{ "People" }</h2>
            <input class="people-search" data-testid="user-search" type="search" placeholder="Find someone"
                   value={(*query).clone()} oninput={on_search} />
            <ul data-testid="user-list">
                { for props.users.iter()
                    .filter(|p| needle.is_empty() || p.user.name.to_lowercase().contains(&needle))
                    .map(|presence| {
                        let status = presence_in(&props.online, &props.away, &presence.user.id);
                        let id = presence.user.id.clone();
                        let me = presence.user.id == props.me;
                        let on_dm = {
                            let id = id.clone();
                            props.on_start_dm.reform(move |_: MouseEvent| id.clone())
                        };
                        let on_block = props.on_block.reform(move |blocked: bool| (id.clone(), blocked));
                        let blocked = props.blocked.contains(&presence.user.id);
                        html! {
                            <li data-testid="user-item" data-user={presence.user.name.clone()}
                                data-presence={presence_str(status)} key={presence.user.id.0.clone()}>
                                <span class="avatar small" aria-hidden="true">{ initial(&presence.user.name) }</span>
                                <span class="name"><bdi>{ &presence.user.name }</bdi></span>
                                <span class={classes!("dot", presence_str(status))} title={presence_str(status)}></span>
                                if !me {
                                    <button class="small" data-testid="start-dm" data-user={presence.user.name.clone()}
                                            onclick={on_dm} title={format!("Message {}", presence.user.name)}>
                                        { "Message" }
                                    </button>
                                    <BlockButton name={presence.user.name.clone()} {blocked} {on_block} />
                                }
                            </li>
                        }
                    }) }
            </ul>
            if props.has_more && props.query.to_lowercase() == needle {
                <button type="button" class="link more" data-testid="user-more"
                        onclick={props.on_more.reform(|_: MouseEvent| ())}>
                    { "Show more people" }
                </button>
            }
        </section>
    }
}

//! Who is online: the count, the people known to be online (everyone when
//! they are few; otherwise those shown so far, a page more on request), and
//! a search that asks the server.

use std::rc::Rc;

use shared::UserInfo;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::header::initial;

/// With more than this many online (or more than are listed), a search shows.
const SEARCH_FROM: usize = 20;

#[derive(Properties, PartialEq)]
pub struct OnlineUsersProps {
    pub users: Rc<Vec<UserInfo>>,
    /// How many are online in all (may be more than `users`).
    pub count: u32,
    /// More can be asked for (`on_more`).
    pub has_more: bool,
    /// The last search answered: its words and who matched.
    pub found: Option<(String, Vec<UserInfo>)>,
    pub on_search: Callback<String>,
    pub on_more: Callback<()>,
    pub me: UserInfo,
    /// Shown as an overlay on narrow screens when true.
    pub open: bool,
    pub on_close: Callback<()>,
    /// Shown under the list (the account panel).
    #[prop_or_default]
    pub children: Html,
}

#[component]
pub fn OnlineUsers(props: &OnlineUsersProps) -> Html {
    let search = use_state(String::new);
    let on_close = props.on_close.reform(|_: MouseEvent| ());
    let on_input = {
        let search = search.clone();
        let on_search = props.on_search.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            let value = input.value();
            if !value.trim().is_empty() {
                on_search.emit(value.trim().to_owned());
            }
            search.set(value);
        })
    };
    let searching = search.trim();
    let shown: Vec<UserInfo> = if searching.is_empty() {
        props.users.to_vec()
    } else {
        match &props.found {
            Some((query, found)) if query == searching => found.clone(),
            // Until the server answers: the known ones that match.
            _ => {
                let words = searching.to_lowercase();
                props
                    .users
                    .iter()
                    .filter(|u| u.name.to_lowercase().contains(&words))
                    .cloned()
                    .collect()
            }
        }
    };
    let searchable =
        props.count as usize > SEARCH_FROM.min(props.users.len()) || !searching.is_empty();
    let on_more = props.on_more.reform(|_: MouseEvent| ());
    html! {
        <aside class={classes!("sidebar", props.open.then_some("open"))} data-testid="online-users"
               aria-label="Online users">
            <div class="sidebar-head">
                <h2 data-testid="online-count" data-count={props.count.to_string()}>
                    { format!("Online — {}", props.count) }
                </h2>
                <button class="close-sidebar" onclick={on_close} aria-label="Close">{ "×" }</button>
            </div>
            if searchable {
                <input type="search" class="online-search" data-testid="online-search"
                       placeholder="Find who is online" aria-label="Find who is online"
                       value={(*search).clone()} oninput={on_input} />
            }
            <ul>
                { for shown.iter().map(|user| html! {
                    <li data-testid="online-user" data-user={user.name.clone()} key={user.id.0.clone()}>
                        <span class="avatar small" aria-hidden="true">{ initial(&user.name) }</span>
                        <span class="name"><bdi>{ &user.name }</bdi></span>
                        if user.id == props.me.id {
                            <span class="you">{ "(you)" }</span>
                        }
                        <span class="dot online" aria-hidden="true"></span>
                    </li>
                }) }
            </ul>
            if searching.is_empty() && props.has_more {
                <button type="button" class="link more" data-testid="online-more" onclick={on_more}>
                    { format!("Show more ({} more online)", props.count as usize - props.users.len().min(props.count as usize)) }
                </button>
            }
            { props.children.clone() }
        </aside>
    }
}

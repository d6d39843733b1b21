//! Who is online now.

use shared::UserInfo;
use yew::prelude::*;

use super::header::initial;

#[derive(Properties, PartialEq)]
pub struct OnlineUsersProps {
    pub users: Vec<UserInfo>,
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
    let on_close = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <aside class={classes!("sidebar", props.open.then_some("open"))} data-testid="online-users"
               aria-label="Online users">
            <div class="sidebar-head">
                <h2>{ format!("Online — {}", props.users.len()) }</h2>
                <button class="close-sidebar" onclick={on_close} aria-label="Close">{ "×" }</button>
            </div>
            <ul>
                { for props.users.iter().map(|user| html! {
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
            { props.children.clone() }
        </aside>
    }
}

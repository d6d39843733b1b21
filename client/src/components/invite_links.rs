//! Invite links: create one (how long it lasts, how many sign-ups it
//! allows), see the address once to copy it, and the links still valid.
//! In the admin panel for admins; in the account panel for members when
//! the server lets members invite.

use shared::ClientMsg;
use shared::community::{Invite, invite_path};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::browser::{copy_to_clipboard, day_and_time, full_time, origin};

/// Lifetimes offered, in hours, with their labels.
const LASTS: [(u32, &str); 4] = [
    (1, "1 hour"),
    (24, "1 day"),
    (7 * 24, "7 days"),
    (30 * 24, "30 days"),
];
/// Sign-ups allowed, offered.
const USES: [u32; 4] = [1, 5, 25, 100];

#[derive(Properties, PartialEq)]
pub struct InviteLinksProps {
    pub invites: Vec<Invite>,
    /// The code of the link just created, if any.
    pub created: Option<String>,
    pub on_request: Callback<ClientMsg>,
}

#[component]
pub fn InviteLinks(props: &InviteLinksProps) -> Html {
    let hours = use_state(|| LASTS[2].0);
    let uses = use_state(|| USES[0]);
    let copied = use_state(|| false);
    {
        let on_request = props.on_request.clone();
        use_effect_with((), move |_| on_request.emit(ClientMsg::Invites));
    }
    let pick = |state: UseStateHandle<u32>| {
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            if let Ok(value) = select.value().parse() {
                state.set(value);
            }
        })
    };
    let on_create = {
        let (on_request, hours, uses, copied) =
            (props.on_request.clone(), *hours, *uses, copied.clone());
        Callback::from(move |_: MouseEvent| {
            copied.set(false);
            on_request.emit(ClientMsg::CreateInvite { hours, uses });
        })
    };
    let link = props
        .created
        .as_ref()
        .map(|code| format!("{}{}", origin(), invite_path(code)));
    let on_copy = {
        let (link, copied) = (link.clone(), copied.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(link) = &link {
                copy_to_clipboard(link);
                copied.set(true);
            }
        })
    };
    html! {
        <div class="invite-links">
            <div class="invite-form">
                <label>{ "Lasts " }
                    <select data-testid="invite-hours" onchange={pick(hours.clone())}>
                        { for LASTS.iter().map(|(value, label)| html! {
                            <option value={value.to_string()} selected={*value == *hours}>{ *label }</option>
                        }) }
                    </select>
                </label>
                <label>{ "for " }
                    <select data-testid="invite-uses" onchange={pick(uses.clone())}>
                        { for USES.iter().map(|value| html! {
                            <option value={value.to_string()} selected={*value == *uses}>
                                { if *value == 1 { "1 person".to_string() } else { format!("{value} people") } }
                            </option>
                        }) }
                    </select>
                </label>
                <button class="primary small" data-testid="invite-link-create" onclick={on_create}>
                    { "Create invite link" }
                </button>
            </div>
            if let Some(link) = link {
                <div class="invite-created" role="status">
                    <input readonly=true data-testid="invite-link" aria-label="The new invite link" value={link} />
                    <button class="small" onclick={on_copy}>{ if *copied { "Copied" } else { "Copy" } }</button>
                    <p class="hint">{ "Shown once: copy it now and send it to whom you invite." }</p>
                </div>
            }
            if !props.invites.is_empty() {
                <ul class="invite-list">
                    { for props.invites.iter().map(|invite| html! {
                        <li key={invite.id.clone()} data-testid="invite-item">
                            { format!("{} of {} used, by ", invite.uses, invite.max_uses) }
                            <bdi>{ &invite.created_by.name }</bdi>
                            <span title={full_time(invite.expires_at)}>{ format!(", until {}", day_and_time(invite.expires_at)) }</span>
                        </li>
                    }) }
                </ul>
            }
        </div>
    }
}

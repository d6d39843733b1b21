//! The first screen: pick a username. Nothing else can be done until one is chosen.

use shared::UserInfo;
use shared::validate::Username;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api;

#[derive(Properties, PartialEq)]
pub struct ChooseNameProps {
    pub on_signed_in: Callback<UserInfo>,
}

#[component]
pub fn ChooseName(props: &ChooseNameProps) -> Html {
    let name = use_state(String::new);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);

    let on_input = {
        let name = name.clone();
        let error = error.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            name.set(input.value());
            error.set(None);
        })
    };
    let on_submit = {
        let name = name.clone();
        let error = error.clone();
        let busy = busy.clone();
        let on_signed_in = props.on_signed_in.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if *busy {
                return;
            }
            let username = match Username::parse(&name) {
                Ok(username) => username,
                Err(problem) => {
                    error.set(Some(problem.to_string()));
                    return;
                }
            };
            busy.set(true);
            let error = error.clone();
            let busy = busy.clone();
            let on_signed_in = on_signed_in.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match api::choose_username(username.as_str()).await {
                    Ok(user) => on_signed_in.emit(user),
                    Err(message) => {
                        error.set(Some(message));
                        busy.set(false);
                    }
                }
            });
        })
    };

    html! {
        <div class="gate">
            <form class="card" onsubmit={on_submit}>
                <svg class="logo" viewBox="0 0 48 48" width="44" height="44" aria-hidden="true">
                    <path d="M8 10h32a4 4 0 0 1 4 4v16a4 4 0 0 1-4 4H22l-9 7v-7H8a4 4 0 0 1-4-4V14a4 4 0 0 1 4-4z"
                          fill="currentColor" />
                    <circle cx="16" cy="22" r="2.5" fill="#fff" /><circle cx="24" cy="22" r="2.5" fill="#fff" />
                    <circle cx="32" cy="22" r="2.5" fill="#fff" />
                </svg>
                <h1>{ "Welcome to the chat" }</h1>
                <p class="hint">{ "Pick a name others will see. You can use letters, digits, spaces, _ - and ." }</p>
                <label for="username">{ "Username" }</label>
                <input id="username" data-testid="username-input" type="text" autofocus=true
                       autocomplete="nickname" maxlength="64" placeholder="e.g. Alice"
                       value={(*name).clone()} oninput={on_input}
                       aria-invalid={if error.is_some() { "true" } else { "false" }} />
                if let Some(message) = &*error {
                    <p class="form-error" data-testid="username-error" role="alert">{ message }</p>
                }
                <button type="submit" data-testid="username-submit" disabled={*busy}>
                    { if *busy { "Joining…" } else { "Join the chat" } }
                </button>
            </form>
        </div>
    }
}

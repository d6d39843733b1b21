//! The first screen: pick a new username, or sign in with a name that has a
//! password. Nothing else can be done until one of them succeeds.

use shared::api::SessionInfo;
use shared::validate::Username;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api;

#[derive(Properties, PartialEq)]
pub struct ChooseNameProps {
    pub on_signed_in: Callback<SessionInfo>,
}

/// Which button is at work.
#[derive(Clone, Copy, PartialEq)]
enum Busy {
    Idle,
    Joining,
    SigningIn,
}

#[component]
pub fn ChooseName(props: &ChooseNameProps) -> Html {
    let name = use_state(String::new);
    let password = use_state(String::new);
    let name_error = use_state(|| None::<String>);
    let sign_in_error = use_state(|| None::<String>);
    let busy = use_state(|| Busy::Idle);
    // The code of the invite link this page was opened from, if any.
    let invite = use_memo((), |_| {
        shared::community::invite_code(&crate::browser::current_path()).map(str::to_owned)
    });
    // When the prompt first shows, for measuring the first load (User Timing).
    use_effect_with((), |_| {
        if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
            let _ = performance.mark(shared::protocol::PROMPT_READY_MARK);
        }
    });

    let on_name = {
        let name = name.clone();
        let name_error = name_error.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            name.set(input.value());
            name_error.set(None);
        })
    };
    let on_password = {
        let password = password.clone();
        let sign_in_error = sign_in_error.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            password.set(input.value());
            sign_in_error.set(None);
        })
    };

    let join = {
        let invite = invite.clone();
        let name = name.clone();
        let name_error = name_error.clone();
        let sign_in_error = sign_in_error.clone();
        let busy = busy.clone();
        let on_signed_in = props.on_signed_in.clone();
        move || {
            if *busy != Busy::Idle {
                return;
            }
            sign_in_error.set(None);
            let username = match Username::parse(&name) {
                Ok(username) => username,
                Err(problem) => {
                    name_error.set(Some(problem.to_string()));
                    return;
                }
            };
            busy.set(Busy::Joining);
            let name_error = name_error.clone();
            let busy = busy.clone();
            let on_signed_in = on_signed_in.clone();
            let invite = (*invite).clone();
            wasm_bindgen_futures::spawn_local(async move {
                match api::choose_username(username.as_str(), invite.as_deref()).await {
                    Ok(user) => on_signed_in.emit(SessionInfo {
                        user,
                        has_password: false,
                    }),
                    Err(message) => {
                        name_error.set(Some(message));
                        busy.set(Busy::Idle);
                    }
                }
            });
        }
    };
    let sign_in = {
        let name = name.clone();
        let password = password.clone();
        let name_error = name_error.clone();
        let sign_in_error = sign_in_error.clone();
        let busy = busy.clone();
        let on_signed_in = props.on_signed_in.clone();
        move || {
            if *busy != Busy::Idle {
                return;
            }
            name_error.set(None);
            if name.trim().is_empty() || password.is_empty() {
                sign_in_error.set(Some("Enter your username and password to sign in.".into()));
                return;
            }
            busy.set(Busy::SigningIn);
            let (username, secret) = ((*name).clone(), (*password).clone());
            let sign_in_error = sign_in_error.clone();
            let busy = busy.clone();
            let on_signed_in = on_signed_in.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match api::sign_in(&username, &secret).await {
                    Ok(info) => on_signed_in.emit(info),
                    Err(message) => {
                        sign_in_error.set(Some(message));
                        busy.set(Busy::Idle);
                    }
                }
            });
        }
    };

    // Enter signs in when a password was typed, and picks the name otherwise.
    let on_submit = {
        let password = password.clone();
        let join = join.clone();
        let sign_in = sign_in.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if password.is_empty() {
                join()
            } else {
                sign_in()
            }
        })
    };
    let on_join = Callback::from(move |event: MouseEvent| {
        event.prevent_default();
        join();
    });
    let on_sign_in = Callback::from(move |event: MouseEvent| {
        event.prevent_default();
        sign_in();
    });

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
                if invite.is_some() {
                    <p class="hint invited" data-testid="invited-hint">{ "You were invited: pick a name to join." }</p>
                }
                <p class="hint">{ "Pick a name others will see. You can use letters, digits, spaces, _ - and ." }</p>
                <label for="username">{ "Username" }</label>
                <input id="username" data-testid="username-input" type="text" autofocus=true
                       autocomplete="username" maxlength="64" placeholder="e.g. Alice"
                       value={(*name).clone()} oninput={on_name}
                       aria-invalid={if name_error.is_some() { "true" } else { "false" }} />
                if let Some(message) = &*name_error {
                    <p class="form-error" data-testid="username-error" role="alert">{ message }</p>
                }
                <button type="button" class="primary" data-testid="username-submit" onclick={on_join}
                        disabled={*busy != Busy::Idle}>
                    { if *busy == Busy::Joining { "Joining…" } else { "Join the chat" } }
                </button>
                <div class="divider"><span>{ "or, if you set a password before" }</span></div>
                <label for="password">{ "Password" }</label>
                <input id="password" data-testid="password-input" type="password"
                       autocomplete="current-password" placeholder="Your password"
                       value={(*password).clone()} oninput={on_password}
                       aria-invalid={if sign_in_error.is_some() { "true" } else { "false" }} />
                if let Some(message) = &*sign_in_error {
                    <p class="form-error" data-testid="sign-in-error" role="alert">{ message }</p>
                }
                <button type="button" class="secondary" data-testid="sign-in-submit" onclick={on_sign_in}
                        disabled={*busy != Busy::Idle}>
                    { if *busy == Busy::SigningIn { "Signing in…" } else { "Sign in" } }
                </button>
                <button type="submit" hidden=true aria-hidden="true" tabindex="-1"></button>
            </form>
        </div>
    }
}

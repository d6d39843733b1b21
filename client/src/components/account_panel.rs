//! "Your account": set or change the password (so you can sign in from
//! another browser) and sign out everywhere. Changing a password takes the
//! current one too; the server then signs out every other session. The
//! theme (light, dark, the system's) is chosen here, for this browser.

use shared::validate::Password;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api;
use crate::theme::{self, Theme};

#[derive(Properties, PartialEq)]
pub struct AccountPanelProps {
    pub has_password: bool,
    pub on_signed_out: Callback<()>,
}

#[derive(Clone, PartialEq)]
enum Feedback {
    None,
    Saving,
    Saved,
    Error(String),
}

#[component]
pub fn AccountPanel(props: &AccountPanelProps) -> Html {
    let password = use_state(String::new);
    let current = use_state(String::new);
    let feedback = use_state(|| Feedback::None);
    let has_password = use_state(|| props.has_password);
    let theme = use_state(theme::saved);
    let on_theme = {
        let theme = theme.clone();
        Callback::from(move |event: Event| {
            let select: web_sys::HtmlSelectElement = event.target_unchecked_into();
            let chosen = Theme::parse(&select.value());
            theme::choose(chosen);
            theme.set(chosen);
        })
    };

    let on_input = {
        let password = password.clone();
        let feedback = feedback.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            password.set(input.value());
            feedback.set(Feedback::None);
        })
    };
    let on_current_input = {
        let current = current.clone();
        let feedback = feedback.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            current.set(input.value());
            feedback.set(Feedback::None);
        })
    };
    let save = {
        let password = password.clone();
        let current = current.clone();
        let feedback = feedback.clone();
        let has_password = has_password.clone();
        move || {
            if *feedback == Feedback::Saving {
                return;
            }
            if *has_password && current.is_empty() {
                feedback.set(Feedback::Error(
                    "Enter your current password to change it.".into(),
                ));
                return;
            }
            if let Err(problem) = Password::parse(&password) {
                feedback.set(Feedback::Error(problem.to_string()));
                return;
            }
            feedback.set(Feedback::Saving);
            let secret = (*password).clone();
            let old = has_password.then(|| (*current).clone());
            let password = password.clone();
            let current = current.clone();
            let feedback = feedback.clone();
            let has_password = has_password.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match api::set_password(&secret, old.as_deref()).await {
                    Ok(()) => {
                        password.set(String::new());
                        current.set(String::new());
                        has_password.set(true);
                        feedback.set(Feedback::Saved);
                    }
                    Err(message) => feedback.set(Feedback::Error(message)),
                }
            });
        }
    };
    let on_submit = {
        let save = save.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            save();
        })
    };
    let on_sign_out_everywhere = {
        let on_signed_out = props.on_signed_out.clone();
        Callback::from(move |_: MouseEvent| {
            let on_signed_out = on_signed_out.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = api::sign_out_everywhere().await;
                on_signed_out.emit(());
            });
        })
    };

    html! {
        <section class="account" aria-label="Your account">
            <h2>{ "Your account" }</h2>
            <form onsubmit={on_submit}>
                if *has_password {
                    <label for="current-password">{ "Current password" }</label>
                    <input id="current-password" data-testid="current-password-input" type="password"
                           autocomplete="current-password" value={(*current).clone()}
                           oninput={on_current_input} />
                }
                <label for="new-password">
                    { if *has_password { "New password (your other browsers will be signed out)" } else { "Set a password to sign in from other browsers" } }
                </label>
                <input id="new-password" data-testid="password-input" type="password"
                       autocomplete="new-password" placeholder="At least 8 characters"
                       value={(*password).clone()} oninput={on_input} />
                <button type="submit" data-testid="set-password" class="primary"
                        disabled={*feedback == Feedback::Saving}>
                    { if *has_password { "Change password" } else { "Set password" } }
                </button>
            </form>
            { match &*feedback {
                Feedback::Saved => html! { <p class="form-ok" role="status" data-testid="password-saved">{ "Password saved." }</p> },
                Feedback::Error(message) => html! { <p class="form-error" role="alert" data-testid="password-error">{ message }</p> },
                _ => html! {},
            } }
            <label class="theme-setting">{ "Theme " }
                <select data-testid="theme-select" aria-label="Theme" onchange={on_theme}>
                    { for Theme::ALL.into_iter().map(|choice| html! {
                        <option value={choice.as_str()} selected={choice == *theme}>{ choice.label() }</option>
                    }) }
                </select>
            </label>
            <button class="link neutral" data-testid="enable-notifications"
                    onclick={Callback::from(|_: MouseEvent| crate::browser::request_notifications())}>
                { "Enable desktop notifications" }
            </button>
            <button class="link" data-testid="sign-out-everywhere" onclick={on_sign_out_everywhere}>
                { "Sign out everywhere" }
            </button>
        </section>
    }
}

//! The root: asks the server who is signed in, then shows the username prompt
//! or the chat.

use shared::api::SessionInfo;
use yew::prelude::*;

use crate::api;
use crate::pages::chat::ChatPage;
use crate::pages::choose_name::ChooseName;

#[derive(Clone, PartialEq)]
enum Auth {
    Checking,
    /// The server could not be reached; retried on click.
    Unreachable(String),
    SignedOut,
    SignedIn(SessionInfo),
}

#[component]
pub fn App() -> Html {
    let auth = use_state(|| Auth::Checking);
    let check = {
        let auth = auth.clone();
        Callback::from(move |()| {
            let auth = auth.clone();
            auth.set(Auth::Checking);
            wasm_bindgen_futures::spawn_local(async move {
                auth.set(match api::current_session().await {
                    Ok(Some(session)) => Auth::SignedIn(session),
                    Ok(None) => Auth::SignedOut,
                    Err(message) => Auth::Unreachable(message),
                });
            });
        })
    };
    {
        let check = check.clone();
        use_effect_with((), move |_| check.emit(()));
    }
    let on_signed_in = {
        let auth = auth.clone();
        Callback::from(move |session: SessionInfo| auth.set(Auth::SignedIn(session)))
    };
    let on_signed_out = {
        let auth = auth.clone();
        Callback::from(move |()| auth.set(Auth::SignedOut))
    };
    match &*auth {
        Auth::Checking => html! { <div class="gate"><p class="loading">{ "Loading…" }</p></div> },
        Auth::Unreachable(message) => {
            let retry = check.reform(|_: MouseEvent| ());
            html! {
                <div class="gate">
                    <div class="card">
                        <p class="form-error" role="alert">{ message }</p>
                        <button onclick={retry}>{ "Try again" }</button>
                    </div>
                </div>
            }
        }
        Auth::SignedOut => html! { <ChooseName on_signed_in={on_signed_in} /> },
        Auth::SignedIn(session) => html! {
            <ChatPage key={session.user.id.0.clone()} me={session.user.clone()}
                      has_password={session.has_password} on_signed_out={on_signed_out} />
        },
    }
}

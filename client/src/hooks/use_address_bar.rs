//! The address bar names the conversation (and, in a link to a message,
//! the message): it is read on load, and the back and forward buttons
//! switch conversations. (Writing it as conversations
//! change is `use_open_conversation`'s.)

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use yew::prelude::*;

use crate::browser::current_path;
use crate::state::{Action, ChatState, Route};

#[hook]
pub fn use_address_bar(state: &UseReducerHandle<ChatState>) {
    {
        let dispatcher = state.dispatcher();
        use_effect_with((), move |_| {
            let path = current_path();
            dispatcher.dispatch(Action::Navigate(Route::parse(&path)));
            dispatcher.dispatch(Action::WantMessage(Route::message(&path)));
            dispatcher.dispatch(Action::OpenAdmin(Route::is_admin(&path)));
        });
    }
    // Back and forward buttons switch conversations.
    let dispatcher = state.dispatcher();
    use_effect_with((), move |_| {
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let path = current_path();
            dispatcher.dispatch(Action::Navigate(Route::parse(&path)));
            dispatcher.dispatch(Action::WantMessage(Route::message(&path)));
            dispatcher.dispatch(Action::OpenAdmin(Route::is_admin(&path)));
        });
        let window = web_sys::window();
        if let Some(window) = &window {
            let _ = window
                .add_event_listener_with_callback("popstate", listener.as_ref().unchecked_ref());
        }
        move || {
            if let Some(window) = window {
                let _ = window.remove_event_listener_with_callback(
                    "popstate",
                    listener.as_ref().unchecked_ref(),
                );
            }
        }
    });
}

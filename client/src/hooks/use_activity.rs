//! The page's clock and the reader's activity: once a second, typing
//! notices that ran out are dropped, and after five idle minutes the server
//! hears that this person is away (and back on the next key or pointer move).

use std::cell::Cell;
use std::rc::Rc;

use gloo_timers::callback::Interval;
use shared::ClientMsg;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use yew::prelude::*;

use super::use_chat_socket::ChatSocket;
use crate::browser::now_millis;
use crate::state::{Action, ChatState};

/// Idle this long (ms) and you show as away.
const AWAY_AFTER_MS: i64 = 5 * 60 * 1000;
/// What counts as the user being active (and so not away).
const ACTIVITY_EVENTS: [&str; 5] = [
    "keydown",
    "pointerdown",
    "pointermove",
    "focus",
    "visibilitychange",
];

#[hook]
pub fn use_activity(
    state: &UseReducerHandle<ChatState>,
    socket: &ChatSocket,
    manual_away: Rc<Cell<bool>>,
) {
    // Once a second: drop expired typing notices, and report idleness.
    // The ticker outlives this render: it reads whether anyone types now.
    let anyone_typing = use_mut_ref(|| false);
    *anyone_typing.borrow_mut() = !state.typing.is_empty();
    let dispatcher = state.dispatcher();
    let socket = socket.clone();
    use_effect_with((), move |_| {
        let last_activity = Rc::new(Cell::new(now_millis()));
        let away = Rc::new(Cell::new(false));
        let mark_active = {
            let (last_activity, away, socket) =
                (last_activity.clone(), away.clone(), socket.clone());
            let manual_away = manual_away.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                last_activity.set(now_millis());
                // Away by `/away` stays until `/away` again.
                if !manual_away.get() && away.replace(false) {
                    socket.send(&ClientMsg::SetAway { away: false });
                }
            })
        };
        let document = web_sys::window().and_then(|w| w.document());
        if let Some(document) = &document {
            for event in ACTIVITY_EVENTS {
                let _ = document
                    .add_event_listener_with_callback(event, mark_active.as_ref().unchecked_ref());
            }
        }
        let ticker = Interval::new(1_000, move || {
            let now = now_millis();
            if *anyone_typing.borrow() {
                dispatcher.dispatch(Action::Tick { now });
            }
            if !away.get()
                && !manual_away.get()
                && now - last_activity.get() > AWAY_AFTER_MS
                && socket.send(&ClientMsg::SetAway { away: true })
            {
                away.set(true);
            }
        });
        move || {
            drop(ticker);
            if let Some(document) = document {
                for event in ACTIVITY_EVENTS {
                    let _ = document.remove_event_listener_with_callback(
                        event,
                        mark_active.as_ref().unchecked_ref(),
                    );
                }
            }
        }
    });
}

//! Keyboard shortcuts on the chat page: Ctrl+K (Cmd+K on macOS) opens the
//! quick switcher, Alt+Up and Alt+Down move to the previous and next
//! conversation, `?` (outside a text field) shows the shortcut sheet.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use yew::prelude::*;

/// What a key press asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    QuickSwitcher,
    Previous,
    Next,
    Sheet,
}

/// Whether the key event happened in a field one types into.
fn typing_in_field(event: &web_sys::KeyboardEvent) -> bool {
    event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|element| {
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || element.get_attribute("contenteditable").is_some()
        })
}

/// The shortcut a key press is, if any.
fn shortcut(event: &web_sys::KeyboardEvent) -> Option<Shortcut> {
    let key = event.key();
    if (event.ctrl_key() || event.meta_key()) && key.eq_ignore_ascii_case("k") {
        return Some(Shortcut::QuickSwitcher);
    }
    if event.alt_key() && key == "ArrowUp" {
        return Some(Shortcut::Previous);
    }
    if event.alt_key() && key == "ArrowDown" {
        return Some(Shortcut::Next);
    }
    if key == "?" && !event.ctrl_key() && !event.meta_key() && !typing_in_field(event) {
        return Some(Shortcut::Sheet);
    }
    None
}

#[hook]
pub fn use_shortcuts(on_shortcut: Callback<Shortcut>) {
    use_effect_with((), move |_| {
        let listener = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(
            move |event: web_sys::KeyboardEvent| {
                if let Some(found) = shortcut(&event) {
                    event.prevent_default();
                    on_shortcut.emit(found);
                }
            },
        );
        let window = web_sys::window();
        if let Some(window) = &window {
            let _ = window
                .add_event_listener_with_callback("keydown", listener.as_ref().unchecked_ref());
        }
        move || {
            if let Some(window) = window {
                let _ = window.remove_event_listener_with_callback(
                    "keydown",
                    listener.as_ref().unchecked_ref(),
                );
            }
        }
    });
}

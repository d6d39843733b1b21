//! The keyboard shortcut sheet (`?`): what each shortcut does. Esc or the
//! button closes it.

use yew::prelude::*;

const SHORTCUTS: [(&str, &str); 7] = [
    ("Ctrl+K (⌘K on macOS)", "Jump to a channel or person"),
    ("Alt+↑ / Alt+↓", "Previous / next conversation"),
    ("Enter", "Send the message"),
    ("Shift+Enter", "New line in the message"),
    ("↑ in an empty message box", "Edit your last message"),
    (
        "Esc",
        "Close a dialog, a panel or the thread; cancel an edit",
    ),
    ("?", "This sheet"),
];

#[derive(Properties, PartialEq)]
pub struct ShortcutSheetProps {
    pub on_close: Callback<()>,
}

#[component]
pub fn ShortcutSheet(props: &ShortcutSheetProps) -> Html {
    let button = use_node_ref();
    {
        let button = button.clone();
        use_effect_with((), move |_| {
            if let Some(button) = button.cast::<web_sys::HtmlElement>() {
                let _ = button.focus();
            }
        });
    }
    let on_keydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |event: KeyboardEvent| {
            if matches!(event.key().as_str(), "Escape" | "Tab") {
                event.prevent_default();
            }
            if event.key() == "Escape" {
                on_close.emit(());
            }
        })
    };
    html! {
        <div class="modal-backdrop" onclick={props.on_close.reform(|_: MouseEvent| ())}>
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title"
                 data-testid="shortcut-sheet" onclick={|e: MouseEvent| e.stop_propagation()}
                 onkeydown={on_keydown}>
                <h2 id="shortcuts-title">{ "Keyboard shortcuts" }</h2>
                <dl class="shortcuts">
                    { for SHORTCUTS.iter().map(|(keys, what)| html! {
                        <>
                            <dt><kbd>{ *keys }</kbd></dt>
                            <dd>{ *what }</dd>
                        </>
                    }) }
                </dl>
                <div class="modal-actions">
                    <button ref={button} class="primary" onclick={props.on_close.reform(|_: MouseEvent| ())}>
                        { "Close" }
                    </button>
                </div>
            </div>
        </div>
    }
}

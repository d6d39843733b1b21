//! The message input: Enter sends, Shift+Enter adds a line, the field clears
//! and keeps focus after sending, and empty input sends nothing (unless files
//! wait to be posted: the text is then their optional caption). Files come
//! from the attach button or pasting; the chat page uploads them.

use shared::limits::MAX_TEXT_CHARS;
use shared::validate::{MessageText, MessageTextError};
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::emoji_picker::EmojiPicker;
use crate::uploads::files_of;
use crate::{commands, emoji};

/// Longest the field grows before it scrolls, in pixels.
const MAX_INPUT_HEIGHT: i32 = 160;

#[derive(Properties, PartialEq)]
pub struct ComposerProps {
    pub on_send: Callback<String>,
    pub placeholder: String,
    /// The unsent draft this conversation had.
    #[prop_or_default]
    pub initial_draft: String,
    /// Every change of the draft (to keep it per conversation).
    #[prop_or_default]
    pub on_draft: Callback<String>,
    /// The user typed something (for "… is typing").
    #[prop_or_default]
    pub on_typing: Callback<()>,
    /// Up arrow in an empty composer: edit your last message.
    #[prop_or_default]
    pub on_edit_last: Callback<()>,
    /// Files picked or pasted.
    #[prop_or_default]
    pub on_files: Callback<Vec<File>>,
    /// Files wait to be posted, so an empty text still sends.
    #[prop_or_default]
    pub has_files: bool,
    /// Whether files can be attached here.
    #[prop_or(true)]
    pub files: bool,
    /// The field's and the send button's `data-testid`.
    #[prop_or(AttrValue::Static("message-input"))]
    pub input_testid: AttrValue,
    #[prop_or(AttrValue::Static("send-button"))]
    pub send_testid: AttrValue,
    /// The field's accessible name.
    #[prop_or(AttrValue::Static("Message"))]
    pub label: AttrValue,
    /// Slash commands are suggested as `/` is typed.
    #[prop_or(true)]
    pub commands: bool,
}

#[component]
pub fn Composer(props: &ComposerProps) -> Html {
    let input_ref = use_node_ref();
    let draft = use_state({
        let initial = props.initial_draft.clone();
        move || initial
    });
    let picker_open = use_state(|| false);
    let file_input_ref = use_node_ref();
    // The emoji table (for `:shortcode:`s and the picker) comes once the
    // conversation is up, off the first load's path.
    use_effect_with((), |_| {
        let prefetch = gloo_timers::callback::Timeout::new(1_000, emoji::prefetch);
        move || drop(prefetch)
    });
    let chars = draft.trim().chars().count();
    let too_long = chars > MAX_TEXT_CHARS;

    let submit = {
        let draft = draft.clone();
        let input_ref = input_ref.clone();
        let on_send = props.on_send.clone();
        let on_draft = props.on_draft.clone();
        let has_files = props.has_files;
        move || {
            match MessageText::parse(&emoji::replace_shortcodes(&draft)) {
                Ok(text) => {
                    on_send.emit(text.into_string());
                    draft.set(String::new());
                    on_draft.emit(String::new());
                }
                Err(MessageTextError::Empty) => {
                    if has_files {
                        on_send.emit(String::new());
                    }
                    draft.set(String::new());
                    on_draft.emit(String::new());
                }
                Err(MessageTextError::TooLong { .. }) => {}
            }
            if let Some(input) = input_ref.cast::<HtmlTextAreaElement>() {
                let _ = input.focus();
                let _ = input.style().set_property("height", "auto");
            }
        }
    };

    let on_input = {
        let draft = draft.clone();
        let on_draft = props.on_draft.clone();
        let on_typing = props.on_typing.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlTextAreaElement = event.target_unchecked_into();
            let style = input.style();
            let _ = style.set_property("height", "auto");
            let height = input.scroll_height().min(MAX_INPUT_HEIGHT);
            let _ = style.set_property("height", &format!("{height}px"));
            let mut value = input.value();
            // `:smile:` becomes 😄 as soon as the closing colon is typed.
            if value.ends_with(':') {
                emoji::prefetch();
                let replaced = emoji::replace_shortcodes(&value);
                if replaced != value {
                    input.set_value(&replaced);
                    value = replaced;
                }
            }
            if !value.trim().is_empty() {
                on_typing.emit(());
            }
            on_draft.emit(value.clone());
            draft.set(value);
        })
    };
    let suggested = if props.commands {
        commands::suggestions(&draft)
    } else {
        Vec::new()
    };
    // Completes a command's name in the field, ready for its argument.
    let complete = {
        let (draft, input_ref, on_draft) =
            (draft.clone(), input_ref.clone(), props.on_draft.clone());
        Callback::from(move |name: &'static str| {
            let value = format!("/{name} ");
            if let Some(input) = input_ref.cast::<HtmlTextAreaElement>() {
                input.set_value(&value);
                let _ = input.focus();
            }
            on_draft.emit(value.clone());
            draft.set(value);
        })
    };
    let on_keydown = {
        let submit = submit.clone();
        let draft = draft.clone();
        let on_edit_last = props.on_edit_last.clone();
        let (complete, first) = (complete.clone(), suggested.first().map(|c| c.0));
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Tab"
                && !event.shift_key()
                && let Some(name) = first
            {
                event.prevent_default();
                complete.emit(name);
                return;
            }
            if event.key() == "ArrowUp" && draft.is_empty() {
                event.prevent_default();
                on_edit_last.emit(());
                return;
            }
            if event.key() == "Enter" && !event.shift_key() && !event.is_composing() {
                event.prevent_default();
                submit();
            }
        })
    };
    let on_pick = {
        let draft = draft.clone();
        let input_ref = input_ref.clone();
        let picker_open = picker_open.clone();
        let on_draft = props.on_draft.clone();
        Callback::from(move |picked: String| {
            let Some(input) = input_ref.cast::<HtmlTextAreaElement>() else {
                return;
            };
            let value = input.value();
            // The caret is in UTF-16 units; find the matching byte offset.
            let caret16 = input.selection_start().ok().flatten().unwrap_or(u32::MAX) as usize;
            let mut units = 0;
            let mut at = value.len();
            for (index, c) in value.char_indices() {
                if units >= caret16 {
                    at = index;
                    break;
                }
                units += c.len_utf16();
            }
            let updated = format!("{}{picked}{}", &value[..at], &value[at..]);
            let caret = (value[..at].encode_utf16().count() + picked.encode_utf16().count()) as u32;
            input.set_value(&updated);
            let _ = input.focus();
            let _ = input.set_selection_range(caret, caret);
            on_draft.emit(updated.clone());
            draft.set(updated);
            picker_open.set(false);
        })
    };
    let toggle_picker = {
        let picker_open = picker_open.clone();
        Callback::from(move |_: MouseEvent| picker_open.set(!*picker_open))
    };
    let close_picker = {
        let picker_open = picker_open.clone();
        Callback::from(move |()| picker_open.set(false))
    };
    let open_files = {
        let file_input_ref = file_input_ref.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(input) = file_input_ref.cast::<HtmlInputElement>() {
                input.click();
            }
        })
    };
    let on_file_input = {
        let on_files = props.on_files.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            let files = files_of(input.files());
            // Cleared, so choosing the same file again is a change too.
            input.set_value("");
            if !files.is_empty() {
                on_files.emit(files);
            }
        })
    };
    let on_paste = {
        let on_files = props.on_files.clone();
        Callback::from(move |event: Event| {
            let Some(event) = event.dyn_ref::<web_sys::ClipboardEvent>() else {
                return;
            };
            let files = files_of(event.clipboard_data().and_then(|data| data.files()));
            if !files.is_empty() {
                event.prevent_default();
                on_files.emit(files);
            }
        })
    };
    let on_submit = Callback::from(move |event: SubmitEvent| {
        event.prevent_default();
        submit();
    });

    html! {
        <form class="composer" onsubmit={on_submit}>
            if !suggested.is_empty() {
                <ul class="command-suggestions" data-testid="command-suggestions" role="listbox"
                    aria-label="Commands">
                    { for suggested.iter().map(|(name, argument, what)| {
                        let name: &'static str = name;
                        let pick = complete.reform(move |_: MouseEvent| name);
                        html! {
                            <li role="option" aria-selected="false" data-testid="command-option"
                                data-command={name} onclick={pick}>
                                <span class="command-name">{ format!("/{name}") }</span>
                                if !argument.is_empty() {
                                    <span class="command-argument">{ *argument }</span>
                                }
                                <span class="command-what">{ *what }</span>
                            </li>
                        }
                    }) }
                </ul>
            }
            <textarea ref={input_ref} data-testid={props.input_testid.clone()} rows="1" autofocus=true
                placeholder={props.placeholder.clone()} aria-label={props.label.clone()}
                value={(*draft).clone()} oninput={on_input} onkeydown={on_keydown} onpaste={on_paste} />
            if props.files {
            <button type="button" class="attach-button" data-testid="attach-button" onclick={open_files}
                    aria-label="Attach files" title="Attach files (or drop them here, or paste)">
                <svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor"
                     stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
                    <path d="M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48" />
                </svg>
            </button>
            <input ref={file_input_ref} type="file" multiple=true class="file-input" data-testid="file-input"
                   tabindex="-1" aria-hidden="true" onchange={on_file_input} />
            }
            <button type="button" class="emoji-button" data-testid="emoji-button" onclick={toggle_picker}
                    aria-label="Emoji" aria-expanded={(*picker_open).to_string()} title="Emoji">
                { "☺" }
            </button>
            if *picker_open {
                <EmojiPicker on_pick={on_pick} on_close={close_picker} />
            }
            <button type="submit" data-testid={props.send_testid.clone()} class="send"
                    disabled={too_long} aria-label="Send">
                { "Send" }
            </button>
            if too_long {
                <div class="composer-hint error" role="alert">
                    { format!("{chars} / {MAX_TEXT_CHARS} characters: too long to send") }
                </div>
            } else if chars > MAX_TEXT_CHARS - 200 {
                <div class="composer-hint">{ format!("{chars} / {MAX_TEXT_CHARS}") }</div>
            }
        </form>
    }
}

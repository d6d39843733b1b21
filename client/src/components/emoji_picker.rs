//! The emoji picker: the server's custom emoji and the recently used first,
//! then categories, search by name, skin tones, and a form to add a custom
//! emoji. Picking reports the emoji (a custom one as `:name:`); the
//! composer inserts it at the cursor. The table arrives with the first
//! picker (or shortly after start-up); until then the recently used and
//! custom ones show.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::custom_emoji::{self, EmojiVersion};
use crate::emoji;

#[derive(Properties, PartialEq)]
pub struct EmojiPickerProps {
    pub on_pick: Callback<String>,
    pub on_close: Callback<()>,
}

/// A sample of each skin tone: the default first, then light to dark.
const TONE_SAMPLES: [&str; emoji::TONES + 1] = ["✋", "✋🏻", "✋🏼", "✋🏽", "✋🏾", "✋🏿"];

#[component]
pub fn EmojiPicker(props: &EmojiPickerProps) -> Html {
    let query = use_state(String::new);
    let group = use_state(|| None::<usize>);
    let tone = use_state(|| 0usize);
    let recent = use_memo((), |_| emoji::recent());
    let table = use_state(emoji::table);
    let _ = use_context::<EmojiVersion>();
    let custom = custom_emoji::all();
    {
        let table = table.clone();
        use_effect_with((), move |_| {
            if table.is_none() {
                emoji::with_table(move |loaded| table.set(Some(loaded)));
            }
        });
    }
    let search_ref = use_node_ref();
    {
        let search_ref = search_ref.clone();
        use_effect_with((), move |_| {
            if let Some(input) = search_ref.cast::<HtmlInputElement>() {
                let _ = input.focus();
            }
        });
    }
    let on_search = {
        let query = query.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            query.set(input.value());
        })
    };
    let on_keydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                on_close.emit(());
            }
        })
    };
    let option = |text: String, title: String| {
        let on_pick = props.on_pick.clone();
        let picked = text.clone();
        let onclick = Callback::from(move |event: MouseEvent| {
            event.prevent_default();
            emoji::remember(&picked);
            on_pick.emit(picked.clone());
        });
        html! {
            <button type="button" class="emoji-option" data-testid="emoji-option" data-emoji={text.clone()}
                    title={title} {onclick}>{ custom_emoji::glyph(&text) }</button>
        }
    };
    let custom_option = |e: &shared::api::CustomEmoji| {
        let code = format!(":{}:", e.name);
        option(code.clone(), code)
    };
    let shown: Html = if !query.trim().is_empty() {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let found_custom: Vec<&shared::api::CustomEmoji> = custom
            .iter()
            .filter(|e| words.iter().all(|w| e.name.contains(w.as_str())))
            .collect();
        let found = table.as_ref().map(|t| t.search(&query)).unwrap_or_default();
        if found.is_empty() && found_custom.is_empty() {
            html! { <p class="empty">{ "No emoji found." }</p> }
        } else {
            found_custom
                .into_iter()
                .map(custom_option)
                .chain(
                    found
                        .into_iter()
                        .map(|e| option(e.with_tone(*tone).to_owned(), e.name().to_owned())),
                )
                .collect()
        }
    } else {
        let current = group.unwrap_or(0);
        let custom_part: Html = if group.is_none() && !custom.is_empty() {
            html! {
                <>
                    <h3>{ "Custom" }</h3>
                    { for custom.iter().map(custom_option) }
                </>
            }
        } else {
            html! {}
        };
        let recent_part: Html = if group.is_none() && !recent.is_empty() {
            html! {
                <>
                    <h3>{ "Recently used" }</h3>
                    { for recent.iter().map(|e| option(e.clone(), e.clone())) }
                    <h3>{ emoji::GROUPS[0] }</h3>
                </>
            }
        } else {
            html! {}
        };
        html! {
            <>
                { custom_part }
                { recent_part }
                { match &*table {
                    Some(table) => table
                        .group(current)
                        .map(|e| option(e.with_tone(*tone).to_owned(), e.name().to_owned()))
                        .collect::<Html>(),
                    None => html! { <p class="empty" aria-live="polite">{ "Loading emoji…" }</p> },
                } }
            </>
        }
    };
    html! {
        <div class="emoji-picker" data-testid="emoji-picker" onkeydown={on_keydown} role="dialog"
             aria-label="Emoji">
            <div class="emoji-top">
                <input ref={search_ref} data-testid="emoji-search" type="search" placeholder="Search emoji"
                       value={(*query).clone()} oninput={on_search} />
                <div class="tones" role="radiogroup" aria-label="Skin tone">
                    { for TONE_SAMPLES.iter().enumerate().map(|(value, sample)| {
                        let tone_state = tone.clone();
                        html! {
                            <button type="button" data-testid="skin-tone"
                                    class={classes!("tone", (*tone == value).then_some("active"))}
                                    aria-pressed={(*tone == value).to_string()}
                                    onclick={Callback::from(move |_: MouseEvent| tone_state.set(value))}>
                                { *sample }
                            </button>
                        }
                    }) }
                </div>
            </div>
            <div class="emoji-groups">
                { for emoji::GROUPS.iter().enumerate().map(|(value, label)| {
                    let group_state = group.clone();
                    let query_state = query.clone();
                    html! {
                        <button type="button" class={classes!((*group == Some(value)).then_some("active"))}
                                onclick={Callback::from(move |_: MouseEvent| {
                                    query_state.set(String::new());
                                    group_state.set(Some(value));
                                })}>
                            { *label }
                        </button>
                    }
                }) }
            </div>
            <div class="emoji-grid">{ shown }</div>
            <AddCustomEmoji />
        </div>
    }
}

/// The form that adds a custom emoji: a name and an image.
#[component]
fn AddCustomEmoji() -> Html {
    let name = use_state(String::new);
    let file_ref = use_node_ref();
    let status = use_state(|| None::<Result<String, String>>);
    let busy = use_state(|| false);
    let on_name = {
        let name = name.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            name.set(input.value());
        })
    };
    let on_submit = {
        let (name, file_ref, status, busy) =
            (name.clone(), file_ref.clone(), status.clone(), busy.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let input = file_ref.cast::<HtmlInputElement>();
            let Some(file) = input
                .as_ref()
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
            else {
                status.set(Some(Err("Choose an image (PNG, GIF or WebP).".into())));
                return;
            };
            let (name, status, busy, input) = (name.clone(), status.clone(), busy.clone(), input);
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = custom_emoji::add(&name, file).await;
                busy.set(false);
                status.set(Some(result.map(|added| {
                    name.set(String::new());
                    if let Some(input) = input {
                        input.set_value("");
                    }
                    format!("Added :{}:", added.name)
                })));
            });
        })
    };
    html! {
        <form class="custom-emoji-form" onsubmit={on_submit} aria-label="Add a custom emoji">
            <div class="custom-emoji-fields">
                <input data-testid="custom-emoji-name" placeholder="name, e.g. partyparrot" maxlength="34"
                       aria-label="Emoji name" value={(*name).clone()} oninput={on_name} />
                <input type="file" data-testid="custom-emoji-file" ref={file_ref}
                       accept="image/png,image/gif,image/webp" aria-label="Emoji image" />
                <button type="submit" class="small primary" data-testid="custom-emoji-submit" disabled={*busy}>
                    { "Add emoji" }
                </button>
            </div>
            { match &*status {
                Some(Ok(done)) => html! { <p class="hint" role="status" data-testid="custom-emoji-added">{ done }</p> },
                Some(Err(problem)) => html! { <p class="form-error" role="alert" data-testid="custom-emoji-error">{ problem }</p> },
                None => html! {},
            } }
        </form>
    }
}

//! The emoji picker: categories, search by name, skin tones, recently used
//! first. Picking reports the emoji; the composer inserts it at the cursor.
//! The table arrives with the first picker (or shortly after start-up); until
//! then the recently used ones show.

use web_sys::HtmlInputElement;
use yew::prelude::*;

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
                    title={title} {onclick}>{ text }</button>
        }
    };
    let shown: Html = if let (false, Some(table)) = (query.trim().is_empty(), &*table) {
        let found = table.search(&query);
        if found.is_empty() {
            html! { <p class="empty">{ "No emoji found." }</p> }
        } else {
            found
                .into_iter()
                .map(|e| option(e.with_tone(*tone).to_owned(), e.name().to_owned()))
                .collect()
        }
    } else {
        let current = group.unwrap_or(0);
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
        </div>
    }
}

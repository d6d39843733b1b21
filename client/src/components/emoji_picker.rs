//! The emoji picker: categories, search by name, skin tones, recently used
//! first. Picking reports the emoji; the composer inserts it at the cursor.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::emoji;

#[derive(Properties, PartialEq)]
pub struct EmojiPickerProps {
    pub on_pick: Callback<String>,
    pub on_close: Callback<()>,
}

const TONES: [(emojis::SkinTone, &str); 6] = [
    (emojis::SkinTone::Default, "✋"),
    (emojis::SkinTone::Light, "✋🏻"),
    (emojis::SkinTone::MediumLight, "✋🏼"),
    (emojis::SkinTone::Medium, "✋🏽"),
    (emojis::SkinTone::MediumDark, "✋🏾"),
    (emojis::SkinTone::Dark, "✋🏿"),
];

#[component]
pub fn EmojiPicker(props: &EmojiPickerProps) -> Html {
    let query = use_state(String::new);
    let group = use_state(|| None::<emojis::Group>);
    let tone = use_state(|| emojis::SkinTone::Default);
    let recent = use_memo((), |_| emoji::recent());
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
    let shown: Html = if !query.trim().is_empty() {
        let found = emoji::search(&query);
        if found.is_empty() {
            html! { <p class="empty">{ "No emoji found." }</p> }
        } else {
            found
                .into_iter()
                .map(|e| option(emoji::with_tone(e, *tone).to_owned(), e.name().to_owned()))
                .collect()
        }
    } else {
        let current = group.unwrap_or(emojis::Group::SmileysAndEmotion);
        let recent_part: Html = if group.is_none() && !recent.is_empty() {
            html! {
                <>
                    <h3>{ "Recently used" }</h3>
                    { for recent.iter().map(|e| option(e.clone(), e.clone())) }
                    <h3>{ "Smileys" }</h3>
                </>
            }
        } else {
            html! {}
        };
        html! {
            <>
                { recent_part }
                { for current.emojis().map(|e| option(emoji::with_tone(e, *tone).to_owned(), e.name().to_owned())) }
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
                    { for TONES.iter().map(|(value, sample)| {
                        let tone_state = tone.clone();
                        let value = *value;
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
                { for emoji::groups().into_iter().map(|(value, label)| {
                    let group_state = group.clone();
                    let query_state = query.clone();
                    html! {
                        <button type="button" class={classes!((*group == Some(value)).then_some("active"))}
                                onclick={Callback::from(move |_: MouseEvent| {
                                    query_state.set(String::new());
                                    group_state.set(Some(value));
                                })}>
                            { label }
                        </button>
                    }
                }) }
            </div>
            <div class="emoji-grid">{ shown }</div>
        </div>
    }
}

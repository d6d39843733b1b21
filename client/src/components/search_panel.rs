//! Search: the box in the top bar (asks as the person types, a moment
//! after they stop) and the panel of results, newest first, each with its
//! conversation, author and time and the matched words marked. A result
//! opens its conversation at that message.

use std::rc::Rc;

use gloo_timers::callback::Timeout;
use shared::{ChannelId, ChatMessage, Seq};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::browser::{day_and_time, full_time};
use crate::markdown;
use crate::state::{Conversation, SearchState};

/// How long after the last keystroke the box asks (ms).
const TYPING_PAUSE_MS: u32 = 250;

#[derive(Properties, PartialEq)]
pub struct SearchBoxProps {
    /// Asks for the first page of a query (an empty one closes the panel).
    pub on_search: Callback<String>,
}

#[component]
pub fn SearchBox(props: &SearchBoxProps) -> Html {
    let timer = use_mut_ref(|| None::<Timeout>);
    let oninput = {
        let on_search = props.on_search.clone();
        let timer = timer.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            let on_search = on_search.clone();
            let query = input.value();
            *timer.borrow_mut() =
                Some(Timeout::new(TYPING_PAUSE_MS, move || on_search.emit(query)));
        })
    };
    let onkeydown = {
        let on_search = props.on_search.clone();
        Callback::from(move |event: KeyboardEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            match event.key().as_str() {
                "Enter" => {
                    event.prevent_default();
                    timer.borrow_mut().take();
                    // Enter means the last word is whole.
                    on_search.emit(format!("{} ", input.value().trim_end()));
                }
                "Escape" => {
                    timer.borrow_mut().take();
                    input.set_value("");
                    on_search.emit(String::new());
                }
                _ => {}
            }
        })
    };
    html! {
        <div class="search-box" role="search">
            <input type="search" data-testid="search-input" placeholder="Search messages"
                   aria-label="Search messages" autocomplete="off" maxlength="256"
                   {oninput} {onkeydown} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SearchPanelProps {
    pub search: SearchState,
    pub conversations: Vec<Rc<Conversation>>,
    pub reader: Rc<shared::UserInfo>,
    pub on_open: Callback<(ChannelId, Seq)>,
    pub on_more: Callback<()>,
    pub on_close: Callback<()>,
}

#[component]
pub fn SearchPanel(props: &SearchPanelProps) -> Html {
    let search = &props.search;
    let title_of = |channel: &ChannelId| {
        props
            .conversations
            .iter()
            .find(|c| &c.info.id == channel)
            .map(|c| (c.title(), c.info.name.clone()))
            .unwrap_or_else(|| ("?".into(), String::new()))
    };
    let on_close = props.on_close.reform(|_: MouseEvent| ());
    let on_more = props.on_more.reform(|_: MouseEvent| ());
    html! {
        <aside class="search-panel" data-testid="search-panel" aria-label="Search results"
               data-query={search.query.clone()} aria-busy={search.loading.to_string()}>
            <div class="panel-head">
                <h2>{ "Search" }</h2>
                <button class="close" data-testid="close-search" aria-label="Close search"
                        onclick={on_close}>{ "×" }</button>
            </div>
            <p class="search-help">
                { "Filters: " }<code>{ "in:#channel" }</code>{ " " }<code>{ "from:@name" }</code>{ " " }
                <code>{ "has:file" }</code>{ " " }<code>{ "has:link" }</code>{ " " }
                <code>{ "before:2026-12-01" }</code>{ " " }<code>{ "after:…" }</code>{ ", " }
                <code>{ "\"exact phrase\"" }</code>
            </p>
            if let Some(error) = &search.error {
                <p class="search-error" role="alert" data-testid="search-error">{ error }</p>
            } else if search.answered && search.results.is_empty() {
                <p class="search-empty" data-testid="search-empty">{ "No messages found." }</p>
            }
            <ol class="search-results" aria-live="polite">
                { for search.results.iter().map(|message| {
                    let (title, name) = title_of(&message.channel);
                    html! {
                        <li key={format!("{}:{}", message.channel.0, message.seq)}>
                            <SearchResult message={message.clone()} title={title} name={name}
                                          marks={search.highlight.clone()} reader={props.reader.clone()}
                                          on_open={props.on_open.clone()} />
                        </li>
                    }
                }) }
            </ol>
            if search.loading {
                <p class="search-loading" aria-busy="true">{ "Searching…" }</p>
            } else if search.next.is_some() {
                <button class="load-more" data-testid="search-more" onclick={on_more}>{ "More results" }</button>
            }
        </aside>
    }
}

#[derive(Properties, PartialEq)]
struct SearchResultProps {
    message: Rc<ChatMessage>,
    /// `#rust` or `Bob`.
    title: String,
    /// The conversation's name (`data-channel`).
    name: String,
    marks: Rc<shared::search::Highlighter>,
    reader: Rc<shared::UserInfo>,
    on_open: Callback<(ChannelId, Seq)>,
}

#[component]
fn SearchResult(props: &SearchResultProps) -> Html {
    // Custom emoji are drawn from the list: render again when it changes.
    let _ = use_context::<crate::custom_emoji::EmojiVersion>();
    let message = &props.message;
    let (onclick, onkeydown) = opener(&props.on_open, message);
    let text = markdown::mark(markdown::parse(&message.text), &props.marks);
    html! {
        // Not a <button>: the text may hold links.
        <div class="search-result" data-testid="search-result" data-channel={props.name.clone()}
             data-seq={message.seq.to_string()} role="button" tabindex="0" {onclick} {onkeydown}>
            <span class="result-head">
                <span class="result-channel"><bdi>{ &props.title }</bdi></span>
                <span class="author"><bdi>{ &message.author.name }</bdi></span>
                <time class="time" title={full_time(message.sent_at)}>{ day_and_time(message.sent_at) }</time>
            </span>
            <span class="result-text">
                if message.text.is_empty() {
                    { message.attachments.first().map(|file| file.name.clone()).unwrap_or_default() }
                } else {
                    { markdown::render(&text, &props.reader.name) }
                }
            </span>
        </div>
    }
}

/// A click, Enter or Space on a listed message opens it in its conversation.
pub fn opener(
    on_open: &Callback<(ChannelId, Seq)>,
    message: &ChatMessage,
) -> (Callback<MouseEvent>, Callback<KeyboardEvent>) {
    let target = (message.channel.clone(), message.seq);
    let onclick = {
        let target = target.clone();
        on_open.reform(move |_: MouseEvent| target.clone())
    };
    let onkeydown = {
        let on_open = on_open.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Enter" || event.key() == " " {
                event.prevent_default();
                on_open.emit(target.clone());
            }
        })
    };
    (onclick, onkeydown)
}

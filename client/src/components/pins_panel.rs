//! The pinned messages of the open conversation, most recently pinned
//! first, beside the messages: each opens the conversation at that message,
//! and can be unpinned from here.

use std::rc::Rc;

use shared::{ChannelId, ChatMessage, Seq};
use yew::prelude::*;

use super::message_row::pin_icon;
use super::search_panel::opener;
use crate::browser::{day_and_time, full_time};
use crate::markdown;
use crate::state::PinsState;

#[derive(Properties, PartialEq)]
pub struct PinsPanelProps {
    pub pins: PinsState,
    /// `#rust` or `Bob`: the conversation the pins are of.
    pub title: String,
    pub reader: Rc<shared::UserInfo>,
    pub on_open: Callback<(ChannelId, Seq)>,
    pub on_unpin: Callback<Seq>,
    pub on_close: Callback<()>,
}

#[component]
pub fn PinsPanel(props: &PinsPanelProps) -> Html {
    let pins = &props.pins;
    html! {
        <aside class="search-panel pins-panel" data-testid="pins-panel" aria-label="Pinned messages"
               aria-busy={pins.loading.to_string()}>
            <div class="panel-head">
                <h2>{ "Pinned in " }<bdi>{ &props.title }</bdi></h2>
                <button class="close" data-testid="close-pins" aria-label="Close pinned messages"
                        onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "×" }</button>
            </div>
            if pins.loading {
                <p class="search-loading">{ "Loading…" }</p>
            } else if pins.messages.is_empty() {
                <p class="search-empty" data-testid="pins-empty">
                    { "Nothing is pinned here yet. Pin a message from its menu to keep it at hand." }
                </p>
            }
            <ol class="search-results">
                { for pins.messages.iter().map(|message| html! {
                    <li key={message.seq}>
                        <PinnedItem message={message.clone()} reader={props.reader.clone()}
                                    on_open={props.on_open.clone()} on_unpin={props.on_unpin.clone()} />
                    </li>
                }) }
            </ol>
        </aside>
    }
}

#[derive(Properties, PartialEq)]
struct PinnedItemProps {
    message: Rc<ChatMessage>,
    reader: Rc<shared::UserInfo>,
    on_open: Callback<(ChannelId, Seq)>,
    on_unpin: Callback<Seq>,
}

#[component]
fn PinnedItem(props: &PinnedItemProps) -> Html {
    // Custom emoji are drawn from the list: render again when it changes.
    let _ = use_context::<crate::custom_emoji::EmojiVersion>();
    let message = &props.message;
    let (onclick, onkeydown) = opener(&props.on_open, message);
    let unpin = {
        let (on_unpin, seq) = (props.on_unpin.clone(), message.seq);
        Callback::from(move |event: MouseEvent| {
            event.stop_propagation();
            on_unpin.emit(seq);
        })
    };
    html! {
        <div class="search-result pinned-item" data-testid="pinned-item" data-seq={message.seq.to_string()}
             role="button" tabindex="0" {onclick} {onkeydown}>
            <span class="result-head">
                <span class="author"><bdi>{ &message.author.name }</bdi></span>
                <time class="time" title={full_time(message.sent_at)}>{ day_and_time(message.sent_at) }</time>
                <button class="small unpin" data-testid="pinned-item-unpin" title="Unpin"
                        aria-label="Unpin message" onclick={unpin}>{ pin_icon(true) }</button>
            </span>
            <span class="result-text">
                if message.text.is_empty() {
                    { message.attachments.first().map(|file| file.name.clone()).unwrap_or_default() }
                } else {
                    { markdown::render(&markdown::parse(&message.text), &props.reader.name) }
                }
            </span>
            if let Some(pinned) = &message.pinned {
                <span class="pinned-by">{ "Pinned by " }<bdi>{ &pinned.by.name }</bdi></span>
            }
        </div>
    }
}

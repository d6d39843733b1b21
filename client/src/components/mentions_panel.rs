//! The mentions view: the newest messages that call on the reader, newest
//! first, in conversations they are in, the unread ones marked; each opens
//! its conversation at that message.

use std::rc::Rc;

use shared::{ChannelId, ChatMessage, Seq};
use yew::prelude::*;

use super::search_panel::opener;
use crate::browser::{day_and_time, full_time};
use crate::markdown;
use crate::state::{Conversation, MentionsState};

#[derive(Properties, PartialEq)]
pub struct MentionsPanelProps {
    pub mentions: MentionsState,
    pub conversations: Vec<Rc<Conversation>>,
    pub reader: Rc<shared::UserInfo>,
    pub on_open: Callback<(ChannelId, Seq)>,
    pub on_close: Callback<()>,
}

#[component]
pub fn MentionsPanel(props: &MentionsPanelProps) -> Html {
    let mentions = &props.mentions;
    let conversation_of = |message: &ChatMessage| {
        props
            .conversations
            .iter()
            .find(|c| c.info.id == message.channel)
            .cloned()
    };
    html! {
        <aside class="search-panel mentions-panel" data-testid="mentions-panel" aria-label="Mentions"
               aria-busy={mentions.loading.to_string()}>
            <div class="panel-head">
                <h2>{ "Mentions" }</h2>
                <button class="close" data-testid="close-mentions" aria-label="Close mentions"
                        onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "×" }</button>
            </div>
            if mentions.loading {
                <p class="search-loading">{ "Loading…" }</p>
            } else if mentions.messages.is_empty() {
                <p class="search-empty" data-testid="mentions-empty">
                    { "Nobody has mentioned you yet. Messages with @" }<bdi>{ &props.reader.name }</bdi>
                    { ", @channel or @here show up here." }
                </p>
            }
            <ol class="search-results">
                { for mentions.messages.iter().map(|message| {
                    let conversation = conversation_of(message);
                    let unread = conversation.as_ref().is_some_and(|c| message.seq > c.info.last_read_seq);
                    html! {
                        <li key={format!("{}:{}", message.channel.0, message.seq)}>
                            <MentionItem message={message.clone()} unread={unread}
                                         title={conversation.as_ref().map(|c| c.title()).unwrap_or_default()}
                                         name={conversation.map(|c| c.info.name.clone()).unwrap_or_default()}
                                         reader={props.reader.clone()} on_open={props.on_open.clone()} />
                        </li>
                    }
                }) }
            </ol>
        </aside>
    }
}

#[derive(Properties, PartialEq)]
struct MentionItemProps {
    message: Rc<ChatMessage>,
    unread: bool,
    /// `#rust` or `Bob`.
    title: String,
    /// The conversation's name (`data-channel`).
    name: String,
    reader: Rc<shared::UserInfo>,
    on_open: Callback<(ChannelId, Seq)>,
}

#[component]
fn MentionItem(props: &MentionItemProps) -> Html {
    // Custom emoji are drawn from the list: render again when it changes.
    let _ = use_context::<crate::custom_emoji::EmojiVersion>();
    let message = &props.message;
    let (onclick, onkeydown) = opener(&props.on_open, message);
    html! {
        <div class={classes!("search-result", "mention-item", props.unread.then_some("unread"))}
             data-testid="mention-item" data-unread={props.unread.to_string()}
             data-channel={props.name.clone()} data-seq={message.seq.to_string()}
             role="button" tabindex="0" {onclick} {onkeydown}>
            <span class="result-head">
                if props.unread {
                    <span class="unread-dot" title="Unread" aria-label="Unread"></span>
                }
                <span class="result-channel"><bdi>{ &props.title }</bdi></span>
                <span class="author"><bdi>{ &message.author.name }</bdi></span>
                <time class="time" title={full_time(message.sent_at)}>{ day_and_time(message.sent_at) }</time>
            </span>
            <span class="result-text">
                { markdown::render(&markdown::parse(&message.text), &props.reader.name) }
            </span>
        </div>
    }
}

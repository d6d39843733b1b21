//! The threads view: the threads the reader follows, the most recently
//! active first, those with replies not read yet marked; each opens its
//! thread beside its conversation.

use std::rc::Rc;

use shared::{ChannelId, Seq};
use yew::prelude::*;

use crate::browser::{day_and_time, full_time};
use crate::markdown;
use crate::state::Conversation;
use crate::threads::Followed;

#[derive(Properties, PartialEq)]
pub struct ThreadsViewProps {
    pub followed: Vec<Followed>,
    pub conversations: Vec<Rc<Conversation>>,
    pub reader: Rc<shared::UserInfo>,
    pub on_open: Callback<(ChannelId, Seq)>,
    pub on_close: Callback<()>,
}

#[component]
pub fn ThreadsView(props: &ThreadsViewProps) -> Html {
    // Custom emoji are drawn from the list: render again when it changes.
    let _ = use_context::<crate::custom_emoji::EmojiVersion>();
    html! {
        <aside class="search-panel threads-view" data-testid="threads-panel" aria-label="Threads">
            <div class="panel-head">
                <h2>{ "Threads" }</h2>
                <button class="close" data-testid="close-threads" aria-label="Close threads"
                        onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "×" }</button>
            </div>
            if props.followed.is_empty() {
                <p class="search-empty" data-testid="threads-empty">
                    { "No threads yet. Threads you start, reply to or are mentioned in show up here." }
                </p>
            }
            <ol class="search-results">
                { for props.followed.iter().filter_map(|followed| {
                    let parent = followed.parent.as_ref()?;
                    let conversation = props.conversations.iter().find(|c| c.info.id == followed.channel)?;
                    let unread = followed.unread();
                    let open = {
                        let (on_open, channel, root) = (props.on_open.clone(), followed.channel.clone(), followed.root);
                        move || on_open.emit((channel.clone(), root))
                    };
                    let onclick = { let open = open.clone(); Callback::from(move |_: MouseEvent| open()) };
                    let onkeydown = Callback::from(move |event: KeyboardEvent| {
                        if event.key() == "Enter" || event.key() == " " {
                            event.prevent_default();
                            open();
                        }
                    });
                    let replies = parent.replies.as_deref();
                    Some(html! {
                        <li key={format!("{}:{}", followed.channel.0, followed.root)}>
                            <div class={classes!("search-result", "thread-item", unread.then_some("unread"))}
                                 data-testid="thread-item" data-unread={unread.to_string()}
                                 data-channel={conversation.info.name.clone()} data-seq={followed.root.to_string()}
                                 role="button" tabindex="0" {onclick} {onkeydown}>
                                <span class="result-head">
                                    if unread {
                                        <span class="unread-dot" title="New replies" aria-label="New replies"></span>
                                    }
                                    <span class="result-channel"><bdi>{ conversation.title() }</bdi></span>
                                    <span class="author"><bdi>{ &parent.author.name }</bdi></span>
                                    <time class="time" title={full_time(parent.sent_at)}>{ day_and_time(parent.sent_at) }</time>
                                </span>
                                <span class="result-text">
                                    if parent.deleted {
                                        { "message deleted" }
                                    } else {
                                        { markdown::render(&markdown::parse(&parent.text), &props.reader.name) }
                                    }
                                </span>
                                if let Some(replies) = replies {
                                    <span class="thread-meta">
                                        { if replies.count == 1 { "1 reply".to_string() } else { format!("{} replies", replies.count) } }
                                        { " · last " }{ day_and_time(replies.last_at) }
                                    </span>
                                }
                            </div>
                        </li>
                    })
                }) }
            </ol>
        </aside>
    }
}

//! The scrolling list of one conversation's messages and notices. It follows
//! new messages while the reader is at the bottom, stays put while they read
//! older ones, keeps the view steady when older pages are prepended, asks for
//! older history when scrolled to the top, and remembers its scroll position
//! per conversation.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use shared::{ChannelId, ClientMsgId, Seq};
use web_sys::Element;
use yew::prelude::*;

use super::message_row::{MessageAction, MessageRow};
use crate::browser::short_time;
use crate::state::{ChatState, Entry, NoticePart};

/// Within this many pixels of the bottom counts as "at the bottom".
const STICK_THRESHOLD: i32 = 48;
/// Within this many pixels of the top, older history is requested.
const LOAD_OLDER_THRESHOLD: i32 = 80;

/// Scroll positions of conversations not on screen: `None` means "at the bottom".
#[derive(Clone, Default)]
pub struct ScrollMemory(pub Rc<RefCell<HashMap<ChannelId, Option<i32>>>>);

impl PartialEq for ScrollMemory {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Properties, PartialEq)]
pub struct MessageListProps {
    pub state: UseReducerHandle<ChatState>,
    pub channel: ChannelId,
    pub scroll_memory: ScrollMemory,
    pub on_load_older: Callback<()>,
    pub on_discard: Callback<ClientMsgId>,
    /// The stored message being edited here, if any.
    #[prop_or_default]
    pub editing: Option<Seq>,
    pub on_action: Callback<MessageAction>,
}

/// What the list looked like after the previous render.
#[derive(Default)]
struct Previous {
    scroll_height: i32,
    first_seq: Option<i64>,
    pending: usize,
    restored: bool,
}

#[component]
pub fn MessageList(props: &MessageListProps) -> Html {
    let state = &props.state;
    let conversation = state.conversation(&props.channel);
    let list_ref = use_node_ref();
    let stick_to_bottom = use_mut_ref(|| true);
    let previous = use_mut_ref(Previous::default);
    let has_older = conversation.is_some_and(|c| c.has_older);
    let loading_older = conversation.is_some_and(|c| c.loading_older);

    let on_scroll = {
        let list_ref = list_ref.clone();
        let stick_to_bottom = stick_to_bottom.clone();
        let on_load_older = props.on_load_older.clone();
        let memory = props.scroll_memory.clone();
        let channel = props.channel.clone();
        let can_load = has_older && !loading_older;
        Callback::from(move |_: Event| {
            let Some(list) = list_ref.cast::<Element>() else {
                return;
            };
            let from_bottom = list.scroll_height() - list.scroll_top() - list.client_height();
            let at_bottom = from_bottom < STICK_THRESHOLD;
            *stick_to_bottom.borrow_mut() = at_bottom;
            memory
                .0
                .borrow_mut()
                .insert(channel.clone(), (!at_bottom).then(|| list.scroll_top()));
            if list.scroll_top() < LOAD_OLDER_THRESHOLD && can_load {
                on_load_older.emit(());
            }
        })
    };

    {
        let list_ref = list_ref.clone();
        let first_seq = conversation.and_then(|c| c.first_seq());
        let pending = state.pending_in(&props.channel).count();
        let memory = props.scroll_memory.clone();
        let channel = props.channel.clone();
        use_effect(move || {
            if let Some(list) = list_ref.cast::<Element>() {
                let mut previous = previous.borrow_mut();
                if !previous.restored {
                    // Back to a conversation: where the reader left it.
                    previous.restored = true;
                    if let Some(Some(top)) = memory.0.borrow().get(&channel) {
                        *stick_to_bottom.borrow_mut() = false;
                        list.set_scroll_top(*top);
                    }
                }
                if pending > previous.pending {
                    // You just sent something: show it.
                    *stick_to_bottom.borrow_mut() = true;
                }
                let prepended =
                    matches!((previous.first_seq, first_seq), (Some(old), Some(new)) if new < old);
                if *stick_to_bottom.borrow() {
                    list.set_scroll_top(list.scroll_height());
                } else if prepended {
                    let grown = list.scroll_height() - previous.scroll_height;
                    list.set_scroll_top(list.scroll_top() + grown);
                }
                previous.scroll_height = list.scroll_height();
                previous.first_seq = first_seq;
                previous.pending = pending;
            }
        });
    }

    let me = &state.me;
    let load_older = props.on_load_older.reform(|_: MouseEvent| ());
    let Some(conversation) = conversation else {
        return html! { <div class="message-list" data-testid="message-list" ref={list_ref}></div> };
    };
    html! {
        <div class="message-list" data-testid="message-list" ref={list_ref} onscroll={on_scroll}
             role="log" aria-live="polite" aria-label="Messages">
            if has_older {
                <button class="load-older" data-testid="load-older" onclick={load_older}
                        disabled={loading_older}>
                    { if loading_older { "Loading…" } else { "Load older messages" } }
                </button>
            } else if conversation.requested && state.connection.as_str() == "connected" {
                <div class="beginning">{ format!("This is the beginning of {}.", conversation.title()) }</div>
            }
            { for conversation.timeline.iter().map(|entry| match entry {
                Entry::Message(message) => html! {
                    <MessageRow key={format!("m{}", message.seq)}
                        author={message.author.name.clone()}
                        text={message.text.clone()}
                        reader={me.name.clone()}
                        reader_id={Some(me.id.clone())}
                        seq={Some(message.seq)}
                        edited={message.edited_at.is_some()}
                        deleted={message.deleted}
                        reactions={message.reactions.clone()}
                        attachments={message.attachments.clone()}
                        preview={message.preview.as_deref().cloned()}
                        editing={props.editing == Some(message.seq)}
                        on_action={Some(props.on_action.clone())}
                        sent_at={message.sent_at}
                        mine={message.author.id == me.id}
                        mentions_me={message.author.id != me.id
                            && message.text.to_lowercase().contains(&format!("@{}", me.name.to_lowercase()))}
                        pending={false} />
                },
                Entry::Notice { id, parts, at } => html! {
                    <div key={format!("n{id}")} class="notice" data-testid="notice">
                        <span class="notice-text">{ for parts.iter().map(notice_part) }</span>
                        <span class="time">{ short_time(*at) }</span>
                    </div>
                },
            }) }
            { for state.pending_in(&props.channel).map(|pending| html! {
                <MessageRow key={format!("p{}", pending.client_id)}
                    author={me.name.clone()}
                    text={pending.text.clone()}
                    attachments={pending.attachments.clone()}
                    reader={me.name.clone()}
                    sent_at={pending.created_at}
                    mine={true}
                    pending={true}
                    failed={pending.failed.clone()}
                    client_id={Some(pending.client_id.clone())}
                    on_discard={Some(props.on_discard.clone())} />
            }) }
        </div>
    }
}

/// A notice's words as they are; a name (or topic) in `<bdi>`, isolated
/// from the words around it.
fn notice_part(part: &NoticePart) -> Html {
    match part {
        NoticePart::Text(text) => html! { { text.clone() } },
        NoticePart::Name(name) => html! { <bdi>{ name.clone() }</bdi> },
    }
}

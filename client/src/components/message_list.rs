//! The scrolling list of messages and notices. It follows new messages while
//! the reader is at the bottom, stays put while they read older ones, keeps
//! the view steady when older pages are prepended, and asks for older
//! history when scrolled to the top.

use shared::ClientMsgId;
use web_sys::Element;
use yew::prelude::*;

use super::message_row::MessageRow;
use crate::browser::short_time;
use crate::state::{ChatState, Entry};

/// Within this many pixels of the bottom counts as "at the bottom".
const STICK_THRESHOLD: i32 = 48;
/// Within this many pixels of the top, older history is requested.
const LOAD_OLDER_THRESHOLD: i32 = 80;

#[derive(Properties, PartialEq)]
pub struct MessageListProps {
    pub state: UseReducerHandle<ChatState>,
    pub on_load_older: Callback<()>,
    pub on_discard: Callback<ClientMsgId>,
}

/// What the list looked like after the previous render.
#[derive(Default)]
struct Previous {
    scroll_height: i32,
    first_seq: Option<i64>,
    pending: usize,
}

#[component]
pub fn MessageList(props: &MessageListProps) -> Html {
    let state = &props.state;
    let list_ref = use_node_ref();
    let stick_to_bottom = use_mut_ref(|| true);
    let previous = use_mut_ref(Previous::default);

    let on_scroll = {
        let list_ref = list_ref.clone();
        let stick_to_bottom = stick_to_bottom.clone();
        let on_load_older = props.on_load_older.clone();
        let can_load = state.has_older && !state.loading_older;
        Callback::from(move |_: Event| {
            let Some(list) = list_ref.cast::<Element>() else {
                return;
            };
            let from_bottom = list.scroll_height() - list.scroll_top() - list.client_height();
            *stick_to_bottom.borrow_mut() = from_bottom < STICK_THRESHOLD;
            if list.scroll_top() < LOAD_OLDER_THRESHOLD && can_load {
                on_load_older.emit(());
            }
        })
    };

    {
        let list_ref = list_ref.clone();
        let first_seq = state.first_seq();
        let pending = state.pending.len();
        use_effect(move || {
            if let Some(list) = list_ref.cast::<Element>() {
                let mut previous = previous.borrow_mut();
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
                *previous = Previous {
                    scroll_height: list.scroll_height(),
                    first_seq,
                    pending,
                };
            }
        });
    }

    let me = &state.me;
    let load_older = props.on_load_older.reform(|_: MouseEvent| ());
    html! {
        <div class="message-list" data-testid="message-list" ref={list_ref} onscroll={on_scroll}
             role="log" aria-live="polite" aria-label="Messages">
            if state.has_older {
                <button class="load-older" data-testid="load-older" onclick={load_older}
                        disabled={state.loading_older}>
                    { if state.loading_older { "Loading…" } else { "Load older messages" } }
                </button>
            } else if state.channel.is_some() && state.connection.as_str() == "connected" {
                <div class="beginning">{ "This is the beginning of #general." }</div>
            }
            { for state.timeline.iter().map(|entry| match entry {
                Entry::Message(message) => html! {
                    <MessageRow key={format!("m{}", message.seq)}
                        author={message.author.name.clone()}
                        text={message.text.clone()}
                        sent_at={message.sent_at}
                        mine={message.author.id == me.id}
                        pending={false} />
                },
                Entry::Notice { id, text, at } => html! {
                    <div key={format!("n{id}")} class="notice" data-testid="notice">
                        <span class="notice-text">{ text }</span>
                        <span class="time">{ short_time(*at) }</span>
                    </div>
                },
            }) }
            { for state.pending.iter().map(|pending| html! {
                <MessageRow key={format!("p{}", pending.client_id)}
                    author={me.name.clone()}
                    text={pending.text.clone()}
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

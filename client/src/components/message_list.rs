//! The scrolling list of one conversation's messages and notices. It follows
//! new messages while the reader is at the bottom, stays put while they read
//! older ones, keeps the view steady when older pages are prepended, asks for
//! older history when scrolled to the top, and remembers its scroll position
//! per conversation.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use shared::{ChannelId, ClientMsgId, Seq, UserInfo};
use web_sys::Element;
use yew::prelude::*;

use super::message_row::{Line, MessageAction, MessageRow};
use crate::browser::short_time;
use crate::state::{Conversation, Entry, NoticePart, Pending};

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

/// Only what the list shows: a typing notice, a read mark or a presence
/// change leaves these equal, and the list is not rendered again.
#[derive(Properties)]
pub struct MessageListProps {
    pub conversation: Rc<Conversation>,
    /// This conversation's messages not stored yet.
    pub pending: Vec<Pending>,
    pub reader: Rc<UserInfo>,
    /// Whether the socket is up (the history shown is then known complete).
    pub connected: bool,
    pub scroll_memory: ScrollMemory,
    pub on_load_older: Callback<()>,
    pub on_discard: Callback<ClientMsgId>,
    /// The stored message being edited here, if any.
    #[prop_or_default]
    pub editing: Option<Seq>,
    pub on_action: Callback<MessageAction>,
}

impl PartialEq for MessageListProps {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.conversation, &other.conversation);
        // Of the conversation, only the lines and the top of the list show
        // here (not its unread count or topic); the lines compare as pointers.
        let same_conversation = Rc::ptr_eq(a, b)
            || (a.info.id == b.info.id
                && a.info.name == b.info.name
                && a.has_older == b.has_older
                && a.loading_older == b.loading_older
                && a.requested == b.requested
                && a.timeline == b.timeline);
        same_conversation
            && self.pending == other.pending
            && self.reader == other.reader
            && self.connected == other.connected
            && self.scroll_memory == other.scroll_memory
            && self.on_load_older == other.on_load_older
            && self.on_discard == other.on_discard
            && self.editing == other.editing
            && self.on_action == other.on_action
    }
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
    let conversation = &props.conversation;
    let list_ref = use_node_ref();
    let stick_to_bottom = use_mut_ref(|| true);
    let previous = use_mut_ref(Previous::default);
    let has_older = conversation.has_older;
    let loading_older = conversation.loading_older;

    let on_scroll = {
        let list_ref = list_ref.clone();
        let stick_to_bottom = stick_to_bottom.clone();
        let on_load_older = props.on_load_older.clone();
        let memory = props.scroll_memory.clone();
        let channel = conversation.info.id.clone();
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
        let first_seq = conversation.first_seq();
        let pending = props.pending.len();
        let memory = props.scroll_memory.clone();
        let channel = conversation.info.id.clone();
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

    let load_older = props.on_load_older.reform(|_: MouseEvent| ());
    html! {
        <div class="message-list" data-testid="message-list" ref={list_ref} onscroll={on_scroll}
             role="log" aria-live="polite" aria-label="Messages">
            if has_older {
                <button class="load-older" data-testid="load-older" onclick={load_older}
                        disabled={loading_older}>
                    { if loading_older { "Loading…" } else { "Load older messages" } }
                </button>
            } else if conversation.requested && props.connected {
                <div class="beginning">{ format!("This is the beginning of {}.", conversation.title()) }</div>
            }
            // The rows sit in a list of their own, every one keyed: mixed with
            // the unkeyed line above, Yew would match them by position
            // (counted from the end) and build every row again for each new
            // message. They come in chunks by sequence number, so that a new
            // message compares a dozen chunks and the rows of the last one.
            <>
            { for chunks(&conversation.timeline).map(|(bucket, entries)| {
                let range = bucket * CHUNK..(bucket + 1) * CHUNK;
                html! {
                    <TimelineChunk key={format!("c{bucket}")} entries={entries.to_vec()}
                        reader={props.reader.clone()}
                        editing={props.editing.filter(|seq| range.contains(seq))}
                        on_action={props.on_action.clone()} />
                }
            }) }
            { for props.pending.iter().map(|pending| html! {
                <MessageRow key={format!("p{}", pending.client_id)}
                    line={Line::Pending(pending.clone())}
                    reader={props.reader.clone()}
                    on_discard={Some(props.on_discard.clone())} />
            }) }
            </>
        </div>
    }
}

/// Messages per chunk, by sequence number.
const CHUNK: i64 = 25;

/// The timeline cut where the sequence number enters a new multiple of
/// [`CHUNK`]; a notice stays with the message before it. Each chunk comes
/// with its number (`seq / CHUNK`; the notices before any message get -1).
fn chunks(timeline: &[Entry]) -> impl Iterator<Item = (i64, &[Entry])> {
    let mut bucket = -1;
    let buckets: Vec<i64> = timeline
        .iter()
        .map(|entry| {
            if let Entry::Message(message) = entry {
                bucket = message.seq.div_euclid(CHUNK);
            }
            bucket
        })
        .collect();
    let mut start = 0;
    std::iter::from_fn(move || {
        let first = *buckets.get(start)?;
        let len = buckets[start..].iter().take_while(|b| **b == first).count();
        let chunk = (first, &timeline[start..start + len]);
        start += len;
        Some(chunk)
    })
}

#[derive(Properties, PartialEq)]
struct TimelineChunkProps {
    /// Messages are shared pointers: comparing a chunk compares pointers.
    entries: Vec<Entry>,
    reader: Rc<UserInfo>,
    /// The message being edited, if it is in this chunk.
    editing: Option<Seq>,
    on_action: Callback<MessageAction>,
}

/// A run of rows that renders again only when one of its lines changed.
#[component]
fn TimelineChunk(props: &TimelineChunkProps) -> Html {
    html! {
        <div class="timeline-chunk">
        { for props.entries.iter().map(|entry| match entry {
            Entry::Message(message) => html! {
                <MessageRow key={format!("m{}", message.seq)}
                    line={Line::Stored(message.clone())}
                    reader={props.reader.clone()}
                    editing={props.editing == Some(message.seq)}
                    on_action={Some(props.on_action.clone())} />
            },
            Entry::Notice { id, parts, at } => html! {
                <div key={format!("n{id}")} class="notice" data-testid="notice">
                    <span class="notice-text">{ for parts.iter().map(notice_part) }</span>
                    <span class="time">{ short_time(*at) }</span>
                </div>
            },
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

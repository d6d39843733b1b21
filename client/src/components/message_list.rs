//! The scrolling list of one conversation's messages and notices. It follows
//! new messages while the reader is at the bottom, stays put while they read
//! older ones, keeps the view steady when older pages are prepended, asks for
//! older history when scrolled to the top, and remembers its scroll position
//! per conversation. After a jump it shows the message jumped to in the
//! middle, highlighted, and asks for newer pages when scrolled to the bottom.

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
/// Within this many pixels of the top, older history is requested (and of
/// the bottom, newer history after a jump).
const LOAD_OLDER_THRESHOLD: i32 = 80;

/// How long after a jump scrolling loads nothing (ms).
const JUMP_SETTLE_MS: i64 = 600;

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
    /// Scrolled to the bottom of a window far back in history.
    pub on_load_newer: Callback<()>,
    pub on_discard: Callback<ClientMsgId>,
    /// The stored message being edited here, if any.
    #[prop_or_default]
    pub editing: Option<Seq>,
    /// The message whose link was just copied.
    #[prop_or_default]
    pub copied: Option<Seq>,
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
                && a.has_newer == b.has_newer
                && a.loading_newer == b.loading_newer
                && a.focus == b.focus
                && a.requested == b.requested
                && a.timeline == b.timeline);
        same_conversation
            && self.pending == other.pending
            && self.reader == other.reader
            && self.connected == other.connected
            && self.scroll_memory == other.scroll_memory
            && self.on_load_older == other.on_load_older
            && self.on_load_newer == other.on_load_newer
            && self.copied == other.copied
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
    /// The jump last scrolled to.
    focused: Option<Seq>,
}

#[component]
pub fn MessageList(props: &MessageListProps) -> Html {
    let conversation = &props.conversation;
    let list_ref = use_node_ref();
    let stick_to_bottom = use_mut_ref(|| true);
    // Until then (ms), scrolling loads nothing: the list is settling after
    // a jump, and only the reader's own scrolling should load more.
    let quiet_until = use_mut_ref(|| 0i64);
    let previous = use_mut_ref(Previous::default);
    let has_older = conversation.has_older;
    let loading_older = conversation.loading_older;
    let has_newer = conversation.has_newer;
    let focus = conversation.focus;

    let on_scroll = {
        let list_ref = list_ref.clone();
        let stick_to_bottom = stick_to_bottom.clone();
        let on_load_older = props.on_load_older.clone();
        let on_load_newer = props.on_load_newer.clone();
        let memory = props.scroll_memory.clone();
        let channel = conversation.info.id.clone();
        let can_load = has_older && !loading_older;
        let can_load_newer = has_newer && !conversation.loading_newer;
        let quiet_until = quiet_until.clone();
        Callback::from(move |_: Event| {
            let Some(list) = list_ref.cast::<Element>() else {
                return;
            };
            let from_bottom = list.scroll_height() - list.scroll_top() - list.client_height();
            let at_bottom = from_bottom < STICK_THRESHOLD && !has_newer;
            *stick_to_bottom.borrow_mut() = at_bottom;
            if crate::browser::now_millis() < *quiet_until.borrow() {
                return;
            }
            if from_bottom < LOAD_OLDER_THRESHOLD && can_load_newer {
                on_load_newer.emit(());
            }
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
        let conversation_timeline = conversation.clone();
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
                let jumped = focus.is_some() && focus != previous.focused;
                let held = focus.is_some_and(|seq| timeline_holds(&conversation_timeline, seq));
                if let (true, true, Some(seq)) = (jumped, held, focus) {
                    // A jump: the message in the middle of the view, once
                    // its row is drawn (rows are components of their own).
                    previous.focused = focus;
                    *stick_to_bottom.borrow_mut() = false;
                    *quiet_until.borrow_mut() = crate::browser::now_millis() + JUMP_SETTLE_MS;
                    scroll_to(list.clone(), seq, 3 * HOLD_FRAMES);
                } else if *stick_to_bottom.borrow() && !has_newer {
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
                        focus={focus.filter(|seq| range.contains(seq))}
                        copied={props.copied.filter(|seq| range.contains(seq))}
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
            // Outside the keyed rows (an unkeyed line among them would make
            // Yew match rows by position and build them again).
            if has_newer {
                <button class="load-older" data-testid="load-newer" onclick={props.on_load_newer.reform(|_: MouseEvent| ())}
                        disabled={conversation.loading_newer}>
                    { if conversation.loading_newer { "Loading…" } else { "Load newer messages" } }
                </button>
            }
        </div>
    }
}

/// Frames a jump keeps its message in the middle after first placing it.
const HOLD_FRAMES: u32 = 10;

/// Whether the conversation holds message `seq`.
fn timeline_holds(conversation: &Conversation, seq: Seq) -> bool {
    conversation
        .timeline
        .iter()
        .any(|entry| matches!(entry, Entry::Message(m) if m.seq == seq))
}

/// Scrolls message `seq` to the middle of `list` as soon as its row is
/// there (trying again each frame, up to `tries` times).
fn scroll_to(list: Element, seq: Seq, tries: u32) {
    match list.query_selector(&format!("[data-seq=\"{seq}\"]")) {
        Ok(Some(target)) => {
            let (row, view) = (
                target.get_bounding_client_rect(),
                list.get_bounding_client_rect(),
            );
            let middle = (view.height() - row.height()) / 2.0;
            let top = f64::from(list.scroll_top()) + row.top() - view.top() - middle;
            list.set_scroll_top(top.max(0.0) as i32);
            // The rows around it may still be settling (late layout, a page
            // arriving): hold it there for a few more frames.
            if tries > HOLD_FRAMES {
                gloo_timers::callback::Timeout::new(16, move || {
                    scroll_to(list, seq, tries.min(2 * HOLD_FRAMES) - 1)
                })
                .forget();
            }
        }
        _ if tries > 0 => {
            gloo_timers::callback::Timeout::new(16, move || scroll_to(list, seq, tries - 1))
                .forget();
        }
        _ => {}
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
    /// The message jumped to, if it is in this chunk.
    focus: Option<Seq>,
    /// The message whose link was just copied, if it is in this chunk.
    copied: Option<Seq>,
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
                    highlighted={props.focus == Some(message.seq)}
                    copied={props.copied == Some(message.seq)}
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

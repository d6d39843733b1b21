//! The thread beside the conversation (full width on phones): its parent,
//! its replies (older ones on demand), replies still on their way, and a
//! composer whose replies can also go to the conversation. Follow or stop
//! following from its head; close it with × or Esc.

use std::rc::Rc;

use shared::{ClientMsgId, Seq, UserInfo};
use yew::prelude::*;

use super::composer::Composer;
use super::message_row::{Line, MessageAction, MessageRow};
use crate::state::Pending;
use crate::threads::ThreadPanel;

#[derive(Properties, PartialEq)]
pub struct ThreadPanelViewProps {
    pub panel: ThreadPanel,
    /// Replies typed here, not acknowledged yet.
    pub pending: Vec<Pending>,
    /// `#rust` or `Bob`: where "also send" sends.
    pub title: String,
    pub reader: Rc<UserInfo>,
    pub editing: Option<Seq>,
    pub copied: Option<Seq>,
    pub on_action: Callback<MessageAction>,
    pub on_discard: Callback<ClientMsgId>,
    /// A reply: its text, and whether it goes to the conversation too.
    pub on_send: Callback<(String, bool)>,
    pub on_load_older: Callback<()>,
    pub on_follow: Callback<bool>,
    pub on_close: Callback<()>,
    /// Files picked or pasted for the next reply.
    pub on_files: Callback<Vec<web_sys::File>>,
    /// Files wait to go with the next reply.
    pub has_files: bool,
    /// The tray of this thread's files.
    pub tray: Html,
}

#[component]
pub fn ThreadPanelView(props: &ThreadPanelViewProps) -> Html {
    let also_send = use_state(|| false);
    let panel = &props.panel;
    let list_ref = use_node_ref();
    {
        // New replies (and the first page) scroll into view; a reply jumped
        // to is scrolled to instead.
        let list_ref = list_ref.clone();
        let focus = panel.focus;
        use_effect_with(
            (panel.last_seq(), props.pending.len(), panel.loading),
            move |_| {
                let Some(list) = list_ref.cast::<web_sys::Element>() else {
                    return;
                };
                let target = focus.and_then(|seq| {
                    list.query_selector(&format!("[data-seq=\"{seq}\"]"))
                        .ok()
                        .flatten()
                });
                match target {
                    Some(row) => row.scroll_into_view(),
                    None => list.set_scroll_top(list.scroll_height()),
                }
            },
        );
    }
    let on_send = {
        let (on_send, also_send) = (props.on_send.clone(), also_send.clone());
        Callback::from(move |text: String| on_send.emit((text, *also_send)))
    };
    let toggle_also = {
        let also_send = also_send.clone();
        Callback::from(move |event: Event| {
            let input: web_sys::HtmlInputElement = event.target_unchecked_into();
            also_send.set(input.checked());
        })
    };
    let on_keydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" && !event.default_prevented() {
                on_close.emit(());
            }
        })
    };
    let row = |message: &Rc<shared::ChatMessage>, testid: &'static str| {
        html! {
            <MessageRow key={message.seq} line={Line::Stored(message.clone())} reader={props.reader.clone()}
                        editing={props.editing == Some(message.seq)} copied={props.copied == Some(message.seq)}
                        highlighted={panel.focus == Some(message.seq)}
                        on_action={props.on_action.clone()} {testid} in_thread=true />
        }
    };
    let count = panel
        .parent
        .as_ref()
        .and_then(|p| p.replies.as_ref())
        .map_or(panel.replies.len() as u32, |r| r.count);
    let following = panel.following;
    html! {
        <aside class="side-panel thread-panel" data-testid="thread-panel" aria-label="Thread"
               aria-busy={panel.loading.to_string()} onkeydown={on_keydown}
               data-channel={panel.channel.0.clone()} data-root={panel.root.to_string()}>
            <div class="panel-head">
                <h2>{ "Thread" }<span class="thread-where"><bdi>{ &props.title }</bdi></span></h2>
                <button class="small follow" data-testid="follow-thread" aria-pressed={following.to_string()}
                        title={if following { "You get notified of new replies" } else { "Get notified of new replies" }}
                        onclick={props.on_follow.reform(move |_: MouseEvent| !following)}>
                    { if following { "Following" } else { "Follow" } }
                </button>
                <button class="close" data-testid="close-thread" aria-label="Close thread"
                        onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "×" }</button>
            </div>
            <div class="thread-messages" ref={list_ref}>
                if let Some(parent) = &panel.parent {
                    <div class="thread-parent">{ row(parent, "thread-parent") }</div>
                    <div class="thread-divider" data-testid="thread-reply-count">
                        { match count { 0 => "No replies yet".to_string(), 1 => "1 reply".to_string(), n => format!("{n} replies") } }
                    </div>
                } else if panel.loading {
                    <p class="search-loading">{ "Loading…" }</p>
                }
                if panel.has_older {
                    <button class="load-older" data-testid="load-older-replies" disabled={panel.loading_older}
                            onclick={props.on_load_older.reform(|_: MouseEvent| ())}>
                        { if panel.loading_older { "Loading…" } else { "Earlier replies" } }
                    </button>
                }
                { for panel.replies.iter().map(|reply| row(reply, "thread-message")) }
                { for props.pending.iter().map(|pending| html! {
                    <MessageRow key={pending.client_id.as_str().to_owned()} line={Line::Pending(pending.clone())}
                                reader={props.reader.clone()} on_discard={props.on_discard.clone()}
                                testid="thread-message" in_thread=true />
                }) }
            </div>
            <div class="thread-composer">
                { props.tray.clone() }
                <Composer key={format!("{}:{}", panel.channel.0, panel.root)} on_send={on_send}
                          placeholder="Reply…" label="Reply" on_files={props.on_files.clone()}
                          has_files={props.has_files}
                          input_testid="thread-reply-input" send_testid="thread-send" commands=false />
                <label class="also-send">
                    <input type="checkbox" data-testid="thread-also-send" checked={*also_send}
                           onchange={toggle_also} />
                    { "Also send to " }<bdi>{ &props.title }</bdi>
                </label>
            </div>
        </aside>
    }
}

//! One message line: `Alice: Hello World!` with its time, formatted text
//! (never raw HTML), reactions, an "(edited)" marker, and a small menu to
//! react, edit or delete. Deleted messages show as "message deleted".
//! Files and the link preview are drawn by [`super::attachments`].

use std::rc::Rc;

use shared::{
    Attachment, ChatMessage, ClientMsgId, InThread, LinkPreview, Pinned, Reaction, Replies, Seq,
    UserInfo,
};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use super::attachments::{Attachments, LinkPreviewCard};
use crate::admin::Moderating;
use crate::browser::{full_time, iso_time, short_time};
use crate::markdown;
use crate::state::Pending;

/// What the reader asks to do with a stored message.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageAction {
    StartEdit(Seq),
    CancelEdit,
    SaveEdit(Seq, String),
    Delete(Seq),
    /// Open the emoji picker to react.
    PickReaction(Seq),
    /// Toggle one's own reaction: `(seq, emoji, add)`.
    React(Seq, String, bool),
    /// Put the message's link on the clipboard.
    CopyLink(Seq),
    /// Pin (`true`) or unpin the message in its conversation.
    Pin(Seq, bool),
    /// Open the thread of this message (its parent's number).
    OpenThread(Seq),
    /// Report the message to the moderators (asks why first).
    Report(Seq),
}

/// What a row shows: a stored message (shared with the state, so an
/// unchanged one is recognised by its pointer), or one still on its way.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Stored(Rc<ChatMessage>),
    Pending(Pending),
}

/// A row renders again only when these change: its line, whether it is being
/// edited, or the reader. The callbacks are stable (see `use_event`).
#[derive(Properties, PartialEq)]
pub struct MessageRowProps {
    pub line: Line,
    /// Who reads: their mentions stand out, their reactions are marked.
    pub reader: Rc<UserInfo>,
    /// This row is being edited.
    #[prop_or_default]
    pub editing: bool,
    /// The message jumped to (a search result, a link): highlighted.
    #[prop_or_default]
    pub highlighted: bool,
    /// Its link was just copied.
    #[prop_or_default]
    pub copied: bool,
    #[prop_or_default]
    pub on_action: Option<Callback<MessageAction>>,
    #[prop_or_default]
    pub on_discard: Option<Callback<ClientMsgId>>,
    /// The row's `data-testid`: `message` in the conversation,
    /// `thread-message` for a reply in the thread panel.
    #[prop_or(AttrValue::Static("message"))]
    pub testid: AttrValue,
    /// Shown in the thread panel: no way into a thread from here.
    #[prop_or_default]
    pub in_thread: bool,
}

/// A row's facts, whichever kind of line it is.
struct Shown<'a> {
    author: &'a str,
    text: &'a str,
    sent_at: i64,
    mine: bool,
    pending: bool,
    seq: Option<Seq>,
    edited: bool,
    deleted: bool,
    /// Deleted by a moderator.
    removed: bool,
    reactions: &'a [Reaction],
    attachments: &'a [Attachment],
    preview: Option<&'a LinkPreview>,
    pinned: Option<&'a Pinned>,
    replies: Option<&'a Replies>,
    thread: Option<&'a InThread>,
    failed: Option<&'a str>,
    client_id: Option<&'a ClientMsgId>,
}

impl<'a> Shown<'a> {
    fn of(line: &'a Line, reader: &'a UserInfo) -> Self {
        match line {
            Line::Stored(message) => Self {
                author: &message.author.name,
                text: &message.text,
                sent_at: message.sent_at,
                mine: message.author.id == reader.id,
                pending: false,
                seq: Some(message.seq),
                edited: message.edited_at.is_some(),
                deleted: message.deleted,
                removed: message.removed,
                reactions: &message.reactions,
                attachments: &message.attachments,
                preview: message.preview.as_deref(),
                pinned: message.pinned.as_deref(),
                replies: message.replies.as_deref(),
                thread: message.thread.as_deref(),
                failed: None,
                client_id: None,
            },
            Line::Pending(pending) => Self {
                author: &reader.name,
                text: &pending.text,
                sent_at: pending.created_at,
                mine: true,
                pending: true,
                seq: None,
                edited: false,
                deleted: false,
                removed: false,
                reactions: &[],
                attachments: &pending.attachments,
                preview: None,
                pinned: None,
                replies: None,
                thread: None,
                failed: pending.failed.as_deref(),
                client_id: Some(&pending.client_id),
            },
        }
    }

    /// Someone else's message calling on the reader (`@name`, `@channel`,
    /// `@here`).
    fn mentions(&self, reader: &UserInfo) -> bool {
        !self.mine && crate::mentions::calls_on(self.text, &reader.name, true)
    }
}

#[component]
pub fn MessageRow(props: &MessageRowProps) -> Html {
    // Custom emoji are drawn from the list: render again when it changes.
    let _ = use_context::<crate::custom_emoji::EmojiVersion>();
    let moderating = use_context::<Moderating>().is_some_and(|m| m.0);
    let edit_ref = use_node_ref();
    {
        let edit_ref = edit_ref.clone();
        use_effect_with(props.editing, move |editing| {
            if *editing && let Some(input) = edit_ref.cast::<HtmlTextAreaElement>() {
                let _ = input.focus();
                let end = input.value().encode_utf16().count() as u32;
                let _ = input.set_selection_range(end, end);
            }
        });
    }
    let row = Shown::of(&props.line, &props.reader);
    let class = classes!(
        "message",
        row.mine.then_some("mine"),
        row.mentions(&props.reader).then_some("mention"),
        (!row.deleted && crate::emoji::is_emoji_only(row.text)).then_some("jumbo"),
        row.pending.then_some("pending"),
        row.deleted.then_some("deleted"),
        row.failed.is_some().then_some("failed"),
        props.highlighted.then_some("highlighted"),
        row.pinned.is_some().then_some("pinned"),
    );
    let discard = match (&props.on_discard, row.client_id) {
        (Some(on_discard), Some(id)) if row.failed.is_some() => {
            let id = id.clone();
            let on_click = on_discard.reform(move |_: MouseEvent| id.clone());
            html! { <button class="discard" onclick={on_click}>{ "Remove" }</button> }
        }
        _ => html! {},
    };
    let act = |action: MessageAction| {
        let on_action = props.on_action.clone();
        Callback::from(move |event: MouseEvent| {
            event.prevent_default();
            if let Some(on_action) = &on_action {
                on_action.emit(action.clone());
            }
        })
    };
    let delete_label = if row.mine {
        "Delete"
    } else {
        "Remove (as a moderator)"
    };
    let body = if row.deleted {
        let said = if row.removed {
            "message removed by a moderator"
        } else {
            "message deleted"
        };
        html! { <span class="text deleted-text" data-testid="message-text">{ said }</span> }
    } else if let (true, Some(seq)) = (props.editing, row.seq) {
        let on_action = props.on_action.clone();
        let onkeydown = Callback::from(move |event: KeyboardEvent| {
            let Some(on_action) = &on_action else { return };
            if event.key() == "Escape" {
                event.prevent_default();
                on_action.emit(MessageAction::CancelEdit);
            } else if event.key() == "Enter" && !event.shift_key() && !event.is_composing() {
                event.prevent_default();
                let input: HtmlTextAreaElement = event.target_unchecked_into();
                on_action.emit(MessageAction::SaveEdit(seq, input.value()));
            }
        });
        html! {
            <span class="text editing">
                <textarea ref={edit_ref} data-testid="edit-input" rows="2" value={row.text.to_owned()}
                          {onkeydown} aria-label="Edit message" />
                <span class="edit-hint">{ "Enter to save, Esc to cancel" }</span>
            </span>
        }
    } else if row.text.is_empty() {
        // A file without a caption: the text element stays, empty.
        html! { <span class="text" data-testid="message-text"></span> }
    } else {
        html! {
            <span class="text" data-testid="message-text">
                { markdown::render(&markdown::parse(row.text), &props.reader.name) }
            </span>
        }
    };
    let menu = match row.seq {
        Some(seq) if !row.deleted && !row.pending && props.on_action.is_some() => html! {
            <div class="message-menu" data-testid="message-menu">
                <button data-testid="add-reaction" title="Add reaction" aria-label="Add reaction"
                        onclick={act(MessageAction::PickReaction(seq))}>{ "☺+" }</button>
                if !props.in_thread && row.thread.is_none() {
                    <button data-testid="reply-in-thread" title="Reply in thread" aria-label="Reply in thread"
                            onclick={act(MessageAction::OpenThread(seq))}>{ thread_icon() }</button>
                }
                <button data-testid="copy-link" title={if props.copied { "Link copied" } else { "Copy link" }}
                        aria-label="Copy link to message" onclick={act(MessageAction::CopyLink(seq))}>
                    if props.copied {
                        { "✓" }
                    } else {
                        <svg viewBox="0 0 24 24" width="14" height="14" fill="none" stroke="currentColor"
                             stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
                            <path d="M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7" />
                            <path d="M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7" />
                        </svg>
                    }
                </button>
                if row.pinned.is_some() {
                    <button data-testid="unpin-message" title="Unpin" aria-label="Unpin message"
                            onclick={act(MessageAction::Pin(seq, false))}>{ pin_icon(true) }</button>
                } else {
                    <button data-testid="pin-message" title="Pin to this conversation" aria-label="Pin message"
                            onclick={act(MessageAction::Pin(seq, true))}>{ pin_icon(false) }</button>
                }
                if row.mine {
                    <button data-testid="edit-message" title="Edit" aria-label="Edit"
                            onclick={act(MessageAction::StartEdit(seq))}>{ "✎" }</button>
                }
                if !row.mine {
                    <button data-testid="report-message" title="Report to the moderators"
                            aria-label="Report to the moderators"
                            onclick={act(MessageAction::Report(seq))}>{ "⚑" }</button>
                }
                if row.mine || moderating {
                    <button data-testid="delete-message" title={delete_label} aria-label={delete_label}
                            onclick={act(MessageAction::Delete(seq))}>
                        <svg viewBox="0 0 24 24" width="14" height="14" fill="none" stroke="currentColor"
                             stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
                            <polyline points="3 6 5 6 21 6" />
                            <path d="M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6m3 0V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2" />
                        </svg>
                    </button>
                }
            </div>
        },
        _ => html! {},
    };
    let reactions = match row.seq {
        Some(seq) if !row.reactions.is_empty() => html! {
            <div class="reactions">
                { for row.reactions.iter().map(|reaction| {
                    let mine = reaction.by(&props.reader.id);
                    let total = reaction.total();
                    html! {
                        <button class={classes!("reaction", mine.then_some("mine"))} data-testid="reaction"
                                data-emoji={reaction.emoji.clone()} data-count={total.to_string()}
                                title={reactors(reaction)} aria-pressed={mine.to_string()}
                                onclick={act(MessageAction::React(seq, reaction.emoji.clone(), !mine))}>
                            <span class="emoji">{ crate::custom_emoji::glyph(&reaction.emoji) }</span>
                            <span class="count">{ total }</span>
                        </button>
                    }
                }) }
            </div>
        },
        _ => html! {},
    };
    let thread_line = match (row.seq, row.replies, row.thread) {
        _ if props.in_thread => html! {},
        (Some(seq), Some(replies), _) => html! {
            <button class="thread-summary" data-testid="thread-count" data-count={replies.count.to_string()}
                    onclick={act(MessageAction::OpenThread(seq))}
                    title={format!("Last reply {}", full_time(replies.last_at))}>
                { thread_icon() }
                <span class="count">{ if replies.count == 1 { "1 reply".to_string() } else { format!("{} replies", replies.count) } }</span>
                <span class="repliers">{ replies.repliers.iter().map(|u| u.name.as_str()).collect::<Vec<_>>().join(", ") }</span>
                <span class="last">{ format!("last reply {}", short_time(replies.last_at)) }</span>
            </button>
        },
        (_, _, Some(thread)) => html! {
            <button class="thread-context" data-testid="thread-context"
                    onclick={act(MessageAction::OpenThread(thread.root))}>
                { "replied in a thread" }
            </button>
        },
        _ => html! {},
    };
    html! {
        <div class={class} data-testid={props.testid.clone()} data-author={row.author.to_owned()}
             data-seq={row.seq.map(|seq| seq.to_string())}
             data-pinned={row.pinned.is_some().then_some("true")}
             data-highlighted={props.highlighted.then_some("true")}
             data-pending={if row.pending { "true" } else { "false" }}
             data-deleted={row.deleted.to_string()}>
            if let Some(pinned) = row.pinned {
                <div class="pinned-marker" data-testid="pinned-marker" title={full_time(pinned.at)}>
                    { pin_icon(true) }<span>{ "Pinned by " }<bdi>{ &pinned.by.name }</bdi></span>
                </div>
            }
            <div class="message-body">
                <span class="author" data-testid="message-author"><bdi>{ row.author }</bdi></span>
                <span class="separator">{ ": " }</span>
                { body }
                if row.edited && !row.deleted {
                    <span class="edited" data-testid="edited-marker">{ "(edited)" }</span>
                }
            </div>
            { menu }
            <time class="time" data-testid="message-time" datetime={iso_time(row.sent_at)}
                  title={full_time(row.sent_at)}>
                { if row.pending && row.failed.is_none() { "sending…".to_string() } else { short_time(row.sent_at) } }
            </time>
            if !row.deleted && (!row.attachments.is_empty() || row.preview.is_some()) {
                <div class="message-extras">
                    if !row.attachments.is_empty() {
                        <Attachments attachments={row.attachments.to_vec()} />
                    }
                    if let Some(preview) = row.preview {
                        <LinkPreviewCard preview={preview.clone()} />
                    }
                </div>
            }
            { reactions }
            { thread_line }
            if let Some(reason) = row.failed {
                <div class="failure" role="alert">{ format!("Not sent: {reason}") }{ discard }</div>
            }
        </div>
    }
}

/// A speech bubble: a thread.
pub fn thread_icon() -> Html {
    html! {
        <svg viewBox="0 0 24 24" width="14" height="14" fill="none" stroke="currentColor"
             stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
            <path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.4A8 8 0 1 1 21 12z" />
        </svg>
    }
}

/// A pushpin, filled when the message is pinned.
pub fn pin_icon(filled: bool) -> Html {
    html! {
        <svg viewBox="0 0 24 24" width="14" height="14" fill={if filled { "currentColor" } else { "none" }}
             stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"
             aria-hidden="true">
            <path d="M9 3h6l-1 6 4 4H6l4-4z" />
            <line x1="12" y1="13" x2="12" y2="21" />
        </svg>
    }
}

/// "Alice, Bob and 3 others": who reacted, as far as the message says.
fn reactors(reaction: &Reaction) -> String {
    let names: Vec<&str> = reaction.users.iter().map(|u| u.name.as_str()).collect();
    let others = reaction.total() as usize - names.len().min(reaction.total() as usize);
    match (names.as_slice(), others) {
        ([], _) => format!("{others} people"),
        (names, 0) => names.join(", "),
        (names, 1) => format!("{} and 1 other", names.join(", ")),
        (names, others) => format!("{} and {others} others", names.join(", ")),
    }
}

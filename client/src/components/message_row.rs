//! One message line: `Alice: Hello World!` with its time, formatted text
//! (never raw HTML), reactions, an "(edited)" marker, and a small menu to
//! react, edit or delete. Deleted messages show as "message deleted".
//! Files and the link preview are drawn by [`super::attachments`].

use shared::{Attachment, ClientMsgId, LinkPreview, Reaction, Seq, UserId};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use super::attachments::{Attachments, LinkPreviewCard};
use crate::browser::{full_time, iso_time, short_time};
use crate::markdown;

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
}

#[derive(Properties, PartialEq)]
pub struct MessageRowProps {
    pub author: String,
    pub text: String,
    /// The reader's name, so their own mentions stand out.
    #[prop_or_default]
    pub reader: String,
    /// The reader's id, to mark their own reactions.
    #[prop_or_default]
    pub reader_id: Option<UserId>,
    pub sent_at: i64,
    pub mine: bool,
    /// The text mentions the reader by `@name`.
    #[prop_or_default]
    pub mentions_me: bool,
    pub pending: bool,
    /// The stored message's number (none while pending).
    #[prop_or_default]
    pub seq: Option<Seq>,
    #[prop_or_default]
    pub edited: bool,
    #[prop_or_default]
    pub deleted: bool,
    #[prop_or_default]
    pub reactions: Vec<Reaction>,
    #[prop_or_default]
    pub attachments: Vec<Attachment>,
    #[prop_or_default]
    pub preview: Option<LinkPreview>,
    /// This row is being edited.
    #[prop_or_default]
    pub editing: bool,
    #[prop_or_default]
    pub on_action: Option<Callback<MessageAction>>,
    /// Set when the server refused this pending message for good.
    #[prop_or_default]
    pub failed: Option<String>,
    #[prop_or_default]
    pub client_id: Option<ClientMsgId>,
    #[prop_or_default]
    pub on_discard: Option<Callback<ClientMsgId>>,
}

#[component]
pub fn MessageRow(props: &MessageRowProps) -> Html {
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
    let class = classes!(
        "message",
        props.mine.then_some("mine"),
        props.mentions_me.then_some("mention"),
        (!props.deleted && crate::emoji::is_emoji_only(&props.text)).then_some("jumbo"),
        props.pending.then_some("pending"),
        props.deleted.then_some("deleted"),
        props.failed.is_some().then_some("failed"),
    );
    let discard = match (&props.on_discard, &props.client_id) {
        (Some(on_discard), Some(id)) if props.failed.is_some() => {
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
    let body = if props.deleted {
        html! { <span class="text deleted-text" data-testid="message-text">{ "message deleted" }</span> }
    } else if let (true, Some(seq)) = (props.editing, props.seq) {
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
                <textarea ref={edit_ref} data-testid="edit-input" rows="2" value={props.text.clone()}
                          {onkeydown} aria-label="Edit message" />
                <span class="edit-hint">{ "Enter to save, Esc to cancel" }</span>
            </span>
        }
    } else if props.text.is_empty() {
        // A file without a caption: the text element stays, empty.
        html! { <span class="text" data-testid="message-text"></span> }
    } else {
        html! {
            <span class="text" data-testid="message-text">
                { markdown::render(&markdown::parse(&props.text), &props.reader) }
            </span>
        }
    };
    let menu = match props.seq {
        Some(seq) if !props.deleted && !props.pending && props.on_action.is_some() => html! {
            <div class="message-menu" data-testid="message-menu">
                <button data-testid="add-reaction" title="Add reaction" aria-label="Add reaction"
                        onclick={act(MessageAction::PickReaction(seq))}>{ "☺+" }</button>
                if props.mine {
                    <button data-testid="edit-message" title="Edit" aria-label="Edit"
                            onclick={act(MessageAction::StartEdit(seq))}>{ "✎" }</button>
                    <button data-testid="delete-message" title="Delete" aria-label="Delete"
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
    let reactions = match props.seq {
        Some(seq) if !props.reactions.is_empty() => html! {
            <div class="reactions">
                { for props.reactions.iter().map(|reaction| {
                    let mine = props.reader_id.as_ref().is_some_and(|me| reaction.by(me));
                    let total = reaction.total();
                    html! {
                        <button class={classes!("reaction", mine.then_some("mine"))} data-testid="reaction"
                                data-emoji={reaction.emoji.clone()} data-count={total.to_string()}
                                title={reactors(reaction)} aria-pressed={mine.to_string()}
                                onclick={act(MessageAction::React(seq, reaction.emoji.clone(), !mine))}>
                            <span class="emoji">{ &reaction.emoji }</span>
                            <span class="count">{ total }</span>
                        </button>
                    }
                }) }
            </div>
        },
        _ => html! {},
    };
    html! {
        <div class={class} data-testid="message" data-author={props.author.clone()}
             data-pending={if props.pending { "true" } else { "false" }}
             data-deleted={props.deleted.to_string()}>
            <div class="message-body">
                <span class="author" data-testid="message-author"><bdi>{ &props.author }</bdi></span>
                <span class="separator">{ ": " }</span>
                { body }
                if props.edited && !props.deleted {
                    <span class="edited" data-testid="edited-marker">{ "(edited)" }</span>
                }
            </div>
            { menu }
            <time class="time" data-testid="message-time" datetime={iso_time(props.sent_at)}
                  title={full_time(props.sent_at)}>
                { if props.pending && props.failed.is_none() { "sending…".to_string() } else { short_time(props.sent_at) } }
            </time>
            if !props.deleted && (!props.attachments.is_empty() || props.preview.is_some()) {
                <div class="message-extras">
                    if !props.attachments.is_empty() {
                        <Attachments attachments={props.attachments.clone()} />
                    }
                    if let Some(preview) = &props.preview {
                        <LinkPreviewCard preview={preview.clone()} />
                    }
                </div>
            }
            { reactions }
            if let Some(reason) = &props.failed {
                <div class="failure" role="alert">{ format!("Not sent: {reason}") }{ discard }</div>
            }
        </div>
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

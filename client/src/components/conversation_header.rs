//! Above the messages: the conversation's name and topic (editable by
//! members), who is typing, and what you can do with it: invite to and
//! leave a channel or a group conversation; add people to a direct one (a
//! new conversation); block the other person of a
//! direct conversation, or hide it until their next message.

use std::rc::Rc;
use web_sys::HtmlInputElement;

use shared::ClientMsg;
use shared::limits::SLOW_MODE_CHOICES;
use shared::protocol::NotifyLevel;
use shared::roles::Role;
use yew::prelude::*;

use super::block_button::BlockButton;
use crate::state::Conversation;

#[derive(Properties, PartialEq)]
pub struct ConversationHeaderProps {
    pub conversation: Rc<Conversation>,
    pub on_set_topic: Callback<String>,
    /// Leave a channel or a group conversation; hide a direct conversation
    /// with one person (both are `leave_channel` on the wire).
    pub on_leave: Callback<()>,
    /// Whether you have blocked the other person of a direct conversation.
    #[prop_or_default]
    pub blocked: bool,
    /// Block (`true`) or unblock the other person of a direct conversation.
    #[prop_or_default]
    pub on_block: Callback<bool>,
    pub on_invite: Callback<()>,
    /// Add people to a direct conversation (which starts a new one).
    pub on_add_people: Callback<()>,
    pub on_members: Callback<()>,
    /// Show the conversation's pinned messages.
    pub on_pins: Callback<()>,
    /// How the conversation should notify the reader.
    pub on_notify: Callback<NotifyLevel>,
    /// The reader's role: moderators set slow mode, admins archive.
    #[prop_or_default]
    pub role: Role,
    /// Slow mode (seconds) or archiving, for moderators and admins.
    #[prop_or_default]
    pub on_rule: Callback<ClientMsg>,
}

/// Slow mode as the select shows it.
fn slow_label(seconds: u32) -> String {
    match seconds {
        0 => "Slow: off".into(),
        s if s < 60 => format!("Slow: {s} s"),
        s => format!("Slow: {} min", s / 60),
    }
}

#[component]
pub fn ConversationHeader(props: &ConversationHeaderProps) -> Html {
    let editing = use_state(|| false);
    let draft = use_state(String::new);
    let input_ref = use_node_ref();
    {
        let input_ref = input_ref.clone();
        use_effect_with(*editing, move |editing| {
            if *editing && let Some(input) = input_ref.cast::<HtmlInputElement>() {
                let _ = input.focus();
                input.select();
            }
        });
    }
    let conversation = &props.conversation;
    let direct = conversation.is_direct();
    let on_slow = {
        let (on_rule, channel) = (props.on_rule.clone(), conversation.info.id.clone());
        Callback::from(move |event: Event| {
            let select: web_sys::HtmlSelectElement = event.target_unchecked_into();
            if let Ok(seconds) = select.value().parse() {
                on_rule.emit(ClientMsg::SetSlowMode {
                    channel: channel.clone(),
                    seconds,
                });
            }
        })
    };
    let renaming = use_state(|| false);
    let open_rename = {
        let renaming = renaming.clone();
        Callback::from(move |_: MouseEvent| renaming.set(true))
    };
    let close_rename = {
        let renaming = renaming.clone();
        Callback::from(move |()| renaming.set(false))
    };
    let on_rename = {
        let (on_rule, channel, renaming) = (
            props.on_rule.clone(),
            conversation.info.id.clone(),
            renaming.clone(),
        );
        Callback::from(move |name: String| {
            renaming.set(false);
            on_rule.emit(ClientMsg::RenameChannel {
                channel: channel.clone(),
                name,
            })
        })
    };
    let on_archive = {
        let (on_rule, channel) = (props.on_rule.clone(), conversation.info.id.clone());
        let archived = !conversation.info.archived;
        Callback::from(move |_: MouseEvent| {
            on_rule.emit(ClientMsg::ArchiveChannel {
                channel: channel.clone(),
                archived,
            })
        })
    };
    // A direct conversation with one other person is hidden, not left.
    let one_to_one = direct && conversation.info.direct_with.len() <= 1;
    let start_edit = {
        let (editing, draft) = (editing.clone(), draft.clone());
        let topic = conversation.info.topic.clone();
        Callback::from(move |_: MouseEvent| {
            draft.set(topic.clone());
            editing.set(true);
        })
    };
    let on_input = {
        let draft = draft.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            draft.set(input.value());
        })
    };
    let on_submit = {
        let (editing, draft) = (editing.clone(), draft.clone());
        let on_set_topic = props.on_set_topic.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            on_set_topic.emit((*draft).clone());
            editing.set(false);
        })
    };
    let notify = conversation.info.notify_level();
    let on_notify = props.on_notify.reform(|event: Event| {
        let select: web_sys::HtmlSelectElement = event.target_unchecked_into();
        NotifyLevel::parse(&select.value()).unwrap_or(NotifyLevel::Mentions)
    });
    let cancel = {
        let editing = editing.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                editing.set(false);
            }
        })
    };
    html! {
        <div class="conversation-header">
            <h2 data-testid="channel-header" class={classes!("conversation-title", (!direct).then_some("channel"))}>
                <bdi>{ &conversation.info.name }</bdi>
            </h2>
            if *editing {
                <form class="topic-form" onsubmit={on_submit}>
                    <input ref={input_ref} data-testid="channel-topic-edit" value={(*draft).clone()} oninput={on_input}
                           onkeydown={cancel} maxlength="250" autofocus=true aria-label="Topic" />
                    <button type="submit" class="small primary" data-testid="channel-topic-save">{ "Save" }</button>
                </form>
            } else if !direct {
                <button class="topic" data-testid="channel-topic" onclick={start_edit}
                        title="Change the topic">
                    if conversation.info.topic.is_empty() {
                        { "Add a topic" }
                    } else {
                        <bdi>{ &conversation.info.topic }</bdi>
                    }
                </button>
            } else {
                <span class="topic" data-testid="channel-topic">{ "Direct message" }</span>
            }
            <button class="member-count" data-testid="channel-members" onclick={props.on_members.reform(|_: MouseEvent| ())}>
                { format!("{} member{}", conversation.info.member_count, if conversation.info.member_count == 1 { "" } else { "s" }) }
            </button>
            <label class="notify-setting" title="Notifications for this conversation">
                <select data-testid="notification-setting" aria-label="Notifications"
                        onchange={on_notify}>
                    { for [
                        (NotifyLevel::All, "🔔 All messages"),
                        (NotifyLevel::Mentions, "@ Mentions only"),
                        (NotifyLevel::None, "🔕 Nothing (muted)"),
                    ].into_iter().map(|(level, label)| html! {
                        <option value={level.as_str()} selected={level == notify}>{ label }</option>
                    }) }
                </select>
            </label>
            <button class="small" data-testid="show-pins" title="Pinned messages"
                    onclick={props.on_pins.reform(|_: MouseEvent| ())}>
                { super::message_row::pin_icon(false) }{ " Pinned" }
            </button>
            if !direct && props.role.moderates() {
                <label class="notify-setting" title="Slow mode: how often a member may post">
                    <select data-testid="slow-mode-select" aria-label="Slow mode" onchange={on_slow}>
                        { for SLOW_MODE_CHOICES.into_iter().map(|seconds| html! {
                            <option value={seconds.to_string()}
                                    selected={seconds == conversation.info.slow_mode_seconds}>{ slow_label(seconds) }</option>
                        }) }
                    </select>
                </label>
            }
            if !direct && props.role.administers() && conversation.info.name != shared::protocol::DEFAULT_CHANNEL {
                <button class="small" data-testid="rename-channel" onclick={open_rename}>{ "Rename" }</button>
                if *renaming {
                    <RenameDialog name={conversation.info.name.clone()} on_rename={on_rename}
                                  on_close={close_rename} />
                }
                <button class="small" data-testid="archive-channel" onclick={on_archive}
                        title={if conversation.info.archived { "Make it writable and browsable again" } else { "Read-only and hidden from browsing; restorable" }}>
                    { if conversation.info.archived { "Restore" } else { "Archive" } }
                </button>
            }
            if !direct {
                <button class="small" data-testid="invite-member" onclick={props.on_invite.reform(|_: MouseEvent| ())}>
                    { "Invite" }
                </button>
            } else if conversation.info.direct_with.len() < shared::limits::MAX_DIRECT_OTHERS {
                <button class="small" data-testid="add-people" onclick={props.on_add_people.reform(|_: MouseEvent| ())}
                        title="Start a new conversation with these people and more">
                    { "Add people" }
                </button>
            }
            if let Some(other) = conversation.other_person() {
                <BlockButton name={other.name.clone()} blocked={props.blocked} on_block={props.on_block.clone()} />
            }
            if one_to_one {
                <button class="small" data-testid="hide-conversation" onclick={props.on_leave.reform(|_: MouseEvent| ())}
                        title="Hide this conversation until a new message arrives in it">
                    { "Hide" }
                </button>
            } else {
                <button class="small" data-testid="leave-channel" onclick={props.on_leave.reform(|_: MouseEvent| ())}>
                    { "Leave" }
                </button>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct RenameDialogProps {
    name: String,
    on_rename: Callback<String>,
    on_close: Callback<()>,
}

/// Asks an admin for a channel's new name (checked as a channel name is).
#[component]
fn RenameDialog(props: &RenameDialogProps) -> Html {
    let name = use_state(|| props.name.clone());
    let problem = use_state(|| None::<String>);
    let input = use_node_ref();
    {
        let input = input.clone();
        use_effect_with((), move |_| {
            if let Some(input) = input.cast::<HtmlInputElement>() {
                let _ = input.focus();
                input.select();
            }
        });
    }
    let on_input = {
        let (name, problem) = (name.clone(), problem.clone());
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            name.set(input.value());
            problem.set(None);
        })
    };
    let on_submit = {
        let (name, problem, on_rename) = (name.clone(), problem.clone(), props.on_rename.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            match shared::validate::ChannelName::parse(&name) {
                Ok(valid) => on_rename.emit(valid.as_str().to_owned()),
                Err(error) => problem.set(Some(error.to_string())),
            }
        })
    };
    let on_keydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                on_close.emit(());
            }
        })
    };
    let close = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <div class="modal-backdrop" onclick={close.clone()}>
            <form class="modal" role="dialog" aria-modal="true" aria-labelledby="rename-title"
                  onclick={|e: MouseEvent| e.stop_propagation()} onsubmit={on_submit} onkeydown={on_keydown}>
                <h2 id="rename-title">{ format!("Rename #{}", props.name) }</h2>
                <label for="rename-channel-input">{ "New name" }</label>
                <input id="rename-channel-input" ref={input} data-testid="rename-channel-input"
                       maxlength="60" value={(*name).clone()} oninput={on_input} />
                if let Some(problem) = &*problem {
                    <p class="form-error" role="alert">{ problem }</p>
                }
                <div class="modal-actions">
                    <button type="button" onclick={close}>{ "Cancel" }</button>
                    <button type="submit" class="primary" data-testid="rename-channel-submit">{ "Rename" }</button>
                </div>
            </form>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct TypingProps {
    pub names: Vec<String>,
}

/// "Bob is typing…", "Bob and Carol are typing…".
#[component]
pub fn TypingIndicator(props: &TypingProps) -> Html {
    let name = |name: &String| html! { <bdi>{ name.clone() }</bdi> };
    let text = match props.names.as_slice() {
        [] => html! {},
        [one] => html! { <>{ name(one) }{ " is typing…" }</> },
        [one, two] => html! { <>{ name(one) }{ " and " }{ name(two) }{ " are typing…" }</> },
        [one, two, rest @ ..] => html! {
            <>{ name(one) }{ ", " }{ name(two) }{ format!(" and {} more are typing…", rest.len()) }</>
        },
    };
    html! {
        <div class="typing" data-testid="typing-indicator" aria-live="polite"
             data-active={(!props.names.is_empty()).to_string()}>
            { text }
        </div>
    }
}

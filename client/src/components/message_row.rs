//! One message line: `Alice: Hello World!` with its time. Text is rendered as
//! a text node, so markup in messages shows literally.

use shared::ClientMsgId;
use yew::prelude::*;

use crate::browser::{full_time, iso_time, short_time};
use crate::markdown;

#[derive(Properties, PartialEq)]
pub struct MessageRowProps {
    pub author: String,
    pub text: String,
    /// The reader's name, so their own mentions stand out.
    #[prop_or_default]
    pub reader: String,
    pub sent_at: i64,
    pub mine: bool,
    /// The text mentions the reader by `@name`.
    #[prop_or_default]
    pub mentions_me: bool,
    pub pending: bool,
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
    let class = classes!(
        "message",
        props.mine.then_some("mine"),
        props.mentions_me.then_some("mention"),
        crate::emoji::is_emoji_only(&props.text).then_some("jumbo"),
        props.pending.then_some("pending"),
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
    html! {
        <div class={class} data-testid="message" data-author={props.author.clone()}
             data-pending={if props.pending { "true" } else { "false" }}>
            <div class="message-body">
                <span class="author" data-testid="message-author">{ &props.author }</span>
                <span class="separator">{ ": " }</span>
                <span class="text" data-testid="message-text">
                    { markdown::render(&markdown::parse(&props.text), &props.reader) }
                </span>
            </div>
            <time class="time" data-testid="message-time" datetime={iso_time(props.sent_at)}
                  title={full_time(props.sent_at)}>
                { if props.pending && props.failed.is_none() { "sending…".to_string() } else { short_time(props.sent_at) } }
            </time>
            if let Some(reason) = &props.failed {
                <div class="failure" role="alert">{ format!("Not sent: {reason}") }{ discard }</div>
            }
        </div>
    }
}

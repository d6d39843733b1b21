//! The files waiting above the composer: a progress bar and Cancel while
//! uploading, "ready" once stored, the reason when refused.

use shared::AttachmentKind;
use yew::prelude::*;

use super::attachments::human_size;
use crate::uploads::{UploadItem, UploadStatus};

#[derive(Properties, PartialEq)]
pub struct UploadTrayProps {
    pub items: Vec<UploadItem>,
    /// Send was pressed; the message goes out when the uploads finish.
    pub waiting: bool,
    /// Texts sent meanwhile, which go out right after it.
    #[prop_or_default]
    pub queued: Vec<String>,
    /// Cancel an upload, or dismiss a failure or a ready file.
    pub on_remove: Callback<u32>,
    /// Send a failed file again.
    #[prop_or_default]
    pub on_retry: Callback<u32>,
}

#[component]
pub fn UploadTray(props: &UploadTrayProps) -> Html {
    // Always one element, even when empty: a component that renders
    // nothing next to the keyed composer confuses Yew's node placement.
    if props.items.is_empty() {
        return html! { <div class="upload-tray empty" hidden=true></div> };
    }
    let any_ready = props
        .items
        .iter()
        .any(|item| !matches!(item.status, UploadStatus::Failed(_)));
    html! {
        <div class="upload-tray" aria-live="polite">
            <ul>
                { for props.items.iter().map(|item| {
                    let id = item.id;
                    let remove = props.on_remove.reform(move |_: MouseEvent| id);
                    let retry = props.on_retry.reform(move |_: MouseEvent| id);
                    let (state, detail, button) = match &item.status {
                        UploadStatus::Uploading(sent) => {
                            let percent = (sent * 100.0).round() as u32;
                            (
                                "uploading",
                                html! {
                                    <progress data-testid="upload-progress" max="100"
                                              value={percent.to_string()}
                                              aria-label={format!("Uploading {}", item.name)}>
                                        { format!("{percent}%") }
                                    </progress>
                                },
                                "Cancel",
                            )
                        }
                        UploadStatus::Ready(attachment) => (
                            "ready",
                            html! {
                                <span class="upload-ready">
                                    if attachment.kind == AttachmentKind::Image {
                                        <img class="upload-thumb" src={attachment.thumbnail_url()} alt="" />
                                    }
                                    { "ready" }
                                </span>
                            },
                            "Remove",
                        ),
                        UploadStatus::Failed(failure) => (
                            "failed",
                            html! {
                                <>
                                    <span class="upload-error" data-testid="upload-error" role="alert">
                                        { &failure.message }
                                    </span>
                                    if failure.retryable {
                                        <button type="button" class="upload-retry" onclick={retry}
                                                aria-label={format!("Retry {}", item.name)}>{ "Retry" }</button>
                                    }
                                </>
                            },
                            "Dismiss",
                        ),
                    };
                    html! {
                        <li key={id} class={classes!("upload-item", state)} data-state={state}>
                            <span class="upload-name" title={item.name.clone()}><bdi>{ &item.name }</bdi></span>
                            <span class="upload-size">{ human_size(item.size) }</span>
                            { detail }
                            <button type="button" class="upload-remove" onclick={remove}
                                    aria-label={format!("{button} {}", item.name)}>{ button }</button>
                        </li>
                    }
                }) }
            </ul>
            { for props.queued.iter().map(|text| html! {
                <div class="upload-queued">{ format!("Then: {text}") }</div>
            }) }
            if any_ready {
                <div class="upload-hint">
                    { if props.waiting {
                        "Sending as soon as the uploads finish…"
                    } else {
                        "Press Enter or Send to post them; what you type goes with them as a caption."
                    } }
                </div>
            }
        </div>
    }
}
